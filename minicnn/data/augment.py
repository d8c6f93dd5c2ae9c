"""Data augmentation: new random variants of every training batch.

A network with a flatten + fully connected head reads each position with its own weights, so it
only recognises an object where it has seen one. Augmentation is the usual remedy: show the
objects everywhere. Every transform here is a callable

    transform(x, rng) -> new batch      x: (N, C, H, W), same shape and dtype out

that draws independent random parameters for every image from `rng`. `minicnn.fit` calls it on
every fresh batch with its own seeded generator (fit(..., transform=RandomShift(8))), so each
epoch sees new variants and the run is still reproducible. Combine transforms with `Compose`.
"""

import numpy as np
from scipy import ndimage

from ..layers.base import (
    ShapeError,
    as_rng,
    check_choice,
    check_float_array,
    check_int,
    check_number,
)

FILLS = ("zeros", "circular")


def _check_batch(x, where):
    x = check_float_array(x, "x", where)
    if x.ndim != 4:
        raise ShapeError(f"{where} expected a batch of shape (N, C, H, W), got x.shape={x.shape}")
    return x


def shift_batch(x, dy, dx, fill="zeros"):
    """Shift image n down by dy[n] and right by dx[n] pixels (negative: up / left).

    x: (N, C, H, W); dy, dx: (N,) ints. fill "zeros": pixels that leave the canvas are lost and
    the uncovered ones are 0; "circular": they come back on the other side (np.roll per image).
    Returns (N, C, H, W), same dtype.
    """
    N, _, H, W = x.shape
    src_r = np.arange(H)[None, :] - np.asarray(dy)[:, None]        # (N, H): out row i reads i-dy
    src_c = np.arange(W)[None, :] - np.asarray(dx)[:, None]        # (N, W)
    if fill == "circular":
        src_r, src_c = src_r % H, src_c % W
    inside = ((src_r >= 0) & (src_r < H))[:, :, None] & ((src_c >= 0) & (src_c < W))[:, None, :]
    rows = np.clip(src_r, 0, H - 1)[:, :, None]                     # (N, H, 1)
    cols = np.clip(src_c, 0, W - 1)[:, None, :]                     # (N, 1, W)
    n = np.arange(N)[:, None, None]                                 # (N, 1, 1)
    out = x.transpose(0, 2, 3, 1)[n, rows, cols]                    # (N, H, W, C)
    out = out * inside[..., None].astype(x.dtype)                   # zero what came from outside
    return np.ascontiguousarray(out.transpose(0, 3, 1, 2))          # (N, C, H, W)


class RandomShift:
    """Shift each image by its own random (dy, dx), each uniform in [-max_shift, max_shift].

    fill: "zeros" (what leaves the canvas is lost) or "circular" (circular shift).
    keep_inside=True (zeros only) narrows each image's range so that its nonzero pixels stay on
    the canvas: with a large max_shift an object lands anywhere it fits, never cut off.
    """

    def __init__(self, max_shift, fill="zeros", keep_inside=False):
        self.max_shift = check_int(max_shift, "max_shift", "RandomShift", minimum=0)
        check_choice(fill, "fill", "RandomShift", FILLS)
        if keep_inside and fill != "zeros":
            raise ValueError("RandomShift: keep_inside=True only makes sense with fill='zeros'")
        self.fill, self.keep_inside = fill, bool(keep_inside)

    def __repr__(self):
        extra = "" if not self.keep_inside else ", keep_inside=True"
        return f"RandomShift({self.max_shift}, fill={self.fill!r}{extra})"

    def __call__(self, x, rng):
        x, rng = _check_batch(x, repr(self)), as_rng(rng)
        N, _, H, W = x.shape
        s = self.max_shift
        lo_y, hi_y, lo_x, hi_x = (np.full(N, -s), np.full(N, s), np.full(N, -s), np.full(N, s))
        if self.keep_inside:
            top, bottom, left, right = content_box(x)               # each (N,)
            lo_y, hi_y = np.maximum(lo_y, -top), np.minimum(hi_y, H - 1 - bottom)
            lo_x, hi_x = np.maximum(lo_x, -left), np.minimum(hi_x, W - 1 - right)
        dy = rng.integers(lo_y, hi_y + 1)                            # (N,), one per image
        dx = rng.integers(lo_x, hi_x + 1)
        return shift_batch(x, dy, dx, self.fill)


