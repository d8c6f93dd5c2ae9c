"""minicnn.checkpoint: checkpoints, weights files and resuming: what is written, what is refused,
what continues.

test_reliability.py shows resume is bit-identical after an interruption; here: the content of the
checkpoint written on Ctrl-C, resuming after exactly one batch, optimiser states and random
generators that do not fit, and a weights file's round trip. The atomic file writer underneath:
test_files.py.
"""

import json
import os

import numpy as np
import pytest
from conftest import digits_cnn, make_data, make_model

import minicnn as mc
from minicnn import Flatten, Linear, Sequential, load_digits, load_weights, save_weights
from minicnn.checkpoint import _to_json, load_checkpoint, read_npz, save_checkpoint


def same(a, b):
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def noisy(x, rng):
    return x + rng.normal(0, 0.1, x.shape)


def interrupt_after(batches):
    """A transform that lets `batches` batches through, then raises Ctrl-C."""
    calls = []

    def transform(x, rng):
        calls.append(1)
        if len(calls) > batches:
            raise KeyboardInterrupt
        return noisy(x, rng)
    return transform


KW = {"batch_size": 4, "progress": False}                     # 10 examples: 3 batches an epoch


def test_the_checkpoint_written_on_ctrl_c_holds_the_state_after_the_last_complete_step(
        tmp_path, capsys):
    X, y = make_data()
    model, opt, path = make_model(), mc.Adam(0.01), tmp_path / "ck.npz"
    history = mc.fit(model, X, y, epochs=3, optimizer=opt, rng=1, checkpoint=path,
                     transform=interrupt_after(5), **KW)          # epoch 2, after batch 2
    assert history["interrupted"] is True and len(history["loss"]) == 1
    assert f"resume with resume={path!r}" in capsys.readouterr().err
    saved = read_npz(path, "checkpoint")
    progress = json.loads(str(saved["progress"]))
    assert (progress["epoch"], progress["batch"]) == (1, 2)
    assert (progress["num_examples"], progress["batch_size"], progress["shuffle"]) == (10, 4, True)
    assert sorted(saved["order"]) == list(range(10))          # this epoch's permutation
    assert same({k[6:]: v for k, v in saved.items() if k.startswith("model/")},
                model.state_dict())
    assert same({k[10:]: v for k, v in saved.items() if k.startswith("optimizer/")},
                opt.state_dict())
    assert int(saved["optimizer/t"]) == 5
    np.testing.assert_array_equal(saved["history/loss"], history["loss"])


def test_ctrl_c_without_a_checkpoint_path_writes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    X, y = make_data()
    mc.fit(make_model(), X, y, epochs=2, transform=interrupt_after(1), **KW)
    assert os.listdir(tmp_path) == []
    assert "resume with" not in capsys.readouterr().err


@pytest.mark.parametrize("batches", [1, 3], ids=["after-one-batch", "after-one-epoch"])
def test_resume_after_exactly_one_batch_or_epoch_is_bit_identical(tmp_path, batches):
    X, y = make_data()
    kw = dict(KW, epochs=2, rng=7)
    reference = make_model()
    ref_history = mc.fit(reference, X, y, optimizer=mc.SGD(0.1, momentum=0.9), transform=noisy,
                         **kw)
    path = tmp_path / "ck.npz"
    mc.fit(make_model(), X, y, optimizer=mc.SGD(0.1, momentum=0.9), checkpoint=path,
           transform=interrupt_after(batches), **kw)
    resumed = make_model(seed=5)
    history = mc.fit(resumed, X, y, optimizer=mc.SGD(0.1, momentum=0.9), resume=path,
                     transform=noisy, **kw)
    assert history == ref_history
    assert same(resumed.state_dict(), reference.state_dict())


