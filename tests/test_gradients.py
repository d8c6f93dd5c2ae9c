"""Every layer's backward agrees with finite differences (float64, max relative error <= 1e-6).

Random configurations come from hypothesis (derandomized, so CI sees the same examples every
run): shapes, kernels (square and not), strides (int and tuple), paddings ("same", "valid", int,
tuple), both padding modes and both implementations. Shapes stay tiny (H, W <= 7; C, F <= 3) so
the finite differences are cheap. Then the cases where a from-scratch CNN breaks silently:
overlapping and non-tiling windows, ties in max pooling, stride > 1 with padding, and a gradient
that flows through two stacked convolutions into the input.

The random configurations come from tests/strategies.py.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import as_hw, conv_configs, make_conv, pool_configs, small

from minicnn import (
    AvgPool2D,
    Conv2D,
    Flatten,
    GlobalAvgPool2D,
    GlobalMaxPool2D,
    Linear,
    MaxPool2D,
    ReLU,
    Sequential,
    check_layer,
    check_model,
)

TOL = 1e-6
EXAMPLES = settings(max_examples=100, deadline=None, derandomize=True)


def assert_close_to_numeric(name, errors):
    """Assert every gradient's relative error is within TOL."""
    worst = max(errors.values())
    assert worst <= TOL, f"{name}: relative errors {errors}"


def distinct_values(shape, rng):
    """A random permutation of 0, 0.01, 0.02, ...: every pairwise gap is 0.01, far larger than
    the finite-difference step h = 1e-6, so no nudge can change which pixel is a maximum (no
    kinks for max pooling)."""
    return (rng.permutation(int(np.prod(shape))) * 0.01 - 0.3).reshape(shape)


# --------------------------------------------------------------------------------------------
# Hypothesis: every layer against finite differences.
# --------------------------------------------------------------------------------------------
@EXAMPLES
@given(cfg=conv_configs())
def test_conv2d_fast_gradients(cfg):
    x = np.random.default_rng(cfg["seed"]).standard_normal(cfg["shape"])
    assert_close_to_numeric("conv2d_fast", check_layer(make_conv(cfg, "fast"), x, rng=0))


@EXAMPLES
@given(cfg=conv_configs(max_n=1, max_c=2, max_hw=5))
def test_conv2d_naive_gradients(cfg):
    x = np.random.default_rng(cfg["seed"]).standard_normal(cfg["shape"])
    assert_close_to_numeric("conv2d_naive", check_layer(make_conv(cfg, "naive"), x, rng=0))


@EXAMPLES
@given(cfg=pool_configs())
def test_maxpool2d_gradients(cfg):
    x = distinct_values(cfg["shape"], np.random.default_rng(cfg["seed"]))
    for impl in ("fast", "naive"):
        layer = MaxPool2D(cfg["kernel"], cfg["stride"], impl=impl)
        assert_close_to_numeric(f"maxpool2d_{impl}", check_layer(layer, x, rng=0))


@EXAMPLES
@given(cfg=pool_configs())
def test_avgpool2d_gradients(cfg):
    x = np.random.default_rng(cfg["seed"]).standard_normal(cfg["shape"])
    layer = AvgPool2D(cfg["kernel"], cfg["stride"])
    assert_close_to_numeric("avgpool2d", check_layer(layer, x, rng=0))


@EXAMPLES
@given(cfg=pool_configs())
def test_global_avgpool2d_gradients(cfg):
    x = np.random.default_rng(cfg["seed"]).standard_normal(cfg["shape"])
    assert_close_to_numeric("global_avgpool2d", check_layer(GlobalAvgPool2D(), x, rng=0))


@EXAMPLES
@given(cfg=pool_configs())
def test_global_maxpool2d_gradients(cfg):
    x = distinct_values(cfg["shape"], np.random.default_rng(cfg["seed"]))  # no kinks
    assert_close_to_numeric("global_maxpool2d", check_layer(GlobalMaxPool2D(), x, rng=0))


@EXAMPLES
@given(n=small(1, 4), d=small(1, 8), m=small(1, 5), seed=small(0, 2**31))
def test_linear_gradients(n, d, m, seed):
    rng = np.random.default_rng(seed)
    layer = Linear(d, m, rng=seed, dtype=np.float64)
    layer.params["b"] = rng.standard_normal(m)
    assert_close_to_numeric("linear", check_layer(layer, rng.standard_normal((n, d)), rng=0))


@EXAMPLES
@given(shape=st.lists(small(1, 4), min_size=2, max_size=4), seed=small(0, 2**31))
def test_relu_gradients(shape, seed):
    rng = np.random.default_rng(seed)
    # |x| >= 0.1, far from the kink at 0 compared with h = 1e-6, and both signs present.
    x = rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.1, 2.0, size=shape)
    assert_close_to_numeric("relu", check_layer(ReLU(), x, rng=0))


