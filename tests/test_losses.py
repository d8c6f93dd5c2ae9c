"""minicnn.losses: softmax and the cross-entropy loss against the direct formula, stable for huge
logits, and the label checks (integers in 0..K-1, one per example)."""

import numpy as np
import pytest
from conftest import make_data, make_model

import minicnn as mc
from minicnn import numerical_gradient, rel_error, softmax_cross_entropy
from minicnn.losses import check_labels


# --- softmax and the loss -------------------------------------------------------------------
def test_softmax_cross_entropy_matches_the_direct_formula():
    rng = np.random.default_rng(0)
    logits, y = rng.standard_normal((6, 5)) * 3, rng.integers(0, 5, size=6)
    loss, dlogits = softmax_cross_entropy(logits, y)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)      # direct softmax
    assert loss == pytest.approx(-np.mean(np.log(p[np.arange(6), y])), rel=1e-12)
    onehot = np.eye(5)[y]
    np.testing.assert_allclose(dlogits, (p - onehot) / 6, rtol=1e-10, atol=1e-15)
    numeric = numerical_gradient(lambda: softmax_cross_entropy(logits, y)[0], logits)
    assert rel_error(dlogits, numeric) <= 1e-6
    # Adding a constant to every logit changes nothing; huge logits stay finite.
    loss_big, d_big = softmax_cross_entropy(logits + 1000.0, y)
    assert loss_big == pytest.approx(loss, rel=1e-10)
    np.testing.assert_allclose(d_big, dlogits, atol=1e-12)


def test_softmax_rows_sum_to_one_and_match_the_direct_formula_on_a_square_input():
    logits = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 5.0], [-1.0, 4.0, 2.0]])   # square: (N, N)
    direct = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(mc.softmax(logits), direct, rtol=1e-12)
    np.testing.assert_allclose(mc.softmax(logits[:2]).sum(axis=1), 1.0)


def test_softmax_and_the_loss_are_stable_for_huge_logits():
    """Each row's own maximum is subtracted: rows far apart in scale both stay finite."""
    logits = np.array([[1000.0, 0.0, -1000.0], [0.0, 1000.0, 999.0], [-1000.0, -1001.0, -1e4]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):    # underflow is fine
        p = mc.softmax(logits)
        loss, dlogits = mc.softmax_cross_entropy(logits, np.array([0, 2, 0]))
    a = 1 / (1 + np.e**-1)
    np.testing.assert_allclose(p, [[1, 0, 0], [0, a, 1 - a], [a, 1 - a, 0]])
    assert loss == pytest.approx((0 + 1 + np.log1p(np.e**-1) + np.log1p(np.e**-1)) / 3)
    np.testing.assert_allclose(dlogits, (p - np.eye(3)[[0, 2, 0]]) / 3)


def test_a_single_example_loss_is_its_negative_log_probability_and_an_empty_batch_is_refused():
    logits = np.array([[0.0, np.log(3.0)]])                    # p = (1/4, 3/4)
    loss, dlogits = mc.softmax_cross_entropy(logits, np.array([0]))
    assert loss == pytest.approx(np.log(4.0))
    np.testing.assert_allclose(dlogits, [[0.25 - 1, 0.75]])
    with pytest.raises(mc.ShapeError, match="N >= 1"):
        mc.softmax_cross_entropy(np.zeros((0, 3)), np.zeros(0, dtype=int))
    with pytest.raises(mc.ShapeError, match="shape .N, K."):
        mc.softmax_cross_entropy(np.zeros(3), np.zeros(1, dtype=int))


def test_the_loss_refuses_logits_that_are_not_a_float_array_and_names_itself():
    with pytest.raises(TypeError, match="softmax_cross_entropy expected a floating-point logits"):
        mc.softmax_cross_entropy(np.array([[1, 2]]), np.array([0]))      # integer logits
    with pytest.raises(TypeError, match="softmax_cross_entropy expected logits to be a numpy"):
        mc.softmax_cross_entropy([[1.0, 2.0]], np.array([0]))


# --- labels ---------------------------------------------------------------------------------
def test_integral_float_labels_are_accepted_and_fractional_ones_rejected():
    X, y = make_data(6)
    model = make_model()
    logits = model.forward(X)
    as_float = y.astype(np.float64)
    assert mc.softmax_cross_entropy(logits, as_float)[0] == mc.softmax_cross_entropy(logits, y)[0]
    assert mc.evaluate(model, X, as_float) == mc.evaluate(model, X, y)
    assert check_labels(as_float, 6, 3, "t").dtype == np.int64
    with pytest.raises(TypeError, match="labels y must be integers, got dtype float64"):
        mc.softmax_cross_entropy(logits, as_float + 0.5)
    with pytest.raises(TypeError, match="integers"):
        mc.fit(model, X, as_float + 0.25, progress=False)
    assert mc.evaluate(model, X, y.tolist()) == mc.evaluate(model, X, y)   # a list will do


@pytest.mark.parametrize("y, ok", [([0, 2], True), ([-1, 0], False), ([0, 3], False)])
def test_labels_must_lie_in_0_to_k_minus_1(y, ok):
    logits = np.zeros((2, 3))
    if ok:
        assert np.array_equal(check_labels(np.array(y), 2, 3, "t"), y)
    else:
        with pytest.raises(ValueError, match=r"must be in \[0, 2\] for 3 classes"):
            mc.softmax_cross_entropy(logits, np.array(y))


def test_labels_of_the_wrong_shape_are_a_shape_error():
    with pytest.raises(mc.ShapeError, match=r"shape \(2,\)"):
        check_labels(np.zeros((2, 1), dtype=int), 2, 3, "t")
    with pytest.raises(mc.ShapeError):
        check_labels(np.zeros(3, dtype=int), 2, 3, "t")


def test_a_scalar_label_is_refused_by_the_label_check():
    X, _ = make_data(1)
    with pytest.raises(mc.ShapeError, match=r"expected labels y of shape \(1,\) .* y.shape=\(\)"):
        mc.fit(make_model(), X, 2, progress=False)
