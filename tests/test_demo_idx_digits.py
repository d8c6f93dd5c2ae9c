"""demos/idx_digits.py writes scikit-learn's digits enlarged to MNIST's 28x28 into the four
standard IDX files, so a run on "MNIST" learns something real in seconds and nothing is
downloaded. The corner demo on these files: test_demo_corner.py; corner.load_data:
test_corner.py.
"""

import numpy as np

from minicnn import load_mnist


def test_idx_digits_writes_mnist_shaped_files(mnist_dir):
    assert sorted(p.name for p in mnist_dir.iterdir()) == [
        "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
        "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]       # raw and gzip
    X_tr, y_tr, X_te, y_te = load_mnist(mnist_dir)
    assert X_tr.shape == (1347, 1, 28, 28) and X_te.shape == (450, 1, 28, 28)
    assert set(np.unique(y_tr)) == set(np.unique(y_te)) == set(range(10)) and X_tr.max() == 1.0
    assert (X_tr[:, :, :2] == 0).all() and (X_tr[:, :, :, -2:] == 0).all()  # the blank border
