"""Winograd F(2x2, 3x3) computes the same convolution as the naive loops, forward and backward.

float64: outputs and every gradient agree with the naive version to 1e-10 (relative error). The
transforms only add, subtract and halve, so the difference is rounding: about 1e-15 here.
float32: to 1e-4 against the naive version run in float64 (the im2col path's own float32 error
is of the same order); Winograd's transforms add a few roundings per value.
"""

import numpy as np
import pytest

from minicnn import Conv2D, rel_error
from minicnn.fast.winograd import conv2d_winograd, conv2d_winograd_backward
from minicnn.layers.conv import CONV_IMPLS, conv2d_naive, conv2d_naive_backward

# (N, C, H, W, F, pads, mode): odd and even sizes (odd ones crop the last tile), padding wider
# than the kernel's reach, asymmetric pads, circular padding, a 3x3 input without padding.
CASES = [(2, 3, 6, 6, 4, (1, 1, 1, 1), "zeros"), (2, 2, 5, 7, 3, (0, 0, 0, 0), "zeros"),
         (1, 2, 5, 5, 2, (1, 1, 2, 0), "circular"), (2, 3, 3, 3, 2, (2, 2, 2, 2), "zeros"),
         (3, 1, 4, 9, 5, (0, 1, 1, 0), "zeros"), (1, 2, 3, 4, 2, (2, 2, 1, 1), "circular")]


def both(forward, backward, x, w, b, pads, mode, dout):
    out, cache = forward(x, w, b, (1, 1), pads, mode)
    return (out, *backward(dout, cache))


@pytest.mark.parametrize("case", CASES)
def test_winograd_matches_naive_float64(case):
    N, C, H, W, F, pads, mode = case
    rng = np.random.default_rng(len(CASES) + H * W)
    x, w, b = (rng.standard_normal(s) for s in ((N, C, H, W), (F, C, 3, 3), F))
    out_shape = conv2d_naive(x, w, b, (1, 1), pads, mode)[0].shape
    dout = rng.standard_normal(out_shape)
    naive = both(conv2d_naive, conv2d_naive_backward, x, w, b, pads, mode, dout)
    wino = both(conv2d_winograd, conv2d_winograd_backward, x, w, b, pads, mode, dout)
    for what, got, want in zip(("out", "dx", "dw", "db"), wino, naive):
        assert got.shape == want.shape and got.dtype == want.dtype, what
        assert rel_error(got, want) <= 1e-10, f"{what}: {rel_error(got, want):.3g}"


def test_winograd_float32_close_to_float64_reference():
    rng = np.random.default_rng(0)
    x, w, b = (rng.standard_normal(s) for s in ((4, 8, 10, 10), (6, 8, 3, 3), 6))
    dout = rng.standard_normal((4, 6, 10, 10))
    pads = (1, 1, 1, 1)
    ref = both(conv2d_naive, conv2d_naive_backward, x, w, b, pads, "zeros", dout)
    f32 = [a.astype(np.float32) for a in (x, w, b, dout)]
    got = both(conv2d_winograd, conv2d_winograd_backward, *f32[:3], pads, "zeros", f32[3])
    for what, g, want in zip(("out", "dx", "dw", "db"), got, ref):
        assert g.dtype == np.float32, what
        assert rel_error(g.astype(np.float64), want) <= 1e-4, f"{what}: {rel_error(g, want):.3g}"


def test_conv2d_layer_selects_winograd():
    """impl="winograd" is registered like the others and trains the same layer."""
    assert "winograd" in CONV_IMPLS
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 7, 7))
    layers = {impl: Conv2D(3, 4, 3, padding="same", impl=impl, rng=2, dtype=np.float64)
              for impl in ("naive", "winograd")}
    dout = rng.standard_normal((2, 4, 7, 7))
    res = {}
    for impl, layer in layers.items():
        out = layer.forward(x)
        res[impl] = (out, layer.backward(dout), layer.grads["W"], layer.grads["b"])
    for got, want in zip(res["winograd"], res["naive"]):
        assert rel_error(got, want) <= 1e-10


@pytest.mark.parametrize("kwargs", [{"kernel_size": 5, "padding": 2},
                                    {"kernel_size": 3, "stride": 2}])
def test_winograd_refuses_other_kernels_and_strides(kwargs):
    with pytest.raises(ValueError, match="3x3 kernel and stride 1"):
        Conv2D(2, 2, impl="winograd", **kwargs)
