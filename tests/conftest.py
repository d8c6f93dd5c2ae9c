"""Shared test helpers: import demos (flat scripts, not a package) by name."""

import pathlib
import sys

import matplotlib
import pytest

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
SLOWEST_FIRST = ("test_demos_learned_invariance.py", "test_demos_fuzzy_augmentation.py",
                 "test_demos_corner_augmentation.py", "test_notebook.py",
                 "test_demos_antialias_leak_rotation.py", "test_corner_idx.py", "test_corner.py",
                 "test_gradients.py", "test_explore.py", "test_demos_tour_common.py",
                 "test_demos_benchmark.py")
RANK = {name: i for i, name in enumerate(SLOWEST_FIRST)}


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: RANK.get(item.path.name, len(RANK)))   # stable: order kept within
