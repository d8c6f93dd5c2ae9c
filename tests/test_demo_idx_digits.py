"""The corner experiment on IDX files (the MNIST format), written here; nothing is downloaded.

demos/idx_digits.py writes scikit-learn's digits enlarged to MNIST's 28x28 into the four
standard files, so the run learns something real in seconds.
"""

import numpy as np
import pytest
from conftest import load_demo

from minicnn import load_mnist
from minicnn.measure import corner


@pytest.fixture(scope="module")
def mnist_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mnist")
    load_demo("idx_digits").main(["--out", str(folder)])
    return folder


def test_idx_digits_writes_mnist_shaped_files(mnist_dir):
    assert sorted(p.name for p in mnist_dir.iterdir()) == [
        "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
        "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]       # raw and gzip
    X_tr, y_tr, X_te, y_te = load_mnist(mnist_dir)
    assert X_tr.shape == (1347, 1, 28, 28) and X_te.shape == (450, 1, 28, 28)
    assert set(np.unique(y_tr)) == set(np.unique(y_te)) == set(range(10)) and X_tr.max() == 1.0
    assert (X_tr[:, :, :2] == 0).all() and (X_tr[:, :, :, -2:] == 0).all()  # the blank border


def test_load_data_downsamples_and_subsets(mnist_dir):
    X_tr, y_tr, X_te, y_te = corner.load_data("mnist", mnist_dir, downsample=2, train_size=50,
                                              test_size=20, rng=0)
    assert X_tr.shape == (50, 1, 14, 14) and X_te.shape == (20, 1, 14, 14) and len(y_te) == 20
    assert X_tr.dtype == np.float32 and 0 <= X_tr.min() and X_tr.max() <= 1
    full = corner.load_data("mnist", mnist_dir, downsample=1, train_size=50, test_size=20,
                            rng=0)
    assert full[0].shape == (50, 1, 28, 28)
    np.testing.assert_array_equal(full[1], y_tr)                 # same subset for the same seed
    blocks = full[0].reshape(50, 1, 14, 2, 14, 2).mean(axis=(3, 5))
    np.testing.assert_allclose(X_tr, blocks, atol=1e-6)           # 2x2 block means
    other = corner.load_data("mnist", mnist_dir, train_size=50, test_size=20, rng=1)
    assert not np.array_equal(other[0], X_tr)                     # another seed, another subset
    with pytest.raises(ValueError, match="downsample must .* divide the image side 28"):
        corner.load_data("mnist", mnist_dir, downsample=3)


def test_corner_runs_on_idx_files(mnist_dir, run_demo):
    res = run_demo("corner", "--quick", "--dataset", "mnist", "--data-dir", str(mnist_dir),
                   "--models", "a,e", "--train-size", "1347", "--epochs", "4")
    assert res["image"] == 14 and res["canvas"] == 36               # 2 * 14 + 8, rounded up to 4
    r = res["results"]
    # the same story as the 8x8 digits: a reads the corner only, e reads everywhere
    assert r["a"]["trained"] > 0.6 and r["a"]["far"] < 0.3
    assert r["e"]["min"] > r["a"]["min"] + 0.4
    assert r["e"]["spread"] < 0.5 * r["a"]["spread"]
    assert [p.name for p in res["figures"]] == ["corner_maps_mnist.png", "corner_sliding_mnist.png"]
    assert all(p.stat().st_size > 10_000 for p in res["figures"])


def test_download_flag_fetches_before_loading(mnist_dir, monkeypatch):
    calls = []
    monkeypatch.setattr(corner, "download_mnist", lambda d, kind: calls.append((d, kind)))
    X_tr = corner.load_data("fashion", mnist_dir, train_size=5, test_size=5, download=True)[0]
    assert calls == [(mnist_dir, "fashion")] and X_tr.shape == (5, 1, 14, 14)


def test_missing_files_and_bad_flags_say_what_to_do(tmp_path, run_demo, capsys):
    with pytest.raises(FileNotFoundError, match="--download"):
        run_demo("corner", "--quick", "--dataset", "mnist", "--data-dir", str(tmp_path))
    with pytest.raises(SystemExit):
        run_demo("corner", "--quick", "--data-dir", str(tmp_path))   # digits need no files
    assert "--data-dir and --download are for --dataset mnist or fashion" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="canvas must be a multiple of 4 and >= 16"):
        run_demo("corner", "--quick", "--canvas", "12")
