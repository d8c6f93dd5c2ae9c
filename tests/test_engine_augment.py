"""Augmentation against known answers: boxes, angles, offsets and probabilities.

test_augment.py checks reproducibility and shapes; here each transform's documented range and
parameters are pinned: content_box on hand-drawn boxes (not on itself), RandomRotation's angle
range, plane, direction, interpolation and fill, RandomCropPad's and RandomShift's offset ranges.
"""

import re

import numpy as np
import pytest
from scipy import ndimage

from minicnn import ShapeError
from minicnn.data.augment import (
    Compose,
    RandomCropPad,
    RandomFlip,
    RandomRotation,
    RandomShift,
    content_box,
    shift_batch,
)


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
