"""Anti-aliased downsampling: blur, then subsample (Zhang, ICML 2019).

Keeping every second pixel of a map that holds fine detail is aliasing: shift the input by one
pixel and the subsampled output does not shift by half a pixel, it changes. Max pooling with
stride 2 is exactly such a subsampling (of the 2x2 running maximum), so a stride-2 network is
equivariant only to even shifts. A low-pass filter before the subsampling removes most of the
detail that cannot survive it, and the output changes smoothly with a one-pixel shift instead.

    BlurPool2D:    out = subsample_s(blur(pad(x)))      blur = binomial kernel, e.g. [1,2,1]/4
    MaxBlurPool2D: out = BlurPool2D(MaxPool2D(2, stride=1)(x))   (Zhang's replacement of
                                                                  MaxPool2D(2))

The filter is the outer product of a row of Pascal's triangle with itself, normalised to sum to
1 (so a constant map stays constant), applied to each channel separately (depthwise) and not
learned. Padding puts (K-1)//2 pixels before and K//2 after each axis, so that the output size
is ceil(H / stride) for every kernel size:

    Ho = (H + K - 1 - K) // s + 1 = (H - 1) // s + 1 = ceil(H / s)

padding_mode: "reflect" (default, as Zhang: the border is mirrored, so a constant map stays
constant up to the border), "zeros" (the border darkens) or "circular" (the map wraps around:
exactly equivariant to circular shifts by multiples of the stride).
"""

import math

import numpy as np

from ..layers.base import Layer, ShapeError, as_pair, check_choice, check_int, nhwc_hint
from ..layers.padding import pad2d, pad2d_backward
from ..layers.pool import MaxPool2D

BLUR_PADDING_MODES = ("reflect", "zeros", "circular")


def binomial_filter(kernel_size):
    """(K, K) low-pass filter: outer product of the binomial row C(K-1, k), summing to 1.

    K=1: [1] (plain subsampling); K=2: [1,1]/2 (box); K=3: [1,2,1]/4; K=5: [1,4,6,4,1]/16.
    """
    row = np.array([math.comb(kernel_size - 1, k) for k in range(kernel_size)], dtype=np.float64)
    filt = np.outer(row, row)                                     # (K, K)
    return filt / filt.sum()


def blur_pads(kernel_size):
    """(top, bottom, left, right) = ((K-1)//2, K//2, ...): output size ceil(H / stride)."""
    before, after = (kernel_size - 1) // 2, kernel_size // 2
    return (before, after, before, after)


# --------------------------------------------------------------------------------------------
# Padding, including the reflect mode that minicnn.layers.padding does not have.
# --------------------------------------------------------------------------------------------
def blur_pad(x, pads, mode):
    """Pad the last two axes of x (N, C, H, W) with "reflect", "zeros" or "circular"."""
    if mode != "reflect":
        return pad2d(x, pads, mode)
    top, bottom, left, right = pads
    return np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), mode="reflect")


def _fold_reflect_rows(dxp, before, after):
    """Adjoint of reflect padding along axis -2: a mirrored row's gradient goes to its source.

    np.pad's "reflect" copies padded row i < before from row before - i, and padded row
    before + H + j from row H - 2 - j (the edge row itself is not repeated).
    """
    H = dxp.shape[-2] - before - after
    d = dxp[..., before:before + H, :].copy()                     # (N, C, H, Wp)
    for i in range(before):
        d[..., before - i, :] += dxp[..., i, :]
    for j in range(after):
        d[..., H - 2 - j, :] += dxp[..., before + H + j, :]
    return d


def blur_pad_backward(dxp, pads, mode):
    """Gradient of `blur_pad`: crop, adding the gradient of every copied pixel to its source."""
    if mode != "reflect":
        return pad2d_backward(dxp, pads, mode)
    top, bottom, left, right = pads
    rows = _fold_reflect_rows(dxp, top, bottom)                   # (N, C, H, Wp)
    cols = _fold_reflect_rows(rows.swapaxes(-1, -2), left, right)  # (N, C, W, H)
    return np.ascontiguousarray(cols.swapaxes(-1, -2))             # (N, C, H, W)


