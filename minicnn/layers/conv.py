"""2-D convolution (strictly: cross-correlation, as in every deep-learning library).

    out[n, f, i, j] = b[f] + sum_{c, p, q} w[f, c, p, q] * xp[n, c, i*sh + p, j*sw + q]

The weight w[f, c, p, q] has no (i, j) index: one small kernel is reused at every output
position. That is the whole lesson. It is why a convolution needs so few weights, and why it is
translation-equivariant: shift the input by a multiple of the stride and the output shifts with it
(exactly with circular padding; away from the border with zero padding).

The same maths twice, tested against each other, then the layer:
- `conv2d_naive` / `conv2d_naive_backward`: loops over (n, f, i, j); the one to read first.
- `conv2d_vectorised` / `conv2d_vectorised_backward`: im2col (a copy of every kernel-sized
  window as a column) and one matrix product per pass.
- `Conv2D`, which picks one of them, or the tuned `conv2d_fast` (minicnn/fast/conv.py, the
  default: im2col, or Winograd for 3x3 stride-1 layers with 16+ input channels and enough
  work) or the readable Winograd (minicnn/fast/winograd.py), by name.

Output size, per axis: Ho = (H + pad_top + pad_bottom - KH) // sh + 1 (`conv_output_size`).
"""

import numpy as np

from ..fast.conv import conv2d_fast, conv2d_fast_backward
from ..fast.winograd import conv2d_winograd, conv2d_winograd_backward
from .base import (
    Layer,
    ShapeError,
    as_pair,
    check_choice,
    check_float_dtype,
    check_int,
    he_normal,
    nhwc_hint,
)
from .padding import PADDING_MODES, pad2d, pad2d_backward, same_pads


def conv_output_size(size, pad_before, pad_after, kernel, stride):
    """Ho = (H + pad_before + pad_after - K) // stride + 1."""
    return (size + pad_before + pad_after - kernel) // stride + 1


def _output_hw(x_shape, kernel, stride, pads):
    """(Ho, Wo) of a convolution of an input of x_shape (N, C, H, W)."""
    top, bottom, left, right = pads
    return (conv_output_size(x_shape[2], top, bottom, kernel[0], stride[0]),
            conv_output_size(x_shape[3], left, right, kernel[1], stride[1]))


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
    N, F, (KH, KW), (sh, sw) = x.shape[0], w.shape[0], w.shape[2:], stride
    Ho, Wo = _output_hw(x.shape, (KH, KW), stride, pads)
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
# The vectorised version: im2col + one matrix product.
# --------------------------------------------------------------------------------------------
def im2col(xp, kernel, stride, out_hw):
    """Copy every window of the padded input into a column.

    xp: (N, C, Hp, Wp) -> cols: (N, C*KH*KW, Ho*Wo), row (c, p, q) holds xp[n, c, i*sh+p, j*sw+q].
    One slice per kernel offset (p, q) picks that offset of every window at once.
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

    dcols: (N, C*KH*KW, Ho*Wo) -> dxp: xp_shape. Where windows overlap (stride < kernel), a
    pixel gets the sum of its copies' gradients.
    """
    N, C = xp_shape[:2]
    (KH, KW), (sh, sw), (Ho, Wo) = kernel, stride, out_hw
    d6 = dcols.reshape(N, C, KH, KW, Ho, Wo)
    dxp = np.zeros(xp_shape, dtype=dcols.dtype)
    for p in range(KH):
        for q in range(KW):
            dxp[:, :, p:p + sh * Ho:sh, q:q + sw * Wo:sw] += d6[:, :, p, q]
    return dxp


