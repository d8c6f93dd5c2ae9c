"""Real digit files: the IDX format of MNIST and Fashion-MNIST, and an optional download.

An IDX file is a tiny header and then the raw numbers, all big-endian:

    bytes 0-1  two zero bytes
    byte  2    type code: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
    byte  3    number of dimensions d
    then       d sizes, each a 4-byte unsigned int, then prod(sizes) values, row-major

MNIST images are (60000, 28, 28) uint8 and labels (60000,) uint8; the files are usually gzipped.
Nothing here touches the network unless you call `download_mnist` yourself.
"""

import gzip
import hashlib
import os
import struct
import urllib.error
import urllib.request
import zlib

import numpy as np

from ..files import atomic_write, cache_dir

IDX_DTYPES = {0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
              0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
GZIP_MAGIC = b"\x1f\x8b"

# The four standard files, the same names for MNIST and Fashion-MNIST.
MNIST_FILES = {"train_images": "train-images-idx3-ubyte", "train_labels": "train-labels-idx1-ubyte",
               "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte"}

# Where to download from and the SHA-256 of each .gz file. The digests are the published ones
# (TensorFlow Datasets' checksum lists, the Fashion-MNIST README). Each of the eight was looked
# up in an index of public code: it appears in at least ten other projects that pin the same
# files (the first 50 hex digits searched, all 64 read in several). They were NOT recomputed
# from the files themselves: the machine this was written on has no network. Set a value to
# None to skip the SHA-256 check for that file (the gzip CRC and the IDX header and size are
# still checked), or pass `checksums=` to `download_mnist`.
SOURCES = {
    "mnist": {
        "base_url": "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "sha256": {
            "train-images-idx3-ubyte.gz":
                "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "train-labels-idx1-ubyte.gz":
                "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            "t10k-images-idx3-ubyte.gz":
                "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "t10k-labels-idx1-ubyte.gz":
                "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        },
    },
    "fashion": {
        "base_url": "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "sha256": {
            "train-images-idx3-ubyte.gz":
                "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            "train-labels-idx1-ubyte.gz":
                "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            "t10k-images-idx3-ubyte.gz":
                "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            "t10k-labels-idx1-ubyte.gz":
                "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        },
    },
}


# --------------------------------------------------------------------------------------------
# Reading and writing IDX
# --------------------------------------------------------------------------------------------
def parse_idx(data, name="<bytes>"):
    """Decode the bytes of one (uncompressed) IDX file into an array of native byte order.

    Raises ValueError naming `name` for a bad magic number, an unknown type code, a zero size,
    or a data part whose length differs from what the header announces.
    """
    if len(data) < 4 or data[:2] != b"\x00\x00":
        raise ValueError(f"{name}: not an IDX file: it must start with two zero bytes, "
                         f"got {bytes(data[:4])!r}")
    code, ndim = data[2], data[3]
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise ValueError(f"{name}: unknown IDX type code 0x{code:02X} (expected one of {known})")
    if ndim == 0:
        raise ValueError(f"{name}: IDX header says 0 dimensions; expected at least 1")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{name}: truncated IDX header: {ndim} dimensions need {header} bytes, "
                         f"the file has {len(data)}")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    if min(shape) == 0:
        raise ValueError(f"{name}: IDX dimensions must be positive, got {shape}")
    dtype = IDX_DTYPES[code]
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        what = "truncated" if len(data) < expected else "has trailing bytes"
        raise ValueError(f"{name}: IDX file {what}: header says shape {shape} of {dtype.name}, "
                         f"so {expected} bytes in all, but it holds {len(data)} bytes")
    out = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return out.astype(dtype.newbyteorder("="))                 # native order, a writable copy


def maybe_gunzip(data, name="<bytes>"):
    """`data` gunzipped if it starts with the gzip magic bytes 1f 8b, else unchanged."""
    if data[:2] != GZIP_MAGIC:
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as e:
        raise ValueError(f"{name}: looks gzipped (starts with 1f 8b) but cannot be unpacked, "
                         f"truncated or corrupted? {type(e).__name__}: {e}") from None