@EXAMPLES
@given(shape=st.lists(small(1, 4), min_size=2, max_size=4), seed=small(0, 2**31))
def test_flatten_gradients(shape, seed):
    x = np.random.default_rng(seed).standard_normal(shape)
    assert_close_to_numeric("flatten", check_layer(Flatten(), x, rng=0))


# --------------------------------------------------------------------------------------------
# The cases where from-scratch pooling and convolution break silently.
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("impl", ["fast", "naive"])
@pytest.mark.parametrize("kernel, stride", [(3, 1), (3, 2), ((3, 2), (1, 2)), (2, 1)])
def test_overlapping_pool_windows(impl, kernel, stride):
    """stride < kernel: a pixel in several windows collects the gradient of each it wins."""
    x = distinct_values((2, 2, 7, 6), np.random.default_rng(0))
    assert_close_to_numeric("maxpool2d_overlap",
                            check_layer(MaxPool2D(kernel, stride, impl=impl), x, rng=0))
    assert_close_to_numeric("avgpool2d_overlap", check_layer(AvgPool2D(kernel, stride), x, rng=0))


@pytest.mark.parametrize("impl", ["fast", "naive"])
def test_max_of_four_overlapping_windows_gets_four_gradients(impl):
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 2, 1] = 5.0            # inside all four 3x3 windows at stride 1
    layer = MaxPool2D(3, stride=1, impl=impl)
    assert layer.forward(x).shape == (1, 1, 2, 2)
    dout = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    dx = layer.backward(dout)
    assert dx[0, 0, 2, 1] == 10.0
    assert np.count_nonzero(dx) == 1


@pytest.mark.parametrize("impl", ["fast", "naive"])
@pytest.mark.parametrize("kernel, stride, hw", [(2, 2, (7, 7)), (3, 2, (6, 7)),
                                                ((2, 3), (2, 3), (5, 8))])
def test_windows_that_do_not_tile_the_input(impl, kernel, stride, hw):
    """The rows and columns that no window reaches get exactly zero gradient."""
    x = distinct_values((2, 2, *hw), np.random.default_rng(1))
    for layer in (MaxPool2D(kernel, stride, impl=impl), AvgPool2D(kernel, stride)):
        assert_close_to_numeric("pool_non_tiling", check_layer(layer, x, rng=0))
        out = layer.forward(x)
        dx = layer.backward(np.ones_like(out))
        (KH, KW), (sh, sw) = as_hw(kernel), as_hw(stride)
        last_row = (out.shape[2] - 1) * sh + KH          # first row no window reaches
        last_col = (out.shape[3] - 1) * sw + KW
        assert last_row < hw[0] or last_col < hw[1]      # the case really does not tile
        assert not dx[:, :, last_row:, :].any() and not dx[:, :, :, last_col:].any()
        assert dx[:, :, :last_row, :last_col].any()


def first_max_reference(x, kernel, stride, dout):
    """Plain scan of each window in row-major order; only a strictly larger value takes over."""
    (KH, KW), (sh, sw) = as_hw(kernel), as_hw(stride)
    dx = np.zeros_like(x)
    N, C, Ho, Wo = dout.shape
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    best, where = -np.inf, None
                    for p in range(KH):
                        for q in range(KW):
                            if x[n, c, i * sh + p, j * sw + q] > best:
                                best, where = x[n, c, i * sh + p, j * sw + q], (i * sh + p,
                                                                                j * sw + q)
                    dx[n, c, where[0], where[1]] += dout[n, c, i, j]
    return dx


TIE_CASES = [(2, 2), (3, 1), (3, 2), ((2, 3), (1, 2)), (2, 3)]


@pytest.mark.parametrize("kernel, stride", TIE_CASES)
def test_maxpool_ties_go_to_the_first_maximum(kernel, stride):
    """Finite differences cannot judge a tie, so the rule is asserted directly: the gradient
    goes to the first maximum in row-major window order, in the naive and the fast version."""
    rng = np.random.default_rng(2)
    x = rng.integers(0, 3, size=(2, 3, 7, 7)).astype(np.float64)   # ties in most windows
    x[0, 0] = 1.0                                                  # a constant map: all ties
    out_shape = MaxPool2D(kernel, stride).output_shape(x.shape)
    dout = rng.integers(1, 100, size=out_shape).astype(np.float64)   # sums exact in any order
    grads = {}
    for impl in ("fast", "naive"):
        layer = MaxPool2D(kernel, stride, impl=impl)
        layer.forward(x)
        grads[impl] = layer.backward(dout)
    expected = first_max_reference(x, kernel, stride, dout)
    np.testing.assert_array_equal(grads["fast"], expected)
    np.testing.assert_array_equal(grads["naive"], expected)
    # On the constant map each window's gradient lands on its top-left pixel.
    (sh, sw) = as_hw(stride)
    corners = np.zeros_like(x[0, 0])
    np.add.at(corners, np.ix_(np.arange(out_shape[2]) * sh, np.arange(out_shape[3]) * sw),
              dout[0, 0])
    np.testing.assert_array_equal(grads["fast"][0, 0], corners)