def test_a_run_with_another_bit_generator_resumes_bit_identically(tmp_path):
    """MT19937's state holds an array: the checkpoint stores it as tagged JSON."""
    X, y = make_data()
    kw = dict(KW, epochs=2, optimizer=None)
    reference = make_model()
    mc.fit(reference, X, y, rng=np.random.Generator(np.random.MT19937(3)), transform=noisy, **kw)
    path = tmp_path / "ck.npz"
    mc.fit(make_model(), X, y, rng=np.random.Generator(np.random.MT19937(3)), checkpoint=path,
           transform=interrupt_after(4), **kw)
    resumed = make_model()
    mc.fit(resumed, X, y, rng=np.random.Generator(np.random.MT19937(99)), resume=path,
           transform=noisy, **kw)
    assert same(resumed.state_dict(), reference.state_dict())
    with pytest.raises(ValueError, match="random generator MT19937 there, PCG64 here"):
        mc.fit(make_model(), X, y, rng=0, resume=path, **kw)


def checkpoint_with_state(tmp_path, state, optimizer_class="Adam"):
    """A checkpoint of the right model and run whose optimiser state is `state`."""
    class Named:
        def state_dict(self):
            return state
    Named.__name__ = optimizer_class
    path = tmp_path / "ck.npz"
    progress = {"epoch": 1, "batch": 0, "total_loss": 0.0, "correct": 0, "order": None,
                "rng": np.random.default_rng(0).bit_generator.state, "num_examples": 10,
                "batch_size": 4, "shuffle": True}
    save_checkpoint(path, make_model(), Named(), {"loss": [1.0], "acc": [0.5]}, progress)
    return path


@pytest.mark.parametrize("opt, state, pattern", [
    (mc.Adam, {"t": np.array(1), "0.W.m": np.zeros((3, 5))}, r"'1.W.m' has shape \(3, 5\)"),
    (mc.Adam, {"t": np.zeros(2)}, r"'t' has shape \(2,\), expected \(\)"),
    (mc.Adam, {"t": np.array(1), "1.W.x": np.zeros((3, 4))}, "'1.W.x' does not belong"),
    (mc.Adam, {"t": np.array(1), "7.W.v": np.zeros((3, 4))}, "'7.W.v' does not belong"),
    (mc.SGD, {"1.W": np.zeros((4, 3))}, r"'1.W' has shape \(4, 3\), expected \(3, 4\)"),
    (mc.SGD, {"1.W.m": np.zeros((3, 4))}, "'1.W.m' does not belong"),
])
def test_a_checkpoint_whose_optimiser_state_does_not_fit_is_refused_and_changes_nothing(
        tmp_path, opt, state, pattern):
    state = {k.replace("0.W.m", "1.W.m"): v for k, v in state.items()}   # Linear is layer 1
    path = checkpoint_with_state(tmp_path, state, opt.__name__)
    X, y = make_data()
    model, optimizer = make_model(seed=3), opt(0.1)
    before = model.state_dict()
    with pytest.raises(ValueError, match=pattern):
        mc.fit(model, X, y, epochs=2, optimizer=optimizer, resume=path, **KW)
    assert same(model.state_dict(), before) and optimizer.state == {}


def test_a_fitting_optimiser_state_is_loaded():
    model = make_model()
    state = {"t": np.array(4), "1.W.m": np.ones((3, 4)), "1.b.v": np.ones(3)}
    opt = mc.Adam()
    opt.load_state_dict(state, model)
    assert same(opt.state_dict(), state)
    assert opt.state_dict()["t"] is not state["t"]             # copies, not the caller's arrays
    other = mc.Adam()
    other.load_state_dict({"anything": np.zeros(2)})             # no model: nothing to check
    assert list(other.state_dict()) == ["anything"]


def test_load_state_dict_with_a_model_refuses_a_state_that_does_not_fit_and_changes_nothing():
    opt = mc.Adam()
    opt.load_state_dict({"t": np.array(2)})
    with pytest.raises(ValueError, match=r"Adam: state entry '1.W.m' has shape \(4, 3\)"):
        opt.load_state_dict({"t": np.array(4), "1.W.m": np.ones((4, 3))}, make_model())
    assert same(opt.state_dict(), {"t": np.array(2)})


