"""Training end to end, and the pieces it is made of: the loss, the optimisers, the model
summary and the weights file.
"""

import numpy as np
import pytest

from minicnn import (
    SGD,
    Adam,
    Conv2D,
    Flatten,
    Linear,
    MaxPool2D,
    ReLU,
    Sequential,
    accuracy,
    fit,
    load_digits,
    load_weights,
    numerical_gradient,
    rel_error,
    save_weights,
    softmax_cross_entropy,
)


def digits_cnn(seed=0):
    """Two 3x3 conv blocks and a linear head for the 8x8 digits: 8x8 -> 4x4 -> 2x2 -> 10."""
    return Sequential([Conv2D(1, 16, 3, padding=1, rng=seed), ReLU(), MaxPool2D(2),
                       Conv2D(16, 32, 3, padding=1, rng=seed + 1), ReLU(), MaxPool2D(2),
                       Flatten(), Linear(32 * 2 * 2, 10, rng=seed + 2)])


def test_small_cnn_learns_the_digits():
    """The full 8x8 frame, the standard split: >= 97% test accuracy in 12 epochs (float32)."""
    X_tr, y_tr, X_te, y_te = load_digits()
    assert X_tr.dtype == np.float32 and X_tr.shape[1:] == (1, 8, 8)
    model = digits_cnn()
    history = fit(model, X_tr, y_tr, epochs=12, batch_size=32, optimizer=Adam(0.003), rng=0,
                  progress=False)
    assert history["loss"][-1] < history["loss"][0] / 5
    assert accuracy(model, X_te, y_te) >= 0.97


# --------------------------------------------------------------------------------------------
# Optimisers: steps computed by hand, and a quadratic with a known minimum.
# --------------------------------------------------------------------------------------------
def one_weight_model(w, b):
    """Linear(1, 1): two scalar parameters, W = [[w]] and b = [b], in float64."""
    model = Sequential([Linear(1, 1, dtype=np.float64)])
    model[0].params["W"][...] = w
    model[0].params["b"][...] = b
    return model


def set_grads(model, gw, gb):
    model[0].grads["W"] = np.array([[gw]])
    model[0].grads["b"] = np.array([gb])


def test_sgd_momentum_and_weight_decay_match_a_hand_computed_step():
    # lr 0.5, momentum 0.9, weight decay 0.1; W starts at 1.0, b at -2.0.
    # step 1, g = 0.5:  W: v = 0.5 + 0.1*1.0 = 0.6,      W = 1.0 - 0.5*0.6 = 0.7
    #                   b: v = 0.5 + 0.1*(-2) = 0.3,     b = -2 - 0.5*0.3 = -2.15
    # step 2, g = -1:   W: v = 0.9*0.6 - 1 + 0.07 = -0.39,       W = 0.7 + 0.195 = 0.895
    #                   b: v = 0.9*0.3 - 1 - 0.215 = -0.945,     b = -2.15 + 0.4725 = -1.6775
    model = one_weight_model(1.0, -2.0)
    opt = SGD(lr=0.5, momentum=0.9, weight_decay=0.1)
    set_grads(model, 0.5, 0.5)
    opt.step(model)
    assert model[0].params["W"][0, 0] == pytest.approx(0.7, abs=1e-14)
    assert model[0].params["b"][0] == pytest.approx(-2.15, abs=1e-14)
    set_grads(model, -1.0, -1.0)
    opt.step(model)
    assert model[0].params["W"][0, 0] == pytest.approx(0.895, abs=1e-14)
    assert model[0].params["b"][0] == pytest.approx(-1.6775, abs=1e-14)


def test_adam_matches_a_hand_computed_step():
    # lr 0.1, betas (0.9, 0.999), eps 1e-8, W starts at 1.0.
    # step 1, g = 0.5: m = 0.05, v = 0.00025; m_hat = 0.5, v_hat = 0.25, so the step is
    #   lr * 0.5 / (0.5 + eps): Adam's first step has size lr whatever the gradient's scale.
    # step 2, g = -1:  m = 0.045 - 0.1 = -0.055, v = 0.00024975 + 0.001 = 0.00124975;
    #   m_hat = -0.055 / 0.19, v_hat = 0.00124975 / 0.001999.
    model = one_weight_model(1.0, 0.0)
    opt = Adam(lr=0.1, betas=(0.9, 0.999), eps=1e-8)
    set_grads(model, 0.5, 1e-3)
    opt.step(model)
    assert model[0].params["W"][0, 0] == pytest.approx(1.0 - 0.1 * 0.5 / (0.5 + 1e-8), abs=1e-14)
    assert model[0].params["b"][0] == pytest.approx(-0.1, abs=1e-6)      # size lr, tiny g too
    set_grads(model, -1.0, 1e-3)
    opt.step(model)
    w1 = 1.0 - 0.1 * 0.5 / (0.5 + 1e-8)
    m_hat, v_hat = -0.055 / 0.19, 0.00124975 / 0.001999
    assert model[0].params["W"][0, 0] == pytest.approx(
        w1 - 0.1 * m_hat / (np.sqrt(v_hat) + 1e-8), abs=1e-12)
    assert int(opt.state["t"]) == 2


