"""Two file chores the library shares: writing a file atomically, and the cache folder.

Imports nothing else from minicnn, so any module may use it.
"""

import os
import tempfile


def atomic_write(path, write):
    """Write a file so that `path` holds either the old content or the complete new one.

    write: bytes, or a function f(file) that writes to an open binary file. The data goes to a
    temporary file in the same folder, is flushed to disk, then renamed onto `path`: a crash or
    Ctrl-C mid-write never leaves a half-written file at `path`. The file gets the mode a new
    file gets (0666 less the umask), as open() would give it. An OSError names `path`.
    """
    path = os.fspath(path)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)),
                                   prefix=".minicnn-", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            if isinstance(write, (bytes, bytearray, memoryview)):
                f.write(write)
            else:
                write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~current_umask())        # mkstemp makes it private (0600)
        os.replace(tmp, path)
    except OSError as e:
        remove_quietly(tmp)
        raise type(e)(e.errno, f"could not write {path!r}: {e.strerror or e}") from None
    except BaseException:
        remove_quietly(tmp)
        raise


def remove_quietly(path):
    if path is not None and os.path.exists(path):
        os.remove(path)


def current_umask():
    """The process's umask (reading it means setting it, so it is set straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def check_writable(path, where):
    """Raise a clear OSError now if a file cannot be written at `path` (e.g. before training
    starts, rather than after an epoch): its folder must exist and take a new file."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{where} must be a path (str or os.PathLike), got {path!r}")
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise IsADirectoryError(f"{where}={path!r} is a folder; give a file name inside it, "
                                f"e.g. {os.path.join(path, 'run.npz')!r}")
    if not os.path.isdir(folder):
        kind = "a file, not a folder" if os.path.exists(folder) else "missing"
        error = NotADirectoryError if os.path.exists(folder) else FileNotFoundError
        shown = os.path.dirname(path) or "."                  # as the learner wrote it
        raise error(f"{where}={path!r} cannot be written: its folder {shown!r} is {kind}"
                    + ("; create it first (os.makedirs)" if kind == "missing" else ""))
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".minicnn-", suffix=".tmp")
        os.close(fd)
        os.remove(tmp)
    except OSError as e:
        raise type(e)(e.errno, f"{where}={path!r} cannot be written: {e.strerror or e}") \
            from None


def cache_dir(*parts):
    """The folder where minicnn keeps downloads and trained weights (not created here).

    $XDG_CACHE_HOME/minicnn/<parts...>, or ~/.cache/minicnn/<parts...> without that variable.
    """
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "minicnn", *parts)
