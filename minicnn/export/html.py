"""One self-contained web page that runs trained networks in the browser, offline.

Each network travels as a list of layer specs plus its parameters as base64 float32, in the
layouts of the Python layers (conv W (F, C, KH, KW), linear W (M, D), row-major). The page runs
them with the plain loops of layers.js, the JavaScript twin of the naive layers; page.html,
draw.js and page.js make the page around them (all four sit beside this file and are copied
into the page): a digit the reader draws or drags over the canvas, each network's class
probabilities and accuracy map, and the last convolution's response. Nothing is fetched from
elsewhere, so the file opens from disk. At load the page runs its own forward pass on a few test
canvases and compares the logits with NumPy's, embedded here: "pass" or "FAIL" in #selftest.
"""

import base64
import json
import pathlib
from importlib import resources

import numpy as np

from ..extensions.polyphase import CircularMaxPool2D, PolyphaseDownsample2D
from ..layers import (
    AvgPool2D,
    Conv2D,
    Flatten,
    GlobalAvgPool2D,
    GlobalMaxPool2D,
    Linear,
    MaxPool2D,
    ReLU,
)

CHANNELS_SHOWN = 4        # channels of the last convolution's response drawn on the page
DIGITS_PER_CLASS = 5      # test digits the page offers per class
TOLERANCE = 1e-4          # largest |logit difference| the self-test accepts (float32 weights)


def _pools(layer):
    return {"kernel": list(layer.kernel_size), "stride": list(layer.stride)}


# What the page needs to know of each layer besides its parameters. The type must match exactly:
# a subclass may compute something else, and the page would then silently disagree with NumPy.
SUPPORTED = {
    Conv2D: lambda layer: {"stride": list(layer.stride), "pads": list(layer.pads),
                           "mode": layer.padding_mode},
    ReLU: lambda layer: {},
    MaxPool2D: _pools,
    AvgPool2D: _pools,
    CircularMaxPool2D: _pools,
    PolyphaseDownsample2D: lambda layer: {"stride": layer.stride},
    GlobalAvgPool2D: lambda layer: {},
    GlobalMaxPool2D: lambda layer: {},
    Flatten: lambda layer: {},
    Linear: lambda layer: {},
}
PADDING_MODES = ("zeros", "circular")          # the padding modes layers.js implements


def _unsupported(index, layer, why):
    names = ", ".join(cls.__name__ for cls in SUPPORTED)
    return TypeError(
        f"export_network: layer {index}, {layer!r}, {why}. The page's JavaScript runs only "
        f"{names} (Conv2D with padding_mode 'zeros' or 'circular'). Fix: build the network from "
        f"these layers, or add the layer's forward pass to minicnn/export/layers.js and its "
        f"settings to SUPPORTED in minicnn/export/html.py.")


def export_network(model, input_shape):
    """The page's description of a Sequential: {"layers": [spec], "weights": base64, "shapes"}.

    input_shape: (C, H, W) of one input. Each spec holds "type", the layer's settings and, for
    every parameter, its shape and offset into the float32 weights. Raises TypeError naming the
    first layer the page cannot run, and ShapeError if the layers do not fit the input.
    """
    specs, arrays, offset = [], [], 0
    for i, layer in enumerate(model.layers):
        settings = SUPPORTED.get(type(layer))
        if settings is None:
            raise _unsupported(i, layer, "has no JavaScript version")
        spec = {"type": type(layer).__name__, **settings(layer), "params": {}}
        if spec.get("mode", "zeros") not in PADDING_MODES:
            raise _unsupported(i, layer, f"uses padding_mode={spec['mode']!r}")
        for name, value in layer.params.items():
            spec["params"][name] = {"shape": list(value.shape), "offset": offset}
            arrays.append(np.asarray(value, dtype="<f4").ravel())
            offset += value.size
        specs.append(spec)
    shapes = [shape for _, shape in model.output_shapes((1, *input_shape))]
    if len(shapes[-1]) != 2:
        raise TypeError(f"export_network: the page shows class probabilities, so the network "
                        f"must end in a (N, classes) output, got {shapes[-1]}. Fix: end it with "
                        f"Flatten or a global pool, then Linear.")
    weights = np.concatenate(arrays) if arrays else np.zeros(0, dtype="<f4")
    return {"layers": specs, "weights": _b64(weights),
            "shapes": [list(shape[1:]) for shape in shapes]}


def _b64(array):
    """Base64 of the array as little-endian float32 bytes (what the page decodes)."""
    return base64.b64encode(np.ascontiguousarray(array, dtype="<f4").tobytes()).decode("ascii")


