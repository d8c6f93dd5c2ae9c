"""Two file chores the library shares: writing a file atomically, and the cache folder.

Imports nothing else from minicnn, so any module may use it.
"""

import os
import tempfile


def atomic_write(path, write):
    """Write a file so that `path` holds either the old content or the complete new one.

    write: bytes, or a function f(file) that writes to an open binary file. The data goes to a
    temporary file in the same folder, is flushed to disk, then renamed onto `path`: a crash or
    Ctrl-C mid-write never leaves a half-written file at `path`.
    """
    path = os.fspath(path)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), prefix=".minicnn-",
                               suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            if isinstance(write, (bytes, bytearray, memoryview)):
                f.write(write)
            else:
                write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def cache_dir(*parts):
    """The folder where minicnn keeps downloads and trained weights (not created here).

    $XDG_CACHE_HOME/minicnn/<parts...>, or ~/.cache/minicnn/<parts...> without that variable.
    """
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "minicnn", *parts)
