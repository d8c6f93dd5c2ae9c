"""Max pooling as KH*KW strided slices, tuned: blocks of images, in-place masks, no zero pass.

Same contract and same numbers as `minicnn.layers.pool.maxpool2d_naive`:
    out, cache = maxpool2d_fast(x, kernel, stride)      dx = maxpool2d_fast_backward(dout, cache)
The gradient goes to the first maximum of each window in row-major order (as in PyTorch); a
window holding NaN has the maximum NaN, and its gradient goes to its first NaN, as np.argmax
in the loop version finds it.
"""

import numpy as np

from .blocks import batch_blocks


def _offsets(kernel, stride, out_hw):
    """Yield (rows, cols): the slices that pick offset (p, q) of every window at once."""
    (KH, KW), (sh, sw), (Ho, Wo) = kernel, stride, out_hw
    for p in range(KH):
        for q in range(KW):
            yield slice(p, p + sh * Ho, sh), slice(q, q + sw * Wo, sw)


def maxpool2d_fast(x, kernel, stride):
    """x (N, C, H, W) -> out (N, C, Ho, Wo), cache (x, out, kernel, stride).

    The cache keeps out rather than the winners' positions: backward finds them again by
    comparing, which costs one pass per offset instead of an index array built here.
    """
    N, C, H, W = x.shape
    Ho, Wo = (H - kernel[0]) // stride[0] + 1, (W - kernel[1]) // stride[1] + 1
    out = np.empty((N, C, Ho, Wo), dtype=x.dtype)
    for b in batch_blocks(x):                 # a block of images stays in cache for every offset
        for k, (rows, cols) in enumerate(_offsets(kernel, stride, (Ho, Wo))):
            s = x[b, :, rows, cols]                               # (n, C, Ho, Wo)
            if k == 0:
                out[b] = s
            else:
                np.maximum(out[b], s, out=out[b])
    return out, (x, out, kernel, stride)


def maxpool2d_fast_backward(dout, cache):
    """Route each output gradient to the first pixel of its window that equals the maximum.

    `free` marks the windows whose winner is not found yet; offsets go in row-major order, so on
    ties the first maximum wins. Disjoint windows (stride >= kernel) write dx directly (each pixel
    belongs to one window at most), and skip zeroing dx when they also cover every pixel.
    """
    x, out, (KH, KW), (sh, sw) = cache
    Ho, Wo = dout.shape[2:]
    disjoint = sh >= KH and sw >= KW
    tiled = (sh, sw) == (KH, KW) and x.shape[2:] == (sh * Ho, sw * Wo)   # every pixel written
    dx = (np.empty if tiled else np.zeros)(x.shape, dtype=dout.dtype)
    for b in batch_blocks(x):
        nan_max = bool(np.isnan(out[b]).any())                    # NaN != NaN: find it apart
        free = np.ones(out[b].shape, dtype=bool)                  # (n, C, Ho, Wo)
        hit = np.empty(out[b].shape, dtype=bool)
        for rows, cols in _offsets((KH, KW), (sh, sw), (Ho, Wo)):
            np.equal(x[b, :, rows, cols], out[b], out=hit)        # this offset holds the max
            if nan_max:
                hit |= np.isnan(x[b, :, rows, cols])
            hit &= free
            free ^= hit                                           # hit is a subset of free
            if disjoint:
                np.multiply(dout[b], hit, out=dx[b, :, rows, cols])   # a 0/1 mask, in place
            else:
                dx[b, :, rows, cols] += dout[b] * hit             # overlapping windows add up
    return dx