def content_box(x):
    """Bounding box of the nonzero pixels of each image: (top, bottom, left, right), each (N,).

    An all-zero image gets the whole canvas (0, H-1, 0, W-1), so it is never shifted.
    """
    H, W = x.shape[2:]
    on = np.any(x != 0, axis=1)                                      # (N, H, W)
    rows, cols = on.any(axis=2), on.any(axis=1)                      # (N, H), (N, W)
    empty = ~rows.any(axis=1)
    top = np.where(empty, 0, rows.argmax(axis=1))
    bottom = np.where(empty, H - 1, H - 1 - rows[:, ::-1].argmax(axis=1))
    left = np.where(empty, 0, cols.argmax(axis=1))
    right = np.where(empty, W - 1, W - 1 - cols[:, ::-1].argmax(axis=1))
    return top, bottom, left, right


class RandomFlip:
    """Mirror each image left-right with probability p (p=1: always)."""

    def __init__(self, p=0.5):
        self.p = check_number(p, "p (a probability)", "RandomFlip", 0, 1)

    def __repr__(self):
        return f"RandomFlip(p={self.p})"

    def __call__(self, x, rng):
        x, rng = _check_batch(x, repr(self)), as_rng(rng)
        flip = rng.random(len(x)) < self.p                           # (N,) bools
        return np.where(flip[:, None, None, None], x[..., ::-1], x)


class RandomRotation:
    """Rotate each image about its centre by an angle uniform in [-max_degrees, max_degrees].

    scipy.ndimage.rotate with reshape=False (the canvas keeps its size), bilinear interpolation
    and zeros outside the original image.
    """

    def __init__(self, max_degrees):
        self.max_degrees = check_number(max_degrees, "max_degrees", "RandomRotation", 0, 180)

    def __repr__(self):
        return f"RandomRotation({self.max_degrees:g})"

    def __call__(self, x, rng):
        x, rng = _check_batch(x, repr(self)), as_rng(rng)
        angles = rng.uniform(-self.max_degrees, self.max_degrees, size=len(x))
        out = np.empty_like(x)
        for n, angle in enumerate(angles):                           # one angle per image
            out[n] = ndimage.rotate(x[n], angle, axes=(2, 1), reshape=False, order=1,
                                    mode="constant", cval=0.0)
        return out


class RandomCropPad:
    """Pad each image with `pad` zeros on every side, then cut a random HxW window out of it.

    The classic CIFAR augmentation; the same as a zero-filled shift in [-pad, pad].
    """

    def __init__(self, pad):
        self.pad = check_int(pad, "pad", "RandomCropPad", minimum=0)

    def __repr__(self):
        return f"RandomCropPad({self.pad})"

    def __call__(self, x, rng):
        x, rng = _check_batch(x, repr(self)), as_rng(rng)
        N, _, H, W = x.shape
        p = self.pad
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))             # (N, C, H+2p, W+2p)
        top = rng.integers(0, 2 * p + 1, size=N)
        left = rng.integers(0, 2 * p + 1, size=N)
        out = np.empty_like(x)
        for n in range(N):
            out[n] = xp[n, :, top[n]:top[n] + H, left[n]:left[n] + W]
        return out


class Compose:
    """Apply transforms one after the other: Compose([RandomShift(4), RandomFlip()])."""

    def __init__(self, transforms):
        self.transforms = list(transforms)
        for i, t in enumerate(self.transforms):
            if isinstance(t, type):
                raise TypeError(f"Compose: item {i} is the class {t.__name__} itself: call it "
                                f"with its arguments, e.g. {t.__name__}(...)")
            if not callable(t):
                raise TypeError(f"Compose: item {i} is {t!r}, not a callable (x, rng) -> x")

    def __repr__(self):
        return f"Compose([{', '.join(repr(t) for t in self.transforms)}])"

    def __call__(self, x, rng):
        rng = as_rng(rng)
        for t in self.transforms:
            x = t(x, rng)
        return x
