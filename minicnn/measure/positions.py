"""Where is the object? Helpers for the corner experiment.

Train with every digit in one corner of a blank canvas, then test with the digits placed at every
position of a grid: the resulting accuracy map shows which positions a network can read.
A convolutional trunk is translation-equivariant (its feature maps move with the digit), so
whatever position-dependence the map shows comes from the head (flatten + fully connected reads
each position with its own weights) or from the border (zero padding tells the network where it
is).

Positions are the (row, col) of a digit's top-left corner on the canvas.
"""

import numpy as np

from ..data.digits import place_on_canvas
from ..layers.base import ShapeError, as_rng, check_int
from ..losses import check_labels
from ..train import check_is_model, num_classes


def _as_range(region, name, limit):
    lo, hi = (int(v) for v in region)
    if not 0 <= lo <= hi <= limit:
        raise ValueError(f"{name}={tuple(region)} must satisfy 0 <= low <= high <= {limit} "
                         f"(the last position where the image still fits)")
    return lo, hi


def random_positions(n, rows, cols, rng):
    """(n, 2) ints: rows uniform in [rows[0], rows[1]], cols in [cols[0], cols[1]] (inclusive)."""
    rng = as_rng(rng)
    r = rng.integers(rows[0], rows[1] + 1, size=n)
    c = rng.integers(cols[0], cols[1] + 1, size=n)
    return np.stack([r, c], axis=1)                                 # (n, 2)


def place_in_region(images, labels, canvas_size, rows, cols, copies=1, rng=0):
    """A dataset of `copies` copies of every image, each at a random position inside a region.

    images: (N, C, h, w); labels: (N,); rows, cols: inclusive (low, high) ranges of the
    top-left corner, e.g. rows=(0, 4), cols=(0, 4) for the top-left corner of the canvas.
    Returns X (copies*N, C, H, W) and y (copies*N,).
    """
    images, labels = np.asarray(images), np.asarray(labels)
    if images.ndim != 4 or len(images) != len(labels):
        raise ShapeError(f"place_in_region: expected images (N, C, h, w) and labels (N,), got "
                         f"{images.shape} and {labels.shape}")
    if not isinstance(copies, (int, np.integer)) or copies < 1:
        raise ValueError(f"place_in_region: copies must be an int >= 1, got {copies!r}")
    H = canvas_size if np.isscalar(canvas_size) else canvas_size[0]
    W = canvas_size if np.isscalar(canvas_size) else canvas_size[1]
    rows = _as_range(rows, "rows", H - images.shape[2])
    cols = _as_range(cols, "cols", W - images.shape[3])
    reps = np.concatenate([images] * copies)                         # (copies*N, C, h, w)
    pos = random_positions(len(reps), rows, cols, rng)
    return place_on_canvas(reps, (H, W), pos), np.concatenate([labels] * copies)


def grid_offsets(canvas_size, image_size, stride):
    """Offsets 0, stride, 2*stride, ... up to canvas_size - image_size (always included)."""
    stride = check_int(stride, "stride", "grid_offsets")
    last = canvas_size - image_size
    if last < 0 or stride < 1:
        raise ValueError(f"grid_offsets: need image_size <= canvas_size and stride >= 1, got "
                         f"canvas {canvas_size}, image {image_size}, stride {stride}")
    offsets = list(range(0, last + 1, stride))
    return np.array(offsets if offsets[-1] == last else offsets + [last])


def accuracy_map(model, images, labels, canvas_size, grid_positions, batch_size=512):
    """Test accuracy with ALL images placed at each position of a grid.

    grid_positions: 1-D offsets used for rows and columns alike, or a pair (row_offsets,
    col_offsets). model: anything with predict(X, batch_size), e.g. a Sequential; labels: (N,)
    classes, checked against a Sequential's number of outputs as evaluate checks them.
    Returns acc (len(rows), len(cols)): acc[i, j] is the accuracy with every image at top-left
    corner (rows[i], cols[j]).
    """
    rows, cols = _grid_pair(grid_positions)
    labels = check_labels(labels, len(images), _classes(model, images, canvas_size),
                          "accuracy_map")
    acc = np.zeros((len(rows), len(cols)))
    for i, r in enumerate(rows):
        for j, c in enumerate(cols):
            X = place_on_canvas(images, canvas_size, (int(r), int(c)))   # (N, C, H, W)
            acc[i, j] = np.mean(model.predict(X, batch_size) == labels)
    return acc


def _classes(model, images, canvas_size):
    """The number of classes a Sequential outputs on the canvas; any label for a bare predict."""
    if not hasattr(model, "output_shapes"):
        if not hasattr(model, "predict"):
            check_is_model(model, "accuracy_map")
        return np.iinfo(np.int64).max
    first = place_on_canvas(np.asarray(images)[:1], canvas_size, (0, 0))     # (1, C, H, W)
    return num_classes(model, first.shape[1:], "accuracy_map")


def _grid_pair(grid_positions):
    if isinstance(grid_positions, tuple) and len(grid_positions) == 2:
        rows, cols = grid_positions
    else:
        rows = cols = grid_positions
    return np.asarray(rows).ravel(), np.asarray(cols).ravel()


def region_mask(grid_positions, rows, cols):
    """Boolean (len(rows), len(cols)) mask of grid points whose position lies in the region."""
    g_rows, g_cols = _grid_pair(grid_positions)
    in_r = (g_rows >= rows[0]) & (g_rows <= rows[1])
    in_c = (g_cols >= cols[0]) & (g_cols <= cols[1])
    return in_r[:, None] & in_c[None, :]


def summarize_map(acc, grid_positions, trained, far):
    """Summary numbers of an accuracy map.

    trained, far: ((row_lo, row_hi), (col_lo, col_hi)) regions of positions.
    Returns {"trained", "far": mean accuracy over grid points in each region (an empty region
    raises), "mean", "min", "max", "spread": max - min}.
    """
    out = {}
    for name, (rows, cols) in (("trained", trained), ("far", far)):
        mask = region_mask(grid_positions, rows, cols)
        if not mask.any():
            raise ValueError(f"summarize_map: no grid point lies in the {name} region "
                             f"rows={rows}, cols={cols}")
        out[name] = float(acc[mask].mean())
    out.update(mean=float(acc.mean()), min=float(acc.min()), max=float(acc.max()),
               spread=float(acc.max() - acc.min()))
    return out


def linear_weight_map(W, feature_shape):
    """How strongly a fully connected layer reads each feature-map position.

    W: (K, C*h*w), the weights of a Linear layer that follows Flatten of (C, h, w) feature maps.
    Returns (h, w): the norm of W over the K classes and C channels at every position. Weights at
    positions the training digits never reached get only the small gradient of the blank
    background's features, so they stay close to their random initial size.
    """
    C, h, w = feature_shape
    if W.ndim != 2 or W.shape[1] != C * h * w:
        raise ShapeError(f"linear_weight_map: W of shape {W.shape} does not read {C}x{h}x{w} "
                         f"feature maps (expected (K, {C * h * w}))")
    W4 = W.reshape(W.shape[0], C, h, w)                              # (K, C, h, w)
    return np.sqrt((W4.astype(np.float64) ** 2).sum(axis=(0, 1)))    # (h, w)
