"""Does the answer depend on where the digit is? Three measures of shift stability.

    consistency          Zhang (ICML 2019): the fraction of images whose predicted class is the
                         same at two random positions on the canvas (1.0: never depends on it).
    one_pixel_fragility  Azulay and Weiss (JMLR 2019): the fraction of images whose predicted
                         class changes when the image moves by ONE pixel (0.0: never).
    sliding_probability  the probability of the true class as one image slides pixel by pixel
                         along a row of the canvas: a jagged curve is a fragile network.

None of them needs labels to be right: a network that is wrong everywhere but always wrong the
same way is perfectly consistent. Positions are the (row, col) of the image's top-left corner on
a blank canvas, anywhere the image fits; `rng` (int seed, Generator or None) draws them.
"""

import numpy as np

from ..data.digits import place_on_canvas
from ..layers.base import ShapeError, as_rng, check_int
from ..losses import softmax

STEPS = np.array([(0, 1), (0, -1), (1, 0), (-1, 0)])    # right, left, down, up: one pixel


def _limits(images, canvas, where):
    """(last row, last col) at which an (N, C, h, w) image still fits the canvas."""
    images = np.asarray(images)
    if images.ndim != 4 or len(images) == 0:
        raise ShapeError(f"{where}: images must be (N, C, h, w) with N >= 1, got shape "
                         f"{images.shape}")
    canvas = check_int(canvas, "canvas", where, minimum=1)
    h, w = images.shape[2:]
    if canvas < h + 1 or canvas < w + 1:
        raise ValueError(f"{where}: canvas must be larger than the images (>= {max(h, w) + 1}, "
                         f"so that they can move), got canvas={canvas} for {h}x{w} images")
    return canvas - h, canvas - w


def random_canvas_positions(n, last, rng):
    """(n, 2) ints: rows uniform in 0..last[0], cols in 0..last[1]; rng: seed, Generator or None."""
    rng = as_rng(rng)
    return np.stack([rng.integers(0, last[0] + 1, n), rng.integers(0, last[1] + 1, n)], axis=1)


def consistency(model, images, canvas, rng=0, batch_size=512):
    """Fraction of images (N, C, h, w) predicted the same class at two random canvas positions.

    model: anything with predict(X, batch_size) -> (N,) classes, e.g. a Sequential;
    canvas: side S of the square canvas. Each image gets its own two independent positions.
    """
    last, rng = _limits(images, canvas, "consistency"), as_rng(rng)
    first = random_canvas_positions(len(images), last, rng)             # (N, 2)
    second = random_canvas_positions(len(images), last, rng)            # (N, 2)
    pa = model.predict(place_on_canvas(images, canvas, first), batch_size)
    pb = model.predict(place_on_canvas(images, canvas, second), batch_size)
    return float(np.mean(pa == pb))


def one_pixel_fragility(model, images, canvas, rng=0, batch_size=512):
    """Fraction of images (N, C, h, w) whose predicted class changes under a one-pixel move.

    Each image sits at a random position and moves one pixel right, left, down or up (drawn at
    random; a move off the canvas goes the other way). model, canvas: as in `consistency`.
    """
    last, rng = _limits(images, canvas, "one_pixel_fragility"), as_rng(rng)
    pos = random_canvas_positions(len(images), last, rng)               # (N, 2)
    step = STEPS[rng.integers(0, len(STEPS), len(images))]              # (N, 2)
    moved = pos + step
    off = (moved < 0).any(axis=1) | (moved > np.array(last)).any(axis=1)
    moved[off] = pos[off] - step[off]                                   # the other way instead
    pa = model.predict(place_on_canvas(images, canvas, pos), batch_size)
    pb = model.predict(place_on_canvas(images, canvas, moved), batch_size)
    return float(np.mean(pa != pb))


def sliding_probability(model, image, label, canvas, row=0, batch_size=512):
    """Probability of class `label` as `image` (C, h, w) slides along `row`, one pixel a step.

    model: anything with logits(X, batch_size) -> (N, K), e.g. a Sequential.
    label: a class, 0..K-1 for a model with K outputs.
    Returns (canvas - w + 1,): entry j for the image's top-left corner at (row, j).
    """
    label = check_int(label, "label", "sliding_probability", minimum=0)
    image = np.asarray(image)
    if image.ndim != 3:
        raise ShapeError(f"sliding_probability: image must be (C, h, w), got shape {image.shape}")
    last_row, last_col = _limits(image[None], canvas, "sliding_probability")
    row = check_int(row, "row", "sliding_probability", minimum=0)
    if row > last_row:
        raise ValueError(f"sliding_probability: row must be in 0..{last_row} (the image must "
                         f"fit the canvas), got {row}")
    cols = np.arange(last_col + 1)
    pos = np.stack([np.full_like(cols, row), cols], axis=1)              # (G, 2)
    X = place_on_canvas(np.repeat(image[None], len(cols), axis=0), canvas, pos)  # (G, C, S, S)
    logits = model.logits(X, batch_size).astype(np.float64)              # (G, K)
    if label >= logits.shape[1]:
        raise ValueError(f"sliding_probability: label must be a class in 0..{logits.shape[1] - 1} "
                         f"(the model has {logits.shape[1]} outputs), got {label}")
    return softmax(logits)[:, label]
