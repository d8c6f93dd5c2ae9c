"""minicnn.extensions.blurpool: gradients, naive == fast, output size, and the anti-aliasing claim."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minicnn import AvgPool2D, MaxPool2D, ShapeError
from minicnn.extensions.blurpool import (
    BLURPOOL_IMPLS,
    BlurPool2D,
    MaxBlurPool2D,
    binomial_filter,
    blur_pad,
    blur_pad_backward,
)
from minicnn.gradcheck import check_layer

MODES = ("reflect", "zeros", "circular")

# Random layer configurations and input shapes; sizes keep the finite differences cheap.
configs = st.fixed_dictionaries({
    "n": st.integers(1, 2), "c": st.integers(1, 3), "h": st.integers(3, 8),
    "w": st.integers(3, 8), "k": st.integers(1, 5), "s": st.integers(1, 3),
    "mode": st.sampled_from(MODES), "seed": st.integers(0, 2**31),
})


@settings(max_examples=60, deadline=None, derandomize=True)
@given(cfg=configs)
def test_blurpool_gradient_naive_fast_and_size(cfg):
    x = np.random.default_rng(cfg["seed"]).standard_normal((cfg["n"], cfg["c"], cfg["h"],
                                                            cfg["w"]))
    fast = BlurPool2D(cfg["c"], cfg["k"], cfg["s"], cfg["mode"])
    naive = BlurPool2D(cfg["c"], cfg["k"], cfg["s"], cfg["mode"], impl="naive")
    out = fast.forward(x)
    assert out.shape == (cfg["n"], cfg["c"], -(-cfg["h"] // cfg["s"]), -(-cfg["w"] // cfg["s"]))
    np.testing.assert_allclose(out, naive.forward(x), rtol=1e-12, atol=1e-12)
    errors = check_layer(fast, x, rng=cfg["seed"])
    assert errors["x"] <= 1e-6, errors


@settings(max_examples=50, deadline=None, derandomize=True)
@given(cfg=configs)
def test_maxblurpool_gradient(cfg):
    cfg["h"], cfg["w"] = cfg["h"] + cfg["k"] // 2, cfg["w"] + cfg["k"] // 2   # reflect fits
    x = np.random.default_rng(cfg["seed"]).standard_normal((cfg["n"], cfg["c"], cfg["h"],
                                                            cfg["w"]))
    layer = MaxBlurPool2D(None, cfg["k"], cfg["s"], cfg["mode"])
    out = layer.forward(x)
    assert out.shape == (cfg["n"], cfg["c"], -(-(cfg["h"] - 1) // cfg["s"]),
                         -(-(cfg["w"] - 1) // cfg["s"]))
    errors = check_layer(layer, x, rng=cfg["seed"])
    assert errors["x"] <= 1e-6, errors


@pytest.mark.parametrize("mode", MODES)
def test_pad_backward_is_the_adjoint_of_pad(mode):
    # <pad(x), g> == <x, pad_backward(g)> for every x, g: the definition of the adjoint.
    rng = np.random.default_rng(1)
    x, pads = rng.standard_normal((2, 3, 5, 6)), (2, 1, 1, 2)
    g = rng.standard_normal(blur_pad(x, pads, mode).shape)
    assert np.isclose(np.sum(blur_pad(x, pads, mode) * g), np.sum(x * blur_pad_backward(g, pads,
                                                                                        mode)))


def test_binomial_filters():
    np.testing.assert_allclose(binomial_filter(3), np.outer([1, 2, 1], [1, 2, 1]) / 16)
    np.testing.assert_allclose(binomial_filter(5)[2], np.array([1, 4, 6, 4, 1]) * 6 / 256)
    for k in range(1, 8):
        assert np.isclose(binomial_filter(k).sum(), 1.0)


def test_constant_map_stays_constant_with_reflect_not_with_zeros():
    x = np.full((1, 2, 9, 9), 3.0)
    np.testing.assert_allclose(BlurPool2D(2).forward(x), 3.0)
    zero = BlurPool2D(2, padding_mode="zeros").forward(x)
    assert zero[0, 0, 0, 0] < 3.0 and np.isclose(zero[0, 0, 2, 2], 3.0)   # border darkens


def test_even_shifts_exact_with_circular_padding():
    # Stride 2, circular: shifting the input by 2 shifts the output by 1, exactly.
    x = np.random.default_rng(2).standard_normal((2, 3, 12, 12))
    layer = BlurPool2D(3, padding_mode="circular")
    out, out_shifted = layer.forward(x), layer.forward(np.roll(x, (2, 4), axis=(2, 3)))
    np.testing.assert_allclose(out_shifted, np.roll(out, (1, 2), axis=(2, 3)), atol=1e-12)


def test_blur_reduces_odd_shift_aliasing_against_max_pool():
    """The claim of the demo, on random maps: a 1-pixel shift changes max pooling's output far
    more than blur pooling's, measured against the half-way (mean of 0 and 1 output shifts)."""
    x = np.random.default_rng(3).random((8, 4, 16, 16))

    def odd_shift_error(f):
        fx, fsx = f(x), f(np.roll(x, 1, axis=3))
        half_way = 0.5 * (fx + np.roll(fx, 1, axis=3))
        return np.linalg.norm(fsx - half_way) / np.linalg.norm(fx)

    e_max = odd_shift_error(MaxPool2D(2).forward)
    e_blur = odd_shift_error(BlurPool2D(4, 5, padding_mode="circular").forward)
    e_avg = odd_shift_error(AvgPool2D(2).forward)
    assert e_blur < 0.5 * e_max and e_blur < e_avg


