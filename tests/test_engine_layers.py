"""The promises of the layers and of Sequential that the maths tests do not reach.

test_naive_vs_fast.py and test_gradients.py pin the arithmetic. Here: initial weights, padding
options, the functional defaults, chunked convolution, every layer's checks on x and dout,
ReLU at exactly 0, and Sequential's bookkeeping (construction, batching, summary, state dicts).
Not pinned: the column widths of summary() beyond its exact text for one model below.
"""

import numpy as np
import pytest

import minicnn as mc
from minicnn.fast import conv as fast_conv
from minicnn.layers import conv as conv_module
from minicnn.layers import pool as pool_module
from minicnn.layers.padding import pad2d, pad2d_backward, same_pads


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# --- initialisation -------------------------------------------------------------------------
def test_he_initialisation_scales_by_fan_in_and_biases_start_at_zero():
    conv = mc.Conv2D(8, 64, 3, rng=0)                          # fan_in = 8*3*3 = 72
    lin = mc.Linear(50, 400, rng=0)
    for layer, fan_in in ((conv, 72), (lin, 50)):
        W = layer.params["W"]
        assert W.dtype == np.float32
        assert W.std() == pytest.approx(np.sqrt(2 / fan_in), rel=0.05)
        assert abs(W.mean()) < 0.05 * np.sqrt(2 / fan_in)
        assert not np.any(layer.params["b"]) and layer.params["b"].shape == W.shape[:1]
        assert layer.params["b"].dtype == np.float32
    assert conv.params["W"].shape == (64, 8, 3, 3) and lin.params["W"].shape == (400, 50)
    assert mc.Conv2D(2, 3, (1, 2), dtype=np.float64).params["W"].shape == (3, 2, 1, 2)
    np.testing.assert_array_equal(mc.Linear(3, 2, rng=5).params["W"],
                                  mc.Linear(3, 2, rng=5).params["W"])


@pytest.mark.parametrize("make, pattern", [
    (lambda: mc.Conv2D(0, 4, 3), "in_channels must be an int >= 1"),
    (lambda: mc.Conv2D(1, 0, 3), "out_channels must be an int >= 1"),
    (lambda: mc.Conv2D(1, 1, 3, padding=-1), "padding must be >= 0"),
    (lambda: mc.Linear(0, 2), "in_features must be an int >= 1"),
    (lambda: mc.Linear(2, 0), "out_features must be an int >= 1"),
])
def test_sizes_below_the_minimum_are_refused(make, pattern):
    with pytest.raises(ValueError, match=pattern):
        make()


