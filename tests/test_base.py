"""minicnn.layers.base: the Layer contract. Every built-in layer checks x and dout and keeps
float32; a layer of your own gets a parameter under any key trained, saved and loaded, and is
told what to implement when output_shape is missing."""

import numpy as np
import pytest
from conftest import rand, small_model

import minicnn as mc

LAYERS = {
    "Conv2D": (lambda: mc.Conv2D(2, 3, 3, padding=1, rng=0), (2, 2, 4, 4)),
    "Conv2D-naive": (lambda: mc.Conv2D(2, 3, 3, impl="naive", rng=0), (2, 2, 4, 4)),
    "MaxPool2D": (lambda: mc.MaxPool2D(2), (2, 2, 4, 4)),
    "MaxPool2D-naive": (lambda: mc.MaxPool2D(2, impl="naive"), (2, 2, 4, 4)),
    "AvgPool2D": (lambda: mc.AvgPool2D(2, stride=1), (2, 2, 4, 4)),
    "GlobalAvgPool2D": (lambda: mc.GlobalAvgPool2D(), (2, 2, 4, 4)),
    "GlobalMaxPool2D": (lambda: mc.GlobalMaxPool2D(), (2, 2, 4, 4)),
    "Flatten": (lambda: mc.Flatten(), (2, 2, 4, 4)),
    "Linear": (lambda: mc.Linear(4, 3, rng=0), (2, 4)),
    "ReLU": (lambda: mc.ReLU(), (2, 3)),
}


@pytest.mark.parametrize("name", LAYERS)
def test_every_layer_checks_x_and_dout(name):
    make, shape = LAYERS[name]
    layer = make()
    with pytest.raises(RuntimeError, match=r"backward\(\) called before forward\(\)"):
        layer.backward(np.zeros(shape))
    with pytest.raises(TypeError, match="floating-point x"):
        layer.forward(np.zeros(shape, dtype=int))
    with pytest.raises(mc.ShapeError, match="empty batch"):
        layer.forward(np.zeros((0, *shape[1:])))
    out = layer.forward(rand(*shape))
    assert out.shape == layer.output_shape(shape)
    with pytest.raises(TypeError, match="dout to be a numpy array"):
        layer.backward(out.tolist())
    with pytest.raises(mc.ShapeError, match="expected dout of shape"):
        layer.backward(np.zeros((out.shape[0] + 1, *out.shape[1:])))
    assert layer.backward(np.ones_like(out)).shape == shape


@pytest.mark.parametrize("name", LAYERS)
def test_every_layer_keeps_float32_forward_and_backward(name):
    make, shape = LAYERS[name]
    layer = make()
    out = layer.forward(rand(*shape).astype(np.float32))
    assert out.dtype == np.float32
    assert layer.backward(np.ones_like(out)).dtype == np.float32
    assert all(g.dtype == np.float32 for g in layer.grads.values())


@pytest.mark.parametrize("name", [n for n in LAYERS if n not in ("ReLU", "Flatten")])
def test_every_shape_checking_layer_refuses_an_input_of_the_wrong_rank(name):
    make, shape = LAYERS[name]
    with pytest.raises(mc.ShapeError):
        make().forward(rand(*shape[:-1]))


class Gain(mc.Layer):
    """out = x * gain[c] for channel c: a parameter under a key of its own ("gain")."""

    def __init__(self, channels):
        super().__init__()
        self.params["gain"] = np.ones(channels, dtype=np.float32)

    def output_shape(self, input_shape):
        return tuple(input_shape)

    def forward(self, x):
        self.cache = x
        return x * self.params["gain"][:, None, None]               # (N, C, H, W)

    def backward(self, dout):
        self.grads["gain"] = np.sum(dout * self.cache, axis=(0, 2, 3))
        return dout * self.params["gain"][:, None, None]


@pytest.mark.parametrize("optimizer", [mc.SGD(0.1, momentum=0.9), mc.Adam(1e-2)])
def test_a_parameter_under_any_key_is_trained_saved_and_loaded(data, optimizer, tmp_path):
    X, y = data
    model = small_model(Gain(4))
    assert "2.gain" in model.state_dict()
    mc.fit(model, X, y, epochs=1, optimizer=optimizer, progress=False)
    assert not np.allclose(model.layers[2].params["gain"], 1)
    x = np.random.default_rng(0).standard_normal((2, 4, 3, 3))
    assert max(mc.check_layer(Gain(4).astype(np.float64), x, rng=0).values()) <= 1e-6
    mc.save_weights(model, tmp_path / "w.npz")
    fresh = mc.load_weights(small_model(Gain(4)), tmp_path / "w.npz")
    np.testing.assert_array_equal(fresh.layers[2].params["gain"], model.layers[2].params["gain"])


def test_a_layer_without_output_shape_says_what_to_implement():
    class Twice(mc.Layer):
        def forward(self, x):
            return 2 * x

        def backward(self, dout):
            return 2 * dout

    model = mc.Sequential([mc.Flatten(), Twice(), mc.Linear(64, 10)])
    assert model.forward(np.zeros((2, 1, 8, 8), np.float32)).shape == (2, 10)  # forward works
    assert repr(Twice()) == "Twice()"                    # not <...Twice object at 0x7f...>
    for call in (lambda: model.summary((1, 1, 8, 8)),
                 lambda: mc.evaluate(model, np.zeros((2, 1, 8, 8), np.float32), [0, 1])):
        with pytest.raises(NotImplementedError, match=r"Twice must implement output_shape"):
            call()