def conv2d_vectorised(x, w, b, stride=(1, 1), pads=(0, 0, 0, 0), mode="zeros"):
    """im2col forward, same arguments and result as `conv2d_naive`."""
    xp = pad2d(x, pads, mode)
    N, F = x.shape[0], w.shape[0]
    Ho, Wo = _output_hw(x.shape, w.shape[2:], stride, pads)
    cols = im2col(xp, w.shape[2:], stride, (Ho, Wo))          # (N, C*KH*KW, Ho*Wo)
    out = w.reshape(F, -1) @ cols                             # (F, CKK) @ (N, CKK, P) -> (N, F, P)
    out = out.reshape(N, F, Ho, Wo) + b.reshape(F, 1, 1)      # already NCHW, no transpose
    return out, (cols, xp.shape, w, stride, pads, mode)


def conv2d_vectorised_backward(dout, cache):
    """im2col backward. Returns dx (N, C, H, W), dw (F, C, KH, KW), db (F,).

    dw sums over images and positions (the kernel is shared); dx goes back through col2im.
    """
    cols, xp_shape, w, stride, pads, mode = cache
    N, F, Ho, Wo = dout.shape
    d = dout.reshape(N, F, Ho * Wo)                           # (N, F, P)
    dw = (d @ cols.transpose(0, 2, 1)).sum(axis=0)            # (N, F, P) @ (N, P, CKK) -> (F, CKK)
    dcols = w.reshape(F, -1).T @ d                            # (CKK, F) @ (N, F, P) -> (N, CKK, P)
    dxp = col2im(dcols, xp_shape, w.shape[2:], stride, (Ho, Wo))
    return pad2d_backward(dxp, pads, mode), dw.reshape(w.shape), dout.sum(axis=(0, 2, 3))


CONV_IMPLS = {"naive": (conv2d_naive, conv2d_naive_backward),
              "vectorised": (conv2d_vectorised, conv2d_vectorised_backward),
              "fast": (conv2d_fast, conv2d_fast_backward),                    # minicnn/fast
              "winograd": (conv2d_winograd, conv2d_winograd_backward)}   # 3x3, stride 1 only


# --------------------------------------------------------------------------------------------
# The layer.
# --------------------------------------------------------------------------------------------
class Conv2D(Layer):
    """A bank of F small kernels, each slid over every position of the input.

    The kernel W[f, c, p, q] has no (i, j) index: one set of F*C*KH*KW weights (plus F biases)
    is reused at every output position. So the layer is translation-equivariant (a shifted
    input gives a shifted output) and tiny next to a fully connected layer of the same size.

    in_channels C, out_channels F; kernel_size and stride: int or (h, w);
    padding: int, (h, w), "valid" (0) or "same" (stride 1 only); padding_mode "zeros"/"circular";
    impl: "fast" (tuned im2col or Winograd, minicnn/fast), "vectorised" (plain im2col), "naive"
    (loops) or "winograd" (3x3 stride 1); rng: numpy Generator or seed for He init; dtype:
    float32/float64.
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
        self.conv, self.conv_backward = CONV_IMPLS[impl]          # the one line that picks
        if impl == "winograd" and (self.kernel_size, self.stride) != ((3, 3), (1, 1)):
            raise ValueError(f"Conv2D: impl='winograd' needs a 3x3 kernel and stride 1, got "
                             f"kernel_size={self.kernel_size}, stride={self.stride}")
        self.padding = padding
        self.pads = self._resolve_padding(padding)
        dtype = check_float_dtype(dtype, "Conv2D")
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
                             f"in_channels={self.in_channels}: x.shape={tuple(input_shape)}"
                             + nhwc_hint(input_shape, self.in_channels))
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
        x = self.check_input(x)
        W, b = self.params["W"], self.params["b"]
        out, self.cache = self.conv(x, W, b, self.stride, self.pads, self.padding_mode)
        return out

    def backward(self, dout):
        dx, dw, db = self.conv_backward(self.check_dout(dout), self.cache)
        self.grads["W"] = dw.astype(self.params["W"].dtype, copy=False)
        self.grads["b"] = db.astype(self.params["b"].dtype, copy=False)
        return dx
