"""What fit, evaluate, the loss and the optimisers promise, pinned value by value.

Small models and a few examples each: these tests check bookkeeping (history values, which
examples a batch holds, defaults, argument checks), not learning, which test_training.py shows.
"""

import signal
import warnings

import numpy as np
import pytest

import minicnn as mc
from minicnn import resilience
from minicnn.losses import check_labels
from minicnn.optim import Optimizer, check_gradients
from minicnn.train import train_step


def make_data(n=10, seed=0, classes=3):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 1, 2, 2)).astype(np.float64), rng.integers(0, classes, n)


def make_model(seed=0):
    return mc.Sequential([mc.Flatten(), mc.Linear(4, 3, rng=seed, dtype=np.float64)])


# --- fit's history --------------------------------------------------------------------------
def test_history_holds_example_weighted_means_of_the_batches_and_the_validation_values():
    X, y = make_data(10)
    X_val, y_val = make_data(5, seed=1)
    kw = {"epochs": 2, "batch_size": 4, "rng": 3, "progress": False}
    history = mc.fit(make_model(), X, y, optimizer=mc.SGD(0.1), validation_data=(X_val, y_val),
                     **kw)
    # the same run by hand: shuffle, then for each batch (4, 4, 2 examples) measure, then step
    model, opt, rng = make_model(), mc.SGD(0.1), np.random.default_rng(3)
    expected = {"loss": [], "acc": [], "val_loss": [], "val_acc": []}
    for _ in range(2):
        order, total, correct = rng.permutation(10), 0.0, 0
        for start in range(0, 10, 4):
            idx = order[start:start + 4]
            logits = model.forward(X[idx])
            total += mc.softmax_cross_entropy(logits, y[idx])[0] * len(idx)
            correct += int((logits.argmax(axis=1) == y[idx]).sum())
            train_step(model, X[idx], y[idx], opt)
        expected["loss"].append(total / 10)
        expected["acc"].append(correct / 10)
        logits = model.forward(X_val)
        expected["val_loss"].append(mc.softmax_cross_entropy(logits, y_val)[0])
        expected["val_acc"].append(float((logits.argmax(axis=1) == y_val).mean()))
    assert history.keys() == expected.keys()
    for key, values in expected.items():
        assert len(history[key]) == 2                         # one value per epoch, no more
        np.testing.assert_allclose(history[key], values, rtol=1e-12)


def test_train_step_returns_the_loss_before_the_step_and_the_number_correct():
    X, y = make_data(6)
    model = make_model()
    logits = model.forward(X)
    loss, correct = train_step(model, X, y, mc.SGD(0.1))
    assert loss == mc.softmax_cross_entropy(logits, y)[0]
    assert correct == int((logits.argmax(axis=1) == y).sum())


def batches_seen(n, batch_size, epochs, shuffle):
    """The example ids in every batch fit builds (pixel values carry each example's id)."""
    X = np.repeat(np.arange(n, dtype=np.float64), 4).reshape(n, 1, 2, 2)
    seen = []

    def record(x, rng):
        seen.append(x[:, 0, 0, 0].astype(int).tolist())
        return x
    mc.fit(make_model(), X, np.zeros(n, dtype=int), epochs=epochs, batch_size=batch_size,
           shuffle=shuffle, transform=record, optimizer=mc.SGD(1e-6), progress=False)
    return seen


def test_every_example_is_used_exactly_once_per_epoch():
    seen = batches_seen(10, 4, 2, shuffle=True)
    assert [len(b) for b in seen] == [4, 4, 2, 4, 4, 2]
    epochs = [[i for b in seen[:3] for i in b], [i for b in seen[3:] for i in b]]
    assert all(sorted(e) == list(range(10)) for e in epochs)
    assert epochs[0] != epochs[1]                              # a new order every epoch
    assert batches_seen(5, 2, 1, shuffle=False) == [[0, 1], [2, 3], [4]]


def test_a_batch_size_larger_than_the_data_gives_one_batch_per_epoch():
    assert batches_seen(3, 64, 2, shuffle=False) == [[0, 1, 2], [0, 1, 2]]


def test_fit_defaults_are_10_epochs_of_batches_of_64_shuffled_with_seed_0_and_a_progress_bar(
        capsys):
    X = np.repeat(np.arange(130.0), 4).reshape(130, 1, 2, 2) / 130
    y = np.arange(130) % 3
    seen = []

    def record(x, rng):
        seen.append(np.round(x[:, 0, 0, 0] * 130).astype(int).tolist())
        return x
    model = make_model()
    history = mc.fit(model, X, y, transform=record)
    assert len(history["loss"]) == 10 and [len(b) for b in seen[:3]] == [64, 64, 2]
    order = [i for b in seen[:3] for i in b]
    assert order == np.random.default_rng(0).permutation(130).tolist()
    err = capsys.readouterr().err
    assert "epoch 10/10" in err and "loss=" in err and "acc=" in err


