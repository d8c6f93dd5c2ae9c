"""Save and load weights as .npz: plain arrays only (allow_pickle=False), written atomically."""

import os
import tempfile
import zipfile

import numpy as np


def atomic_savez(path, arrays):
    """Write {name: array} to `path` as .npz via a temporary file in the same folder, then
    rename: a crash or Ctrl-C mid-write never leaves a half-written file at `path`."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".minicnn-", suffix=".npz.tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def read_npz(path):
    """Read every array of an .npz file into memory, or raise a clear ValueError if the file is
    truncated, corrupted or not an .npz at all."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no weights file at {path!r}")
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as e:
        raise ValueError(f"{path!r} is not a readable minicnn .npz file (truncated or "
                         f"corrupted?): {type(e).__name__}: {e}") from None


def save_weights(model, path):
    """Save every parameter of `model` to `path` (.npz, keys like "0.W")."""
    atomic_savez(path, model.state_dict())


def load_weights(model, path):
    """Load parameters saved by `save_weights` into `model`, in place.

    The file is read and every name and shape is checked before anything is written, so a file
    for another architecture raises ValueError and leaves the model unchanged.
    """
    state = read_npz(path)
    try:
        model.load_state_dict(state)
    except ValueError as e:
        raise ValueError(f"{os.fspath(path)!r} does not fit this model: {e}") from None
    return model
