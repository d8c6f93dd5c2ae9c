"""Convolution, tuned: the formulation and layout that suit the layer, cache-sized blocks, chunks.

Same contract and same maths as `minicnn.layers.conv.conv2d_vectorised` (read that first):
    out, cache = conv2d_fast(x, w, b, stride, pads, mode)
    dx, dw, db = conv2d_fast_backward(dout, cache)
A 3x3 stride-1 layer with enough channels and work (`uses_winograd`) goes to Winograd's
F(2x2, 3x3) (minicnn/fast/winograd_blocked.py). The rest is im2col, where what differs from the
lesson is how the copies and products are arranged. A thin layer (few input channels)
keeps one matrix product per image. A channel-rich one puts the batch inside the columns, so
that each product spans many images and dw is a single product; its products and copies run a
block of images at a time, while the block is in cache; and for stride 1 its input gradient adds
the columns back in long contiguous runs. A batch whose columns would pass MAX_COLS_BYTES goes
in chunks, and backward then recomputes the columns instead of keeping them. The sums run in
another order than in the loops, so float32 results differ from them in the last bits.
"""

import numpy as np

from ..layers.padding import pad2d, pad2d_backward
from .blocks import BLOCK_BYTES, batch_blocks
from .winograd_blocked import conv2d_winograd_blocked, conv2d_winograd_blocked_backward

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


def _per_image_forward(x, w, b, stride, pads, mode):
    """One matrix product per image: out (N, F, Ho, Wo) and the backward's cache."""
    cols, xp_shape, (Ho, Wo) = _padded_cols(x, w.shape[2:], stride, pads, mode)
    N, F = x.shape[0], w.shape[0]
    out = w.reshape(F, -1) @ cols                             # (F, CKK) @ (N, CKK, P) -> (N, F, P)
    out = out.reshape(N, F, Ho, Wo)                           # already NCHW, no transpose
    out += b.reshape(F, 1, 1)
    return out, (cols, xp_shape)


def _per_image_backward(dout, cols, xp_shape, w, stride, pads, mode):
    """dw and dx of `_per_image_forward`, each one matrix product per image. Returns dx, dw, db."""
    N, F, Ho, Wo = dout.shape
    d = dout.reshape(N, F, Ho * Wo)                           # (N, F, P)
    db = dout.sum(axis=(0, 2, 3))
    dw = (d @ cols.transpose(0, 2, 1)).sum(axis=0)            # (N, F, P) @ (N, P, CKK) -> (F, CKK)
    dcols = w.reshape(F, -1).T @ d                            # (CKK, F) @ (N, F, P) -> (N, CKK, P)
    dxp = col2im(dcols, xp_shape, w.shape[2:], stride, (Ho, Wo))
    return pad2d_backward(dxp, pads, mode), dw.reshape(w.shape), db


# --- batch innermost: one matrix product per batch ----------------------------------------
# With many input channels, the products are big enough that one product over the whole batch
# (columns (C*KH*KW, N*Ho*Wo), the batch inside each row) beats N thin ones, and dw becomes a
# single product whose inner dimension is N*Ho*Wo instead of a sum of N products. The price is
# one transpose of out and of dout, which a single-channel layer's thin products do not repay.
MIN_ROWS_BATCH_INNER = 32      # C*KH*KW from which the batch-innermost layout is used


def im2col_batch_inner(xp, kernel, stride, out_hw):
    """Every window as a column, batch inside: xp (N, C, Hp, Wp) -> (C*KH*KW, N*Ho*Wo)."""
    N, C = xp.shape[:2]
    (KH, KW), (sh, sw), (Ho, Wo) = kernel, stride, out_hw
    sn, sc, sy, sx = xp.strides
    windows = np.lib.stride_tricks.as_strided(       # (C, KH, KW, N, Ho, Wo), a view of xp
        xp, (C, KH, KW, N, Ho, Wo), (sc, sy, sx, sn, sy * sh, sx * sw))
    return np.ascontiguousarray(windows).reshape(C * KH * KW, N * Ho * Wo)


