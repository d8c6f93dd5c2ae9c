"""Shared test helpers: import demos (flat scripts, not a package) by name."""

import importlib.util
import pathlib
import sys

import matplotlib
import pytest

matplotlib.use("Agg")  # tests never open windows

# One BLAS thread for the whole suite: the layers' many small matrix products gain nothing from
# a second thread, and on a busy 2-core machine OpenBLAS's waiting threads made them up to 100x
# slower (measured). threadpoolctl comes with scikit-learn. Benchmarks set their own threads.
try:
    from threadpoolctl import threadpool_limits
    threadpool_limits(1)
except ImportError:  # pragma: no cover - scikit-learn always brings it
    pass

ROOT = pathlib.Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def load_demo(name):
    """Import demos/<name>.py as a module (its main() is not run)."""
    path = ROOT / "demos" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"demo_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_demo_once(tmp_path_factory, name, *args):
    """Run demos/<name>.py's main() with --out in a fresh folder (for module-scoped fixtures)."""
    return load_demo(name).main(["--out", str(tmp_path_factory.mktemp(name)), *args])


@pytest.fixture
def run_demo(tmp_path):
    """run_demo("corner", "--quick") -> the dict that demos/corner.py's main() returns."""
    def run(name, *args):
        return load_demo(name).main(["--out", str(tmp_path / name), *args])
    return run
