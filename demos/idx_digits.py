"""Write scikit-learn's 8x8 digits as MNIST-format IDX files, to try the IDX path offline.

Each digit is enlarged 3x with bilinear interpolation (24x24) and given a 2-pixel blank border,
so the images are 28x28 uint8 like MNIST's. A fixed random split puts 1,347 digits in the
training files and 450 in the test files. The training files are gzipped and the test files
raw, since `load_mnist` reads both. These are not MNIST, only its file format and image size:

    python demos/idx_digits.py --out DIR
    python demos/corner.py --dataset mnist --data-dir DIR
"""

import argparse
import pathlib

import numpy as np
from scipy.ndimage import zoom

from minicnn.data.idx import MNIST_FILES, write_idx

N_TRAIN = 1347


def digits_as_mnist():
    """(train images (1347, 28, 28) uint8, train labels, test images (450, 28, 28), labels)."""
    from sklearn.datasets import load_digits
    digits = load_digits()
    big = np.clip(zoom(digits.images / 16.0, (1, 3, 3), order=1), 0, 1)     # (1797, 24, 24)
    images = np.round(255 * np.pad(big, ((0, 0), (2, 2), (2, 2)))).astype(np.uint8)
    labels = digits.target.astype(np.uint8)
    order = np.random.default_rng(0).permutation(len(labels))
    train, test = order[:N_TRAIN], order[N_TRAIN:]
    return images[train], labels[train], images[test], labels[test]


def write_digits_as_idx(folder):
    """Write the four standard MNIST file names into `folder`; returns their paths."""
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = dict(zip(MNIST_FILES, digits_as_mnist()))
    paths = []
    for key, stem in MNIST_FILES.items():
        gz = key.startswith("train")
        paths.append(folder / (stem + (".gz" if gz else "")))
        write_idx(paths[-1], arrays[key], compress=gz)
    return paths


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True, help="folder for the four IDX files")
    args = p.parse_args(argv)
    for path in write_digits_as_idx(args.out):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
