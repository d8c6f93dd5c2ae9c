"""scikit-image's bundled faces: 100 face and 100 non-face 25x25 grey-scale patches (no download).

`skimage.data.lfw_subset()` holds patches from the photographs of Labeled Faces in the Wild:
first 100 faces, then 100 patches of the photographs' backgrounds. Many of the non-faces hold
regions of pure black (0.0), where a patch reaches past the edge of the aligned photograph; the
faces hardly any. On a blank canvas that black is the canvas's own colour.
"""

import numpy as np

from ..layers.base import check_int

N_PER_CLASS = 100       # lfw_subset: 100 faces, then 100 non-faces


def load_faces(test_size=60, mirror=False, rng=0, dtype=np.float32):
    """The 200 patches as (N, 1, 25, 25) images in [0, 1], split reproducibly by a seed.

    Pixels keep scikit-image's scale, 0 = black and 1 = white, the digits' scale: a blank
    (zero) canvas around a patch is black. Labels: 1 = face, 0 = not a face. The split is
    stratified (test_size / 2 of each class in the test set) and depends only on the int seed
    `rng`. mirror=True appends every training image flipped left to right (same label), so the
    training set doubles; the test set is never mirrored.
    Returns X_train (N, 1, 25, 25), y_train (N,), X_test (test_size, 1, 25, 25), y_test.
    """
    test_size = check_int(test_size, "test_size", "load_faces", minimum=2)
    if test_size % 2 or test_size > 2 * N_PER_CLASS - 2:
        raise ValueError(f"load_faces: test_size must be an even int from 2 to "
                         f"{2 * N_PER_CLASS - 2} (half faces, half non-faces, and at least one "
                         f"of each left to train on), got {test_size}")
    if not isinstance(mirror, bool):
        raise TypeError(f"load_faces: mirror must be True or False, got {mirror!r}")
    seed = check_int(rng, "rng", "load_faces", minimum=0)
    from skimage.data import lfw_subset  # imported here: only the faces need scikit-image

    X = lfw_subset().astype(dtype)[:, None]                             # (200, 1, 25, 25)
    y = np.repeat([1, 0], N_PER_CLASS).astype(np.int64)                 # faces first
    gen = np.random.default_rng(seed)
    test = np.concatenate([first + gen.permutation(N_PER_CLASS)[:test_size // 2]
                           for first in (0, N_PER_CLASS)])               # each class apart
    train = np.setdiff1d(np.arange(2 * N_PER_CLASS), test)
    X_tr, y_tr = X[train], y[train]
    if mirror:
        X_tr = np.concatenate([X_tr, X_tr[..., ::-1]])                  # (2N, 1, 25, 25)
        y_tr = np.concatenate([y_tr, y_tr])
    return np.ascontiguousarray(X_tr), y_tr, X[test], y[test]