def col2im_batch_inner(wT, dT, xp_shape, kernel, stride, out_hw):
    """dxp (C, N, Hp, Wp) from dcols = wT @ dT ((C*KH*KW, F) @ (F, N*Ho*Wo)).

    The product and the slice-adds run a block of images at a time, so each block of dcols is
    added back while it is still in cache instead of being written out and read again.
    """
    N, C, Hp, Wp = xp_shape
    (KH, KW), (sh, sw), (Ho, Wo) = kernel, stride, out_hw
    F = dT.shape[0]
    d3 = dT.reshape(F, N, Ho * Wo)
    dxp = np.zeros((C, N, Hp, Wp), dtype=np.result_type(wT, dT))
    step = max(1, BLOCK_BYTES // (wT.shape[0] * Ho * Wo * dxp.itemsize))
    for i in range(0, N, step):
        n = min(N, i + step) - i
        dcols = (wT @ d3[:, i:i + n].reshape(F, n * Ho * Wo)).reshape(C, KH, KW, n, Ho, Wo)
        block = dxp[:, i:i + n]                                   # (C, n, Hp, Wp), a view
        for p in range(KH):
            for q in range(KW):
                block[:, :, p:p + sh * Ho:sh, q:q + sw * Wo:sw] += dcols[:, p, q]
    return dxp


def col2im_stride1_wide(wT, dT, xp_shape, kernel, out_hw):
    """Stride 1 only: dxp (C, N, Hp, Wp) from dcols = wT @ dT, with long slice-adds.

    dT (F, N*Ho*Wo), dout with the batch inside, is first widened with zero columns to the
    padded width Wp, so that the columns of a kernel offset (p, q) land on one contiguous run of
    the flattened padded image, starting at p*Wp + q: each of the KH*KW slice-adds is then one
    long run per image and channel instead of Ho short rows. The zero columns add zeros to
    whatever they land on (the next row's first pixels, or a spare tail), so only the order of
    the work changes. A block of images at a time, as in `col2im_batch_inner`.
    """
    N, C, Hp, Wp = xp_shape
    F, (KH, KW), (Ho, Wo) = dT.shape[0], kernel, out_hw
    wide = np.zeros((F, N, Ho, Wp), dtype=dT.dtype)
    wide[..., :Wo] = dT.reshape(F, N, Ho, Wo)                     # (F, N, Ho, Wp)
    run = Ho * Wp
    dxp = np.zeros((C, N, Hp * Wp + KW - 1), dtype=np.result_type(wT, dT))   # spare tail
    step = max(1, BLOCK_BYTES // (wT.shape[0] * run * dxp.itemsize))
    for i in range(0, N, step):
        n = min(N, i + step) - i
        dcols = (wT @ wide[:, i:i + n].reshape(F, n * run)).reshape(C, KH, KW, n, run)
        block = dxp[:, i:i + n]                                   # (C, n, Hp*Wp + KW - 1)
        for p in range(KH):
            for q in range(KW):
                start = p * Wp + q
                block[:, :, start:start + run] += dcols[:, p, q]  # (C, n, Ho*Wp)
    return dxp[:, :, :Hp * Wp].reshape(C, N, Hp, Wp)


def _padded_cols_batch_inner(x, kernel, stride, pads, mode):
    """Pad, then im2col: cols (C*KH*KW, N*Ho*Wo), the padded shape, and (Ho, Wo)."""
    xp = pad2d(x, pads, mode)
    Hp, Wp = xp.shape[2:]
    out_hw = (Hp - kernel[0]) // stride[0] + 1, (Wp - kernel[1]) // stride[1] + 1
    return im2col_batch_inner(xp, kernel, stride, out_hw), xp.shape, out_hw


def _batch_inner_forward(x, w, b, stride, pads, mode):
    """One matrix product per block of images: out (N, F, Ho, Wo) and the backward's cache.

    Each block's columns are copied and multiplied while they are still in cache; all the
    columns are kept (cols, (C*KH*KW, N*Ho*Wo)) for dw in backward.
    """
    xp = pad2d(x, pads, mode)
    (N, C), F, (KH, KW), (sh, sw) = x.shape[:2], w.shape[0], w.shape[2:], stride
    Ho, Wo = (xp.shape[2] - KH) // sh + 1, (xp.shape[3] - KW) // sw + 1
    P = Ho * Wo
    cols = np.empty((C * KH * KW, N * P), dtype=xp.dtype)
    cols6 = cols.reshape(C, KH, KW, N, Ho, Wo)
    out = np.empty((F, N * P), dtype=np.result_type(w, x))
    sn, sc, sy, sx = xp.strides
    step = max(1, BLOCK_BYTES // (C * KH * KW * P * xp.itemsize))
    for i in range(0, N, step):
        n = min(N, i + step) - i
        cols6[:, :, :, i:i + n] = np.lib.stride_tricks.as_strided(   # (C, KH, KW, n, Ho, Wo)
            xp[i:], (C, KH, KW, n, Ho, Wo), (sc, sy, sx, sn, sy * sh, sx * sw))
        np.matmul(w.reshape(F, -1), cols[:, i * P:(i + n) * P], out=out[:, i * P:(i + n) * P])
    out += b.reshape(F, 1)
    out = out.reshape(F, N, Ho, Wo).transpose(1, 0, 2, 3)        # (N, F, Ho, Wo), a view
    return np.ascontiguousarray(out), (cols, xp.shape)


def _batch_inner_backward(dout, cols, xp_shape, w, stride, pads, mode):
    """dw as one product over the whole batch; dx through `col2im_batch_inner`."""
    N, F, Ho, Wo = dout.shape
    dT = np.ascontiguousarray(dout.transpose(1, 0, 2, 3)).reshape(F, N * Ho * Wo)   # (F, N*P)
    dw = (cols @ dT.T).T                                         # (CKK, N*P) @ (N*P, F), .T
    wT = np.ascontiguousarray(w.reshape(F, -1).T)                # (CKK, F)
    if tuple(stride) == (1, 1):
        dxp = col2im_stride1_wide(wT, dT, xp_shape, w.shape[2:], (Ho, Wo))
    else:
        dxp = col2im_batch_inner(wT, dT, xp_shape, w.shape[2:], stride, (Ho, Wo))
    dx = pad2d_backward(dxp.transpose(1, 0, 2, 3), pads, mode)   # (N, C, H, W), maybe a view
    return np.ascontiguousarray(dx), dw.reshape(w.shape), dT.sum(axis=1)


def _passes(w):
    """(columns, forward, backward) of one pass, in the layout that suits w's shape."""
    if w.shape[1] * w.shape[2] * w.shape[3] >= MIN_ROWS_BATCH_INNER:
        return _padded_cols_batch_inner, _batch_inner_forward, _batch_inner_backward
    return _padded_cols, _per_image_forward, _per_image_backward


def _chunk_size(x, w, stride, pads):
    """Images per im2col pass so that the columns stay under MAX_COLS_BYTES (at least 1)."""
    _, C, H, W = x.shape
    KH, KW = w.shape[2:]
    Ho = (H + pads[0] + pads[1] - KH) // stride[0] + 1
    Wo = (W + pads[2] + pads[3] - KW) // stride[1] + 1
    per_image = C * KH * KW * Ho * Wo * x.itemsize
    return max(1, MAX_COLS_BYTES // max(per_image, 1))


# Winograd's F(2x2, 3x3) (minicnn/fast/winograd_blocked.py) does 2.25x fewer multiplications
# than im2col but more NumPy calls. Measured over batch, image size and channels (docs/speed.md),
# it pays for a 3x3 stride-1 layer with at least MIN_WINOGRAD_CHANNELS input channels and at
# least MIN_WINOGRAD_WORK multiply-adds per kernel tap (N * Ho * Wo * C * F); below either,
# im2col's fewer, larger passes win.
MIN_WINOGRAD_CHANNELS = 16
MIN_WINOGRAD_WORK = 2**21


def uses_winograd(x_shape, w, stride, pads):
    """Whether `conv2d_fast` runs Winograd for input x_shape (N, C, H, W) and weights w."""
    if w.shape[2:] != (3, 3) or tuple(stride) != (1, 1) or w.shape[1] < MIN_WINOGRAD_CHANNELS:
        return False
    N, C, H, W = x_shape
    Ho, Wo = H + pads[0] + pads[1] - 2, W + pads[2] + pads[3] - 2
    return N * Ho * Wo * C * w.shape[0] >= MIN_WINOGRAD_WORK


def conv2d_fast(x, w, b, stride=(1, 1), pads=(0, 0, 0, 0), mode="zeros"):
    """Forward: x (N, C, H, W), w (F, C, KH, KW), b (F,) -> out (N, F, Ho, Wo), cache.

    A 3x3 stride-1 layer with enough channels and work (`uses_winograd`) goes to Winograd.
    Otherwise im2col: a batch whose columns fit in MAX_COLS_BYTES goes in one pass and the cache
    keeps the columns; a bigger one goes in chunks and the cache keeps only x.
    """
    if uses_winograd(x.shape, w, stride, pads):
        out, winograd_cache = conv2d_winograd_blocked(x, w, b, pads, mode)
        return out, {"winograd": winograd_cache}
    _, forward, _ = _passes(w)
    cache = {"w": w, "stride": stride, "pads": pads, "mode": mode}
    chunk = _chunk_size(x, w, stride, pads)
    if chunk >= x.shape[0]:
        out, cache["cols"] = forward(x, w, b, stride, pads, mode)
        return out, cache
    out = np.concatenate([forward(x[i:i + chunk], w, b, stride, pads, mode)[0]
                          for i in range(0, x.shape[0], chunk)])   # (N, F, Ho, Wo)
    cache["x"], cache["chunk"] = x, chunk
    return out, cache


def conv2d_fast_backward(dout, cache):
    """Backward of `conv2d_fast`. Returns dx (N, C, H, W), dw (F, C, KH, KW), db (F,)."""
    if "winograd" in cache:
        return conv2d_winograd_blocked_backward(dout, cache["winograd"])
    w, stride, pads, mode = cache["w"], cache["stride"], cache["pads"], cache["mode"]
    padded_cols, _, backward = _passes(w)
    if "cols" in cache:
        return backward(dout, *cache["cols"], w, stride, pads, mode)
    x, chunk, dxs, dw, db = cache["x"], cache["chunk"], [], 0, 0
    for i in range(0, x.shape[0], chunk):
        cols, xp_shape, _ = padded_cols(x[i:i + chunk], w.shape[2:], stride, pads, mode)
        dx_i, dw_i, db_i = backward(dout[i:i + chunk], cols, xp_shape, w, stride, pads, mode)
        dxs.append(dx_i)
        dw, db = dw + dw_i, db + db_i
    return np.concatenate(dxs), dw, db
