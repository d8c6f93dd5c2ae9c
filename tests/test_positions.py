"""minicnn.measure.positions: placing digits in regions, accuracy maps and their summaries."""

import numpy as np
import pytest

from minicnn.measure.positions import (
    accuracy_map,
    grid_offsets,
    linear_weight_map,
    place_in_region,
    region_mask,
    summarize_map,
)


def digits(n=12):
    rng = np.random.default_rng(0)
    x = rng.random((n, 1, 4, 4)).astype(np.float32) + 0.1        # no zero pixel: easy to find
    return x, np.arange(n) % 3


def test_place_in_region_keeps_every_image_inside_the_region():
    x, y = digits()
    X, Y = place_in_region(x, y, 16, rows=(0, 2), cols=(5, 7), copies=3, rng=0)
    assert X.shape == (36, 1, 16, 16) and X.dtype == x.dtype
    np.testing.assert_array_equal(Y, np.concatenate([y] * 3))
    for n in range(len(X)):
        r, c = np.argwhere(X[n, 0] > 0).min(axis=0)
        assert 0 <= r <= 2 and 5 <= c <= 7
        np.testing.assert_array_equal(X[n, 0, r:r + 4, c:c + 4], x[n % 12, 0])
    X2, _ = place_in_region(x, y, 16, rows=(0, 2), cols=(5, 7), copies=3, rng=0)
    np.testing.assert_array_equal(X, X2)                           # seeded


def test_place_in_region_errors():
    x, y = digits()
    with pytest.raises(ValueError, match="rows"):
        place_in_region(x, y, 16, rows=(0, 13), cols=(0, 2))       # 13 + 4 > 16
    with pytest.raises(ValueError, match="copies"):
        place_in_region(x, y, 16, rows=(0, 2), cols=(0, 2), copies=0)


def test_grid_offsets_always_include_the_last_position():
    np.testing.assert_array_equal(grid_offsets(32, 8, 4), [0, 4, 8, 12, 16, 20, 24])
    np.testing.assert_array_equal(grid_offsets(32, 8, 10), [0, 10, 20, 24])
    with pytest.raises(ValueError):
        grid_offsets(4, 8, 1)


class TopRowDetector:
    """A fake model: predicts class 1 if the image has ink in its top half, else class 0."""

    def predict(self, X, batch_size=256):
        H = X.shape[2]
        return (X[:, 0, :H // 2].sum(axis=(1, 2)) > 0).astype(int)


def test_accuracy_map_known_answer():
    x, _ = digits(6)
    labels = np.ones(6, int)                                       # all "top half"
    grid = grid_offsets(16, 4, 4)                                  # 0, 4, 8, 12
    acc = accuracy_map(TopRowDetector(), x, labels, 16, grid)
    assert acc.shape == (4, 4)
    np.testing.assert_array_equal(acc, np.array([[1.0] * 4, [1.0] * 4, [0.0] * 4, [0.0] * 4]))
    acc2 = accuracy_map(TopRowDetector(), x, labels, 16, (grid[:2], grid))
    assert acc2.shape == (2, 4)


def test_region_mask_and_summary():
    grid = np.array([0, 4, 8, 12])
    acc = np.arange(16, dtype=float).reshape(4, 4) / 15
    mask = region_mask(grid, (0, 4), (0, 4))
    assert mask.sum() == 4 and mask[:2, :2].all()
    s = summarize_map(acc, grid, trained=((0, 4), (0, 4)), far=((8, 12), (8, 12)))
    assert s["trained"] == pytest.approx(np.mean([0, 1, 4, 5]) / 15)
    assert s["far"] == pytest.approx(np.mean([10, 11, 14, 15]) / 15)
    assert s["min"] == 0 and s["max"] == 1 and s["spread"] == 1
    with pytest.raises(ValueError, match="no grid point"):
        summarize_map(acc, grid, trained=((1, 3), (1, 3)), far=((8, 12), (8, 12)))


def test_linear_weight_map_reads_positions():
    W = np.zeros((10, 3 * 2 * 2))
    W.reshape(10, 3, 2, 2)[:, :, 0, 1] = 1.0                      # only position (0, 1) is read
    wm = linear_weight_map(W, (3, 2, 2))
    np.testing.assert_allclose(wm, [[0, np.sqrt(30)], [0, 0]])
    with pytest.raises(ValueError, match="feature maps"):
        linear_weight_map(W, (3, 3, 3))