def test_fit_checks_epochs_batch_size_and_validation_data_before_training():
    X, y = make_data(4)
    model = make_model()
    before = model.state_dict()
    for kw, pattern in [({"epochs": -1}, "epochs must be an int >= 0"),
                        ({"batch_size": 0}, "batch_size must be an int >= 1"),
                        ({"validation_data": (X, y[:3])}, r"fit\(validation_data\): X and y")]:
        with pytest.raises(ValueError, match=pattern):
            mc.fit(model, X, y, progress=False, **kw)
    assert all(np.array_equal(before[k], v) for k, v in model.state_dict().items())
    assert len(mc.fit(model, X, y, epochs=1, batch_size=1, progress=False)["loss"]) == 1


def test_the_progress_bar_shows_epoch_batches_and_the_batch_loss_and_accuracy(capsys):
    X, y = make_data(4, seed=2)
    model = make_model()
    logits = model.forward(X)
    loss = mc.softmax_cross_entropy(logits, y)[0]
    acc = float((logits.argmax(axis=1) == y).mean())
    assert 0 < acc < 1                                        # so that a count would differ
    mc.fit(model, X, y, epochs=1, batch_size=4)
    err = capsys.readouterr().err
    assert "epoch 1/1" in err and "batch/s" in err
    assert f"acc={acc:.3f}, loss={loss:.3f}" in err
    assert err.endswith("\r")                                 # the bar is cleared (leave=False)
    mc.fit(model, X, y, epochs=1, batch_size=4, progress=False)
    assert capsys.readouterr().err == ""


def test_zero_epochs_trains_nothing():
    X, y = make_data()
    model = make_model()
    before = model.state_dict()
    assert mc.fit(model, X, y, epochs=0, progress=False) == {"loss": [], "acc": []}
    assert all(np.array_equal(before[k], v) for k, v in model.state_dict().items())


def test_fit_default_optimiser_is_sgd_005_with_momentum_09():
    X, y = make_data()
    a, b = make_model(), make_model()
    mc.fit(a, X, y, epochs=2, batch_size=4, progress=False)
    mc.fit(b, X, y, epochs=2, batch_size=4, optimizer=mc.SGD(0.05, momentum=0.9),
           progress=False)
    assert all(np.array_equal(a.state_dict()[k], v) for k, v in b.state_dict().items())


def test_fit_trains_in_training_mode_validates_in_evaluation_mode_and_restores_the_mode():
    seen = []

    class Spy(mc.Layer):
        def output_shape(self, input_shape):
            return tuple(input_shape)

        def forward(self, x):
            seen.append(self.training)
            return self._remember(x)

        def backward(self, dout):
            return dout
    X, y = make_data(4)
    model = mc.Sequential([Spy(), *make_model()]).eval()
    mc.fit(model, X, y, epochs=1, batch_size=4, validation_data=(X, y), progress=False)
    assert seen == [True, False]
    assert [layer.training for layer in model] == [False, False, False]


# --- evaluate, accuracy, datasets -------------------------------------------------------------
def test_evaluate_is_the_mean_loss_and_accuracy_over_batches_of_any_size():
    X, y = make_data(7)
    model = make_model()
    logits = model.forward(X)
    loss = mc.softmax_cross_entropy(logits, y)[0]
    acc = float((logits.argmax(axis=1) == y).mean())
    for batch_size in (1, 3, 7, 256):
        got = mc.evaluate(model, X, y, batch_size=batch_size)
        assert got[0] == pytest.approx(loss, rel=1e-12) and got[1] == acc
        assert mc.accuracy(model, X, y, batch_size=batch_size) == acc


class Spy(mc.Sequential):
    """Records the batch_size that logits is called with and the sizes of the forward passes."""

    def __init__(self, layers):
        super().__init__(layers)
        self.batch_sizes, self.passes = [], []

    def logits(self, X, batch_size=256):
        self.batch_sizes.append(batch_size)
        return super().logits(X, batch_size)

    def forward(self, x):
        self.passes.append(len(x))
        return super().forward(x)