# --- padding --------------------------------------------------------------------------------
def test_valid_padding_is_no_padding_and_same_keeps_the_size():
    x = rand(2, 3, 7, 6).astype(np.float32)
    valid, zero = mc.Conv2D(3, 4, 3, padding="valid", rng=1), mc.Conv2D(3, 4, 3, rng=1)
    assert valid.pads == (0, 0, 0, 0)
    np.testing.assert_array_equal(valid.forward(x), zero.forward(x))
    assert valid.forward(x).shape == (2, 4, 5, 4)
    same = mc.Conv2D(3, 4, (2, 4), padding="same")
    assert same.pads == (0, 1, 1, 2) and same.forward(x).shape == (2, 4, 7, 6)
    assert mc.Conv2D(3, 4, 3, padding=(1, 2)).pads == (1, 1, 2, 2)
    with pytest.raises(ValueError, match="padding='same' needs stride 1"):
        mc.Conv2D(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding must be one of"):
        mc.Conv2D(3, 4, 3, padding="full")


def test_same_pads_put_the_extra_pixel_last():
    assert same_pads((3, 3)) == (1, 1, 1, 1)
    assert same_pads((4, 1)) == (1, 2, 0, 0)
    assert same_pads((2, 5)) == (0, 1, 2, 2)


@pytest.mark.parametrize("mode", ["zeros", "circular"])
@pytest.mark.parametrize("pads", [(0, 0, 0, 0), (1, 0, 0, 0), (0, 2, 0, 0), (0, 0, 3, 0),
                                  (0, 0, 0, 1), (2, 1, 1, 3)])
def test_pad2d_backward_is_the_adjoint_of_pad2d(mode, pads):
    """<pad2d(x), g> == <x, pad2d_backward(g)> for every x and g: the gradient is exact."""
    x = rand(2, 2, 4, 5)
    xp = pad2d(x, pads, mode)
    assert xp.shape == (2, 2, 4 + pads[0] + pads[1], 5 + pads[2] + pads[3])
    g = rand(*xp.shape, seed=1)
    dx = pad2d_backward(g, pads, mode)
    assert dx.shape == x.shape
    assert np.sum(xp * g) == pytest.approx(np.sum(x * dx), rel=1e-12)


@pytest.mark.parametrize("x_dtype, w_dtype", [(np.float32, np.float64), (np.float64, np.float32)])
def test_naive_and_fast_conv_backward_return_the_promoted_dtype_for_mixed_inputs(x_dtype, w_dtype):
    x, w, b = rand(2, 2, 5, 5).astype(x_dtype), rand(3, 2, 3, 3, seed=1).astype(w_dtype), rand(3)
    for name in ("naive", "fast"):
        forward, backward = conv_module.CONV_IMPLS[name]
        out, cache = forward(x, w, b, (1, 1), (1, 1, 1, 1), "zeros")
        dx, dw, _ = backward(np.ones_like(out), cache)
        assert (dx.dtype, dw.dtype) == (np.float64, np.float64), name


def test_maxpool_backward_gives_zero_between_windows_whatever_the_memory_held():
    """Kernel 2, stride 3: the pixels between windows belong to none and get gradient 0."""
    x = rand(1, 1, 6, 6)
    out, cache = pool_module.maxpool2d_fast(x, (2, 2), (3, 3))
    want = pool_module.maxpool2d_naive_backward(np.ones_like(out),
                                                pool_module.maxpool2d_naive(x, (2, 2), (3, 3))[1])
    junk = np.full(x.shape, 7.0)
    del junk                           # numpy's small-block cache hands this memory out next
    np.testing.assert_array_equal(pool_module.maxpool2d_fast_backward(np.ones_like(out), cache),
                                  want)


@pytest.mark.parametrize("mode", ["zeros", "circular"])
def test_no_padding_returns_the_array_itself_without_a_copy(mode):
    x = rand(2, 2, 4, 5)
    assert pad2d(x, (0, 0, 0, 0), mode) is x                 # padding=0 layers pay no copy
    assert pad2d_backward(x, (0, 0, 0, 0), mode) is x


def test_circular_padding_wraps_and_zero_padding_adds_zeros():
    x = np.arange(6.0).reshape(1, 1, 2, 3)
    np.testing.assert_array_equal(pad2d(x, (0, 0, 1, 1), "circular")[0, 0],
                                  [[2, 0, 1, 2, 0], [5, 3, 4, 5, 3]])
    np.testing.assert_array_equal(pad2d(x, (1, 0, 0, 0), "zeros")[0, 0],
                                  [[0, 0, 0], [0, 1, 2], [3, 4, 5]])


# --- the functional convolutions ------------------------------------------------------------
@pytest.mark.parametrize("impl", ["naive", "fast"])
def test_conv2d_function_defaults_are_stride_1_no_padding_zeros(impl):
    forward, backward = {"naive": (mc.conv2d_naive, mc.conv2d_naive_backward),
                         "fast": (mc.conv2d_fast, mc.conv2d_fast_backward)}[impl]
    x, w, b = rand(2, 2, 5, 6), rand(3, 2, 2, 3, seed=1), rand(3, seed=2)
    out, cache = forward(x, w, b)
    ref, ref_cache = forward(x, w, b, (1, 1), (0, 0, 0, 0), "zeros")
    assert out.shape == (2, 3, 4, 4)
    np.testing.assert_array_equal(out, ref)
    for got, want in zip(backward(np.ones_like(out), cache),
                         backward(np.ones_like(out), ref_cache)):
        np.testing.assert_array_equal(got, want)


def test_chunk_size_keeps_the_columns_under_the_limit():
    x, w = np.zeros((3, 2, 9, 10), np.float32), np.zeros((4, 2, 3, 2), np.float32)
    for stride, pads in (((1, 1), (0, 0, 0, 0)), ((2, 3), (1, 2, 0, 3)), ((3, 1), (0, 1, 2, 0)),
                         ((1, 1), (2, 0, 0, 1)), ((1, 1), (0, 3, 1, 0))):   # stride 1: each pad counts
        Ho, Wo = mc.conv2d_naive(x[:1], w, np.zeros(4), stride, pads)[0].shape[2:]
        per_image = 2 * 3 * 2 * Ho * Wo * 4                     # C*KH*KW*Ho*Wo float32 values
        assert fast_conv._chunk_size(x, w, stride, pads) == fast_conv.MAX_COLS_BYTES // per_image
    huge = np.zeros((1, 1, 5000, 5000), np.float32)
    assert fast_conv._chunk_size(huge, np.zeros((1, 1, 3, 3)), (1, 1), (1, 1, 1, 1)) == 1


@pytest.mark.parametrize("mode", ["zeros", "circular"])
def test_conv2d_in_chunks_of_two_images_matches_one_pass_forward_and_backward(monkeypatch, mode):
    # 5 images of width 3: a loop over the wrong axis (x.shape[-1]) would miss images 3 and 4
    x, w, b = rand(5, 2, 6, 3), rand(3, 2, 3, 3, seed=1), rand(3, seed=2)
    args = ((2, 1), (1, 1, 1, 1), mode)
    out, cache = mc.conv2d_fast(x, w, b, *args)
    grads = mc.conv2d_fast_backward(rand(*out.shape, seed=3), cache)
    per_image = 2 * 9 * out.shape[2] * out.shape[3] * 8
    monkeypatch.setattr(fast_conv, "MAX_COLS_BYTES", 2 * per_image + 1)   # 2 images a pass
    out2, cache2 = mc.conv2d_fast(x, w, b, *args)
    assert cache2["chunk"] == 2 and "cols" not in cache2
    np.testing.assert_allclose(out2, out, rtol=1e-12)
    for got, want in zip(mc.conv2d_fast_backward(rand(*out.shape, seed=3), cache2), grads):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_conv2d_takes_one_pass_exactly_when_the_whole_batch_fits_the_budget(monkeypatch):
    x, w, b = rand(5, 2, 6, 2), rand(3, 2, 3, 3, seed=1), rand(3, seed=2)   # 5 images, width 2
    args = ((1, 1), (1, 1, 1, 1), "zeros")
    per_image = 2 * 9 * 6 * 2 * 8                                  # C*KH*KW * Ho*Wo * 8 bytes
    monkeypatch.setattr(fast_conv, "MAX_COLS_BYTES", 5 * per_image)      # all 5 just fit
    _, cache = mc.conv2d_fast(x, w, b, *args)
    assert "cols" in cache and "chunk" not in cache                # one pass, columns kept
    monkeypatch.setattr(fast_conv, "MAX_COLS_BYTES", 2 * per_image)      # 2 at a time
    _, cache = mc.conv2d_fast(x, w, b, *args)
    assert cache["chunk"] == 2 and "cols" not in cache


# --- the checks every layer makes ------------------------------------------------------------
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


def test_relu_gradient_is_zero_at_exactly_zero():
    relu = mc.ReLU()
    np.testing.assert_array_equal(relu.forward(np.array([[-1.0, 0.0, 2.0]])), [[0, 0, 2]])
    np.testing.assert_array_equal(relu.backward(np.array([[5.0, 5.0, 5.0]])), [[0, 0, 5]])


def test_conv2d_shape_checks_name_the_problem():
    conv = mc.Conv2D(2, 3, 3)
    with pytest.raises(mc.ShapeError, match="1 channel, expected in_channels=2"):
        conv.forward(rand(1, 1, 5, 5))
    with pytest.raises(mc.ShapeError, match="4-d input"):
        conv.output_shape((2, 5, 5))
    assert conv.output_shape((1, 2, 3, 3)) == (1, 3, 1, 1)      # kernel exactly fits
    with pytest.raises(mc.ShapeError, match="larger than the padded input"):
        conv.output_shape((1, 2, 2, 3))
    with pytest.raises(mc.ShapeError, match="larger than the padded input"):
        conv.output_shape((1, 2, 3, 2))
    circ = mc.Conv2D(1, 1, 5, padding=2, padding_mode="circular")
    assert circ.output_shape((1, 1, 2, 2)) == (1, 1, 2, 2)      # pads == size: wraps once
    with pytest.raises(mc.ShapeError, match="wraps more than once"):
        circ.output_shape((1, 1, 1, 5))
    with pytest.raises(mc.ShapeError, match="wraps more than once"):
        circ.output_shape((1, 1, 5, 1))
    assert mc.Conv2D(1, 1, (1, 3), stride=(2, 3)).output_shape((4, 1, 5, 7)) == (4, 1, 3, 2)
    assert mc.Conv2D(1, 1, 3, padding=3).output_shape((1, 1, 1, 1)) == (1, 1, 5, 5)   # zeros: any


def test_an_asymmetric_same_padding_counts_both_sides():
    """kernel 4, 'same': pads (1, 2) on each axis, so a 1x1 input fits the kernel exactly."""
    zeros = mc.Conv2D(1, 1, 4, padding="same")
    assert zeros.output_shape((1, 1, 1, 1)) == (1, 1, 1, 1)
    circ = mc.Conv2D(1, 1, 4, padding="same", padding_mode="circular")
    assert circ.output_shape((1, 1, 2, 2)) == (1, 1, 2, 2)        # 2 pixels of wrap: once
    for shape in ((1, 1, 1, 2), (1, 1, 2, 1)):
        with pytest.raises(mc.ShapeError, match="wraps more than once"):
            circ.output_shape(shape)


def test_pool_shape_checks_and_output_sizes():
    pool = mc.MaxPool2D((2, 3), stride=(1, 2))
    assert pool.output_shape((1, 2, 4, 7)) == (1, 2, 3, 3)
    assert pool.output_shape((1, 2, 2, 3)) == (1, 2, 1, 1)
    assert mc.AvgPool2D((2, 3), stride=2).output_shape((1, 2, 5, 8)) == (1, 2, 2, 3)
    for shape in ((1, 2, 1, 3), (1, 2, 2, 2)):
        with pytest.raises(mc.ShapeError, match="larger than the input"):
            pool.output_shape(shape)
    with pytest.raises(mc.ShapeError, match="4-d input"):
        mc.GlobalMaxPool2D().output_shape((2, 3))
    assert mc.GlobalAvgPool2D().output_shape((2, 3, 4, 5)) == (2, 3)


def test_avg_pool_averages_each_window_and_shares_the_gradient():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    pool = mc.AvgPool2D((2, 1), stride=(2, 1))
    np.testing.assert_array_equal(pool.forward(x)[0, 0], [[2, 3, 4, 5], [10, 11, 12, 13]])
    np.testing.assert_array_equal(pool.backward(np.ones((1, 1, 2, 4))), np.full((1, 1, 4, 4), 0.5))
    g = mc.GlobalAvgPool2D()
    assert g.forward(x)[0, 0] == 7.5
    np.testing.assert_array_equal(g.backward(np.array([[32.0]])), np.full((1, 1, 4, 4), 2.0))
    assert mc.AvgPool2D(2).forward(x.astype(np.float32)).dtype == np.float32


def test_linear_and_flatten_shape_checks():
    with pytest.raises(mc.ShapeError, match=r"\(add Flatten\(\) before it\?\)"):
        mc.Linear(4, 2).forward(rand(2, 1, 2, 2))
    with pytest.raises(mc.ShapeError, match=r"expected input of shape \(N, 4\), got \(2, 3\)$"):
        mc.Linear(4, 2).forward(rand(2, 3))
    with pytest.raises(mc.ShapeError, match="at least a 2-d input"):
        mc.Flatten().output_shape((5,))
    assert mc.Flatten().output_shape((5, 2, 3)) == (5, 6)
    assert mc.Flatten().output_shape((5, 6)) == (5, 6)
    with pytest.raises(mc.ShapeError, match=r"\(add Flatten\(\) before it\?\)"):
        mc.Linear(4, 2).forward(rand(2, 2, 2))
    with pytest.raises(mc.ShapeError, match=r"\(add Flatten\(\) before it\?\)"):
        mc.Linear(4, 2).forward(rand(2, 4, 1, 1))               # 4 features, but 4-d


def test_reprs_show_the_non_default_arguments():
    assert repr(mc.Conv2D(1, 8, 3)) == "Conv2D(1, 8, kernel_size=3)"
    assert repr(mc.Conv2D(1, 8, 3, padding="valid")) == "Conv2D(1, 8, kernel_size=3)"
    assert (repr(mc.Conv2D(2, 4, (3, 1), stride=2, padding="valid",
                           padding_mode="circular"))
            == "Conv2D(2, 4, kernel_size=(3, 1), stride=2, padding_mode='circular')")
    assert (repr(mc.Conv2D(1, 1, 3, stride=(1, 2), padding=1))
            == "Conv2D(1, 1, kernel_size=3, stride=(1, 2), padding=1)")
    assert repr(mc.Conv2D(1, 1, 3, padding="same")) == "Conv2D(1, 1, kernel_size=3, padding='same')"
    assert repr(mc.MaxPool2D(2)) == "MaxPool2D(2)"
    assert repr(mc.AvgPool2D((2, 3), stride=(1, 1))) == "AvgPool2D((2, 3), stride=1)"
    assert repr(mc.MaxPool2D(2, stride=(1, 2))) == "MaxPool2D(2, stride=(1, 2))"
    assert repr(mc.MaxPool2D((2, 3), stride=(2, 3))) == "MaxPool2D((2, 3))"
    assert repr(mc.GlobalMaxPool2D()) == "GlobalMaxPool2D()"
    assert repr(mc.GlobalAvgPool2D()) == "GlobalAvgPool2D()"
    assert repr(mc.Linear(3, 2)) == "Linear(in_features=3, out_features=2)"


# --- Sequential -------------------------------------------------------------------------------
def small_model():
    return mc.Sequential([mc.Conv2D(1, 2, 3, padding=1, rng=0), mc.ReLU(), mc.MaxPool2D(2),
                          mc.Flatten(), mc.Linear(8, 3, rng=1)])


def test_sequential_takes_any_iterable_of_layers():
    model = mc.Sequential(layer for layer in small_model())      # a generator, used once
    assert len(model) == 5 and isinstance(model[4], mc.Linear)
    assert [type(layer).__name__ for layer in model] == ["Conv2D", "ReLU", "MaxPool2D",
                                                         "Flatten", "Linear"]
    x = rand(2, 1, 4, 4).astype(np.float32)
    np.testing.assert_array_equal(model(x), model.forward(x))
    assert repr(mc.Sequential([mc.ReLU(), mc.Flatten()])) == "Sequential([\n  ReLU(),\n  Flatten()\n])"


def test_sequential_refuses_what_is_not_a_layer():
    with pytest.raises(TypeError, match="item 1 is 3, not a minicnn Layer"):
        mc.Sequential([mc.ReLU(), 3])

    class NoInit(mc.Layer):
        def __init__(self):
            self.params = {}                                      # but no grads or training
    with pytest.raises(TypeError, match=r"must call super\(\).__init__\(\)"):
        mc.Sequential([NoInit()])


@pytest.mark.parametrize("n, batch_size", [(6, 3), (7, 3), (1, 5), (4, 1)])
def test_logits_in_batches_equal_one_forward_pass(n, batch_size):
    model = small_model()
    x = rand(n, 1, 4, 4).astype(np.float32)
    np.testing.assert_allclose(model.logits(x, batch_size), model.forward(x), rtol=1e-6)
    np.testing.assert_array_equal(model.predict(x, batch_size),
                                  model.forward(x).argmax(axis=1))
    with pytest.raises(mc.ShapeError, match="empty batch"):
        model.logits(x[:0])
    with pytest.raises(ValueError, match="batch_size"):
        model.logits(x, 0)


class CountingIdentity(mc.Layer):
    """The identity, counting its forward calls and their batch sizes."""

    def __init__(self):
        super().__init__()
        self.batches = []

    def forward(self, x):
        self.batches.append(len(x))
        return x

    def output_shape(self, input_shape):
        return tuple(input_shape)


def test_logits_and_predict_default_to_batches_of_256():
    counter = CountingIdentity()
    model = mc.Sequential([counter, mc.Flatten(), mc.Linear(4, 2, rng=0)])
    x = rand(600, 1, 2, 2).astype(np.float32)
    model.logits(x)
    assert counter.batches == [256, 256, 88]
    counter.batches.clear()
    model.predict(x[:512])
    assert counter.batches == [256, 256]


def test_a_backward_without_a_return_statement_is_named_even_in_the_first_layer():
    class NoReturnBackward(mc.Layer):
        def forward(self, x):
            return x

        def backward(self, dout):
            self.grads = {}                                       # ... and forgets `return`

        def output_shape(self, input_shape):
            return tuple(input_shape)
    model = mc.Sequential([NoReturnBackward()])
    model.forward(rand(2, 3))
    with pytest.raises(TypeError, match=r"layer 0 \(NoReturnBackward\(\)\): backward returned "
                                        r"NoneType.*missing return statement"):
        model.backward(rand(2, 3))


def test_summary_layout():
    model = mc.Sequential([mc.Conv2D(1, 2, 3, rng=0), mc.Flatten(), mc.Linear(200, 1000)])
    assert model.summary((1, 1, 12, 12)).splitlines() == [
        "#  layer                                       output shape     params",
        "----------------------------------------------------------------------",
        "0  Conv2D(1, 2, kernel_size=3)                 (1, 2, 10, 10)       20",
        "1  Flatten()                                   (1, 200)              0",
        "2  Linear(in_features=200, out_features=1000)  (1, 1000)       201,000",
        "total parameters: 201,020"]


class Counting(mc.Layer):
    """Identity that counts its forward and output_shape calls."""

    def __init__(self):
        super().__init__()
        self.forwards = self.shape_checks = 0

    def output_shape(self, input_shape):
        self.shape_checks += 1
        return tuple(input_shape)

    def forward(self, x):
        self.forwards += 1
        self.cache = x
        return x


def test_forward_checks_the_whole_stack_once_per_input_shape_before_computing():
    spy = Counting()
    model = mc.Sequential([spy, mc.Flatten(), mc.Linear(5, 2)])
    with pytest.raises(mc.ShapeError, match=r"Sequential layer 2 \(Linear.*cannot take input"):
        model.forward(rand(2, 4))
    assert spy.forwards == 0                                      # nothing computed
    model = mc.Sequential([spy, mc.Flatten(), mc.Linear(4, 2)])
    spy.shape_checks = 0
    model.forward(rand(2, 4))
    model.forward(rand(2, 4))
    assert spy.shape_checks == 1                                  # the second call: same shape
    model.forward(rand(3, 4))
    assert spy.shape_checks == 2


def test_a_layer_without_output_shape_still_runs_in_a_sequential():
    class Double(mc.Layer):
        def forward(self, x):
            self.cache = x
            return 2 * x

        def backward(self, dout):
            return 2 * dout
    model = mc.Sequential([Double(), mc.ReLU()])
    np.testing.assert_array_equal(model.forward(np.array([[1.0, -1.0]])), [[2.0, 0.0]])
    with pytest.raises(mc.ShapeError, match=r"Sequential layer 1 \(Linear.*could not take the "
                       r"output of the layer before it, shape \(1, 2\)"):
        mc.Sequential([Double(), mc.Linear(3, 1)]).forward(np.array([[1.0, -1.0]]))


def test_state_dict_copies_and_load_state_dict_checks_names_shapes_and_values():
    model = small_model()
    state = model.state_dict()
    state["0.W"][...] = 7
    assert not np.any(model[0].params["W"] == 7)                   # a copy, not the weights
    only_missing = {k: v for k, v in state.items() if k != "4.b"}
    with pytest.raises(ValueError, match=r"missing \['4.b'\], unexpected \[\]"):
        model.load_state_dict(only_missing)
    with pytest.raises(ValueError, match=r"missing \[\], unexpected \['5.W'\]"):
        model.load_state_dict(state | {"5.W": np.zeros(2)})
    with pytest.raises(ValueError, match=r"shapes do not match this model: 4.b: model \(3,\), given \(2,\)"):
        model.load_state_dict(state | {"4.b": np.zeros(2)})
    with pytest.raises(ValueError, match=r"\['4.b'\] are not finite"):
        model.load_state_dict(state | {"4.b": np.array([0.0, np.inf, 0.0])})
    with pytest.raises(ValueError, match="not finite real numbers"):
        model.load_state_dict(state | {"4.b": np.array(["a", "b", "c"])})
    before = model.state_dict()
    with pytest.raises(ValueError):
        model.load_state_dict(state | {"4.b": np.zeros(2)})
    np.testing.assert_array_equal(model[0].params["W"], before["0.W"])   # unchanged on error
    model.load_state_dict(state | {"4.b": np.array([1, 2, 3])})      # integers are numbers
    np.testing.assert_array_equal(model[0].params["W"], 7)
    np.testing.assert_array_equal(model[4].params["b"], [1, 2, 3])


def test_num_params_and_astype():
    model = small_model()
    assert model.num_params() == 2 * 9 + 2 + 8 * 3 + 3
    assert model.astype(np.float64) is model
    assert all(p.dtype == np.float64 for _, p, _ in model.param_items())


def test_train_eval_and_mode_set_every_layer_and_mode_restores_it():
    model = small_model()
    assert model.eval() is model and not any(layer.training for layer in model)
    assert model.train() is model and all(layer.training for layer in model)
    model[1].training = False
    with model.mode(False) as inside:
        assert inside is model and not any(layer.training for layer in model)
    assert [layer.training for layer in model] == [True, False, True, True, True]
    model.logits(rand(1, 1, 4, 4).astype(np.float32))
    assert [layer.training for layer in model] == [True, False, True, True, True]
