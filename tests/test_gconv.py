"""minicnn.extensions.gconv: gradients, and the exact rotation equivariance / invariance claims."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minicnn import Conv2D, GlobalAvgPool2D, Linear, ReLU, Sequential, ShapeError
from minicnn.extensions.gconv import (
    P4GroupConv2D,
    P4LiftConv2D,
    P4RotationPool,
    group_filter_bank,
    lift_filter_bank,
    rotate,
)
from minicnn.gradcheck import check_layer


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def with_bias(layer, seed):
    """A float64 layer with a random (nonzero) bias, so the bias gradient is checked too."""
    layer.params["b"][:] = rand(len(layer.params["b"]), seed=seed)
    return layer


def rotate_p4(y, k=1):
    """The action of a 90-degree rotation on a p4 feature map: turn the maps, roll axis 2."""
    return np.roll(rotate(y, k), k, axis=2)


layer_configs = st.fixed_dictionaries({
    "n": st.integers(1, 2), "c": st.integers(1, 2), "f": st.integers(1, 3),
    "size": st.integers(3, 6), "k": st.sampled_from([1, 2, 3]), "pad": st.integers(0, 1),
    "mode": st.sampled_from(["zeros", "circular"]), "seed": st.integers(0, 2**31),
})


@settings(max_examples=25, deadline=None, derandomize=True)
@given(cfg=layer_configs)
def test_lift_and_group_conv_gradients(cfg):
    kw = {"padding": cfg["pad"], "padding_mode": cfg["mode"], "rng": cfg["seed"],
          "dtype": np.float64}
    lift = with_bias(P4LiftConv2D(cfg["c"], cfg["f"], cfg["k"], **kw), cfg["seed"])
    group = with_bias(P4GroupConv2D(cfg["c"], cfg["f"], cfg["k"], **kw), cfg["seed"] + 1)
    x = rand(cfg["n"], cfg["c"], cfg["size"], cfg["size"], seed=cfg["seed"])
    for layer, inp in [(lift, x), (group, rand(cfg["n"], cfg["c"], 4, cfg["size"], cfg["size"],
                                               seed=cfg["seed"] + 2))]:
        errors = check_layer(layer, inp, rng=cfg["seed"])
        assert max(errors.values()) <= 1e-6, (layer, errors)


@pytest.mark.parametrize("mode", ["max", "mean"])
def test_rotation_pool_gradient_and_shape(mode):
    pool = P4RotationPool(mode)
    x = rand(2, 3, 4, 5, 5)
    assert pool.forward(x).shape == (2, 3, 5, 5)
    assert check_layer(pool, x)["x"] <= 1e-6


def test_filter_banks_hold_the_rotated_copies():
    w = rand(2, 3, 3, 3)
    bank = lift_filter_bank(w).reshape(2, 4, 3, 3, 3)                   # (F, 4, C, K, K)
    for r in range(4):
        np.testing.assert_array_equal(bank[:, r], np.rot90(w, r, axes=(2, 3)))
    wg = rand(2, 3, 4, 3, 3)
    gbank = group_filter_bank(wg).reshape(2, 4, 3, 4, 3, 3)             # (F, 4, C, 4, K, K)
    np.testing.assert_array_equal(gbank[:, 1, :, 1], np.rot90(wg[:, :, 0], 1, axes=(2, 3)))


@pytest.mark.parametrize("size, padding, mode", [(7, "same", "zeros"), (8, "same", "zeros"),
                                                 (7, 0, "zeros"), (6, "same", "circular")])
def test_rotating_the_input_rotates_maps_and_rolls_the_rotation_axis(size, padding, mode):
    kw = {"padding": padding, "padding_mode": mode, "dtype": np.float64}
    lift = with_bias(P4LiftConv2D(2, 3, 3, rng=0, **kw), 1)
    group = with_bias(P4GroupConv2D(3, 4, 3, rng=2, **kw), 3)
    x = rand(2, 2, size, size, seed=4)
    y, z = lift.forward(x), group.forward(lift.forward(x))
    for k in (1, 2, 3):
        xr = rotate(x, k)
        assert np.abs(lift.forward(xr) - rotate_p4(y, k)).max() <= 1e-10
        assert np.abs(group.forward(lift.forward(xr)) - rotate_p4(z, k)).max() <= 1e-10
    # Without the roll of the rotation axis the maps do NOT match: the roll is the point.
    assert np.abs(lift.forward(rotate(x)) - rotate(y)).max() > 1e-2


def test_pooled_network_is_exactly_invariant_to_90_degree_rotations():
    net = Sequential([P4LiftConv2D(1, 4, 3, padding="same", rng=0, dtype=np.float64), ReLU(),
                      P4GroupConv2D(4, 4, 3, padding="same", rng=1, dtype=np.float64), ReLU(),
                      P4RotationPool("max"), GlobalAvgPool2D(),
                      Linear(4, 5, rng=2, dtype=np.float64)])
    x = rand(3, 1, 9, 9, seed=5)
    logits = net.forward(x)
    for k in (1, 2, 3):
        assert np.abs(net.forward(rotate(x, k)) - logits).max() <= 1e-10
    # An ordinary CNN with the same head is not: it has no reason to be.
    plain = Sequential([Conv2D(1, 4, 3, padding=1, rng=0, dtype=np.float64), ReLU(),
                        GlobalAvgPool2D(), Linear(4, 5, rng=2, dtype=np.float64)])
    assert np.abs(plain.forward(rotate(x)) - plain.forward(x)).max() > 1e-3


def test_errors_name_the_layer():
    with pytest.raises(ShapeError, match=r"P4GroupConv2D\(2, 3.*5-d input"):
        P4GroupConv2D(2, 3, 3).forward(np.zeros((1, 2, 8, 8), np.float32))
    with pytest.raises(ShapeError, match="in_channels=2"):
        P4LiftConv2D(2, 3, 3).forward(np.zeros((1, 1, 8, 8), np.float32))
    with pytest.raises(ValueError, match="odd kernel_size"):
        P4LiftConv2D(1, 3, 2, padding="same")
    with pytest.raises(TypeError, match="same on all four sides"):
        P4LiftConv2D(1, 3, 3, padding=(1, 0))
    with pytest.raises(ShapeError, match=r"\(N, C, 4, H, W\)"):
        P4RotationPool().forward(np.zeros((1, 2, 3, 8, 8)))
