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

from .base import Layer, ShapeError, as_pair
from .padding import PADDING_MODES, pad2d, pad2d_backward, same_pads

# im2col copies every window: C*KH*KW*Ho*Wo values per image (9x the input for a 3x3 kernel).
# Above this many bytes for a batch, Conv2D processes the batch in chunks (and recomputes the
# columns in backward). Measured on N=512, Conv2D(16, 32, 3, padding=1), 32x32, float32: 32 MB
# chunks ran forward+backward as fast as 256 MB ones, with a peak of 128 MB instead of 629 MB.
MAX_COLS_BYTES = 32 * 2**20


def conv_output_size(size, pad_before, pad_after, kernel, stride):
    """Ho = (H + pad_before + pad_after - K) // stride + 1."""
    return (size + pad_before + pad_after - kernel) // stride + 1


# --------------------------------------------------------------------------------------------
# The naive reference: read this first.
# --------------------------------------------------------------------------------------------
def conv2d_naive(x, w, b, stride=(1, 1), pads=(0, 0, 0, 0), mode="zeros"):
    """Loop version of the forward pass.

    x: input (N, C, H, W); w: filters (F, C, KH, KW); b: biases (F,)
    stride: (sh, sw); pads: (top, bottom, left, right); mode: "zeros" or "circular"
    Returns out: (N, F, Ho, Wo).
    """
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
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]              # same w[f] everywhere
    return out


