"""minicnn.layers.conv: Conv2D's promises that the maths tests do not reach.

test_naive_vs_fast.py, test_references.py and test_gradients.py pin the arithmetic, and
test_shift_claims.py the shift claims. Here: initial weights, padding options, the functional
defaults, chunked convolution, the shape checks and the reprs (of Conv2D, and of the pools and
Linear, side by side).
"""

import numpy as np
import pytest
from conftest import rand

import minicnn as mc
from minicnn.fast import conv as fast_conv
from minicnn.layers import conv as conv_module


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


@pytest.mark.parametrize("x_dtype, w_dtype", [(np.float32, np.float64), (np.float64, np.float32)])
def test_naive_and_fast_conv_backward_return_the_promoted_dtype_for_mixed_inputs(x_dtype, w_dtype):
    x, w, b = rand(2, 2, 5, 5).astype(x_dtype), rand(3, 2, 3, 3, seed=1).astype(w_dtype), rand(3)
    for name in ("naive", "fast"):
        forward, backward = conv_module.CONV_IMPLS[name]
        out, cache = forward(x, w, b, (1, 1), (1, 1, 1, 1), "zeros")
        dx, dw, _ = backward(np.ones_like(out), cache)
        assert (dx.dtype, dw.dtype) == (np.float64, np.float64), name


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


# --- shape checks and reprs ------------------------------------------------------------------
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