def test_evaluation_goes_in_batches_of_256_by_default():
    X = np.random.default_rng(0).standard_normal((300, 1, 2, 2))
    y = np.zeros(300, dtype=int)
    model = Spy(make_model())
    mc.evaluate(model, X, y)
    mc.accuracy(model, X, y)
    model.predict(X)
    assert model.batch_sizes == [256, 256, 256] and model.passes == [256, 44] * 3


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


def test_dataset_checks_name_the_problem():
    X, y = make_data(4)
    model = make_model()
    with pytest.raises(mc.ShapeError, match="different lengths: len.X.=4, len.y.=3"):
        mc.evaluate(model, X, y[:3])
    with pytest.raises(mc.ShapeError, match="at least one example"):
        mc.evaluate(model, X[:0], y[:0])
    with pytest.raises(mc.ShapeError, match="at least one example"):
        mc.evaluate(model, X[0, 0, 0], y[:1])                  # 1-d X
    bad = X.copy()
    bad[2, 0, 1, 1] = np.nan
    with pytest.raises(ValueError, match="in 1 example, first at index 2"):
        mc.fit(model, bad, y, progress=False)
    with pytest.raises(mc.ShapeError, match="must output .N, K. logits"):
        mc.evaluate(mc.Sequential([mc.ReLU()]), X, y)


def test_a_transform_must_return_a_float_array_shaped_like_its_batch():
    X, y = make_data(4)
    for transform, exc, pattern in [(lambda x, rng: None, TypeError, "no return statement"),
                                    (lambda x, rng: list(x), TypeError, "returned list"),
                                    (lambda x, rng: x[:, :, :1], mc.ShapeError, "shape"),
                                    (lambda x, rng: x.astype(int), TypeError, "dtype int")]:
        with pytest.raises(exc, match=pattern):
            mc.fit(make_model(), X, y, transform=transform, progress=False)


def test_resume_must_be_an_existing_path(tmp_path):
    X, y = make_data(4)
    with pytest.raises(TypeError, match="resume must be the path"):
        mc.fit(make_model(), X, y, resume=3, progress=False)
    with pytest.raises(FileNotFoundError, match="no checkpoint at 'nothing.npz'") as info:
        mc.fit(make_model(), X, y, resume="nothing.npz", progress=False)
    assert "checkpoint='nothing.npz') writes one after every epoch" in str(info.value)
    with pytest.raises(FileNotFoundError) as info:
        mc.fit(make_model(), X, y, resume="nothing.npz", checkpoint=tmp_path / "c.npz",
               progress=False)
    assert "writes one" not in str(info.value)


def test_a_bad_transform_is_named_in_the_message():
    X, y = make_data(4)

    def returns_none(x, rng):
        pass

    class Halve:
        def __call__(self, x, rng):
            return x[:, :, :1]

        def __repr__(self):
            return "Halve()"
    with pytest.raises(TypeError, match="transform returns_none returned NoneType"):
        mc.fit(make_model(), X, y, transform=returns_none, progress=False)
    with pytest.raises(mc.ShapeError, match=r"transform Halve\(\) returned an array of shape"):
        mc.fit(make_model(), X, y, transform=Halve(), progress=False)


# --- softmax and the loss -------------------------------------------------------------------
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


def test_fit_on_a_single_example():
    X, y = make_data(1)
    history = mc.fit(make_model(), X, y, epochs=1, progress=False)
    assert len(history["loss"]) == 1 and history["acc"][0] in (0.0, 1.0)


# --- optimisers -------------------------------------------------------------------------------
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