def load_idx(path):
    """Read an IDX file (raw or gzipped, detected by its first bytes) into a NumPy array."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        return parse_idx(maybe_gunzip(f.read(), path), path)


def write_idx(path, array, compress=False):
    """Write `array` as an IDX file (gzipped if `compress`), atomically; the inverse of load_idx."""
    array = np.asarray(array)
    codes = {dt.newbyteorder("="): code for code, dt in IDX_DTYPES.items()}
    code = codes.get(array.dtype.newbyteorder("="))
    if code is None or array.ndim == 0:
        raise ValueError(f"write_idx: need an array of >= 1 dimension and dtype in "
                         f"{[str(d.newbyteorder('=')) for d in IDX_DTYPES.values()]}, got "
                         f"{array.dtype} of shape {array.shape}")
    data = (bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
            + array.astype(IDX_DTYPES[code]).tobytes())
    atomic_write(path, gzip.compress(data) if compress else data)


# --------------------------------------------------------------------------------------------
# MNIST and Fashion-MNIST
# --------------------------------------------------------------------------------------------
def default_data_dir(kind="mnist"):
    """~/.cache/minicnn/<kind> (or $XDG_CACHE_HOME/minicnn/<kind>)."""
    return cache_dir(_check_kind(kind))


def _check_kind(kind):
    if kind not in SOURCES:
        raise ValueError(f"kind must be one of {sorted(SOURCES)}, got {kind!r}")
    return kind


def load_mnist(data_dir=None, kind="mnist"):
    """MNIST or Fashion-MNIST from the four standard files in `data_dir` (with or without .gz).

    data_dir: default `default_data_dir(kind)`. Never downloads: call `download_mnist` first.
    Returns X_train (60000, 1, 28, 28) float32 in [0, 1], y_train (60000,) int64, X_test
    (10000, 1, 28, 28), y_test (10000,) -- or whatever sizes the files hold.
    """
    _check_kind(kind)
    data_dir = os.fspath(data_dir) if data_dir is not None else default_data_dir(kind)
    arrays = {}
    for key, stem in MNIST_FILES.items():
        path = next((os.path.join(data_dir, stem + ext) for ext in ("", ".gz")
                     if os.path.isfile(os.path.join(data_dir, stem + ext))), None)
        if path is None:
            names = ", ".join(f"{s}[.gz]" for s in MNIST_FILES.values())
            raise FileNotFoundError(
                f"load_mnist: no {stem} or {stem}.gz in {data_dir!r}. Expected the four files "
                f"{names}. Download them with minicnn.download_mnist({data_dir!r}, "
                f"kind={kind!r}) (or a demo's --download flag), or copy them there by hand.")
        arrays[key] = load_idx(path)
    out = []
    for split in ("train", "test"):
        X, y = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if X.ndim != 3 or y.ndim != 1 or len(X) != len(y) or X.dtype != np.uint8:
            raise ValueError(f"load_mnist: {split} files in {data_dir!r} do not fit together: "
                             f"images {X.dtype} {X.shape} (want uint8 (N, H, W)), labels "
                             f"{y.shape} (want (N,))")
        if y.max() > 9:
            raise ValueError(f"load_mnist: {split} labels in {data_dir!r} go up to {y.max()}, "
                             f"expected 0..9")
        out += [(X / np.float32(255)).astype(np.float32)[:, None],    # (N, 1, H, W)
                y.astype(np.int64)]
    return tuple(out)


def download_mnist(data_dir=None, kind="mnist", base_url=None, timeout=30, checksums=None):
    """Download the four .gz files of `kind` into `data_dir` (skipping those already there).

    base_url: default SOURCES[kind]["base_url"]; checksums: {file name: sha256 hex or None},
    overriding SOURCES[kind]["sha256"] per file. Each file is written to a temporary file,
    checked (SHA-256 when known, then gzip CRC, IDX header and size), and only then renamed into
    place: a failed or corrupted download raises and leaves nothing behind.
    Returns the list of file paths.
    """
    source = SOURCES[_check_kind(kind)]
    data_dir = os.fspath(data_dir) if data_dir is not None else default_data_dir(kind)
    base_url = base_url or source["base_url"]
    expected = dict(source["sha256"], **(checksums or {}))
    os.makedirs(data_dir, exist_ok=True)
    paths = []
    for stem in MNIST_FILES.values():
        name = stem + ".gz"
        path = os.path.join(data_dir, name)
        if not os.path.isfile(path):
            _download_one(base_url.rstrip("/") + "/" + name, path, expected.get(name), timeout)
        paths.append(path)
    return paths


def _download_one(url, path, sha256, timeout):
    """Fetch `url` into memory, check it (SHA-256 when known, then gzip CRC, IDX header and
    size), and only then write it to `path`: a failed or corrupted download leaves nothing."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            data = response.read()
    except urllib.error.HTTPError as e:
        raise ConnectionError(f"could not download {url}: the server answered HTTP "
                              f"{e.code} {e.reason}. Check base_url, or put the file "
                              f"there by hand: {path}") from None
    except OSError as e:                          # URLError, refused connection, timeout
        raise ConnectionError(f"could not download {url} ({type(e).__name__}: {e}). Are you "
                              f"offline? Put the file there by hand instead: {path}") from None
    digest = hashlib.sha256(data).hexdigest()
    if sha256 is not None and digest != sha256.lower():
        raise ValueError(f"download of {url} is corrupted: SHA-256 {digest}, "
                         f"expected {sha256}; nothing was saved, try again")
    try:
        parse_idx(maybe_gunzip(data, url), url)   # gzip CRC, IDX header and exact size
    except ValueError as e:
        raise ValueError(f"download of {url} is not a valid IDX file, nothing was saved: "
                         f"{e}") from None
    atomic_write(path, data)
