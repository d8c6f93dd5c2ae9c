"""IDX files (MNIST's format): reading, strict checks, and the download against a LOCAL server."""

import functools
import gzip
import hashlib
import http.server
import os
import socket
import struct
import threading

import numpy as np
import pytest

from minicnn.data.idx import (
    IDX_DTYPES,
    MNIST_FILES,
    SOURCES,
    download_mnist,
    load_idx,
    load_mnist,
    parse_idx,
    write_idx,
)


def idx_bytes(array, code=0x08):
    """IDX bytes built by hand from the spec, independently of write_idx."""
    dt = IDX_DTYPES[code]
    return (bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
            + np.asarray(array).astype(dt).tobytes())


@pytest.fixture
def images():
    return np.arange(3 * 5 * 4, dtype=np.uint8).reshape(3, 5, 4) * 4   # (3, 5, 4)


@pytest.mark.parametrize("zipped", [False, True])
def test_reads_hand_built_file(tmp_path, images, zipped):
    data = idx_bytes(images)
    assert data[:4] == b"\x00\x00\x08\x03" and len(data) == 16 + 60
    path = tmp_path / "imgs"
    path.write_bytes(gzip.compress(data) if zipped else data)
    out = load_idx(path)
    assert out.shape == (3, 5, 4) and out.dtype == np.uint8
    np.testing.assert_array_equal(out, images)
    labels = np.array([7, 0, 9], dtype=np.uint8)
    (tmp_path / "labels").write_bytes(idx_bytes(labels))
    np.testing.assert_array_equal(load_idx(tmp_path / "labels"), labels)


@pytest.mark.parametrize("code", sorted(IDX_DTYPES))
@pytest.mark.parametrize("compress", [False, True])
def test_write_load_round_trip_every_type(tmp_path, code, compress):
    rng = np.random.default_rng(code)
    dt = IDX_DTYPES[code].newbyteorder("=")
    x = (rng.standard_normal((3, 5, 4)) * 50).astype(dt)
    write_idx(tmp_path / "x", x, compress=compress)
    raw = (tmp_path / "x").read_bytes()
    assert (raw[:2] == b"\x1f\x8b") == compress
    assert (gzip.decompress(raw) if compress else raw) == idx_bytes(x, code)  # big-endian on disk
    out = load_idx(tmp_path / "x")
    assert out.dtype == dt
    np.testing.assert_array_equal(out, x)


def test_big_endian_values_decoded():
    data = bytes([0, 0, 0x0C, 1, 0, 0, 0, 2]) + struct.pack(">ii", 1, -258)
    np.testing.assert_array_equal(parse_idx(data), [1, -258])


@pytest.mark.parametrize("mutate, words", [
    (lambda d: b"\x01" + d[1:], ["two zero bytes"]),
    (lambda d: d[:2] + b"\x07" + d[3:], ["type code 0x07"]),
    (lambda d: d[:-1], ["truncated", "76 bytes", "75"]),
    (lambda d: d + b"\x00\x00", ["trailing bytes", "76 bytes", "78"]),
    (lambda d: d[:3] + b"\x04" + d[4:], ["shape (3, 5, 4, ", "holds 76 bytes"]),   # ndim 4
    (lambda d: d[:3] + b"\x00" + d[4:], ["0 dimensions"]),
    (lambda d: d[:4] + b"\x00\x00\x00\x00" + d[8:], ["must be positive"]),
])
@pytest.mark.parametrize("zipped", [False, True])
def test_bad_files_raise_clear_errors(tmp_path, images, mutate, words, zipped):
    data = mutate(idx_bytes(images))
    path = tmp_path / "bad-file"
    path.write_bytes(gzip.compress(data) if zipped else data)
    with pytest.raises(ValueError) as err:
        load_idx(path)
    message = str(err.value)
    assert "bad-file" in message
    for word in words:
        assert word in message


def test_truncated_gzip_raises(tmp_path, images):
    (tmp_path / "cut.gz").write_bytes(gzip.compress(idx_bytes(images))[:-10])
    with pytest.raises(ValueError, match="cut.gz.*gzipped"):
        load_idx(tmp_path / "cut.gz")


