"""minicnn.data.augment: known answers, reproducibility, shapes and errors."""

import numpy as np
import pytest

from minicnn.data.augment import (
    Compose,
    RandomCropPad,
    RandomFlip,
    RandomRotation,
    RandomShift,
    content_box,
    shift_batch,
)
from minicnn.layers.base import ShapeError


def batch(n=5, c=2, h=9, w=11, seed=0):
    return np.random.default_rng(seed).random((n, c, h, w)).astype(np.float32)


def test_circular_shift_by_fixed_amount_equals_np_roll():
    x = batch()
    for dy, dx in [(0, 0), (2, -3), (-4, 5), (9, 11), (13, -20)]:
        out = shift_batch(x, np.full(5, dy), np.full(5, dx), fill="circular")
        np.testing.assert_array_equal(out, np.roll(x, (dy, dx), axis=(2, 3)))


def test_zero_shift_moves_content_and_fills_zeros():
    x = batch(n=1)
    out = shift_batch(x, np.array([2]), np.array([-3]), fill="zeros")
    np.testing.assert_array_equal(out[:, :, 2:, :-3], x[:, :, :-2, 3:])
    assert np.all(out[:, :, :2] == 0) and np.all(out[:, :, :, -3:] == 0)


def test_each_image_gets_its_own_shift():
    x = np.zeros((200, 1, 12, 12), np.float32)
    x[:, 0, 5, 5] = 1
    out = RandomShift(3, fill="circular")(x, np.random.default_rng(0))
    where = [tuple(np.argwhere(o[0])[0]) for o in out]
    assert len(set(where)) > 20                     # up to 49 different shifts, not one for all
    assert all(2 <= r <= 8 and 2 <= c <= 8 for r, c in where)


def test_keep_inside_never_cuts_the_object_and_reaches_the_far_corner():
    x = np.zeros((400, 1, 16, 16), np.float32)
    x[:, 0, 1:4, 0:3] = 1                           # a 3x3 blob near the top-left
    out = RandomShift(16, keep_inside=True)(x, np.random.default_rng(1))
    assert np.all(out.sum(axis=(1, 2, 3)) == 9)     # nothing lost
    top, bottom, left, right = content_box(out)
    assert top.min() == 0 and bottom.max() == 15 and left.min() == 0 and right.max() == 15


def test_flip_twice_is_identity_and_flip_mirrors():
    x = batch()
    flip = RandomFlip(1.0)
    once = flip(x, np.random.default_rng(0))
    np.testing.assert_array_equal(once, x[..., ::-1])
    np.testing.assert_array_equal(flip(once, np.random.default_rng(1)), x)
    np.testing.assert_array_equal(RandomFlip(0.0)(x, np.random.default_rng(0)), x)


def test_crop_pad_is_a_zero_filled_shift():
    x = batch(n=30)
    out = RandomCropPad(2)(x, np.random.default_rng(0))
    for n in range(len(x)):                         # some shift in [-2, 2]^2 explains each image
        assert any(np.array_equal(out[n], shift_batch(x[n:n + 1], [dy], [dx])[0])
                   for dy in range(-2, 3) for dx in range(-2, 3))
    np.testing.assert_array_equal(RandomCropPad(0)(x, np.random.default_rng(0)), x)


def test_rotation_zero_angle_is_identity_and_180_turns_over():
    x = batch(h=9, w=9)
    np.testing.assert_allclose(RandomRotation(0)(x, np.random.default_rng(0)), x, atol=1e-6)
    out = RandomRotation(30)(x, np.random.default_rng(0))
    assert not np.allclose(out, x)


@pytest.mark.parametrize("t", [RandomShift(3), RandomShift(3, fill="circular"),
                               RandomShift(20, keep_inside=True), RandomFlip(),
                               RandomRotation(20), RandomCropPad(3),
                               Compose([RandomShift(2), RandomFlip(), RandomRotation(10)])])
def test_same_seed_same_output_shapes_and_dtypes_kept(t):
    x = batch()
    a, b = t(x, np.random.default_rng(7)), t(x, np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)
    assert a.shape == x.shape and a.dtype == x.dtype
    c = t(x.astype(np.float64), np.random.default_rng(7))
    assert c.dtype == np.float64
    assert not np.shares_memory(a, x)


def test_fresh_randomness_from_one_generator():
    x = batch(n=20)
    rng = np.random.default_rng(0)
    t = RandomShift(4)
    assert not np.array_equal(t(x, rng), t(x, rng))  # the second batch gets new shifts


def test_clear_errors():
    with pytest.raises(ValueError, match="max_shift"):
        RandomShift(-1)
    with pytest.raises(ValueError, match="fill"):
        RandomShift(2, fill="reflect")
    with pytest.raises(ValueError, match="keep_inside"):
        RandomShift(2, fill="circular", keep_inside=True)
    with pytest.raises(ValueError, match="probability"):
        RandomFlip(1.5)
    with pytest.raises(ValueError, match="max_degrees"):
        RandomRotation(-5)
    with pytest.raises(ValueError, match="pad"):
        RandomCropPad(-1)
    with pytest.raises(TypeError, match="pad must be an int"):
        RandomCropPad(1.5)
    with pytest.raises(TypeError, match="callable"):
        Compose([RandomFlip(), 3])
    with pytest.raises(ShapeError, match=r"\(N, C, H, W\)"):
        RandomShift(2)(np.zeros((4, 8, 8), np.float32), np.random.default_rng(0))
    with pytest.raises(TypeError, match="floating-point"):
        RandomFlip()(np.zeros((1, 1, 4, 4), np.int64), np.random.default_rng(0))