def test_load_checkpoint_returns_the_history_and_where_the_run_stood(tmp_path):
    X, y = make_data()
    path = tmp_path / "ck.npz"
    history = mc.fit(make_model(), X, y, epochs=2, checkpoint=path, optimizer=mc.SGD(0.1),
                     **KW)
    model, opt = make_model(seed=9), mc.SGD(0.1)
    got, progress = load_checkpoint(path, model, opt, 10, 4, True)
    assert got == history and progress["epoch"] == 2 and progress["order"] is None
    with pytest.raises(ValueError, match="num_examples=10 there, 9 here"):
        load_checkpoint(path, model, opt, 9, 4, True)
    with pytest.raises(ValueError, match="shuffle=True there, False here"):
        load_checkpoint(path, model, opt, 10, 4, False)
    with pytest.raises(ValueError, match="optimizer SGD there, Adam here"):
        load_checkpoint(path, model, mc.Adam(), 10, 4, True)


def test_a_checkpoint_of_another_model_is_refused_by_the_model_check_and_changes_nothing(
        tmp_path):
    X, y = make_data()
    path = tmp_path / "ck.npz"
    mc.fit(make_model(), X, y, epochs=1, checkpoint=path, optimizer=mc.SGD(0.1), **KW)
    other = mc.Sequential([mc.Flatten(), mc.Linear(4, 2, rng=0, dtype=np.float64),
                           mc.Linear(2, 3, rng=1, dtype=np.float64)])
    before = other.state_dict()
    refused = r"does not fit this model and optimiser: .*missing \['2.W', '2.b'\]"
    with pytest.raises(ValueError, match=refused):
        load_checkpoint(path, other, mc.SGD(0.1), 10, 4, True)       # SGD: no state to check
    assert same(other.state_dict(), before)


def test_file_errors_show_the_path_as_a_string_also_for_a_pathlib_path(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no checkpoint at '/"):
        read_npz(tmp_path / "missing.npz", "checkpoint")


def test_a_checkpoint_of_another_format_is_refused(tmp_path):
    X, y = make_data()
    path = tmp_path / "ck.npz"
    mc.fit(make_model(), X, y, epochs=1, checkpoint=path, **KW)
    arrays = read_npz(path)
    arrays["format"] = np.array("minicnn-checkpoint-0")
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match="not a minicnn training checkpoint: format"):
        mc.fit(make_model(), X, y, epochs=2, resume=path, **KW)
    with pytest.raises(ValueError, match="training checkpoint written by fit"):
        mc.load_weights(make_model(), path)


# --- weights files --------------------------------------------------------------------------
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


def test_weights_files_are_checked_before_loading(tmp_path):
    model = make_model()
    path = tmp_path / "w.npz"
    with pytest.raises(FileNotFoundError, match="no weights file at") as info:
        mc.load_weights(model, path)
    assert repr(str(path)) in str(info.value)                  # the path as text, quoted
    path.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not an .npz file"):
        mc.load_weights(model, path)
    with pytest.raises(TypeError, match="arguments are swapped"):
        mc.save_weights(str(path), model)
    with pytest.raises(TypeError, match="model must be a Sequential"):
        mc.save_weights(object(), path)
    with pytest.raises(TypeError, match="model must be a Sequential"):
        mc.save_weights("a.npz", "b.npz")
    with pytest.raises(TypeError, match="path must be a str or os.PathLike"):
        mc.load_weights(model, 3)
    mc.save_weights(model, path)
    assert same(read_npz(path), model.state_dict())
    assert mc.load_weights(make_model(seed=4), path) is not None


def test_a_weights_file_with_pickled_objects_is_refused_unread(tmp_path):
    path = tmp_path / "w.npz"
    state = make_model().state_dict()
    state["1.b"] = np.array([object(), object(), object()])   # np.savez pickles this
    np.savez(path, **state)
    with pytest.raises(ValueError, match="not a readable minicnn .npz file"):
        mc.load_weights(make_model(), path)


def test_a_random_state_holding_an_unknown_object_is_refused_not_written_as_null():
    assert json.loads(_to_json({"key": np.arange(2, dtype=np.uint32)}))["key"] == {
        "__ndarray__": [0, 1], "dtype": "uint32"}
    with pytest.raises(TypeError, match="cannot store object in a checkpoint"):
        _to_json({"key": object()})
