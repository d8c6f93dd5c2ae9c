"""scikit-learn's bundled 8x8 handwritten digits (no download), and placing them on a canvas."""

import numpy as np

from ..layers.base import ShapeError, as_pair, check_number


def load_digits(test_fraction=0.25, rng=0, dtype=np.float32):
    """The 1,797 8x8 digits of scikit-learn, scaled to [0, 1], split reproducibly.

    The split is stratified (each class in the same proportion in both parts) and reproducible:
    rng is an int seed (the split depends on it alone), a numpy Generator (the split's seed is
    drawn from it) or None (a fresh split each call).
    Returns X_train (N, 1, 8, 8), y_train (N,), X_test, y_test; labels 0..9.
    """
    check_number(test_fraction, "test_fraction", "load_digits", 0, 1, low_open=True, high_open=True)
    if not np.issubdtype(np.dtype(dtype), np.floating):
        raise TypeError(f"load_digits: dtype must be a floating-point type such as np.float32, "
                        f"got {np.dtype(dtype)} (pixels in [0, 1] would round to 0 and 1)")
    if isinstance(rng, np.random.Generator):
        seed = int(rng.integers(2**32))                   # the split's seed, drawn from rng
    elif rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool)
                         and rng >= 0):
        seed = rng
    else:
        raise TypeError(f"load_digits: rng must be an int seed >= 0, a numpy Generator or "
                        f"None, got {rng!r}")
    from sklearn.datasets import load_digits as sk_load_digits
    from sklearn.model_selection import train_test_split

    digits = sk_load_digits()
    X = (digits.images / 16.0).astype(dtype)[:, None]            # (1797, 1, 8, 8)
    y = digits.target.astype(np.int64)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=test_fraction, random_state=seed,
                                              stratify=y)
    return X_tr, y_tr, X_te, y_te


def place_on_canvas(images, canvas_size, positions):
    """Put each small image on a blank (zero) canvas with its top-left corner at (row, col).

    images: (N, C, h, w) or (N, h, w); canvas_size: int or (H, W);
    positions: one (row, col) for all images, or an (N, 2) array, one per image.
    Returns canvases (N, C, H, W) (or (N, H, W), as given), same dtype as images.
    """
    images = np.asarray(images)
    if images.ndim not in (3, 4) or images.shape[0] == 0:
        raise ShapeError(f"place_on_canvas: images must be (N, C, h, w) or (N, h, w) with N >= 1, "
                         f"got shape {images.shape}")
    H, W = as_pair("canvas_size", canvas_size, "place_on_canvas")
    N, (h, w) = images.shape[0], images.shape[-2:]
    pos = np.asarray(positions)
    if pos.shape == (2,):
        pos = np.broadcast_to(pos, (N, 2))
    if pos.shape != (N, 2) or not np.issubdtype(pos.dtype, np.integer):
        raise ShapeError(f"place_on_canvas: positions must be one (row, col) pair of ints or an "
                         f"({N}, 2) int array, got {np.asarray(positions).dtype} array of "
                         f"shape {np.shape(positions)}")
    if pos.min() < 0 or (pos[:, 0] + h).max() > H or (pos[:, 1] + w).max() > W:
        raise ValueError(f"place_on_canvas: a {h}x{w} image at positions from {pos.min(0)} to "
                         f"{pos.max(0)} does not fit a {H}x{W} canvas (rows must be in "
                         f"[0, {H - h}], cols in [0, {W - w}])")
    canvas = np.zeros(images.shape[:-2] + (H, W), dtype=images.dtype)
    # One fancy-index write: rows (N, h, 1) and cols (N, 1, w) broadcast to each image's window.
    rows = pos[:, 0, None, None] + np.arange(h)[None, :, None]   # (N, h, 1)
    cols = pos[:, 1, None, None] + np.arange(w)[None, None, :]   # (N, 1, w)
    n = np.arange(N)[:, None, None]                              # (N, 1, 1)
    if images.ndim == 4:
        canvas.transpose(0, 2, 3, 1)[n, rows, cols] = images.transpose(0, 2, 3, 1)
    else:
        canvas[n, rows, cols] = images
    return canvas