@pytest.mark.parametrize("kernel, stride", TIE_CASES)
def test_maxpool_ties_match_torch(kernel, stride):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x = rng.integers(0, 3, size=(2, 3, 7, 7)).astype(np.float64)
    layer = MaxPool2D(kernel, stride, impl="fast")
    out = layer.forward(x)
    dout = rng.integers(1, 100, size=out.shape).astype(np.float64)   # sums exact in any order
    dx = layer.backward(dout)
    xt = torch.tensor(x, requires_grad=True)
    out_t = torch.nn.functional.max_pool2d(xt, as_hw(kernel), as_hw(stride))
    out_t.backward(torch.tensor(dout))
    np.testing.assert_array_equal(out, out_t.detach().numpy())
    np.testing.assert_array_equal(dx, xt.grad.numpy())


def test_global_maxpool_ties_go_to_the_first_maximum():
    x = np.zeros((1, 2, 3, 3))
    x[0, 1, 1, 2] = x[0, 1, 2, 0] = 4.0
    layer = GlobalMaxPool2D()
    layer.forward(x)
    dx = layer.backward(np.array([[2.0, 3.0]]))
    assert dx[0, 0, 0, 0] == 2.0 and dx[0, 1, 1, 2] == 3.0 and np.count_nonzero(dx) == 2


@pytest.mark.parametrize("impl", ["fast", "naive"])
@pytest.mark.parametrize("mode", ["zeros", "circular"])
@pytest.mark.parametrize("kernel, stride, padding", [(3, 2, 1), (3, (2, 3), (1, 2)),
                                                     ((2, 3), 3, 2), (2, 2, (0, 1))])
def test_conv_stride_with_padding(impl, mode, kernel, stride, padding):
    kwargs = {"in_channels": 2, "out_channels": 3, "kernel_size": kernel, "stride": stride,
              "padding": padding, "padding_mode": mode}
    cfg = {"kwargs": kwargs, "seed": 4}
    x = np.random.default_rng(5).standard_normal((2, 2, 7, 6) if impl == "fast" else (1, 2, 6, 5))
    assert_close_to_numeric("conv_stride_padding", check_layer(make_conv(cfg, impl), x, rng=0))


@pytest.mark.parametrize("impl", ["fast", "naive"])
def test_gradient_through_two_stacked_convs_into_the_input(impl):
    """Softmax cross-entropy on a Sequential: the input gradient crosses two convolutions
    (one zero-padded, one circular and strided), ReLU and max pooling."""
    rng = np.random.default_rng(6)
    layers = [Conv2D(2, 3, 3, padding=1, impl=impl, rng=1),
              ReLU(),
              Conv2D(3, 2, (2, 3), stride=2, padding=1, padding_mode="circular", impl=impl, rng=2),
              ReLU(),
              MaxPool2D(2, stride=1, impl=impl),
              Flatten()]
    x = rng.standard_normal((3, 2, 7, 7) if impl == "fast" else (2, 2, 5, 5))  # naive is slow
    features = Sequential(layers).output_shapes(x.shape)[-1][1][1]
    model = Sequential(layers + [Linear(features, 4, rng=3)]).astype(np.float64)
    for _, p, _ in model.param_items():
        p += 0.1 * rng.standard_normal(p.shape)                  # non-zero biases too
    errors = check_model(model, x, rng.integers(0, 4, size=len(x)))
    assert set(errors) == {"x", "0.W", "0.b", "2.W", "2.b", "6.W", "6.b"}
    assert_close_to_numeric("two_convs_model", errors)


def test_model_with_global_pooling_head():
    rng = np.random.default_rng(7)
    model = Sequential([Conv2D(1, 3, 3, padding="same", padding_mode="circular", rng=1),
                        ReLU(),
                        Conv2D(3, 4, 3, stride=2, padding=1, rng=2),
                        GlobalAvgPool2D()]).astype(np.float64)
    for _, p, _ in model.param_items():
        p += 0.1 * rng.standard_normal(p.shape)
    errors = check_model(model, rng.standard_normal((4, 1, 6, 6)), np.array([0, 1, 2, 3]))
    assert_close_to_numeric("global_pool_model", errors)
