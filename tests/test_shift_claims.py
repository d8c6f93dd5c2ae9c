"""The lesson, as properties: what commutes with a shift, what ignores it, and what does neither.

A map f is translation-equivariant when f(shift(x)) = shift(f(x)), and invariant when
f(shift(x)) = f(x). Each test's docstring states its claim in plain words. Shifts are drawn by
hypothesis (derandomized); inputs are random, in float64.
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

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
    rel_error,
)

EXAMPLES = settings(max_examples=100, deadline=None, derandomize=True)
EXACT = 1e-12    # "equal": only rounding differences allowed
BIG = 0.1        # "not equal": a relative change of more than 10%


def roll(x, shift):
    """Circular shift of the last two axes by shift = (dy, dx)."""
    return np.roll(x, shift=tuple(shift), axis=(-2, -1))


def change(a, b):
    """||a - b|| / ||b||: how much a differs from b, relative to b's size."""
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def assert_big_change(name, value):
    assert value > BIG, f"{name}: relative change only {value:.3g}"


def conv(cin, cout, kernel, seed, **kwargs):
    """A float64 Conv2D with random biases."""
    layer = Conv2D(cin, cout, kernel, rng=seed, dtype=np.float64, **kwargs)
    layer.params["b"] = np.random.default_rng(seed + 1).standard_normal(cout)
    return layer


@EXAMPLES
@given(data=st.data(), H=st.integers(3, 8), W=st.integers(3, 8),
       kernel=st.tuples(st.integers(1, 4), st.integers(1, 4)), seed=st.integers(0, 2**31))
def test_circular_convolution_commutes_with_every_roll(data, H, W, kernel, seed):
    """With circular padding the image has no border: convolving a rolled image gives the
    rolled feature maps, exactly, for every shift, even shifts that wrap all the way round."""
    dy, dx = data.draw(st.integers(-H, H)), data.draw(st.integers(-W, W))
    x = np.random.default_rng(seed).standard_normal((2, 2, H, W))
    layer = conv(2, 3, kernel, seed, padding="same", padding_mode="circular")
    assert rel_error(layer.forward(roll(x, (dy, dx))), roll(layer.forward(x), (dy, dx))) <= EXACT


@EXAMPLES
@given(data=st.data(), kernel=st.tuples(st.integers(2, 4), st.integers(2, 4)),
       seed=st.integers(0, 2**31))
def test_zero_padded_convolution_commutes_with_shifts_only_away_from_the_border(data, kernel,
                                                                               seed):
    """With zero padding a shifted image gives shifted feature maps in the interior (outputs
    that see neither the zero frame nor the wrapped-round pixels), but not at the border, where
    the kernel reads zeros that did not move with the image."""
    H, W = 11, 12
    dy, dx = data.draw(st.integers(-3, 3)), data.draw(st.integers(-3, 3))
    x = np.random.default_rng(seed).standard_normal((2, 2, H, W))
    layer = conv(2, 3, kernel, seed, padding="same")
    top, bottom, left, right = layer.pads
    shifted_then_conv = layer.forward(roll(x, (dy, dx)))
    conv_then_shifted = roll(layer.forward(x), (dy, dx))
    # Output (i, j) reads input rows i-top..i+bottom; keep those inside the image and unwrapped.
    rows = slice(max(0, dy) + top, H + min(0, dy) - bottom)
    cols = slice(max(0, dx) + left, W + min(0, dx) - right)
    inner = (..., rows, cols)
    assert shifted_then_conv[inner].size > 0
    assert rel_error(shifted_then_conv[inner], conv_then_shifted[inner]) <= EXACT
    if (dy, dx) != (0, 0):
        border = np.ones(shifted_then_conv.shape, dtype=bool)
        border[inner] = False
        assert_big_change("zero_padding_border", change(shifted_then_conv[border],
                                                        conv_then_shifted[border]))


def best_output_shift_change(f, x, shift):
    """The smallest change between f(roll(x, shift)) and ANY roll of f(x): large means no
    output shift at all reproduces what the shifted input gives."""
    y, fx = f(roll(x, shift)), f(x)
    return min(change(y, roll(fx, (a, b)))
               for a in range(fx.shape[-2]) for b in range(fx.shape[-1]))


def strided_maps(stride, seed):
    """The strided maps under test, each (N, C, H, W) -> (N, C', H/sh, W/sw) for H, W
    multiples of the stride: a circular conv (odd kernel, symmetric pad), max and avg pool."""
    return {"conv": conv(2, 3, 3, seed, stride=stride, padding=1, padding_mode="circular"),
            "maxpool": MaxPool2D(stride), "avgpool": AvgPool2D(stride)}


