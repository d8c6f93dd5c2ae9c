"""Training that survives trouble: NaN/inf detection, Ctrl-C, checkpoints, determinism, numerics."""

import signal
import warnings
import zipfile

import numpy as np
import pytest

import minicnn as mc
from minicnn.fast import conv as conv_module
from minicnn.layers.base import Layer


def make_data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 1, 6, 6)).astype(np.float32)
    y = rng.integers(0, 3, n)
    return X, y


def make_model(seed=0, extra=()):
    return mc.Sequential([mc.Conv2D(1, 2, 3, padding=1, rng=seed), mc.ReLU(), *extra,
                          mc.MaxPool2D(2), mc.Flatten(), mc.Linear(18, 3, rng=seed + 1)])


def weights(model):
    return model.state_dict()


def same_weights(a, b):
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def noisy(x, rng):
    """A transform that consumes the generator, as augmentation does."""
    return x + rng.normal(0, 0.1, x.shape).astype(x.dtype)


# --- NaN and inf -----------------------------------------------------------------------------
class BadGrad(Layer):
    """Identity with one parameter whose gradient turns NaN on backward call number `at`."""

    def __init__(self, at):
        super().__init__()
        self.params["W"] = np.zeros(1, dtype=np.float32)
        self.at, self.calls = at, 0

    def output_shape(self, input_shape):
        return tuple(input_shape)

    def forward(self, x):
        self.cache = x
        return x

    def backward(self, dout):
        self.calls += 1
        self.grads["W"] = np.array([np.nan if self.calls == self.at else 0.0], np.float32)
        return dout


class BadOutput(BadGrad):
    """Identity whose output turns inf on forward call number `at`."""

    def forward(self, x):
        self.calls += 1
        self.cache = x
        return x + np.float32(np.inf) if self.calls == self.at else x

    def backward(self, dout):
        self.grads["W"] = np.zeros(1, np.float32)
        return dout


def snapshots_per_batch(fit_kwargs, X, y, **model_kw):
    """Weights seen at the start of every batch of a clean run (the transform runs first)."""
    shots = []

    def record(x, rng):
        shots.append(weights(model))
        return noisy(x, rng)
    model = make_model(**model_kw)
    mc.fit(model, X, y, transform=record, progress=False, **fit_kwargs)
    return shots, model


@pytest.mark.parametrize("bad, layer_index", [(BadGrad, 2), (BadOutput, "loss")])
def test_nonfinite_stops_at_the_batch_and_keeps_last_good_weights(bad, layer_index):
    X, y = make_data()
    kw = {"epochs": 2, "batch_size": 8, "rng": 1}
    shots, _ = snapshots_per_batch(kw, X, y)
    model = make_model(extra=[bad(at=7)])                      # call 7 = epoch 2, batch 2
    with pytest.raises(mc.NonFiniteError, match=r"epoch 2/2, batch 2/5") as info:
        mc.fit(model, X, y, transform=noisy, progress=False, **kw)
    assert (info.value.epoch, info.value.batch, info.value.layer) == (2, 2, layer_index)
    assert isinstance(info.value, FloatingPointError)
    expected = repr(model[2]) if layer_index == 2 else "loss"
    assert expected in str(info.value)
    got = [p for layer in model if not isinstance(layer, BadGrad) for p in layer.params.values()]
    assert [p.shape for p in got] == [p.shape for p in shots[6].values()]
    assert all(np.array_equal(a, b) for a, b in zip(got, shots[6].values()))  # last good


def test_an_overflowing_update_is_caught_before_it_is_applied():
    X, y = make_data()
    model = make_model()
    before = weights(model)
    with pytest.raises(mc.NonFiniteError, match=r"W of layer 0 \(Conv2D.*learning rate "
                                                r"\(1e\+39\) is too large") as info:
        mc.fit(model, X, y, epochs=1, batch_size=8, optimizer=mc.SGD(1e39), progress=False)
    assert (info.value.epoch, info.value.batch, info.value.layer) == (1, 1, 0)
    assert same_weights(weights(model), before)


def test_a_diverging_run_stops_with_finite_weights():
    X, y = make_data()
    model = make_model()
    with pytest.raises(mc.NonFiniteError, match=r"loss is nan.*smaller learning rate") as info:
        mc.fit(model, X, y, epochs=5, batch_size=8, optimizer=mc.SGD(1e10), progress=False)
    assert info.value.layer == "loss" and info.value.batch > 1   # the first steps were finite
    assert all(np.all(np.isfinite(p)) for p in weights(model).values())


# --- Ctrl-C ----------------------------------------------------------------------------------
def test_ctrl_c_returns_history_and_consistent_weights(capsys):
    X, y = make_data()
    kw = {"epochs": 3, "batch_size": 8, "rng": 2}
    shots, _ = snapshots_per_batch(kw, X, y)
    calls = []

    def interrupt_at_8(x, rng):
        calls.append(1)
        if len(calls) == 8:                                    # epoch 2, batch 3
            raise KeyboardInterrupt
        return noisy(x, rng)
    model = make_model()
    history = mc.fit(model, X, y, transform=interrupt_at_8, progress=False, **kw)
    assert history["interrupted"] is True
    assert len(history["loss"]) == 1                           # one complete epoch
    assert same_weights(weights(model), shots[7])              # after 7 complete steps
    assert "interrupted in epoch 2/3 after 2 of 5 batches" in capsys.readouterr().err
    assert np.all(np.isfinite(model.predict(X)))               # still usable


