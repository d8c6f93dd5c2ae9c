"""minicnn.data.augment: known answers, reproducibility, shapes and errors.

The first part checks each transform on simple cases, reproducibility and shapes; the second
pins each transform's documented range and parameters: content_box on hand-drawn boxes (not on
itself), RandomRotation's angle range, plane, direction, interpolation and fill, RandomCropPad's
and RandomShift's offset ranges, RandomFlip's probability.
"""

import re

import numpy as np
import pytest
from scipy import ndimage

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


# --- documented ranges and parameters ----------------------------------------------------------
class FixedAngles(np.random.Generator):
    """A Generator whose uniform() returns chosen values and records how it was asked."""

    def __init__(self, values):
        super().__init__(np.random.PCG64(0))
        self.values, self.asked = np.asarray(values, dtype=float), []

    def uniform(self, low=0.0, high=1.0, size=None):
        self.asked.append((low, high, size))
        return self.values


def test_content_box_of_hand_drawn_boxes():
    x = np.zeros((4, 2, 6, 7), np.float32)
    x[0, 0, 1:3, 2:6] = 1                   # rows 1-2, cols 2-5
    x[1, 1, 5, 0] = -3                      # one negative pixel in the other channel
    x[2, 0, 0, 6] = x[2, 1, 4, 3] = 1       # spread over both channels
    # image 3 stays empty: the whole canvas
    top, bottom, left, right = content_box(x)
    np.testing.assert_array_equal(top, [1, 5, 0, 0])
    np.testing.assert_array_equal(bottom, [2, 5, 4, 5])
    np.testing.assert_array_equal(left, [2, 0, 3, 0])
    np.testing.assert_array_equal(right, [5, 0, 6, 6])


def test_rotation_draws_one_angle_per_image_in_plus_minus_max_degrees():
    x = np.zeros((3, 1, 5, 5), np.float32)
    rng = FixedAngles([0.0, 0.0, 0.0])
    RandomRotation(25)(x, rng)
    assert rng.asked == [(-25.0, 25.0, 3)]


def test_rotation_turns_each_image_counterclockwise_in_the_image_plane():
    x = np.zeros((2, 2, 5, 5), np.float32)
    x[:, 0, 0, 1:3] = 1                                    # an L in channel 0
    x[:, 0, 1, 0] = 1
    x[:, 1] = x[:, 0, ::-1]                                # another picture in channel 1
    out = RandomRotation(90)(x, FixedAngles([90.0, -90.0]))
    np.testing.assert_allclose(out[0], np.rot90(x[0], 1, axes=(1, 2)), atol=1e-6)
    np.testing.assert_allclose(out[1], np.rot90(x[1], -1, axes=(1, 2)), atol=1e-6)


def test_rotation_is_bilinear_with_zeros_outside():
    x = np.ones((1, 1, 7, 7))
    x[0, 0, 3] = np.arange(7.0)
    out = RandomRotation(45)(x, FixedAngles([30.0]))
    expected = ndimage.rotate(x[0], 30.0, axes=(2, 1), reshape=False, order=1, cval=0.0)
    np.testing.assert_allclose(out[0], expected, atol=1e-12)
    assert out[0, 0, 0, 0] == 0 and out[0, 0, 3, 3] == pytest.approx(3.0)   # corner, centre
    assert not np.allclose(out[0], ndimage.rotate(x[0], 30.0, axes=(2, 1), reshape=False,
                                                  order=0, cval=0.0))


@pytest.mark.parametrize("make, pad", [(RandomCropPad, 2), (RandomShift, 2)])
def test_crop_pad_and_shift_offsets_cover_exactly_minus_pad_to_pad(make, pad):
    x = np.zeros((400, 1, 9, 9), np.float32)
    x[:, 0, 4, 4] = 1
    out = make(pad)(x, np.random.default_rng(0))
    where = np.array([np.argwhere(o[0])[0] for o in out]) - 4      # (N, 2) offsets
    offsets = set(map(tuple, where))
    assert offsets == {(dy, dx) for dy in range(-pad, pad + 1) for dx in range(-pad, pad + 1)}


