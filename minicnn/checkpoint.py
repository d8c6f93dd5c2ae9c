"""Save and load weights and training checkpoints as .npz: plain arrays only (allow_pickle=False),
written atomically, and checked in full before anything is loaded into a model.

A checkpoint holds everything `fit` needs to carry on as if it had never stopped: the weights,
the optimiser's settings and state (momentum, Adam moments and step count), the history, where
in which epoch training was, and the random generator's state (JSON text in 0-d string arrays).
"""

import json
import os
import zipfile

import numpy as np

from .files import atomic_write


def atomic_savez(path, arrays):
    """Write {name: array} to `path` as .npz, atomically (see files.atomic_write)."""
    atomic_write(path, lambda f: np.savez(f, **arrays))


def read_npz(path, what="weights file"):
    """Read every array of an .npz file into memory, or raise a clear ValueError if the file is
    truncated, corrupted or not an .npz at all."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no {what} at {path!r}")
    with open(path, "rb") as f:
        if f.read(4) != b"PK\x03\x04":          # every .npz is a zip archive
            raise ValueError(f"{path!r} is not an .npz file (it does not start like a zip "
                             f"archive); expected a {what} written by minicnn")
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as e:
        raise ValueError(f"{path!r} is not a readable minicnn .npz file (truncated or "
                         f"corrupted?): {type(e).__name__}: {e}") from None


def check_model_and_path(model, path, where):
    """`where(model, path)`: a model with state_dict and a file path, in that order."""
    is_path = isinstance(path, (str, os.PathLike))
    if isinstance(model, (str, os.PathLike)) and hasattr(path, "state_dict"):
        raise TypeError(f"{where}(model, path): the arguments are swapped, got the path "
                        f"{os.fspath(model)!r} first and the model second; call "
                        f"{where}(model, {os.fspath(model)!r})")
    if isinstance(model, type) or not hasattr(model, "state_dict"):
        what = f"the class {model.__name__}" if isinstance(model, type) else type(model).__name__
        raise TypeError(f"{where}(model, path): model must be a Sequential (anything with "
                        f"state_dict()), got {what}")
    if not is_path:
        raise TypeError(f"{where}(model, path): path must be a str or os.PathLike, got "
                        f"{type(path).__name__}")


def save_weights(model, path):
    """Save every parameter of `model` to `path` (.npz, keys like "0.W")."""
    check_model_and_path(model, path, "save_weights")
    atomic_savez(path, model.state_dict())


def load_weights(model, path):
    """Load parameters saved by `save_weights` into `model`, in place.

    The file is read and every name and shape is checked before anything is written, so a file
    for another architecture raises ValueError and leaves the model unchanged. A training
    checkpoint (from fit(checkpoint=...)) is not a weights file: fit(resume=...) reads it.
    """
    check_model_and_path(model, path, "load_weights")
    state = read_npz(path)
    if "format" in state and str(state["format"]).startswith("minicnn-checkpoint"):
        raise ValueError(f"{os.fspath(path)!r} is a training checkpoint written by "
                         "fit(checkpoint=...), not a weights file: call fit(model, X, y, "
                         f"resume={os.fspath(path)!r}) with the same data and batch_size to "
                         "continue training (with epochs=0 it only loads the weights); "
                         "save_weights(model, PATH) then writes a weights file")
    try:
        model.load_state_dict(state)
    except ValueError as e:
        raise ValueError(f"{os.fspath(path)!r} does not fit this model: {e}") from None
    return model


CHECKPOINT_FORMAT = "minicnn-checkpoint-2"
# Format 1 lacks the optimiser's hyperparameters; it still loads, without that comparison.
READABLE_FORMATS = ("minicnn-checkpoint-1", CHECKPOINT_FORMAT)


def _to_json(value):
    """JSON text of a bit-generator state; arrays (as in MT19937's state) become tagged lists."""
    def encode(v):
        if isinstance(v, np.ndarray):
            return {"__ndarray__": v.tolist(), "dtype": str(v.dtype)}
        raise TypeError(f"cannot store {type(v).__name__} in a checkpoint")
    return json.dumps(value, default=encode)


def _from_json(text):
    def decode(d):
        return np.array(d["__ndarray__"], dtype=d["dtype"]) if "__ndarray__" in d else d
    return json.loads(text, object_hook=decode)


def save_checkpoint(path, model, optimizer, history, progress):
    """Write a training checkpoint to `path` (atomically).

    progress: {"epoch", "batch", "total_loss", "correct", "rng" (a bit_generator.state dict),
    "num_examples", "batch_size", "shuffle", "order" (this epoch's permutation or None)}.
    """
    info = {k: v for k, v in progress.items() if k != "order"}
    settings = optimizer.hyperparameters() if hasattr(optimizer, "hyperparameters") else None
    arrays = {"format": np.array(CHECKPOINT_FORMAT), "progress": np.array(_to_json(info)),
              "optimizer_class": np.array(type(optimizer).__name__),
              "optimizer_hyperparameters": np.array(_to_json(settings)),
              "order": np.asarray(progress["order"] if progress["order"] is not None else [],
                                  dtype=np.int64)}
    arrays.update({f"model/{k}": v for k, v in model.state_dict().items()})
    arrays.update({f"optimizer/{k}": v for k, v in optimizer.state_dict().items()})
    arrays.update({f"history/{k}": np.asarray(v, dtype=np.float64) for k, v in history.items()})
    atomic_savez(path, arrays)


def load_checkpoint(path, model, optimizer, num_examples, batch_size, shuffle,
                    bit_generator="PCG64"):
    """Load a checkpoint written by `save_checkpoint` into `model` and `optimizer`.

    Everything is read and checked first (format, optimiser class, parameter names and shapes,
    hyperparameters, data size, batch size, shuffling, kind of random generator), so a
    truncated, corrupted or mismatched file raises and leaves the model and optimiser untouched.
    Returns (history, progress).
    """
    arrays = read_npz(path, "checkpoint")
    where = f"checkpoint {os.fspath(path)!r}"
    try:
        if str(arrays["format"]) not in READABLE_FORMATS:
            raise ValueError(f"format {str(arrays['format'])!r}, expected {CHECKPOINT_FORMAT!r}")
        progress = _from_json(str(arrays["progress"]))
        progress["order"] = arrays["order"] if progress["batch"] > 0 else None
        saved_optimizer = str(arrays["optimizer_class"])
        settings = _from_json(str(arrays.get("optimizer_hyperparameters", "null")))
    except (KeyError, ValueError, TypeError) as e:
        raise ValueError(f"{where} is not a minicnn training checkpoint: {e}") from None
    groups = {"model": {}, "optimizer": {}, "history": {}}
    for key, value in arrays.items():
        group, _, name = key.partition("/")
        if group in groups:
            groups[group][name] = value
    expected = {"num_examples": num_examples, "batch_size": batch_size, "shuffle": shuffle}
    differ = [f"{k}={progress.get(k)!r} there, {v!r} here" for k, v in expected.items()
              if progress.get(k) != v]
    saved_rng = progress.get("rng", {}).get("bit_generator")
    if saved_rng != bit_generator:
        differ.append(f"random generator {saved_rng} there, {bit_generator} here")
    if saved_optimizer != type(optimizer).__name__:
        differ.append(f"optimizer {saved_optimizer} there, {type(optimizer).__name__} here")
    elif settings is not None and settings != _from_json(_to_json(optimizer.hyperparameters())):
        there = ", ".join(f"{k}={v!r}" for k, v in settings.items())
        differ.append(f"optimizer {saved_optimizer}({there}) there, {optimizer!r} here (pass "
                      f"optimizer={saved_optimizer}({there}) to continue the same run)")
    if differ:
        raise ValueError(f"{where} was written by a different run: " + "; ".join(differ))
    try:
        model.check_state_dict(groups["model"])
        optimizer.check_state_dict(groups["optimizer"], model)
    except ValueError as e:
        raise ValueError(f"{where} does not fit this model and optimiser: {e}") from None
    model.load_state_dict(groups["model"])
    optimizer.load_state_dict(groups["optimizer"])
    history = {k: [float(v) for v in vals] for k, vals in groups["history"].items()}
    return history, progress
