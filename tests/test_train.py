"""minicnn.train: what fit, train_step, evaluate and accuracy promise.

First that a small CNN learns the digits; then, on small models and a few examples each, the
bookkeeping pinned value by value (history values, which examples a batch holds, defaults,
argument checks, the training and evaluation modes). The loss: test_losses.py; the optimisers:
test_optim.py; the safety checks: test_resilience.py and test_reliability.py.
"""

import numpy as np
import pytest
from conftest import Probe, digits_cnn, make_data, make_model, small_model

import minicnn as mc
from minicnn import Adam, accuracy, fit, load_digits
from minicnn.train import train_step


# --- learning ---------------------------------------------------------------------------------
def test_small_cnn_learns_the_digits():
    """The full 8x8 frame, the standard split: >= 97% test accuracy in 12 epochs (float32)."""
    X_tr, y_tr, X_te, y_te = load_digits()
    assert X_tr.dtype == np.float32 and X_tr.shape[1:] == (1, 8, 8)
    model = digits_cnn()
    history = fit(model, X_tr, y_tr, epochs=12, batch_size=32, optimizer=Adam(0.003), rng=0,
                  progress=False)
    assert history["loss"][-1] < history["loss"][0] / 5
    assert accuracy(model, X_te, y_te) >= 0.97


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
            self.cache = x
            return x

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


def test_fit_on_a_single_example():
    X, y = make_data(1)
    history = mc.fit(make_model(), X, y, epochs=1, progress=False)
    assert len(history["loss"]) == 1 and history["acc"][0] in (0.0, 1.0)


def test_fit_and_evaluate_take_flat_examples_of_shape_n_by_features():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((12, 5)), rng.integers(0, 3, 12)        # X.ndim == 2
    model = mc.Sequential([mc.Linear(5, 3, rng=0, dtype=np.float64)])
    history = mc.fit(model, X, y, epochs=2, progress=False)
    assert len(history["loss"]) == 2
    loss, acc = mc.evaluate(model, X, y)
    assert np.isfinite(loss) and acc == np.mean(model.predict(X) == y)


# --- training and evaluation mode -----------------------------------------------------------
@pytest.mark.parametrize("start", ["train", "eval"])
def test_fit_trains_in_training_mode_validates_in_eval_and_restores(data, start):
    X, y = data
    probe = Probe()
    model = getattr(small_model(probe), start)()
    mc.fit(model, X, y, epochs=2, batch_size=32, validation_data=(X[:40], y[:40]),
           progress=False)
    train_calls = [t for n, t in probe.seen if n == 32]
    val_calls = [t for n, t in probe.seen if n == 40]
    assert len(train_calls) == 6 and all(train_calls)                   # 3 batches x 2 epochs
    assert len(val_calls) == 2 and not any(val_calls)
    assert all(layer.training == (start == "train") for layer in model)


@pytest.mark.parametrize("call", ["evaluate", "accuracy", "logits", "predict"])
def test_evaluation_helpers_use_eval_mode_and_restore_it(data, call):
    X, y = data
    probe = Probe()
    model = small_model(probe)
    if call in ("evaluate", "accuracy"):
        getattr(mc, call)(model, X, y)
    else:
        getattr(model, call)(X)
    assert probe.seen and not any(t for _, t in probe.seen)
    assert all(layer.training for layer in model)                       # put back


def test_a_model_without_dropout_trains_the_same_in_either_mode(data):
    X, y = data
    a, b = small_model(), small_model().eval()
    mc.fit(a, X, y, epochs=1, progress=False)
    mc.fit(b, X, y, epochs=1, progress=False)
    for (name, p, _), (_, q, _) in zip(a.param_items(), b.param_items()):
        np.testing.assert_array_equal(p, q, err_msg=name)


def test_a_wrong_validation_data_is_described_briefly():
    from minicnn.train import describe
    assert describe("x" * 200) == repr("x" * 200)[:80] and len(describe("x" * 200)) == 80
    assert describe([np.zeros((2, 3)), 5]) == "a list of 2 items (array (2, 3), int)"