def test_shift_batch_moves_each_image_by_its_own_offset():
    x = np.zeros((2, 1, 4, 4), np.float32)
    x[:, 0, 1, 1] = 1
    out = shift_batch(x, np.array([1, -1]), np.array([2, 0]))
    assert out[0, 0, 2, 3] == 1 and out[1, 0, 0, 1] == 1 and out.sum() == 2
    out = shift_batch(x, np.array([3, 0]), np.array([0, -2]))   # off the canvas: lost
    assert out[0].sum() == 0 and out[1].sum() == 0
    out = shift_batch(x, np.array([3, 0]), np.array([0, -2]), fill="circular")
    assert out[0, 0, 0, 1] == 1 and out[1, 0, 1, 3] == 1


def test_keep_inside_reaches_every_edge_but_never_cuts():
    x = np.zeros((300, 1, 6, 6), np.float32)
    x[:, 0, 2:4, 2:4] = 1                                    # room for 2 pixels each way
    out = RandomShift(5, keep_inside=True)(x, np.random.default_rng(2))
    assert np.all(out.sum(axis=(1, 2, 3)) == 4)
    top, _, left, _ = content_box(out)
    assert set(top) == set(range(5)) and set(left) == set(range(5))


def test_flip_probability_is_the_fraction_flipped():
    x = np.zeros((2000, 1, 1, 2), np.float32)
    x[..., 0] = 1
    out = RandomFlip(0.25)(x, np.random.default_rng(0))
    assert out[:, 0, 0, 1].mean() == pytest.approx(0.25, abs=0.03)


def test_reprs():
    assert repr(RandomShift(3)) == "RandomShift(3, fill='zeros')"
    assert repr(RandomShift(3, keep_inside=True)) == "RandomShift(3, fill='zeros', keep_inside=True)"
    assert repr(RandomFlip(0.5)) == "RandomFlip(p=0.5)"
    assert repr(RandomRotation(15.0)) == "RandomRotation(15)"
    assert repr(RandomCropPad(4)) == "RandomCropPad(4)"
    assert repr(Compose([RandomFlip(1.0), RandomCropPad(1)])) == (
        "Compose([RandomFlip(p=1.0), RandomCropPad(1)])")


def test_compose_applies_in_order_with_one_generator():
    x = np.zeros((1, 1, 3, 3), np.float32)
    x[0, 0, 0, 0] = 1
    seen = []

    def first(x, rng):
        seen.append(("first", rng))
        return x * 2

    def second(x, rng):
        seen.append(("second", rng))
        return x + 1
    out = Compose([first, second])(x, 5)
    assert out[0, 0, 0, 0] == 3 and out[0, 0, 1, 1] == 1
    assert [s[0] for s in seen] == ["first", "second"] and seen[0][1] is seen[1][1]
    assert isinstance(seen[0][1], np.random.Generator)         # an int seed becomes one


def test_argument_ranges_include_their_ends():
    x = np.random.default_rng(0).random((3, 1, 5, 5)).astype(np.float32)
    np.testing.assert_array_equal(RandomShift(0)(x, 0), x)
    assert RandomRotation(180).max_degrees == 180
    assert RandomFlip().p == 0.5
    assert RandomRotation(0).max_degrees == 0
    for make in (lambda: RandomRotation(180.5), lambda: RandomRotation(-1), lambda: RandomFlip(-0.5),
                 lambda: RandomFlip(1.01)):
        with pytest.raises(ValueError):
            make()


@pytest.mark.parametrize("transform", [RandomRotation(10), RandomCropPad(1)],
                         ids=["rotation", "crop-pad"])
def test_transforms_check_the_batch_and_take_a_seed_for_rng(transform):
    x = np.random.default_rng(0).random((3, 1, 5, 5)).astype(np.float32)
    np.testing.assert_array_equal(transform(x, 7), transform(x, np.random.default_rng(7)))
    with pytest.raises(ShapeError, match=rf"{re.escape(repr(transform))} expected a batch of "
                                         r"shape \(N, C, H, W\), got x.shape=\(1, 5, 5\)"):
        transform(x[0], 0)
    with pytest.raises(TypeError, match=re.escape(repr(transform))):
        transform(x.astype(int), 0)
