"""minicnn.optim: SGD and Adam against steps computed by hand, on a quadratic with a known
minimum, their defaults and their argument checks."""

import numpy as np
import pytest

import minicnn as mc
from minicnn import SGD, Adam, Linear, Sequential
from minicnn.optim import Optimizer


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
# Defaults, weight decay, state and argument checks.
# --------------------------------------------------------------------------------------------
def test_default_hyperparameters():
    sgd, adam = mc.SGD(), mc.Adam()
    assert (sgd.lr, sgd.momentum, sgd.weight_decay) == (0.01, 0.0, 0.0)
    assert (adam.lr, adam.betas, adam.eps, adam.weight_decay) == (1e-3, (0.9, 0.999), 1e-8, 0.0)


class One(mc.Layer):
    """A layer holding one parameter vector, with a gradient we choose."""

    def __init__(self, p, g):
        super().__init__()
        self.params["W"] = np.array(p, dtype=np.float64)
        self.grads["W"] = np.array(g, dtype=np.float64)


def test_adam_with_weight_decay_matches_two_hand_computed_steps():
    p, g = np.array([1.0, -2.0]), np.array([0.5, 0.25])
    lr, (b1, b2), eps, wd = 0.1, (0.8, 0.9), 1e-3, 0.5
    model = mc.Sequential([One(p, g)])
    opt = mc.Adam(lr, betas=(b1, b2), eps=eps, weight_decay=wd)
    m = v = np.zeros(2)
    for t in (1, 2):
        gt = g + wd * p                                        # L2 term added to the gradient
        m, v = b1 * m + (1 - b1) * gt, b2 * v + (1 - b2) * gt**2
        p = p - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        opt.step(model)
        np.testing.assert_allclose(model[0].params["W"], p, rtol=1e-12)
    assert int(opt.state["t"]) == 2 and opt.state["0.W.m"].shape == (2,)


def test_sgd_without_momentum_keeps_no_state_and_weight_decay_pulls_towards_zero():
    model = mc.Sequential([One([2.0, -4.0], [0.0, 0.0])])
    opt = mc.SGD(0.1, weight_decay=0.5)
    opt.step(model)
    np.testing.assert_allclose(model[0].params["W"], [1.9, -3.8])
    assert opt.state == {}


def test_a_step_needs_a_gradient():
    layer = One([1.0], [0.0])
    del layer.grads["W"]
    with pytest.raises(RuntimeError, match="parameter 0.W has no gradient"):
        mc.Adam().step(mc.Sequential([layer]))


@pytest.mark.parametrize("make, exc, pattern", [
    (lambda: mc.Adam(betas=0.9), TypeError, "betas must be a pair"),
    (lambda: mc.Adam(betas=(0.9, 0.99, 0.9)), TypeError, "betas must be a pair"),
    (lambda: mc.Adam(betas=(1.0, 0.99)), ValueError, r"betas\[0\] must be in \[0, 1\)"),
    (lambda: mc.Adam(betas=(0.9, -0.1)), ValueError, r"betas\[1\]"),
    (lambda: mc.Adam(eps=0.0), ValueError, r"eps must be in \(0, inf\)"),
    (lambda: mc.Adam(weight_decay=-0.5), ValueError, r"weight_decay must be in \[0, inf\)"),
    (lambda: mc.Adam(weight_decay=np.inf), ValueError, "weight_decay"),
    (lambda: mc.Adam(eps=np.inf), ValueError, "eps"),
    (lambda: mc.SGD(weight_decay=-0.5), ValueError, "weight_decay"),
    (lambda: mc.Adam(lr=0.0), ValueError, r"lr must be in \(0, inf\)"),
    (lambda: mc.Adam(lr=np.inf), ValueError, "lr"),
    (lambda: mc.SGD(momentum=1.0), ValueError, r"momentum must be in \[0, 1\)"),
    (lambda: mc.SGD(weight_decay=np.inf), ValueError, "weight_decay"),
    (lambda: mc.SGD(momentum=-0.5), ValueError, "momentum"),
])
def test_optimiser_arguments_are_checked(make, exc, pattern):
    with pytest.raises(exc, match=pattern):
        make()


def test_optimiser_edge_values_are_accepted():
    assert mc.Adam(betas=[0.0, 0.0], weight_decay=0.0).betas == (0.0, 0.0)
    assert mc.SGD(momentum=0.0).momentum == 0.0


def test_an_optimiser_without_an_update_rule_says_so():
    with pytest.raises(NotImplementedError):
        Optimizer(0.1).step(mc.Sequential([One([1.0], [1.0])]))
