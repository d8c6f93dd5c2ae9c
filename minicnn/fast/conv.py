"""Convolution by im2col, tuned: one strided copy for the columns, blocked col2im, chunking.

Same contract and same maths as `minicnn.layers.conv.conv2d_vectorised` (read that first):
    out, cache = conv2d_fast(x, w, b, stride, pads, mode)
    dx, dw, db = conv2d_fast_backward(dout, cache)
What differs is only how the copies are made: the columns come from one copy of a strided view;
col2im adds back a block of images at a time; a batch whose columns would pass MAX_COLS_BYTES
is done in chunks, and backward then recomputes the columns instead of keeping them.
"""

import numpy as np

from ..layers.padding import pad2d, pad2d_backward
from .blocks import batch_blocks

# im2col copies every window: C*KH*KW*Ho*Wo values per image (9x the input for a 3x3 kernel).
# Above this many bytes for a batch, the batch goes in chunks: the chunks are big enough that
# the matrix products stay as fast, and memory stays bounded whatever the batch size.
MAX_COLS_BYTES = 32 * 2**20


def im2col(xp, kernel, stride, out_hw):
    """Every window of the padded input as a column: xp (N, C, Hp, Wp) -> (N, C*KH*KW, Ho*Wo).

    A strided view puts every window in place without copying; one copy then writes the columns
    in order, so every write is sequential (KH*KW slice-copies would scatter them).
    """
    N, C = xp.shape[:2]
    (KH, KW), (sh, sw), (Ho, Wo) = kernel, stride, out_hw
    sn, sc, sy, sx = xp.strides                      # bytes per step along n, c, row, column
    windows = np.lib.stride_tricks.as_strided(       # (N, C, KH, KW, Ho, Wo), a view of xp
        xp, (N, C, KH, KW, Ho, Wo), (sn, sc, sy, sx, sy * sh, sx * sw))
    cols = np.ascontiguousarray(windows)             # the one copy
    return cols.reshape(N, C * KH * KW, Ho * Wo)


def col2im(dcols, xp_shape, kernel, stride, out_hw):
    """Adjoint of im2col: dcols (N, C*KH*KW, Ho*Wo) -> dxp of xp_shape.

    One slice-add per kernel offset; overlapping windows accumulate. A block of images at a time,
    so the block of dxp stays in cache across the KH*KW passes.
    """
    N, C = xp_shape[:2]
    (KH, KW), (sh, sw), (Ho, Wo) = kernel, stride, out_hw
    d6 = dcols.reshape(N, C, KH, KW, Ho, Wo)
    dxp = np.zeros(xp_shape, dtype=dcols.dtype)
    for b in batch_blocks(dxp):
        for p in range(KH):
            for q in range(KW):
                dxp[b, :, p:p + sh * Ho:sh, q:q + sw * Wo:sw] += d6[b, :, p, q]
    return dxp


def _padded_cols(x, kernel, stride, pads, mode):
    """Pad, then im2col: cols (N, C*KH*KW, Ho*Wo), the padded shape, and (Ho, Wo)."""
    xp = pad2d(x, pads, mode)
    Hp, Wp = xp.shape[2:]
    out_hw = (Hp - kernel[0]) // stride[0] + 1, (Wp - kernel[1]) // stride[1] + 1
    return im2col(xp, kernel, stride, out_hw), xp.shape, out_hw


def _im2col_forward(x, w, b, stride, pads, mode):
    """One im2col pass over a (chunk of a) batch: out (N, F, Ho, Wo), cols, xp.shape."""
    cols, xp_shape, (Ho, Wo) = _padded_cols(x, w.shape[2:], stride, pads, mode)
    N, F = x.shape[0], w.shape[0]
    out = w.reshape(F, -1) @ cols                             # (F, CKK) @ (N, CKK, P) -> (N, F, P)
    out = out.reshape(N, F, Ho, Wo)                           # already NCHW, no transpose
    out += b.reshape(F, 1, 1)
    return out, cols, xp_shape


def _im2col_backward(dout, cols, xp_shape, w, stride, pads, mode):
    """dw and dx of one im2col pass, each one matrix product. Returns dx, dw, db."""
    N, F, Ho, Wo = dout.shape
    d = dout.reshape(N, F, Ho * Wo)                           # (N, F, P)
    db = dout.sum(axis=(0, 2, 3))
    dw = (d @ cols.transpose(0, 2, 1)).sum(axis=0)            # (N, F, P) @ (N, P, CKK) -> (F, CKK)
    dcols = w.reshape(F, -1).T @ d                            # (CKK, F) @ (N, F, P) -> (N, CKK, P)
    dxp = col2im(dcols, xp_shape, w.shape[2:], stride, (Ho, Wo))
    return pad2d_backward(dxp, pads, mode), dw.reshape(w.shape), db


def _chunk_size(x, w, stride, pads):
    """Images per im2col pass so that the columns stay under MAX_COLS_BYTES (at least 1)."""
    _, C, H, W = x.shape
    KH, KW = w.shape[2:]
    Ho = (H + pads[0] + pads[1] - KH) // stride[0] + 1
    Wo = (W + pads[2] + pads[3] - KW) // stride[1] + 1
    per_image = C * KH * KW * Ho * Wo * x.itemsize
    return max(1, MAX_COLS_BYTES // max(per_image, 1))


def conv2d_fast(x, w, b, stride=(1, 1), pads=(0, 0, 0, 0), mode="zeros"):
    """im2col forward: x (N, C, H, W), w (F, C, KH, KW), b (F,) -> out (N, F, Ho, Wo), cache.

    A batch whose columns fit in MAX_COLS_BYTES goes in one pass and the cache keeps the columns;
    a bigger one goes in chunks and the cache keeps only x.
    """
    cache = {"w": w, "stride": stride, "pads": pads, "mode": mode}
    chunk = _chunk_size(x, w, stride, pads)
    if chunk >= x.shape[0]:
        out, cache["cols"], cache["xp_shape"] = _im2col_forward(x, w, b, stride, pads, mode)
        return out, cache
    out = np.concatenate([_im2col_forward(x[i:i + chunk], w, b, stride, pads, mode)[0]
                          for i in range(0, x.shape[0], chunk)])   # (N, F, Ho, Wo)
    cache["x"], cache["chunk"] = x, chunk
    return out, cache


def conv2d_fast_backward(dout, cache):
    """im2col backward. Returns dx (N, C, H, W), dw (F, C, KH, KW), db (F,)."""
    w, stride, pads, mode = cache["w"], cache["stride"], cache["pads"], cache["mode"]
    if "cols" in cache:
        return _im2col_backward(dout, cache["cols"], cache["xp_shape"], w, stride, pads, mode)
    x, chunk, dxs, dw, db = cache["x"], cache["chunk"], [], 0, 0
    for i in range(0, x.shape[0], chunk):
        cols, xp_shape, _ = _padded_cols(x[i:i + chunk], w.shape[2:], stride, pads, mode)
        dx_i, dw_i, db_i = _im2col_backward(dout[i:i + chunk], cols, xp_shape, w, stride,
                                            pads, mode)
        dxs.append(dx_i)
        dw, db = dw + dw_i, db + db_i
    return np.concatenate(dxs), dw, db