def make_mnist_dir(folder, n_train=6, n_test=4, compress=True, seed=0):
    """Four small MNIST-shaped files (28x28 uint8). Returns the arrays written."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {"train_images": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
              "train_labels": rng.integers(0, 10, n_train, dtype=np.uint8),
              "test_images": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
              "test_labels": rng.integers(0, 10, n_test, dtype=np.uint8)}
    for key, stem in MNIST_FILES.items():
        write_idx(folder / (stem + ".gz" * compress), arrays[key], compress=compress)
    return arrays


@pytest.mark.parametrize("compress", [False, True])
def test_load_mnist(tmp_path, compress):
    arrays = make_mnist_dir(tmp_path, compress=compress)
    X_tr, y_tr, X_te, y_te = load_mnist(tmp_path)
    assert X_tr.shape == (6, 1, 28, 28) and X_te.shape == (4, 1, 28, 28)
    assert X_tr.dtype == np.float32 and y_tr.dtype == np.int64
    assert 0 <= X_tr.min() and X_tr.max() <= 1
    np.testing.assert_allclose(X_tr[:, 0] * 255, arrays["train_images"], atol=1e-4)
    np.testing.assert_array_equal(y_te, arrays["test_labels"])


def test_reader_is_importable_from_minicnn_data(tmp_path):
    import minicnn.data.digits
    write_idx(tmp_path / "x", np.arange(6, dtype=np.uint8).reshape(2, 3))
    np.testing.assert_array_equal(minicnn.data.load_idx(tmp_path / "x"), [[0, 1, 2], [3, 4, 5]])
    assert minicnn.data.load_mnist is load_mnist


def test_load_mnist_missing_files_says_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        load_mnist(tmp_path, kind="fashion")
    message = str(err.value)
    for name in MNIST_FILES.values():
        assert name in message
    assert "download_mnist" in message and "--download" in message
    with pytest.raises(ValueError, match="kind must be one of"):
        load_mnist(tmp_path, kind="emnist")


def test_load_mnist_rejects_mismatched_files(tmp_path):
    make_mnist_dir(tmp_path, compress=False)
    write_idx(tmp_path / MNIST_FILES["train_labels"], np.zeros(5, np.uint8))   # 5 labels, 6 images
    with pytest.raises(ValueError, match="do not fit together"):
        load_mnist(tmp_path)


def test_published_checksums_are_well_formed():
    for source in SOURCES.values():
        assert set(source["sha256"]) == {stem + ".gz" for stem in MNIST_FILES.values()}
        for digest in source["sha256"].values():
            assert digest is None or (len(digest) == 64 and int(digest, 16) >= 0)


# ------------------------------------------------------------------------------------------
# Download, only ever from a server on 127.0.0.1 started here.
# ------------------------------------------------------------------------------------------
class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path):
    """(folder served, base URL) of a local HTTP server on a free port; shut down afterwards."""
    folder = tmp_path / "served"
    folder.mkdir()
    handler = functools.partial(QuietHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def sums(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


def test_download_then_load(server, tmp_path):
    served, url = server
    arrays = make_mnist_dir(served)
    cache = tmp_path / "cache"
    paths = download_mnist(cache, base_url=url, timeout=5, checksums=sums(served))
    assert sorted(os.path.basename(p) for p in paths) == sorted(sums(served))
    assert sorted(os.listdir(cache)) == sorted(sums(served))            # no temp files left
    _, y_tr, _, _ = load_mnist(cache)
    np.testing.assert_array_equal(y_tr, arrays["train_labels"])
    # Files already present are not fetched again: the server may even be empty now.
    for p in served.iterdir():
        p.unlink()
    assert download_mnist(cache, base_url=url, timeout=5) == paths


def test_corrupted_download_raises_and_leaves_nothing(server, tmp_path):
    served, url = server
    make_mnist_dir(served)
    expected = sums(served)
    name = MNIST_FILES["train_images"] + ".gz"
    data = bytearray((served / name).read_bytes())
    data[100] ^= 0xFF                                              # one flipped byte in transit
    (served / name).write_bytes(bytes(data))
    cache = tmp_path / "cache"
    with pytest.raises(ValueError, match="corrupted: SHA-256"):
        download_mnist(cache, base_url=url, timeout=5, checksums=expected)
    assert os.listdir(cache) == []
    # Without a checksum, the gzip CRC / IDX checks still refuse it, and nothing is kept.
    with pytest.raises(ValueError, match="not a valid IDX file"):
        download_mnist(cache, base_url=url, timeout=5, checksums=dict.fromkeys(expected))
    assert os.listdir(cache) == []


def test_missing_file_on_server(server, tmp_path):
    _, url = server
    with pytest.raises(ConnectionError, match="HTTP 404"):
        download_mnist(tmp_path / "cache", base_url=url, timeout=5)
    assert os.listdir(tmp_path / "cache") == []


def test_unreachable_server_gives_offline_message(tmp_path):
    with socket.socket() as s:                      # a port that was free and is now closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"
    with pytest.raises(ConnectionError) as err:
        download_mnist(tmp_path / "cache", base_url=url, timeout=5)
    message = str(err.value)
    assert url in message and "offline" in message and "by hand" in message
    assert os.listdir(tmp_path / "cache") == []
