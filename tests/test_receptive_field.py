"""minicnn.measure.receptive_field: the theoretical field by hand, the effective field's support
and symmetry, and top patches against a brute-force loop (the demo:
test_demo_receptive_fields.py)."""

import numpy as np
import pytest

import minicnn as mc
from minicnn.measure import receptive_field as rf
from minicnn.measure.receptive_field import Field


def test_theoretical_matches_hand_computed_stack():
    layers = [mc.Conv2D(1, 2, 3, padding=1, rng=0), mc.ReLU(), mc.MaxPool2D(2),
              mc.Conv2D(2, 2, 5, stride=2, padding=2, rng=0), mc.AvgPool2D(3, stride=1)]
    fields = [rows for rows, _ in rf.theoretical(layers)]
    # size += (k - 1) * jump; jump *= stride; start -= padding * jump (the jump before the layer)
    assert fields == [Field(3, 1, -1), Field(3, 1, -1), Field(4, 2, -1),
                      Field(4 + 4 * 2, 4, -1 - 2 * 2), Field(12 + 2 * 4, 4, -5)]


def test_theoretical_rows_and_columns_apart_and_valid_padding():
    rows, cols = rf.theoretical([mc.Conv2D(1, 1, (3, 1), stride=(1, 2), rng=0),
                                 mc.MaxPool2D(2)])[-1]
    assert rows == Field(4, 2, 0)
    assert cols == Field(1 + 1 * 2, 4, 0)


@pytest.mark.parametrize("layer", [mc.Flatten(), mc.GlobalAvgPool2D(), mc.Linear(4, 2)])
def test_theoretical_names_a_layer_it_cannot_reason_about(layer):
    with pytest.raises(TypeError, match=type(layer).__name__):
        rf.theoretical([mc.Conv2D(1, 1, 3, rng=0), layer])


def _net(rng=0):
    return [mc.Conv2D(1, 3, 3, padding=1, rng=rng), mc.ReLU(), mc.MaxPool2D(2),
            mc.Conv2D(3, 4, 3, padding=1, rng=rng), mc.ReLU(), mc.MaxPool2D(2),
            mc.Conv2D(4, 2, 3, stride=2, padding=1, rng=rng), mc.ReLU()]


@pytest.mark.parametrize("k", [0, 2, 4, 7])
def test_effective_field_is_zero_exactly_outside_the_theoretical_one(k):
    layers = _net()
    X = np.random.default_rng(1).random((6, 1, 40, 40))
    erf, centre = rf.effective(layers, k, X)
    rows, cols = rf.theoretical(layers[:k + 1])[k]
    (r0, r1), (c0, c1) = rows.span(centre[0]), cols.span(centre[1])
    inside = np.zeros_like(erf, dtype=bool)
    inside[max(r0, 0):r1, max(c0, 0):c1] = True
    assert erf[~inside].max() == 0.0
    assert erf[inside].max() > 0.0                   # the unit does see its field


def test_effective_field_is_symmetric_for_a_symmetric_network():
    rng = np.random.default_rng(2)
    layers = [mc.Conv2D(1, 2, 3, padding=1, rng=0), mc.ReLU(), mc.AvgPool2D(3, stride=1),
              mc.Conv2D(2, 2, 3, padding=1, rng=1)]
    for layer in (layers[0], layers[3]):            # kernels symmetric under flips and transpose
        W = layer.params["W"].astype(np.float64)
        W = W + W[..., ::-1, :] + W[..., :, ::-1] + W[..., ::-1, ::-1]
        layer.params["W"] = W + W.swapaxes(-1, -2)
    x = rng.standard_normal((3, 1, 11, 11))
    X = np.concatenate([x, x[..., ::-1, :], x[..., :, ::-1], x[..., ::-1, ::-1]])
    X = np.concatenate([X, X.swapaxes(-1, -2)])     # inputs closed under the same symmetries
    erf, centre = rf.effective(layers, 3, X)
    assert centre == (4, 4)                         # the centre of the 9x9 output
    for image in (erf[::-1], erf[:, ::-1], erf.T):
        np.testing.assert_allclose(image, erf, rtol=1e-10, atol=1e-12)
    assert erf[5, 5] > erf[0, 0]


def test_effective_size_of_a_flat_field_is_its_theoretical_size():
    erf = np.zeros((20, 20))
    erf[3:11, 5:13] = 1.0                           # a flat 8x8 field starting at (3, 5)
    field = (Field(8, 2, -1), Field(8, 2, 1))       # unit 2: rows 3..10, unit 2: cols 5..12
    side = rf.effective_size(erf, *field, (2, 2))
    assert side == pytest.approx(np.sqrt(8 ** 2 - 1))   # discrete uniform: sqrt(12 var)
    peaked = np.zeros((20, 20))
    peaked[6:8, 8:10] = 1.0
    assert rf.effective_size(peaked, *field, (2, 2)) < side / 3


def test_top_patches_equal_a_brute_force_argmax():
    layers = [mc.Conv2D(1, 3, 3, padding=1, rng=3), mc.ReLU(), mc.MaxPool2D(2),
              mc.Conv2D(3, 4, 3, padding=1, rng=4), mc.ReLU()]
    X = np.random.default_rng(5).random((7, 1, 10, 10))
    channels = [3, 0]
    top = rf.top_patches(layers, 4, X, channels, n_top=4, batch_size=3)
    rows, _ = rf.theoretical(layers)[4]
    best = []                                        # per image and channel: (value, i, j)
    for n in range(len(X)):
        a = rf.forward_to(layers, 4, X[n:n + 1])[0]
        row = []
        for ch in channels:
            v, ij = -np.inf, None
            for i in range(a.shape[1]):
                for j in range(a.shape[2]):
                    if a[ch, i, j] > v:
                        v, ij = a[ch, i, j], (i, j)
            row.append((v, ij))
        best.append(row)
    for c in range(len(channels)):
        ranked = sorted(range(len(X)), key=lambda n, c=c: -best[n][c][0])[:4]
        assert list(top["image"][c]) == ranked
        for t, n in enumerate(ranked):
            v, (i, j) = best[n][c]
            assert top["value"][c, t] == pytest.approx(v)
            assert tuple(top["unit"][c, t]) == (i, j)
            patch = np.full((rows.size, rows.size), np.nan)
            for a in range(rows.size):
                for b in range(rows.size):
                    r, q = rows.start + i * rows.jump + a, rows.start + j * rows.jump + b
                    if 0 <= r < 10 and 0 <= q < 10:
                        patch[a, b] = X[n, 0, r, q]
            np.testing.assert_array_equal(top["patch"][c, t, 0], patch)
