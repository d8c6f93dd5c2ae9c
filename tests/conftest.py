"""Shared test helpers: import demos (flat scripts, not a package) by name, and the small
data, models and checks that several test files use (`from conftest import ...`)."""

import pathlib
import sys

import matplotlib
import numpy as np
import pytest

import minicnn as mc

matplotlib.use("Agg")  # tests never open windows

# One BLAS thread for the whole suite: the layers' many small matrix products gain nothing from
# a second thread, and on a busy machine OpenBLAS's waiting threads spin on the cores the other
# test processes need. threadpoolctl comes with scikit-learn. Benchmarks set their own threads.
try:
    from threadpoolctl import threadpool_limits
    threadpool_limits(1)
except ImportError:  # pragma: no cover - scikit-learn always brings it
    pass

# Demos are flat scripts that import their plumbing as `from common import ...`: when run as
# `python demos/x.py` their folder is on sys.path, so the tests put it there too.
DEMOS = pathlib.Path(__file__).resolve().parents[1] / "demos"
if str(DEMOS) not in sys.path:
    sys.path.insert(0, str(DEMOS))

from common import load_demo  # the one demo loader, shared with demos/tour.py


def run_demo_once(tmp_path_factory, name, *args):
    """Run demos/<name>.py's main() with --out in a fresh folder (for module-scoped fixtures)."""
    return load_demo(name).main(["--out", str(tmp_path_factory.mktemp(name)), *args])


@pytest.fixture
def run_demo(tmp_path):
    """run_demo("corner", "--quick") -> the dict that demos/corner.py's main() returns."""
    def run(name, *args):
        return load_demo(name).main(["--out", str(tmp_path / name), *args])
    return run


# The slowest files first (pytest --durations lists them): with two test processes
# (pytest-xdist, one file per process at a time) a long file started last would leave the other
# core idle at the end. pyproject.toml's --no-loadscope-reorder makes pytest-xdist keep this order.
SLOWEST_FIRST = ("test_demo_faces.py", "test_demo_learned_invariance.py", "test_demo_web.py",
                 "test_demo_corner.py",
                 "test_notebook.py", "test_demo_fuzzy_features.py", "test_demo_augmentation.py",
                 "test_demo_antialias.py", "test_demo_position_leak.py", "test_demo_rotation.py",
                 "test_demo_idx_digits.py", "test_corner.py", "test_gradients.py",
                 "test_demo_explore.py", "test_demo_tour.py", "test_demo_common.py",
                 "test_demo_benchmark.py")
RANK = {name: i for i, name in enumerate(SLOWEST_FIRST)}


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: RANK.get(item.path.name, len(RANK)))   # stable: order kept within


# --- data, models and checks shared by several test files ------------------------------------
def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def make_data(n=10, seed=0, classes=3):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 1, 2, 2)).astype(np.float64), rng.integers(0, classes, n)


def make_model(seed=0):
    return mc.Sequential([mc.Flatten(), mc.Linear(4, 3, rng=seed, dtype=np.float64)])


def digits_cnn(seed=0):
    """Two 3x3 conv blocks and a linear head for the 8x8 digits: 8x8 -> 4x4 -> 2x2 -> 10."""
    return mc.Sequential([mc.Conv2D(1, 16, 3, padding=1, rng=seed), mc.ReLU(), mc.MaxPool2D(2),
                          mc.Conv2D(16, 32, 3, padding=1, rng=seed + 1), mc.ReLU(),
                          mc.MaxPool2D(2), mc.Flatten(), mc.Linear(32 * 2 * 2, 10, rng=seed + 2)])


class Probe(mc.Layer):
    """The identity, recording (batch size, training flag) at every forward."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def output_shape(self, input_shape):
        return tuple(input_shape)

    def forward(self, x):
        self.seen.append((len(x), self.training))
        self.cache = x
        return self.cache

    def backward(self, dout):
        return dout


@pytest.fixture(scope="module")
def data():
    """96 of the 8x8 digits and their labels, for tests that train small_model."""
    X, y, _, _ = mc.load_digits(rng=0)
    return X[:96], y[:96]


def small_model(*middle, seed=0):
    """A conv net for the 8x8 digits with the given layers after its first ReLU."""
    return mc.Sequential([mc.Conv2D(1, 4, 3, padding=1, rng=seed), mc.ReLU(), *middle,
                          mc.MaxPool2D(2), mc.Flatten(), mc.Linear(64, 10, rng=seed + 1)])


@pytest.fixture(scope="module")
def mnist_dir(tmp_path_factory):
    """MNIST's four IDX files, written by demos/idx_digits.py from scikit-learn's digits."""
    folder = tmp_path_factory.mktemp("mnist")
    load_demo("idx_digits").main(["--out", str(folder)])
    return folder


def assert_figures(result, names=None):
    """A demo's figures are PNG files of some size (and, given names, exactly those)."""
    assert result["figures"]
    if names is not None:
        assert sorted(p.name for p in result["figures"]) == sorted(names)
    for path in result["figures"]:
        assert path.exists() and path.stat().st_size > 5_000, path
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