def test_errors_name_the_layer():
    with pytest.raises(ShapeError, match=r"BlurPool2D\(channels=3.*expected channels=3"):
        BlurPool2D(3).forward(np.zeros((1, 2, 8, 8)))
    with pytest.raises(ShapeError, match="reflect padding"):
        BlurPool2D(None, 5).forward(np.zeros((1, 1, 2, 8)))
    with pytest.raises(ValueError, match="padding_mode"):
        BlurPool2D(padding_mode="edge")
    with pytest.raises(ShapeError, match="4-d input"):
        MaxBlurPool2D().forward(np.zeros((1, 8, 8)))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(cfg=configs)
def test_blurpool_functions_share_one_contract(cfg):
    """out, cache = blurpool2d_*(x, filt, stride, pads, mode); dx = blurpool2d_*_backward(dout,
    cache): the loop and the vectorised version agree on out and dx."""
    x = np.random.default_rng(cfg["seed"]).standard_normal((cfg["n"], cfg["c"], cfg["h"],
                                                            cfg["w"]))
    layer = BlurPool2D(cfg["c"], cfg["k"], cfg["s"], cfg["mode"])   # for its filter and pads
    args = (layer.filter, layer.stride, layer.pads, layer.padding_mode)
    results = {}
    for impl, (forward, backward) in BLURPOOL_IMPLS.items():
        out, cache = forward(x, *args)
        dout = np.random.default_rng(1).standard_normal(out.shape)
        results[impl] = (out, backward(dout, cache))
    for fast, naive in zip(results["fast"], results["naive"]):
        np.testing.assert_allclose(fast, naive, rtol=1e-12, atol=1e-12)


def test_repr_names_the_channels_argument():
    """MaxBlurPool2D(5) is channels=5 (the blur stays 3x3): the repr says which number is which."""
    assert repr(MaxBlurPool2D(5)) == "MaxBlurPool2D(channels=5, kernel_size=3, stride=2)"
    assert repr(MaxBlurPool2D(kernel_size=5)) == ("MaxBlurPool2D(channels=None, kernel_size=5, "
                                                   "stride=2)")
    assert repr(BlurPool2D(4, 5)) == "BlurPool2D(channels=4, kernel_size=5, stride=2)"