class InterruptedSGD(mc.SGD):
    """SGD that receives a real SIGINT on step `at`: while it computes the new values
    ("compute"), or after the parameters are assigned and before its state is ("apply")."""

    def __init__(self, at, phase):
        super().__init__(0.05, momentum=0.9)
        self.at, self.phase, self.steps = at, phase, 0

    def step(self, model):
        self.steps += 1
        super().step(model)

    def update(self, name, p, g, state):
        if self.phase == "compute" and self.steps == self.at and name == "0.W":
            signal.raise_signal(signal.SIGINT)
        return super().update(name, p, g, state)

    @property
    def state(self):
        return self._state

    @state.setter
    def state(self, value):
        if getattr(self, "phase", None) == "apply" and self.steps == self.at:
            signal.raise_signal(signal.SIGINT)                 # half-way through the assignment
        self._state = value


@pytest.fixture
def ctrl_c_raises():
    """Python's own Ctrl-C handler for the test. A process started in the background by a
    non-interactive shell inherits SIGINT as ignored, and then no Ctrl-C could arrive at all."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.parametrize("phase, steps_done", [("compute", 5), ("apply", 5)])
def test_a_step_is_all_or_nothing_under_sigint(phase, steps_done, ctrl_c_raises):
    X, y = make_data()
    kw = {"epochs": 2, "batch_size": 8, "rng": 3}
    shots, _ = snapshots_per_batch(kw, X, y)
    model = make_model()
    history = mc.fit(model, X, y, transform=noisy, optimizer=InterruptedSGD(5, phase),
                     progress=False, **kw)
    assert history["interrupted"] is True
    assert same_weights(weights(model), shots[steps_done])


# --- checkpoints -----------------------------------------------------------------------------
@pytest.mark.parametrize("make_opt", [lambda: mc.SGD(0.05, momentum=0.9),
                                      lambda: mc.Adam(1e-2)], ids=["sgd-momentum", "adam"])
@pytest.mark.parametrize("stop_at", [8, 10], ids=["mid-epoch", "epoch-boundary"])
def test_interrupt_and_resume_is_bit_identical(tmp_path, make_opt, stop_at):
    X, y = make_data()
    val = make_data(12, seed=9)
    kw = {"epochs": 3, "batch_size": 8, "rng": 4, "validation_data": val, "progress": False}
    reference = make_model()
    ref_history = mc.fit(reference, X, y, optimizer=make_opt(), transform=noisy, **kw)

    calls, path = [], tmp_path / "run.npz"

    def interrupt(x, rng):
        calls.append(1)
        if len(calls) == stop_at + 1:
            raise KeyboardInterrupt
        return noisy(x, rng)
    first = make_model()
    assert mc.fit(first, X, y, optimizer=make_opt(), transform=interrupt, checkpoint=path,
                  **kw)["interrupted"]
    resumed = make_model(seed=50)                               # other init: all must be loaded
    history = mc.fit(resumed, X, y, optimizer=make_opt(), transform=noisy, resume=path,
                     checkpoint=path, **kw)
    assert same_weights(weights(resumed), weights(reference))
    assert history == ref_history


def test_resume_after_complete_epochs_extends_the_run(tmp_path):
    X, y = make_data()
    kw = {"batch_size": 8, "rng": 5, "transform": noisy, "progress": False}
    reference = make_model()
    ref_history = mc.fit(reference, X, y, epochs=4, optimizer=mc.Adam(1e-2), **kw)
    model, path = make_model(), tmp_path / "ck.npz"
    mc.fit(model, X, y, epochs=2, optimizer=mc.Adam(1e-2), checkpoint=path, **kw)
    history = mc.fit(make_model(seed=7), X, y, epochs=4, optimizer=mc.Adam(1e-2), resume=path,
                     **kw)
    assert history == ref_history
    model = make_model(seed=8)
    mc.fit(model, X, y, epochs=4, optimizer=mc.Adam(1e-2), resume=path, **kw)
    assert same_weights(weights(model), weights(reference))


def damaged(path, how, tmp_path):
    data = path.read_bytes()
    out = tmp_path / f"{how}.npz"
    if how == "truncated":
        out.write_bytes(data[:len(data) // 2])
    elif how == "corrupted":
        out.write_bytes(data[:100] + bytes(255 - b for b in data[100:400]) + data[400:])
    elif how == "not-a-checkpoint":
        mc.save_weights(make_model(), out)
    elif how == "missing-entry":
        with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
            for item in src.infolist():
                if item.filename != "progress.npy":
                    dst.writestr(item, src.read(item))
    return out


@pytest.mark.parametrize("how", ["truncated", "corrupted", "not-a-checkpoint", "missing-entry",
                                 "other-architecture", "other-optimizer", "other-batch-size",
                                 "other-data"])
def test_a_bad_checkpoint_raises_and_changes_nothing(tmp_path, how):
    X, y = make_data()
    path = tmp_path / "good.npz"
    mc.fit(make_model(), X, y, epochs=1, batch_size=8, optimizer=mc.Adam(1e-2),
           checkpoint=path, progress=False)
    model, opt, batch_size = make_model(seed=11), mc.Adam(1e-2), 8
    if how == "other-architecture":
        model = mc.Sequential([mc.Conv2D(1, 3, 3, padding=1), mc.ReLU(), mc.MaxPool2D(2),
                               mc.Flatten(), mc.Linear(27, 3)])
    elif how == "other-optimizer":
        opt = mc.SGD(0.1, momentum=0.5)
    elif how == "other-batch-size":
        batch_size = 4
    elif how == "other-data":
        X, y = X[:30], y[:30]
    else:
        path = damaged(path, how, tmp_path)
    mc.fit(model, X, y, epochs=1, batch_size=batch_size, optimizer=opt, progress=False)
    before, opt_before = weights(model), opt.state_dict()
    with pytest.raises(ValueError, match=r"checkpoint|npz") as info:
        mc.fit(model, X, y, epochs=2, batch_size=batch_size, optimizer=opt, resume=path,
               progress=False)
    assert str(tmp_path) in str(info.value)
    assert same_weights(weights(model), before)
    assert same_weights(opt.state_dict(), opt_before)


# --- determinism -----------------------------------------------------------------------------
def test_same_seed_gives_bit_identical_runs():
    X, y = make_data()
    runs = []
    for seed in (6, 6, 7):
        model = make_model()
        history = mc.fit(model, X, y, epochs=2, batch_size=8, rng=seed, transform=noisy,
                         optimizer=mc.Adam(1e-2), progress=False)
        runs.append((weights(model), history))
    assert same_weights(runs[0][0], runs[1][0]) and runs[0][1] == runs[1][1]
    assert not same_weights(runs[0][0], runs[2][0])           # the seed does matter


# --- numerics --------------------------------------------------------------------------------
@pytest.mark.parametrize("scale", [1.0, 1e2, 1e4])
def test_loss_and_gradient_finite_for_large_float32_logits(scale):
    rng = np.random.default_rng(0)
    logits = (rng.standard_normal((16, 10)) * scale).astype(np.float32)
    y = rng.integers(0, 10, 16)
    loss, dlogits = mc.softmax_cross_entropy(logits, y)
    assert np.isfinite(loss) and np.all(np.isfinite(dlogits))
    assert dlogits.dtype == np.float32
    assert np.allclose(dlogits.sum(axis=1), 0, atol=1e-6)     # softmax rows sum to 1
    exact = np.mean(np.log(np.exp(logits.astype(np.float64) - logits.max(1, keepdims=True))
                           .sum(1)) + logits.max(1) - logits[np.arange(16), y])
    assert loss == pytest.approx(exact, rel=1e-5, abs=1e-5)


def test_float16_input_is_cast_with_a_warning():
    model = make_model()
    x = make_data(4)[0]
    with pytest.warns(UserWarning, match=r"float16.*float32"):
        out = model.forward(x.astype(np.float16))
    assert out.dtype == np.float32
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.allclose(out, model.forward(x.astype(np.float16).astype(np.float32)))


# --- memory ----------------------------------------------------------------------------------
def test_model_forward_in_chunks_matches_one_pass(monkeypatch):
    model = mc.Sequential([mc.Conv2D(1, 3, 3, padding=1, rng=0), mc.ReLU(),
                           mc.Conv2D(3, 4, 3, stride=2, rng=1), mc.GlobalAvgPool2D()])
    x = make_data(9)[0]
    out = model.forward(x)
    dx = model.backward(np.ones_like(out))
    grads = {n: g.copy() for n, _, g in model.param_items()}
    monkeypatch.setattr(conv_module, "MAX_COLS_BYTES", 200)   # about one image at a time
    out_chunked = model.forward(x)
    assert "chunk" in model[0].cache and model[0].cache["chunk"] < len(x)
    assert np.allclose(out_chunked, out, rtol=1e-5, atol=1e-6)
    assert np.allclose(model.backward(np.ones_like(out)), dx, rtol=1e-5, atol=1e-6)
    for n, _, g in model.param_items():
        assert np.allclose(g, grads[n], rtol=1e-5, atol=1e-5)


def test_fit_runs_in_a_worker_thread_where_no_signal_can_be_held_back():
    """Only the main thread may set a SIGINT handler; elsewhere the deferral does nothing."""
    import threading
    X, y = make_data()
    kw = {"epochs": 2, "batch_size": 8, "rng": 6, "transform": noisy, "progress": False}
    main = make_model()
    expected = mc.fit(main, X, y, **kw)
    model, out = make_model(), {}
    thread = threading.Thread(target=lambda: out.update(history=mc.fit(model, X, y, **kw)))
    thread.start()
    thread.join()
    assert out["history"] == expected and same_weights(weights(model), weights(main))
