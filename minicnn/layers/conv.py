"""2-D convolution (strictly: cross-correlation, as in every deep-learning library).

    out[n, f, i, j] = b[f] + sum_{c, p, q} w[f, c, p, q] * xp[n, c, i*sh + p, j*sw + q]

The weight w[f, c, p, q] has no (i, j) index: one small kernel is reused at every output
position. That is the whole lesson. It is why a convolution needs so few weights, and why it is
translation-equivariant: shift the input by a multiple of the stride and the output shifts with it
(exactly with circular padding; away from the border with zero padding).

Two implementations of the same maths live here and are tested against each other:
- `conv2d_naive` / `conv2d_naive_backward`: loops over (n, f, i, j); the one to read first.
- `conv2d_fast` / `conv2d_fast_backward`: im2col (a copy of every kernel-sized window) and one
  BLAS matrix product per pass.

Output size, per axis: Ho = (H + pad_top + pad_bottom - KH) // sh + 1.
"""

import numpy as np

from .base import Layer, ShapeError, as_pair, batch_blocks, check_choice, check_int, he_normal
from .padding import PADDING_MODES, pad2d, pad2d_backward, same_pads
from .winograd import conv2d_winograd, conv2d_winograd_backward

# im2col copies every window: C*KH*KW*Ho*Wo values per image (9x the input for a 3x3 kernel).
# Above this many bytes for a batch, Conv2D processes the batch in chunks (and recomputes the
# columns in backward). Measured on N=512, Conv2D(16, 32, 3, padding=1), 32x32, float32: 32 MB
# chunks ran forward+backward as fast as 256 MB ones, with a peak of 128 MB instead of 629 MB.
MAX_COLS_BYTES = 32 * 2**20


def conv_output_size(size, pad_before, pad_after, kernel, stride):
    """Ho = (H + pad_before + pad_after - K) // stride + 1."""
    return (size + pad_before + pad_after - kernel) // stride + 1


# --------------------------------------------------------------------------------------------
# Both versions share one contract (CS231n's), so a reader can lay them side by side:
#     out, cache = conv2d_*(x, w, b, stride, pads, mode)
#     dx, dw, db = conv2d_*_backward(dout, cache)
# x: input (N, C, H, W); w: filters (F, C, KH, KW); b: biases (F,); stride: (sh, sw);
# pads: (top, bottom, left, right); mode: "zeros" or "circular". out: (N, F, Ho, Wo).
# --------------------------------------------------------------------------------------------
def conv2d_naive(x, w, b, stride=(1, 1), pads=(0, 0, 0, 0), mode="zeros"):
    """Loop version of the forward pass, the reference: read this first."""
    xp = pad2d(x, pads, mode)
    N, _, Hp, Wp = xp.shape
    F, _, KH, KW = w.shape
    sh, sw = stride
    Ho, Wo = (Hp - KH) // sh + 1, (Wp - KW) // sw + 1
    out = np.zeros((N, F, Ho, Wo), dtype=np.result_type(x, w))
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    window = xp[n, :, i * sh:i * sh + KH, j * sw:j * sw + KW]   # (C, KH, KW)
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]      # same w[f] everywhere
    return out, (x, w, stride, pads, mode)


def conv2d_naive_backward(dout, cache):
    """Loop version of the backward pass. Returns dx (N, C, H, W), dw (F, C, KH, KW), db (F,).

    Because w[f] is reused at every position, dw[f] is a *sum* over all positions.
    """
    x, w, (sh, sw), pads, mode = cache
    xp = pad2d(x, pads, mode)
    F, _, KH, KW = w.shape
    N, _, Ho, Wo = dout.shape
    dxp = np.zeros_like(xp, dtype=np.result_type(x, w))
    dw = np.zeros_like(w, dtype=dxp.dtype)
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    rows, cols = slice(i * sh, i * sh + KH), slice(j * sw, j * sw + KW)
                    dw[f] += dout[n, f, i, j] * xp[n, :, rows, cols]
                    dxp[n, :, rows, cols] += dout[n, f, i, j] * w[f]
    db = dout.sum(axis=(0, 2, 3))
    return pad2d_backward(dxp, pads, mode), dw, db


