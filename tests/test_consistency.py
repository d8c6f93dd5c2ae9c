"""minicnn.measure.consistency: the measures on models with known answers, and model f of the
corner experiment, which no shift on the canvas can change (how f is built: test_corner.py)."""

import numpy as np
import pytest

from minicnn import ShapeError, load_digits
from minicnn.measure import corner
from minicnn.measure.consistency import consistency, one_pixel_fragility, sliding_probability


class SumModel:
    """Predicts from the total ink of the canvas: blind to where the image is."""

    def predict(self, X, batch_size=512):
        return (X.sum(axis=(1, 2, 3)) > 20).astype(int)                 # (N,)

    def logits(self, X, batch_size=512):
        return np.stack([np.zeros(len(X)), X.sum(axis=(1, 2, 3))], axis=1)


class RowParityModel:
    """Predicts the parity of the first canvas row with ink: reads where the image is."""

    def predict(self, X, batch_size=512):
        return (X.sum(axis=(1, 3)) > 0).argmax(axis=1) % 2               # (N,)


@pytest.fixture(scope="module")
def digits():
    _, _, X_test, y_test = load_digits(rng=0)
    return X_test[:120], y_test[:120]                                    # (120, 1, 8, 8)


def test_a_position_blind_model_is_consistent_and_never_fragile(digits):
    X, _ = digits
    assert consistency(SumModel(), X, 20, rng=1) == 1.0
    assert one_pixel_fragility(SumModel(), X, 20, rng=1) == 0.0
    p = sliding_probability(SumModel(), X[0], 1, 20, row=3)
    assert p.shape == (13,) and np.ptp(p) == 0.0


def test_a_model_that_reads_the_row_is_not(digits):
    X, _ = digits
    # Two random rows have the same parity half the time; a one-pixel move is vertical half the
    # time, and then always flips the parity (the digits have ink in their first row or not,
    # but the first inked row moves with the digit).
    assert 0.3 < consistency(RowParityModel(), X, 20, rng=1) < 0.7
    assert 0.3 < one_pixel_fragility(RowParityModel(), X, 20, rng=1) < 0.7


def test_the_same_rng_gives_the_same_measure(digits):
    X, _ = digits
    for measure in (consistency, one_pixel_fragility):
        assert measure(RowParityModel(), X, 20, rng=5) == measure(RowParityModel(), X, 20, rng=5)


def test_model_f_is_exactly_invariant_on_the_canvas_and_e_is_not(digits):
    # Untrained networks: invariance comes from the architecture, not from training.
    X, y = digits
    f, e = corner.MODELS["f"].build(32, 0), corner.MODELS["e"].build(32, 0)
    assert consistency(f, X, 32, rng=2) == 1.0
    assert one_pixel_fragility(f, X, 32, rng=2) == 0.0
    p_f, p_e = (sliding_probability(m, X[0], y[0], 32, row=11) for m in (f, e))
    assert np.ptp(p_f) <= 1e-6 * p_f.max()                 # float32 rounding: same at every column
    assert np.ptp(p_e) > 1e-2 * p_e.max()
    assert one_pixel_fragility(e, X, 32, rng=2) > 0.0


def test_errors_name_the_function_and_what_came(digits):
    X, y = digits
    with pytest.raises(ValueError, match=r"consistency: canvas must be larger than the images "
                                         r"\(>= 9.*got canvas=8 for 8x8"):
        consistency(SumModel(), X, 8)
    with pytest.raises(TypeError, match=r"one_pixel_fragility: canvas must be an int"):
        one_pixel_fragility(SumModel(), X, 20.0)
    with pytest.raises(ShapeError, match=r"consistency: images must be \(N, C, h, w\)"):
        consistency(SumModel(), X[:, 0], 20)
    with pytest.raises(ValueError, match=r"sliding_probability: row must be in 0..12.*got 13"):
        sliding_probability(SumModel(), X[0], y[0], 20, row=13)