strides = st.tuples(st.integers(1, 3), st.integers(2, 3))


@EXAMPLES
@given(data=st.data(), stride=strides, seed=st.integers(0, 2**31))
def test_strided_conv_and_pool_commute_with_shifts_that_are_multiples_of_the_stride(data,
                                                                                   stride,
                                                                                   seed):
    """A stride-s convolution or pooling samples every s-th position, so shifting the input by
    k*s pixels shifts the output by exactly k positions."""
    sh, sw = stride
    H, W = sh * data.draw(st.integers(2, 4)), sw * data.draw(st.integers(2, 4))
    ky, kx = data.draw(st.integers(-4, 4)), data.draw(st.integers(-4, 4))
    x = np.random.default_rng(seed).standard_normal((2, 2, H, W))
    for layer in strided_maps(stride, seed).values():
        shifted_out = layer.forward(roll(x, (ky * sh, kx * sw)))
        assert rel_error(shifted_out, roll(layer.forward(x), (ky, kx))) <= EXACT


@EXAMPLES
@given(data=st.data(), stride=strides, seed=st.integers(0, 2**31))
def test_strided_conv_and_pool_do_not_commute_with_other_shifts(data, stride, seed):
    """Shift by a number of pixels that is not a multiple of the stride and the samples fall
    between the old ones: for a random input no shift of the output matches (change > 10%)."""
    sh, sw = stride
    H, W = sh * data.draw(st.integers(3, 4)), sw * data.draw(st.integers(3, 4))
    dy = data.draw(st.integers(-H + 1, H - 1))
    if dy % sh:
        dx = data.draw(st.integers(-W + 1, W - 1))
    else:                                       # then dx must be off the stride grid
        dx = sw * data.draw(st.integers(-1, 1)) + data.draw(st.integers(1, sw - 1))
    x = np.random.default_rng(seed).standard_normal((2, 2, H, W))
    for name, layer in strided_maps(stride, seed).items():
        assert_big_change(f"strided_{name}", best_output_shift_change(layer.forward, x,
                                                                      (dy, dx)))


@EXAMPLES
@given(data=st.data(), H=st.integers(4, 8), W=st.integers(4, 8), seed=st.integers(0, 2**31))
def test_global_pooling_over_circular_convolutions_is_invariant_to_circular_shifts(data, H, W,
                                                                                  seed):
    """Circular convolutions move their feature maps with the image; global average or max
    pooling then forgets where anything was: the output does not change at all."""
    dy, dx = data.draw(st.integers(-H, H)), data.draw(st.integers(-W, W))
    x = np.random.default_rng(seed).standard_normal((2, 1, H, W))
    for head in (GlobalAvgPool2D(), GlobalMaxPool2D()):
        model = Sequential([conv(1, 4, 3, seed, padding="same", padding_mode="circular"),
                            ReLU(),
                            conv(4, 3, (2, 3), seed + 2, padding="same", padding_mode="circular"),
                            head])
        assert rel_error(model.forward(roll(x, (dy, dx))), model.forward(x)) <= EXACT


@EXAMPLES
@given(data=st.data(), seed=st.integers(0, 2**31))
def test_flatten_then_linear_is_neither_equivariant_nor_invariant(data, seed):
    """After Flatten every pixel has its own weights. A fully connected layer from a map to a
    map of the same size does not move its output with a shifted input (not equivariant), and
    one that outputs class scores changes them (not invariant)."""
    C, H, W = 2, 5, 6
    dy = data.draw(st.integers(-H + 1, H - 1))
    dx = data.draw(st.integers(-W + 1, W - 1) if dy else st.integers(1, W - 1))  # not (0, 0)
    x = np.random.default_rng(seed).standard_normal((3, C, H, W))
    to_map = Sequential([Flatten(), Linear(C * H * W, C * H * W, rng=seed, dtype=np.float64)])

    def as_map(x):
        return to_map.forward(x).reshape(x.shape)                # (N, C*H*W) -> (N, C, H, W)

    assert_big_change("linear_equivariance", change(as_map(roll(x, (dy, dx))),
                                                    roll(as_map(x), (dy, dx))))
    to_scores = Sequential([Flatten(), Linear(C * H * W, 10, rng=seed, dtype=np.float64)])
    assert_big_change("linear_invariance", change(to_scores.forward(roll(x, (dy, dx))),
                                                  to_scores.forward(x)))
