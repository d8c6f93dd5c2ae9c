"""Write scikit-learn's 8x8 digits as MNIST-format IDX files, to try the IDX path offline.

Each digit is enlarged 3x with bilinear interpolation (24x24) and given a 2-pixel blank border,
so the images are 28x28 uint8 like MNIST's. A random split (fixed by --seed, default 0) puts
1,347 digits in the training files and 450 in the test files. The training files are gzipped and
the test files raw, since `load_mnist` reads both. These are not MNIST, only its file format and
image size:

    python demos/idx_digits.py --out DIR [--seed 0]
    python demos/corner.py --dataset mnist --data-dir DIR
"""

import argparse
import pathlib

import numpy as np
from scipy.ndimage import zoom

from minicnn.data.idx import MNIST_FILES, write_idx

N_TRAIN = 1347


def digits_as_mnist(seed=0):
    """(train images (1347, 28, 28) uint8, train labels, test images (450, 28, 28), labels);
    `seed` fixes the random train/test split."""
    from sklearn.datasets import load_digits
    digits = load_digits()
    big = np.clip(zoom(digits.images / 16.0, (1, 3, 3), order=1), 0, 1)     # (1797, 24, 24)
    images = np.round(255 * np.pad(big, ((0, 0), (2, 2), (2, 2)))).astype(np.uint8)
    labels = digits.target.astype(np.uint8)
    order = np.random.default_rng(seed).permutation(len(labels))
    train, test = order[:N_TRAIN], order[N_TRAIN:]
    return images[train], labels[train], images[test], labels[test]


def write_digits_as_idx(folder, seed=0):
    """Write the four standard MNIST file names into `folder`; returns their paths."""
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = dict(zip(MNIST_FILES, digits_as_mnist(seed)))
    paths = []
    for key, stem in MNIST_FILES.items():
        gz = key.startswith("train")
        paths.append(folder / (stem + (".gz" if gz else "")))
        write_idx(paths[-1], arrays[key], compress=gz)
    return paths


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                epilog="A file tool, not an experiment: no figures, so no "
                                "--quick; --out names the folder the files go to.")
    p.add_argument("--out", required=True, help="folder for the four IDX files (required)")
    p.add_argument("--seed", type=int, default=0, help="seed of the train/test split (default 0)")
    args = p.parse_args(argv)
    for path in write_digits_as_idx(args.out, args.seed):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