# --------------------------------------------------------------------------------------------
# Depthwise blur + subsampling: the naive reference, then the vectorised one. Both share one
# contract (CS231n's):  out, cache = blurpool2d_*(x, filt, stride, pads, mode)
#                       dx = blurpool2d_*_backward(dout, cache)
# x: (N, C, H, W); filt: (K, K); stride: (sh, sw); pads: (top, bottom, left, right).
# --------------------------------------------------------------------------------------------
def blurpool2d_naive(x, filt, stride, pads, mode):
    """Loop version: out[n, c, i, j] = sum_{p, q} filt[p, q] * xp[n, c, i*sh + p, j*sw + q].

    The same filter for every channel and every position. out: (N, C, Ho, Wo).
    """
    xp = blur_pad(x, pads, mode)
    K, (sh, sw) = filt.shape[0], stride
    Ho, Wo = (xp.shape[2] - K) // sh + 1, (xp.shape[3] - K) // sw + 1
    out = np.empty(x.shape[:2] + (Ho, Wo), dtype=x.dtype)
    for i in range(Ho):
        for j in range(Wo):
            window = xp[:, :, i * sh:i * sh + K, j * sw:j * sw + K]           # (N, C, K, K)
            out[:, :, i, j] = np.sum(window * filt, axis=(2, 3))
    return out, (x.shape, filt, stride, pads, mode)


def blurpool2d_naive_backward(dout, cache):
    """Loop version: each output sends filt * dout back to the window it read. dx (N, C, H, W)."""
    (N, C, H, W), filt, (sh, sw), pads, mode = cache
    K, (Ho, Wo) = filt.shape[0], dout.shape[2:]
    top, bottom, left, right = pads
    dxp = np.zeros((N, C, H + top + bottom, W + left + right), dtype=dout.dtype)
    for i in range(Ho):
        for j in range(Wo):
            dxp[:, :, i * sh:i * sh + K, j * sw:j * sw + K] += (
                filt * dout[:, :, i, j, None, None])                             # (N, C, K, K)
    return blur_pad_backward(dxp, pads, mode)


def blurpool2d_fast(x, filt, stride, pads, mode):
    """Sum of K*K strided slices of the padded input, each times one filter tap.

    Same arguments and result as `blurpool2d_naive`. The cache holds only shapes and the filter:
    the layer is linear in x, so backward does not need x.
    """
    xp = blur_pad(x, pads, mode)
    K, (sh, sw) = filt.shape[0], stride
    Ho, Wo = (xp.shape[2] - K) // sh + 1, (xp.shape[3] - K) // sw + 1
    out = np.zeros(x.shape[:2] + (Ho, Wo), dtype=x.dtype)
    for p in range(K):
        for q in range(K):
            out += filt[p, q] * xp[:, :, p:p + sh * Ho:sh, q:q + sw * Wo:sw]   # (N, C, Ho, Wo)
    return out, (x.shape, filt, stride, pads, mode)


def blurpool2d_fast_backward(dout, cache):
    """dx (N, C, H, W): every tap sends filt[p, q] * dout back to the pixels it read."""
    (N, C, H, W), filt, (sh, sw), pads, mode = cache
    K, (Ho, Wo) = filt.shape[0], dout.shape[2:]
    top, bottom, left, right = pads
    dxp = np.zeros((N, C, H + top + bottom, W + left + right), dtype=dout.dtype)
    for p in range(K):
        for q in range(K):
            dxp[:, :, p:p + sh * Ho:sh, q:q + sw * Wo:sw] += filt[p, q] * dout
    return blur_pad_backward(dxp, pads, mode)


BLURPOOL_IMPLS = {"naive": (blurpool2d_naive, blurpool2d_naive_backward),
                  "fast": (blurpool2d_fast, blurpool2d_fast_backward)}