# --------------------------------------------------------------------------------------------
# The fast version: im2col + one matrix product.
# --------------------------------------------------------------------------------------------
def im2col(xp, kernel, stride, out_hw):
    """Copy every window of the padded input into columns.

    xp: (N, C, Hp, Wp) -> cols: (N, C*KH*KW, Ho*Wo), row (c, p, q) holds xp[n, c, i*sh+p, j*sw+q].
    A strided view puts every window in place without copying; one copy then writes the columns
    in order (KH*KW slice-copies into cols[:, :, p, q] were up to 3x slower: scattered writes).
    """
    N, C = xp.shape[:2]
    (KH, KW), (sh, sw), (Ho, Wo) = kernel, stride, out_hw
    sn, sc, sy, sx = xp.strides                      # bytes per step along n, c, row, column
    windows = np.lib.stride_tricks.as_strided(       # (N, C, KH, KW, Ho, Wo), a view of xp
        xp, (N, C, KH, KW, Ho, Wo), (sn, sc, sy, sx, sy * sh, sx * sw))
    cols = np.ascontiguousarray(windows)             # the one copy
    return cols.reshape(N, C * KH * KW, Ho * Wo)


def col2im(dcols, xp_shape, kernel, stride, out_hw):
    """Adjoint of im2col: add each column entry back onto the pixel it was copied from.

    dcols: (N, C*KH*KW, Ho*Wo) -> dxp: xp_shape. Loops only over the KH*KW kernel offsets;
    overlapping windows (stride < kernel) accumulate, which is what np.add.at would do, slower.
    A block of images at a time, so dxp's block stays in cache across the KH*KW passes.
    """
    N, C = xp_shape[:2]
    (KH, KW), (sh, sw), (Ho, Wo) = kernel, stride, out_hw
    d6 = dcols.reshape(N, C, KH, KW, Ho, Wo)
    dxp = np.zeros(xp_shape, dtype=dcols.dtype)
    for b in batch_blocks(dxp):                                   # base.BLOCK_BYTES of dxp
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
    """One im2col pass over a whole (chunk of a) batch: out (N, F, Ho, Wo), cols, xp.shape."""
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
    """im2col forward, same arguments and result as `conv2d_naive`.

    A batch whose columns fit in MAX_COLS_BYTES goes in one pass and the cache keeps the columns.
    A bigger one goes in chunks and the cache keeps only x: backward recomputes the columns.
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


CONV_IMPLS = {"naive": (conv2d_naive, conv2d_naive_backward),
              "fast": (conv2d_fast, conv2d_fast_backward),
              "winograd": (conv2d_winograd, conv2d_winograd_backward)}   # 3x3, stride 1 only


# --------------------------------------------------------------------------------------------
# The layer.
# --------------------------------------------------------------------------------------------
class Conv2D(Layer):
    """A bank of F small kernels, each slid over every position of the input.

    The weight W[f, c, p, q] has no position index, so the same F*C*KH*KW numbers (plus F
    biases) are used everywhere: the layer is translation-equivariant and tiny next to a fully
    connected layer of the same input and output size.

    in_channels C, out_channels F; kernel_size and stride: int or (h, w);
    padding: int, (h, w), "valid" (0) or "same" (stride 1 only); padding_mode "zeros"/"circular";
    impl: "fast" (im2col), "naive" (loops) or "winograd" (3x3 stride 1, winograd.py);
    rng: numpy Generator or seed for He init.
    Input (N, C, H, W) -> output (N, F, Ho, Wo). params: W (F, C, KH, KW), b (F,).
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 padding_mode="zeros", impl="fast", rng=None, dtype=np.float32):
        super().__init__()
        self.in_channels = check_int(in_channels, "in_channels", "Conv2D", minimum=1)
        self.out_channels = check_int(out_channels, "out_channels", "Conv2D", minimum=1)
        self.kernel_size = as_pair("kernel_size", kernel_size, "Conv2D")
        self.stride = as_pair("stride", stride, "Conv2D")
        self.padding_mode = check_choice(padding_mode, "padding_mode", "Conv2D", PADDING_MODES)
        self.impl = check_choice(impl, "impl", "Conv2D", tuple(CONV_IMPLS))
        self._conv, self._conv_backward = CONV_IMPLS[impl]
        if impl == "winograd" and (self.kernel_size, self.stride) != ((3, 3), (1, 1)):
            raise ValueError(f"Conv2D: impl='winograd' needs a 3x3 kernel and stride 1, got "
                             f"kernel_size={self.kernel_size}, stride={self.stride}")
        self.padding = padding
        self.pads = self._resolve_padding(padding)
        shape = (self.out_channels, self.in_channels, *self.kernel_size)
        self.params["W"] = he_normal(shape, int(np.prod(shape[1:])), rng, dtype)
        self.params["b"] = np.zeros(self.out_channels, dtype=dtype)

    def _resolve_padding(self, padding):
        if isinstance(padding, str):
            check_choice(padding, "padding", "Conv2D", ("same", "valid"))
            if padding == "valid":
                return (0, 0, 0, 0)
            if self.stride != (1, 1):
                raise ValueError(f"Conv2D: padding='same' needs stride 1, got stride={self.stride}")
            return same_pads(self.kernel_size)
        ph, pw = as_pair("padding", padding, "Conv2D", minimum=0)
        return (ph, ph, pw, pw)

    def __repr__(self):
        def short(pair):
            return pair[0] if pair[0] == pair[1] else pair
        extra = "" if self.stride == (1, 1) else f", stride={short(self.stride)}"
        extra += "" if self.padding in (0, "valid") else f", padding={self.padding!r}"
        extra += "" if self.padding_mode == "zeros" else f", padding_mode={self.padding_mode!r}"
        return (f"Conv2D({self.in_channels}, {self.out_channels}, "
                f"kernel_size={short(self.kernel_size)}{extra})")

    def output_shape(self, input_shape):
        if len(input_shape) != 4:
            raise ShapeError(f"{self!r} expected a 4-d input (N, C, H, W), got shape {input_shape}")
        N, C, H, W = input_shape
        if C != self.in_channels:
            raise ShapeError(f"{self!r} got input with {C} channel{'s' * (C != 1)}, expected "
                             f"in_channels={self.in_channels}: x.shape={tuple(input_shape)}")
        top, bottom, left, right = self.pads
        (KH, KW), (sh, sw) = self.kernel_size, self.stride
        if KH > H + top + bottom or KW > W + left + right:
            raise ShapeError(f"{self!r}: kernel {self.kernel_size} is larger than the padded "
                             f"input {(H + top + bottom, W + left + right)} "
                             f"(x.shape={tuple(input_shape)})")
        if self.padding_mode == "circular" and (max(top, bottom) > H or max(left, right) > W):
            raise ShapeError(f"{self!r}: circular padding {self.pads} wraps more than once "
                             f"around an input of size {(H, W)}")
        return (N, self.out_channels, conv_output_size(H, top, bottom, KH, sh),
                conv_output_size(W, left, right, KW, sw))

    def forward(self, x):
        x = self._check_input(x)
        out, cache = self._conv(x, self.params["W"], self.params["b"], self.stride, self.pads,
                                self.padding_mode)
        return self._remember(out, cache)

    def backward(self, dout):
        dx, dw, db = self._conv_backward(self._check_dout(dout), self.cache)
        self._set_grad("W", dw)
        self._set_grad("b", db)
        return dx