def _forward_to(model, x, stop):
    """Outputs of model.layers[0..stop] on x, in evaluation mode (the last one returned)."""
    with model.mode(False):
        for layer in model.layers[:stop + 1]:
            x = layer.forward(x)
    return x


def response_layer(model):
    """Index of the layer whose output the page shows: the last Conv2D, or its ReLU right after
    it. None when the network has no convolution."""
    convs = [i for i, layer in enumerate(model.layers) if type(layer) is Conv2D]
    if not convs:
        return None
    i = convs[-1]
    after = model.layers[i + 1] if i + 1 < len(model.layers) else None
    return i + 1 if type(after) is ReLU else i


def _response(model, canvases):
    """{"layer", "channels", "vmax"}: the CHANNELS_SHOWN channels of the response layer most
    active on `canvases` (N, 1, S, S), and their maximum there, the panel's fixed colour scale."""
    stop = response_layer(model)
    if stop is None:
        return None
    maps = _forward_to(model, canvases, stop)                         # (N, F, h, w)
    channels = np.argsort(-maps.mean(axis=(0, 2, 3)))[:CHANNELS_SHOWN]
    vmax = float(maps[:, channels].max()) or 1.0
    return {"layer": int(stop), "channels": channels.tolist(), "vmax": vmax}


def self_test_canvases(digits, canvas, corner, rng=0):
    """(4, 1, S, S) canvases the page checks itself on: a digit in the training corner, one at
    the far corner, one at odd offsets (a pixel phase the stride-2 pools treat differently),
    and uniform noise in [0, 1)."""
    h, w = digits.shape[-2:]
    X = np.zeros((4, 1, canvas, canvas), dtype=np.float32)
    for k, (r, c) in enumerate([(corner // 2,) * 2, (canvas - h, canvas - w),
                                (canvas // 2 - 3, 5)]):
        X[k, 0, r:r + h, c:c + w] = digits[k % len(digits), 0]
    X[3, 0] = np.random.default_rng(rng).random((canvas, canvas))
    return X


def write_page(path, networks, digits, labels, *, canvas, corner, grid):
    """Write the page to `path` and return its size in bytes.

    networks: {key: (model, title, accuracy map (G, G) or None)}, every model a Sequential of
    SUPPORTED layers taking (N, 1, canvas, canvas); digits (N, 1, h, w) in [0, 1] with labels
    (N,): the test digits the page offers (DIGITS_PER_CLASS of each class are kept); corner:
    training positions were rows and columns 0..corner; grid: the maps' offsets (G,).
    """
    digits, labels = np.asarray(digits, dtype=np.float32), np.asarray(labels)
    keep = np.concatenate([np.flatnonzero(labels == k)[:DIGITS_PER_CLASS]
                           for k in np.unique(labels)])
    digits, labels = digits[keep], labels[keep]
    h, w = digits.shape[-2:]
    at_corner = np.zeros((len(digits), 1, canvas, canvas), dtype=np.float32)
    at_corner[:, :, corner // 2:corner // 2 + h, corner // 2:corner // 2 + w] = digits
    tests = self_test_canvases(digits[::DIGITS_PER_CLASS], canvas, corner)
    data = {"canvas": canvas, "corner": corner, "image": [h, w],
            "grid": [int(g) for g in grid], "tolerance": TOLERANCE,
            "digits": _b64(digits), "labels": labels.tolist(), "networks": [],
            "selftest": {"canvases": _b64(tests), "count": len(tests)}}
    for key, (model, title, acc) in networks.items():
        try:
            net = export_network(model, (1, canvas, canvas))
        except TypeError as e:                                         # say which network
            raise TypeError(f"write_page: network {key!r}: {e}") from None
        with model.mode(False):
            logits = model.forward(tests)                              # (4, classes)
        net.update(key=key, title=title, logits=logits.astype(float).tolist(),
                   map=None if acc is None else np.round(acc, 4).tolist(),
                   response=_response(model, at_corner))
        data["networks"].append(net)
    page = _template("page.html")
    for mark, text in (("/*LAYERS_JS*/", _template("layers.js")),
                       ("/*DRAW_JS*/", _template("draw.js")),
                       ("/*PAGE_JS*/", _template("page.js")),
                       ("/*DATA*/", json.dumps(data, separators=(",", ":")))):
        page = page.replace(mark, text.replace("</", "<\\/"))         # no early </script>
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path.stat().st_size


def _template(name):
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