@pytest.mark.parametrize("make_opt, weight_decay", [
    (lambda: SGD(lr=0.1), 0.0),
    (lambda: SGD(lr=0.1, momentum=0.9), 0.0),
    (lambda: SGD(lr=0.1, momentum=0.9, weight_decay=0.5), 0.5),
    (lambda: Adam(lr=0.01), 0.0),
], ids=["sgd", "sgd_momentum", "sgd_momentum_weight_decay", "adam"])
def test_optimisers_find_the_minimum_of_a_quadratic(make_opt, weight_decay):
    """L = 0.5 * ||p - target||^2 (gradient p - target); with L2 weight decay wd the minimum of
    L + 0.5 * wd * ||p||^2 moves to target / (1 + wd)."""
    rng = np.random.default_rng(0)
    model = Sequential([Linear(4, 3, rng=0, dtype=np.float64)])
    targets = {k: rng.standard_normal(p.shape) for k, p in model[0].params.items()}
    opt = make_opt()
    for _ in range(1500):
        for k, p in model[0].params.items():
            model[0].grads[k] = p - targets[k]
        opt.step(model)
    for k, p in model[0].params.items():
        np.testing.assert_allclose(p, targets[k] / (1 + weight_decay), atol=1e-3)


# --------------------------------------------------------------------------------------------
# The loss.
# --------------------------------------------------------------------------------------------
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


# --------------------------------------------------------------------------------------------
# The model summary and the weights file.
# --------------------------------------------------------------------------------------------
def test_summary_lists_shapes_and_parameter_counts():
    model = Sequential([Conv2D(1, 4, 3, padding=1), ReLU(), MaxPool2D(2), Flatten(),
                        Linear(64, 10)])
    lines = model.summary((1, 1, 8, 8)).splitlines()
    rows = {line.split()[0]: line for line in lines[2:-1]}      # "#" column -> table row
    expected = {"0": ("Conv2D(1, 4, kernel_size=3, padding=1)", "(1, 4, 8, 8)", "40"),
                "1": ("ReLU()", "(1, 4, 8, 8)", "0"),
                "2": ("MaxPool2D(2)", "(1, 4, 4, 4)", "0"),
                "3": ("Flatten()", "(1, 64)", "0"),
                "4": ("Linear(in_features=64, out_features=10)", "(1, 10)", "650")}
    assert set(rows) == set(expected)
    for i, (layer, shape, count) in expected.items():
        assert layer in rows[i] and shape in rows[i]
        assert rows[i].split()[-1] == count        # 4*1*3*3 + 4 = 40; 64*10 + 10 = 650
    assert lines[-1] == "total parameters: 690"
    assert model.num_params() == 690


def test_save_and_load_weights_round_trip(tmp_path):
    X = load_digits()[2][:20]
    trained, fresh = digits_cnn(seed=0), digits_cnn(seed=10)
    for _, p, _ in trained.param_items():
        p += 0.01                                  # biases are not all zero any more
    path = tmp_path / "weights.npz"
    save_weights(trained, path)
    assert not np.array_equal(fresh.logits(X), trained.logits(X))
    load_weights(fresh, path)
    for (name, a, _), (_, b, _) in zip(trained.param_items(), fresh.param_items()):
        assert a.dtype == b.dtype and np.array_equal(a, b), name
    np.testing.assert_array_equal(fresh.logits(X), trained.logits(X))
    # A file for another architecture is refused and changes nothing.
    other = Sequential([Flatten(), Linear(64, 10, rng=0)])
    before = other.state_dict()
    with pytest.raises(ValueError):
        load_weights(other, path)
    for name, p in other.state_dict().items():
        np.testing.assert_array_equal(p, before[name])
