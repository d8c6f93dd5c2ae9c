"""minicnn.export.html: what the page carries (the JavaScript itself runs in test_demo_web.py)."""

import base64
import json
import re

import numpy as np
import pytest

from minicnn import (
    AvgPool2D,
    BlurPool2D,
    CircularMaxPool2D,
    Conv2D,
    Dropout,
    Flatten,
    GlobalAvgPool2D,
    GlobalMaxPool2D,
    Linear,
    MaxPool2D,
    PolyphaseDownsample2D,
    ReLU,
    Sequential,
    ShapeError,
)
from minicnn.export import SUPPORTED, export_network, write_page
from minicnn.export.html import response_layer, self_test_canvases
from minicnn.measure import corner

S = 16                                   # canvas side of the small test networks


def every_layer_net(rng=0):
    """A network using every supported layer, with strides, even kernels and both paddings."""
    rng = np.random.default_rng(rng)
    return Sequential([
        Conv2D(1, 3, 4, padding="same", padding_mode="circular", rng=rng), ReLU(),   # pads 1,2
        MaxPool2D(3, stride=1),                                                       # 14x14
        Conv2D(3, 4, 3, stride=2, padding=2, rng=rng), ReLU(),                        # 8x8
        CircularMaxPool2D(2), PolyphaseDownsample2D(2),                               # 4x4
        Conv2D(4, 5, 3, padding=1, padding_mode="circular", rng=rng),                 # 4x4
        GlobalAvgPool2D(), Linear(5, 10, rng=rng)])


def flatten_net(rng=0):
    rng = np.random.default_rng(rng)
    return Sequential([Conv2D(1, 2, 3, rng=rng), ReLU(), AvgPool2D(2), Flatten(),   # 2x7x7
                       Linear(98, 10, rng=rng)])


def decode(b64):
    return np.frombuffer(base64.b64decode(b64), dtype="<f4")


def page_data(path):
    """The JSON the page embeds, as Python objects."""
    text = path.read_text(encoding="utf-8")
    blob = re.search(r'<script type="application/json" id="data">(.*?)</script>', text, re.S)
    return json.loads(blob.group(1))


@pytest.mark.parametrize("build", [every_layer_net, flatten_net])
def test_export_keeps_every_parameter_and_shape(build):
    model = build()
    spec = export_network(model, (1, S, S))
    weights = decode(spec["weights"])
    assert len(spec["layers"]) == len(model.layers)
    for layer, L in zip(model.layers, spec["layers"]):
        assert L["type"] == type(layer).__name__
        assert set(L["params"]) == set(layer.params)
        for name, p in L["params"].items():
            value = layer.params[name]
            got = weights[p["offset"]:p["offset"] + value.size].reshape(p["shape"])
            np.testing.assert_array_equal(got, value)                  # float32, bit for bit
    assert spec["shapes"] == [list(s[1:]) for _, s in model.output_shapes((1, 1, S, S))]
    conv = spec["layers"][0]
    assert conv["pads"] == [1, 2, 1, 2] or build is flatten_net
    assert sum(v.size for layer in model.layers for v in layer.params.values()) == weights.size


@pytest.mark.parametrize("layer, name", [(BlurPool2D(3), "BlurPool2D"), (Dropout(0.5), "Dropout")])
def test_an_unsupported_layer_is_named_with_its_index_and_the_fix(layer, name):
    rng = np.random.default_rng(0)
    model = Sequential([Conv2D(1, 3, 3, padding=1, rng=rng), ReLU(), layer, GlobalMaxPool2D(),
                        Linear(3, 10, rng=rng)])
    with pytest.raises(TypeError) as err:
        export_network(model, (1, S, S))
    text = str(err.value)
    assert f"layer 2, {layer!r}" in text and "no JavaScript version" in text
    assert all(cls.__name__ in text for cls in SUPPORTED)
    assert "Fix:" in text and "layers.js" in text


def test_write_page_names_the_network_that_cannot_be_exported(tmp_path):
    rng = np.random.default_rng(0)
    bad = Sequential([Conv2D(1, 3, 3, rng=rng), BlurPool2D(3), GlobalMaxPool2D(), Linear(3, 10)])
    networks = {"ok": (flatten_net(), "fine", None), "blurred": (bad, "blur", None)}
    with pytest.raises(TypeError, match=r"network 'blurred': export_network: layer 1, Blur"):
        write_page(tmp_path / "page.html", networks, np.zeros((10, 1, 8, 8)), np.arange(10),
                   canvas=S, corner=4, grid=[0, 4, 8])
    assert not (tmp_path / "page.html").exists()


def test_a_subclass_is_not_taken_for_its_parent():
    class ScaledReLU(ReLU):                               # might compute anything
        def forward(self, x):
            return 2 * super().forward(x)

    model = Sequential([Conv2D(1, 3, 3, rng=0), ScaledReLU(), GlobalMaxPool2D(), Linear(3, 10)])
    with pytest.raises(TypeError, match="layer 1"):
        export_network(model, (1, S, S))


def test_the_network_must_end_in_class_scores():
    model = Sequential([Conv2D(1, 3, 3, rng=0), ReLU()])
    with pytest.raises(TypeError, match=r"\(N, classes\) output, got \(1, 3, 14, 14\)"):
        export_network(model, (1, S, S))
    with pytest.raises(ShapeError):                       # a layer that does not fit the input
        export_network(Sequential([Flatten(), Linear(10, 10)]), (1, S, S))


def test_response_layer_is_the_last_convolution_or_its_relu():
    assert response_layer(every_layer_net()) == 7        # the last Conv2D, no ReLU after it
    assert response_layer(flatten_net()) == 1            # the ReLU after the one Conv2D
    assert response_layer(Sequential([Flatten(), Linear(4, 2)])) is None


def test_the_corner_page_is_self_contained_and_small(tmp_path):
    """All six corner networks (untrained: the size does not depend on training), their
    self-test logits equal to NumPy's, nothing loaded from elsewhere, under 3 MB."""
    canvas, rng = 32, np.random.default_rng(0)
    digits = rng.random((60, 1, 8, 8)).astype(np.float32)
    labels = np.arange(60) % 10                          # 6 of each class: the page keeps 5
    grid = np.arange(0, 25, 8)
    networks = {key: (spec.build(canvas, rng), spec.description,
                      rng.random((len(grid), len(grid))))
                for key, spec in corner.MODELS.items()}
    size = write_page(tmp_path / "page.html", networks, digits, labels, canvas=canvas,
                      corner=corner.CORNER, grid=grid)
    text = (tmp_path / "page.html").read_text(encoding="utf-8")
    assert size == len(text.encode("utf-8")) and size < 3_000_000
    assert not re.search(r"""(src|href)\s*=|@import|url\(|https?://|fetch\(|XMLHttpRequest""",
                         text)
    data = page_data(tmp_path / "page.html")
    tests = decode(data["selftest"]["canvases"]).reshape(-1, 1, canvas, canvas)
    np.testing.assert_array_equal(tests, self_test_canvases(
        digits[:10], canvas, corner.CORNER))             # the first digit of each class
    assert [n["key"] for n in data["networks"]] == list(corner.MODELS)
    for net in data["networks"]:
        model = networks[net["key"]][0]
        np.testing.assert_allclose(net["logits"], model.logits(tests), rtol=0, atol=1e-6)
        assert len(net["response"]["channels"]) == 4 and net["response"]["vmax"] > 0
        assert np.shape(net["map"]) == (len(grid), len(grid))
    assert decode(data["digits"]).size == 50 * 64 and data["labels"][:5] == [0] * 5