# --- the safety checks (resilience.py) ------------------------------------------------------
@pytest.fixture
def ctrl_c_raises():
    """Python's own Ctrl-C handler for the test (a background process may inherit SIG_IGN)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_ctrl_c_inside_nested_deferred_blocks_waits_for_the_outermost(ctrl_c_raises):
    done = []
    with pytest.raises(KeyboardInterrupt), resilience.interrupts_deferred():
        with resilience.interrupts_deferred():
            signal.raise_signal(signal.SIGINT)
            done.append("inner")
        done.append("outer")
    assert done == ["inner", "outer"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_deferring_leaves_another_sigint_handler_alone():
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with resilience.interrupts_deferred():
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


class Param(mc.Layer):
    """Identity with a two-element parameter whose gradient we choose."""

    def __init__(self, g):
        super().__init__()
        self.params["W"] = np.zeros(2)
        self.grads["W"] = np.array(g, dtype=np.float64)

    def output_shape(self, input_shape):
        return tuple(input_shape)


def test_one_non_finite_gradient_entry_is_found_and_the_last_layer_is_named_first():
    model = mc.Sequential([Param([np.nan, 0.0]), Param([0.0, np.inf]), Param([1.0, 1.0])])
    with pytest.raises(mc.NonFiniteError, match="gradient of W in layer 1") as info:
        check_gradients(model, "here")
    assert info.value.layer == 1


def test_one_overflowing_update_entry_is_caught():
    model = mc.Sequential([Param([0.0, -1e308])])
    model[0].params["W"] = np.array([0.0, 1e308])
    opt = mc.SGD(1.0)
    with np.errstate(over="ignore"), pytest.raises(
            mc.NonFiniteError, match="update would make W of layer 0") as info:
        opt.step(model)
    assert info.value.layer == 0
    np.testing.assert_array_equal(model[0].params["W"], [0.0, 1e308])     # nothing assigned


def test_a_transform_that_returns_one_nan_stops_fit():
    X, y = make_data(4)

    def one_nan(x, rng):
        x = x.copy()
        x[0, 0, 0, 0] = np.nan
        return x
    with pytest.raises(mc.NonFiniteError, match="transform returned NaN") as info:
        mc.fit(make_model(), X, y, transform=one_nan, progress=False)
    assert (info.value.layer, info.value.epoch, info.value.batch) == ("input", 1, 1)


FLAG_OPS = {"invalid": lambda x: np.sqrt(-np.abs(x) - 1),     # NaN
            "divide": lambda x: np.log(0 * x),                # -inf
            "over": lambda x: np.exp(1e4 + np.abs(x))}        # inf


class NonFiniteOp(mc.Layer):
    """A layer whose forward raises one of numpy's floating-point flags on every element."""

    def __init__(self, flag):
        super().__init__()
        self.flag = flag

    def forward(self, x):
        return FLAG_OPS[self.flag](x)

    def output_shape(self, input_shape):
        return tuple(input_shape)


@pytest.mark.parametrize("flag", sorted(FLAG_OPS))
def test_a_floating_point_error_in_a_step_raises_non_finite_without_numpy_warnings(flag):
    X, y = make_data(4)
    model = mc.Sequential([NonFiniteOp(flag), mc.Flatten(), mc.Linear(4, 3, rng=0,
                                                                       dtype=np.float64)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")                       # a RuntimeWarning would fail here
        with pytest.raises(mc.NonFiniteError, match="loss"):
            mc.fit(model, X, y, optimizer=mc.SGD(0.1), progress=False)


def test_fit_and_evaluate_take_flat_examples_of_shape_n_by_features():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((12, 5)), rng.integers(0, 3, 12)        # X.ndim == 2
    model = mc.Sequential([mc.Linear(5, 3, rng=0, dtype=np.float64)])
    history = mc.fit(model, X, y, epochs=2, progress=False)
    assert len(history["loss"]) == 2
    loss, acc = mc.evaluate(model, X, y)
    assert np.isfinite(loss) and acc == np.mean(model.predict(X) == y)


def test_non_finite_error_reads_as_its_message_and_keeps_where_it_happened():
    e = mc.NonFiniteError("loss is nan", 2, 5, "loss")             # positional, as documented
    assert str(e) == "loss is nan" and e.args == ("loss is nan",)
    assert (e.epoch, e.batch, e.layer) == (2, 5, "loss")
    assert isinstance(e, FloatingPointError)


class NaNGradient(mc.Layer):
    """The identity with a parameter whose gradient comes out NaN while the loss stays finite."""

    def __init__(self):
        super().__init__()
        self.params["W"] = np.zeros(2)

    def forward(self, x):
        return x

    def backward(self, dout):
        self.grads["W"] = np.array([np.nan, 0.0])
        return dout

    def output_shape(self, input_shape):
        return tuple(input_shape)


def test_a_non_finite_gradient_is_caught_as_a_gradient_before_it_reaches_an_update():
    X, y = make_data(4)
    model = mc.Sequential([NaNGradient(), mc.Flatten(), mc.Linear(4, 3, rng=0, dtype=np.float64)])
    before = model.state_dict()
    with pytest.raises(mc.NonFiniteError, match="gradient of W in layer 0") as info:
        train_step(model, X, y, mc.SGD(0.1))
    assert info.value.layer == 0
    assert all(np.array_equal(v, before[k], equal_nan=True) for k, v in model.state_dict().items())


def test_a_scalar_label_is_refused_by_the_label_check():
    X, _ = make_data(1)
    with pytest.raises(mc.ShapeError, match=r"expected labels y of shape \(1,\) .* y.shape=\(\)"):
        mc.fit(make_model(), X, 2, progress=False)
