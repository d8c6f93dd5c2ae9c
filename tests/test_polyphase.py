"""minicnn.extensions.polyphase: exact invariance to every circular shift, naive == fast,
gradients, the tie rule, and the errors."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from minicnn import (
    CircularMaxPool2D,
    Conv2D,
    GlobalAvgPool2D,
    GlobalMaxPool2D,
    Linear,
    MaxPool2D,
    PolyphaseDownsample2D,
    ReLU,
    Sequential,
    ShapeError,
)
from minicnn.extensions.polyphase import (
    polyphase_downsample_fast,
    polyphase_downsample_fast_backward,
    polyphase_downsample_naive,
    polyphase_downsample_naive_backward,
)
from minicnn.gradcheck import check_layer

# --------------------------------------------------------------------------------------------
# The claim: circular convolutions + circular stride-1 max pooling + polyphase downsampling +
# a global pool give the same logits for every circular shift; stride-2 max pooling does not.
# --------------------------------------------------------------------------------------------
stacks = st.fixed_dictionaries({
    "c": st.integers(1, 2), "f": st.integers(3, 4), "k": st.integers(2, 3),
    "size": st.sampled_from([(8, 8), (8, 12), (12, 8), (16, 16)]),
    "head": st.sampled_from(["max", "avg"]), "seed": st.integers(0, 2**31),
})


def make_stack(cfg, aps):
    """Conv -> ReLU -> downsample -> Conv -> ReLU -> downsample -> global pool -> Linear, float64.

    aps=True: downsample = CircularMaxPool2D(2) + PolyphaseDownsample2D(2); False: MaxPool2D(2).
    """
    c, f, k, seed = cfg["c"], cfg["f"], cfg["k"], cfg["seed"]

    def conv(cin, cout, i):
        return Conv2D(cin, cout, k, padding="same", padding_mode="circular", rng=seed + i,
                      dtype=np.float64)

    def down():
        return [CircularMaxPool2D(2), PolyphaseDownsample2D(2)] if aps else [MaxPool2D(2)]

    head = GlobalMaxPool2D() if cfg["head"] == "max" else GlobalAvgPool2D()
    return Sequential([conv(c, f, 0), ReLU(), *down(), conv(f, f, 1), ReLU(), *down(), head,
                       Linear(f, 3, rng=seed + 2, dtype=np.float64)])


def logits_of_every_shift(cfg, aps):
    """Logits (H, W, 3) of one random input rolled by every (dy, dx), in one batch."""
    H, W = cfg["size"]
    x = np.random.default_rng(cfg["seed"]).standard_normal((cfg["c"], H, W))
    batch = np.stack([np.roll(x, (dy, dx), axis=(1, 2)) for dy in range(H) for dx in range(W)])
    return make_stack(cfg, aps).forward(batch).reshape(H, W, 3)   # (N, 3) -> (H, W, 3)


def shift_errors(logits):
    """(H, W): max |logits(shifted) - logits(unshifted)| over the classes, for every shift."""
    return np.abs(logits - logits[0, 0]).max(axis=2)


@settings(max_examples=100, deadline=None)
@given(cfg=stacks)
def test_polyphase_stack_is_invariant_to_every_circular_shift(cfg):
    errors = shift_errors(logits_of_every_shift(cfg, aps=True))
    assert errors.max() <= 1e-10, (errors.max(), np.unravel_index(errors.argmax(), errors.shape))


@settings(max_examples=100, deadline=None)
@given(cfg=stacks)
def test_max_pool_stack_is_invariant_only_to_multiples_of_its_stride(cfg):
    logits = logits_of_every_shift(cfg, aps=False)
    assume(logits.any(axis=2).all())    # every ReLU off at some shift: a dead net says nothing
    errors = shift_errors(logits) / np.abs(logits).max()
    dy, dx = np.meshgrid(np.arange(errors.shape[0]), np.arange(errors.shape[1]), indexing="ij")
    assert errors[(dy % 4 == 0) & (dx % 4 == 0)].max() <= 1e-10       # total stride 4: exact
    odd = (dy % 2 == 1) | (dx % 2 == 1)
    assert errors[odd].min() > 1e-6, errors[odd].min()   # every odd shift: 10^4 x the tolerance


# --------------------------------------------------------------------------------------------
# PolyphaseDownsample2D: naive == fast, gradients, shape, tie rule, errors.
# --------------------------------------------------------------------------------------------
layers = st.fixed_dictionaries({
    "n": st.integers(1, 3), "c": st.integers(1, 3), "s": st.integers(1, 3),
    "ho": st.integers(1, 3), "wo": st.integers(1, 3), "seed": st.integers(0, 2**31),
})


@settings(max_examples=40, deadline=None)
@given(cfg=layers)
def test_polyphase_naive_equals_fast_and_gradient(cfg):
    s = cfg["s"]
    rng = np.random.default_rng(cfg["seed"])
    x = rng.standard_normal((cfg["n"], cfg["c"], s * cfg["ho"], s * cfg["wo"]))
    out, cache = polyphase_downsample_fast(x, s)
    out_naive, cache_naive = polyphase_downsample_naive(x, s)
    assert out.shape == (cfg["n"], cfg["c"], cfg["ho"], cfg["wo"])
    np.testing.assert_array_equal(out, out_naive)
    np.testing.assert_array_equal(cache[1], cache_naive[1])
    dout = rng.standard_normal(out.shape)
    np.testing.assert_array_equal(polyphase_downsample_fast_backward(dout, cache),
                                  polyphase_downsample_naive_backward(dout, cache_naive))
    for impl in ("fast", "naive"):
        errors = check_layer(PolyphaseDownsample2D(s, impl=impl), x, rng=cfg["seed"])
        assert errors["x"] <= 1e-8, errors


def test_keeps_the_component_with_the_largest_norm_and_routes_the_gradient_there():
    x = np.zeros((2, 2, 4, 4))
    x[0, 1, 1::2, 0::2] = 3.0            # example 0: phase (1, 0) is loudest
    x[1, 0, 0::2, 1::2] = -2.0           # example 1: phase (0, 1), negative values count too
    x[1, 1, 1::2, 1::2] = 1.0
    layer = PolyphaseDownsample2D(2)
    out = layer.forward(x)
    np.testing.assert_array_equal(layer.cache["choice"], [2, 1])     # k = i*s + j
    np.testing.assert_array_equal(out[0], x[0, :, 1::2, 0::2])
    dx = layer.backward(np.ones_like(out))
    assert dx[0, :, 1::2, 0::2].all() and dx[0].sum() == out[0].size
    assert dx[1, :, 0::2, 1::2].all() and dx[1].sum() == out[1].size


@pytest.mark.parametrize("impl", ["fast", "naive"])
def test_ties_go_to_the_first_component_and_can_break_invariance(impl):
    layer = PolyphaseDownsample2D(2, impl=impl)
    np.testing.assert_array_equal(layer.forward(np.zeros((1, 1, 4, 4))), 0.0)
    assert layer.cache["choice"][0] == 0                             # all tied: phase (0, 0)
    x = np.array([[[[1.0, 0.0], [0.0, -1.0]]]])                      # phases (0,0), (1,1) tie
    assert layer.forward(x).item() == 1.0                            # phase (0, 0)
    assert layer.forward(np.roll(x, 1, axis=2)).item() == -1.0       # now phase (0, 1) is first


def test_circular_max_pool_keeps_the_size_and_commutes_with_every_shift():
    x = np.random.default_rng(4).standard_normal((2, 3, 5, 6))
    pool = CircularMaxPool2D(2)
    out = pool.forward(x)
    assert out.shape == x.shape
    np.testing.assert_array_equal(out[:, :, :-1, :-1], MaxPool2D(2, stride=1).forward(x))
    assert out[0, 0, -1, -1] == max(x[0, 0, -1, -1], x[0, 0, -1, 0], x[0, 0, 0, -1],
                                    x[0, 0, 0, 0])                   # the corner window wraps
    for dy in range(5):
        for dx in range(6):
            shifted = pool.forward(np.roll(x, (dy, dx), axis=(2, 3)))
            np.testing.assert_array_equal(shifted, np.roll(out, (dy, dx), axis=(2, 3)))


pools = st.fixed_dictionaries({
    "n": st.integers(1, 2), "c": st.integers(1, 2), "k": st.integers(1, 3),
    "s": st.integers(1, 3), "h": st.integers(3, 6), "w": st.integers(3, 6),
    "seed": st.integers(0, 2**31),
})


@settings(max_examples=40, deadline=None)
@given(cfg=pools)
def test_circular_max_pool_gradient_naive_equals_fast_and_size(cfg):
    x = np.random.default_rng(cfg["seed"]).standard_normal((cfg["n"], cfg["c"], cfg["h"],
                                                            cfg["w"]))
    fast = CircularMaxPool2D(cfg["k"], cfg["s"])
    naive = CircularMaxPool2D(cfg["k"], cfg["s"], impl="naive")
    out = fast.forward(x)
    assert out.shape == x.shape[:2] + (-(-cfg["h"] // cfg["s"]), -(-cfg["w"] // cfg["s"]))
    np.testing.assert_array_equal(out, naive.forward(x))
    g = np.random.default_rng(cfg["seed"] + 1).standard_normal(out.shape)
    np.testing.assert_allclose(fast.backward(g), naive.backward(g), rtol=0, atol=1e-12)
    errors = check_layer(fast, x, rng=cfg["seed"])
    assert errors["x"] <= 1e-8, errors


def test_errors_name_the_layer_the_argument_and_what_came():
    with pytest.raises(ShapeError, match=r"PolyphaseDownsample2D\(2\).*multiples of stride=2.*"
                                         r"x\.shape=\(1, 1, 5, 4\)"):
        PolyphaseDownsample2D(2).forward(np.zeros((1, 1, 5, 4)))
    with pytest.raises(ShapeError, match=r"PolyphaseDownsample2D\(3\).*x\.shape=\(1, 1, 6, 4\)"):
        PolyphaseDownsample2D(3).output_shape((1, 1, 6, 4))
    with pytest.raises(ValueError, match=r"PolyphaseDownsample2D: stride must be an int >= 1, "
                                         r"got 0"):
        PolyphaseDownsample2D(0)
    for bad in (2.0, (2, 2), True, "2"):
        with pytest.raises(TypeError, match=r"PolyphaseDownsample2D: stride must be an int"):
            PolyphaseDownsample2D(bad)
    with pytest.raises(ValueError, match=r"PolyphaseDownsample2D: impl must be one of"):
        PolyphaseDownsample2D(2, impl="loops")
    with pytest.raises(ShapeError, match=r"4-d input"):
        PolyphaseDownsample2D(2).forward(np.zeros((4, 4)))
    with pytest.raises(ShapeError, match=r"CircularMaxPool2D\(3, stride=1\).*larger than the "
                                         r"input \(2, 5\)"):
        CircularMaxPool2D(3).forward(np.zeros((1, 1, 2, 5)))
    with pytest.raises(ValueError, match=r"CircularMaxPool2D: impl must be one of"):
        CircularMaxPool2D(2, impl="loops")
    with pytest.raises(ValueError, match=r"CircularMaxPool2D: stride must be >= 1"):
        CircularMaxPool2D(2, stride=0)