def conv2d_naive_backward(dout, x, w, stride=(1, 1), pads=(0, 0, 0, 0), mode="zeros"):
    """Loop version of the backward pass. Returns dx (N, C, H, W), dw (F, C, KH, KW), db (F,).

    Because w[f] is reused at every position, dw[f] is a *sum* over all positions.
    """
    xp = pad2d(x, pads, mode)
    F, _, KH, KW = w.shape
    sh, sw = stride
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
    One strided slice-copy per kernel offset (p, q): KH*KW copies whose inner loop runs along
    the contiguous output width.
    """
    N, C = xp.shape[:2]
    (KH, KW), (sh, sw), (Ho, Wo) = kernel, stride, out_hw
    cols = np.empty((N, C, KH, KW, Ho, Wo), dtype=xp.dtype)
    for p in range(KH):
        for q in range(KW):
            cols[:, :, p, q] = xp[:, :, p:p + sh * Ho:sh, q:q + sw * Wo:sw]   # (N, C, Ho, Wo)
    return cols.reshape(N, C * KH * KW, Ho * Wo)


def col2im(dcols, xp_shape, kernel, stride, out_hw):
    """Adjoint of im2col: add each column entry back onto the pixel it was copied from.

    dcols: (N, C*KH*KW, Ho*Wo) -> dxp: xp_shape. Loops only over the KH*KW kernel offsets;
    overlapping windows (stride < kernel) accumulate, which is what np.add.at would do, slower.
    """
    N, C = xp_shape[:2]
    (KH, KW), (sh, sw), (Ho, Wo) = kernel, stride, out_hw
    d6 = dcols.reshape(N, C, KH, KW, Ho, Wo)
    dxp = np.zeros(xp_shape, dtype=dcols.dtype)
    for p in range(KH):
        for q in range(KW):
            dxp[:, :, p:p + sh * Ho:sh, q:q + sw * Wo:sw] += d6[:, :, p, q]
    return dxp


def conv2d_fast(x, w, b, stride=(1, 1), pads=(0, 0, 0, 0), mode="zeros"):
    """im2col forward. Same arguments as `conv2d_naive`; returns (out, cache) for backward."""
    xp = pad2d(x, pads, mode)
    N, _, Hp, Wp = xp.shape
    F, _, KH, KW = w.shape
    Ho, Wo = (Hp - KH) // stride[0] + 1, (Wp - KW) // stride[1] + 1
    cols = im2col(xp, (KH, KW), stride, (Ho, Wo))            # (N, C*KH*KW, Ho*Wo)
    out = w.reshape(F, -1) @ cols                             # (F, CKK) @ (N, CKK, P) -> (N, F, P)
    out = out.reshape(N, F, Ho, Wo)                           # already NCHW, no transpose
    out += b.reshape(F, 1, 1)
    return out, (cols, xp.shape, w, stride, pads, mode)


def conv2d_fast_backward(dout, cache):
    """im2col backward: dw and dx are each one matrix product. Returns dx, dw, db."""
    cols, xp_shape, w, stride, pads, mode = cache
    N, F, Ho, Wo = dout.shape
    d = dout.reshape(N, F, Ho * Wo)                           # (N, F, P)
    db = dout.sum(axis=(0, 2, 3))
    dw = (d @ cols.transpose(0, 2, 1)).sum(axis=0)            # (N, F, P) @ (N, P, CKK) -> (F, CKK)
    dcols = w.reshape(F, -1).T @ d                            # (CKK, F) @ (N, F, P) -> (N, CKK, P)
    dxp = col2im(dcols, xp_shape, w.shape[2:], stride, (Ho, Wo))
    return pad2d_backward(dxp, pads, mode), dw.reshape(w.shape), db


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
    impl: "fast" (im2col) or "naive" (loops); rng: numpy Generator or seed for He init.
    Input (N, C, H, W) -> output (N, F, Ho, Wo). params: W (F, C, KH, KW), b (F,).
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 padding_mode="zeros", impl="fast", rng=None, dtype=np.float32):
        super().__init__()
        self.in_channels = as_pair("in_channels", in_channels, "Conv2D")[0]
        self.out_channels = as_pair("out_channels", out_channels, "Conv2D")[0]
        self.kernel_size = as_pair("kernel_size", kernel_size, "Conv2D")
        self.stride = as_pair("stride", stride, "Conv2D")
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"Conv2D: padding_mode must be one of {PADDING_MODES}, "
                             f"got {padding_mode!r}")
        if impl not in ("fast", "naive"):
            raise ValueError(f"Conv2D: impl must be 'fast' or 'naive', got {impl!r}")
        self.padding_mode, self.impl = padding_mode, impl
        self.padding = padding
        self.pads = self._resolve_padding(padding)
        rng = np.random.default_rng(rng)
        fan_in = self.in_channels * self.kernel_size[0] * self.kernel_size[1]
        shape = (self.out_channels, self.in_channels, *self.kernel_size)
        self.params["W"] = (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(dtype)
        self.params["b"] = np.zeros(self.out_channels, dtype=dtype)

    def _resolve_padding(self, padding):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding == "same":
            if self.stride != (1, 1):
                raise ValueError(f"Conv2D: padding='same' needs stride 1, got stride={self.stride}")
            return same_pads(self.kernel_size)
        if isinstance(padding, str):
            raise ValueError(  # noqa: TRY004 (an unknown word is a bad value)
                f"Conv2D: padding must be an int, a pair, 'same' or 'valid', "
                f"got {padding!r}")
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
                             f"input {(H + top + bottom, W + left + right)} (x.shape={tuple(input_shape)})")
        if self.padding_mode == "circular" and (max(top, bottom) > H or max(left, right) > W):
            raise ShapeError(f"{self!r}: circular padding {self.pads} wraps more than once "
                             f"around an input of size {(H, W)}")
        return (N, self.out_channels, conv_output_size(H, top, bottom, KH, sh),
                conv_output_size(W, left, right, KW, sw))

    def forward(self, x):
        x = self._check_input(x, 4)
        self.output_shape(x.shape)
        W, b = self.params["W"], self.params["b"]
        if self.impl == "naive":
            out = conv2d_naive(x, W, b, self.stride, self.pads, self.padding_mode)
            return self._remember(out, x=x)
        chunk = self._chunk_size(x)
        if chunk >= x.shape[0]:
            out, fast_cache = conv2d_fast(x, W, b, self.stride, self.pads, self.padding_mode)
            return self._remember(out, x=x, fast=fast_cache)
        # Too big for one im2col buffer: forward in chunks, keep only x, recompute in backward.
        out = np.concatenate([conv2d_fast(x[i:i + chunk], W, b, self.stride, self.pads,
                                          self.padding_mode)[0]
                              for i in range(0, x.shape[0], chunk)])
        return self._remember(out, x=x, chunk=chunk)

    def _chunk_size(self, x):
        C = x.shape[1]
        _, _, Ho, Wo = self.output_shape(x.shape)
        per_image = C * self.kernel_size[0] * self.kernel_size[1] * Ho * Wo * x.itemsize
        return max(1, MAX_COLS_BYTES // max(per_image, 1))

    def backward(self, dout):
        dout = self._check_dout(dout)
        x, W = self.cache["x"], self.params["W"]
        if self.impl == "naive":
            dx, dw, db = conv2d_naive_backward(dout, x, W, self.stride, self.pads,
                                               self.padding_mode)
        elif "fast" in self.cache:
            dx, dw, db = conv2d_fast_backward(dout, self.cache["fast"])
        else:
            dx, dw, db = self._chunked_backward(dout, x, W, self.cache["chunk"])
        self._set_grad("W", dw)
        self._set_grad("b", db)
        return dx

    def _chunked_backward(self, dout, x, W, chunk):
        dxs, dw, db = [], 0, 0
        for i in range(0, x.shape[0], chunk):
            _, cache = conv2d_fast(x[i:i + chunk], W, self.params["b"], self.stride, self.pads,
                                   self.padding_mode)
            dx_i, dw_i, db_i = conv2d_fast_backward(dout[i:i + chunk], cache)
            dxs.append(dx_i)
            dw, db = dw + dw_i, db + db_i
        return np.concatenate(dxs), dw, db