# --------------------------------------------------------------------------------------------
# The layers.
# --------------------------------------------------------------------------------------------
class BlurPool2D(Layer):
    """Low-pass filter each channel with a fixed binomial kernel, then keep every stride-th pixel.

    channels: None (any) or the expected C, checked; kernel_size K: 1 (no blur) to 7;
    stride: int or (h, w); padding_mode: "reflect", "zeros" or "circular"; impl "fast"/"naive".
    (N, C, H, W) -> (N, C, ceil(H / sh), ceil(W / sw)). No parameters: nothing is learned.
    """

    def __init__(self, channels=None, kernel_size=3, stride=2, padding_mode="reflect",
                 impl="fast"):
        super().__init__()
        where = "BlurPool2D"
        self.channels = (None if channels is None
                         else check_int(channels, "channels", where, minimum=1))
        self.kernel_size = check_int(kernel_size, "kernel_size", where, minimum=1)
        if self.kernel_size > 7:
            raise ValueError(f"BlurPool2D: kernel_size must be 1 to 7, got {kernel_size!r}")
        self.stride = as_pair("stride", stride, where)
        self.padding_mode = check_choice(padding_mode, "padding_mode", where, BLUR_PADDING_MODES)
        self.impl = check_choice(impl, "impl", where, tuple(BLURPOOL_IMPLS))
        self.blur, self.blur_backward = BLURPOOL_IMPLS[impl]     # the one line that picks
        self.filter = binomial_filter(self.kernel_size)           # (K, K), sums to 1
        self.pads = blur_pads(self.kernel_size)

    def __repr__(self):
        s = self.stride[0] if self.stride[0] == self.stride[1] else self.stride
        extra = "" if self.padding_mode == "reflect" else f", padding_mode={self.padding_mode!r}"
        return (f"{self.name}(channels={self.channels}, kernel_size={self.kernel_size}, "
                f"stride={s}{extra})")

    def output_shape(self, input_shape):
        if len(input_shape) != 4:
            raise ShapeError(f"{self!r} expected a 4-d input (N, C, H, W), got shape "
                             f"{tuple(input_shape)}")
        N, C, H, W = input_shape
        if self.channels is not None and C != self.channels:
            raise ShapeError(f"{self!r} got input with {C} channels, expected "
                             f"channels={self.channels}: x.shape={tuple(input_shape)}"
                             + nhwc_hint(input_shape, self.channels))
        if self.padding_mode == "reflect" and max(self.pads) >= min(H, W):
            raise ShapeError(f"{self!r}: reflect padding of {max(self.pads)} needs H and W "
                             f"> {max(self.pads)}, got x.shape={tuple(input_shape)}")
        return (N, C, -(-H // self.stride[0]), -(-W // self.stride[1]))   # ceil(H / s)

    def forward(self, x):
        x = self.check_input(x)
        filt = self.filter.astype(x.dtype)
        out, self.cache = self.blur(x, filt, self.stride, self.pads, self.padding_mode)
        return out

    def backward(self, dout):
        return self.blur_backward(self.check_dout(dout), self.cache)


class MaxBlurPool2D(Layer):
    """Zhang's anti-aliased max pooling: MaxPool2D(2, stride=1), then BlurPool2D(stride).

    The dense (stride-1) maximum keeps max pooling's nonlinearity; the subsampling that aliases
    is moved after a low-pass filter. (N, C, H, W) -> (N, C, ceil((H - 1) / s), ...), which is
    H / 2 for even H, the size MaxPool2D(2) gives. Same arguments as BlurPool2D.
    """

    def __init__(self, channels=None, kernel_size=3, stride=2, padding_mode="reflect"):
        super().__init__()
        self.max = MaxPool2D(2, stride=1)
        self.blur = BlurPool2D(channels, kernel_size, stride, padding_mode)

    def __repr__(self):
        return "Max" + repr(self.blur)

    def output_shape(self, input_shape):
        if len(input_shape) != 4:
            raise ShapeError(f"{self!r} expected a 4-d input (N, C, H, W), got shape "
                             f"{tuple(input_shape)}")
        if min(input_shape[2:]) < 2:
            raise ShapeError(f"{self!r} needs H, W >= 2 for its 2x2 maximum, got shape "
                             f"{tuple(input_shape)}")
        N, C, H, W = input_shape
        if self.blur.channels is not None and C != self.blur.channels:
            raise ShapeError(f"{self!r} got input with {C} channels, expected channels="
                             f"{self.blur.channels}: x.shape={tuple(input_shape)}"
                             + nhwc_hint(input_shape, self.blur.channels))
        try:
            return self.blur.output_shape((N, C, H - 1, W - 1))  # after the stride-1 2x2 max
        except ShapeError as e:                                   # name the layer you wrote
            raise ShapeError(str(e).replace(repr(self.blur), repr(self))) from None

    def forward(self, x):
        x = self.check_input(x)
        self.cache = True                                         # the two inner layers keep theirs
        return self.blur.forward(self.max.forward(x))

    def backward(self, dout):
        return self.max.backward(self.blur.backward(self.check_dout(dout)))
