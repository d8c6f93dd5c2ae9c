"""Pooling: summarise each window of a feature map by its maximum or its mean.

A KxK pool with stride s is equivariant only to shifts that are multiples of s: shift by one
pixel and different pixels share a window. Global pooling summarises the whole map in one number
per channel, so it throws away *where* a feature fired: over an equivariant map it is invariant.

Output size per axis: Ho = (H - KH) // sh + 1 (no padding; windows that do not fit are dropped).
Max-pool ties: the gradient goes to the first maximum of the window in row-major order (as in
PyTorch); a window holding NaN has the maximum NaN, and its first NaN gets the gradient. The
loop, vectorised and fast (minicnn/fast/pool.py) versions all do so.
"""

from typing import ClassVar

import numpy as np

from ..fast.pool import maxpool2d_fast, maxpool2d_fast_backward
from .base import Layer, ShapeError, as_pair, check_choice
from .conv import conv_output_size


def pooled_hw(x_shape, kernel, stride):
    """(Ho, Wo) of a pool over an input of x_shape (N, C, H, W), without padding."""
    return (conv_output_size(x_shape[2], 0, 0, kernel[0], stride[0]),
            conv_output_size(x_shape[3], 0, 0, kernel[1], stride[1]))


def _window_slices(kernel, stride, out_hw):
    """Yield (rows, cols): the slices that pick offset (p, q) of every window at once."""
    (KH, KW), (sh, sw), (Ho, Wo) = kernel, stride, out_hw
    for p in range(KH):
        for q in range(KW):
            yield slice(p, p + sh * Ho, sh), slice(q, q + sw * Wo, sw)


# --------------------------------------------------------------------------------------------
# Max pooling. Every version shares one contract (CS231n's), so they can be read side by side:
#     out, cache = maxpool2d_*(x, kernel, stride)      dx = maxpool2d_*_backward(dout, cache)
# --------------------------------------------------------------------------------------------
def maxpool2d_naive(x, kernel, stride):
    """Loop version, the reference. x: (N, C, H, W) -> out (N, C, Ho, Wo), cache."""
    (KH, KW), (sh, sw) = kernel, stride
    Ho, Wo = pooled_hw(x.shape, kernel, stride)
    out = np.empty(x.shape[:2] + (Ho, Wo), dtype=x.dtype)
    for i in range(Ho):
        for j in range(Wo):
            out[:, :, i, j] = x[:, :, i * sh:i * sh + KH, j * sw:j * sw + KW].max(axis=(2, 3))
    return out, (x, kernel, stride)


def maxpool2d_naive_backward(dout, cache):
    """Loop version: each window's gradient goes to its first maximum. Returns dx (N, C, H, W)."""
    x, (KH, KW), (sh, sw) = cache
    N, C, Ho, Wo = dout.shape
    dx = np.zeros(x.shape, dtype=dout.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    window = x[n, c, i * sh:i * sh + KH, j * sw:j * sw + KW]
                    p, q = np.unravel_index(np.argmax(window), window.shape)  # first maximum
                    dx[n, c, i * sh + p, j * sw + q] += dout[n, c, i, j]
    return dx


def maxpool2d_vectorised(x, kernel, stride):
    """The maximum over KH*KW strided slices, one per window offset. Same contract as naive."""
    out_hw = pooled_hw(x.shape, kernel, stride)
    out = np.full(x.shape[:2] + out_hw, -np.inf, dtype=x.dtype)
    for rows, cols in _window_slices(kernel, stride, out_hw):
        out = np.maximum(out, x[:, :, rows, cols])                # (N, C, Ho, Wo); NaN wins
    return out, (x, out, kernel, stride)


def maxpool2d_vectorised_backward(dout, cache):
    """Offsets in row-major order: each window's gradient goes to the first that holds its max."""
    x, out, kernel, stride = cache
    dx = np.zeros(x.shape, dtype=dout.dtype)
    found = np.zeros(out.shape, dtype=bool)                       # (N, C, Ho, Wo)
    for rows, cols in _window_slices(kernel, stride, out.shape[2:]):
        s = x[:, :, rows, cols]
        first = ((s == out) | np.isnan(s)) & ~found               # NaN != NaN: ask isnan
        dx[:, :, rows, cols] += np.where(first, dout, 0)          # overlapping windows add up
        found |= first
    return dx


MAXPOOL_IMPLS = {"naive": (maxpool2d_naive, maxpool2d_naive_backward),
                 "vectorised": (maxpool2d_vectorised, maxpool2d_vectorised_backward),
                 "fast": (maxpool2d_fast, maxpool2d_fast_backward)}      # minicnn/fast/pool.py


# --------------------------------------------------------------------------------------------
# Average pooling, the same contract: out, cache = avgpool2d_*(x, kernel, stride);
# dx = avgpool2d_*_backward(dout, cache). Every pixel of a window gets dout / (KH*KW) back.
# --------------------------------------------------------------------------------------------
def avgpool2d_naive(x, kernel, stride):
    """Loop version, the reference. x: (N, C, H, W) -> out (N, C, Ho, Wo), cache."""
    (KH, KW), (sh, sw) = kernel, stride
    Ho, Wo = pooled_hw(x.shape, kernel, stride)
    out = np.empty(x.shape[:2] + (Ho, Wo), dtype=x.dtype)
    for i in range(Ho):
        for j in range(Wo):
            out[:, :, i, j] = x[:, :, i * sh:i * sh + KH, j * sw:j * sw + KW].mean(axis=(2, 3))
    return out, (x.shape, kernel, stride)


def avgpool2d_naive_backward(dout, cache):
    """Loop version: each window shares its gradient equally among its KH*KW pixels."""
    x_shape, (KH, KW), (sh, sw) = cache
    Ho, Wo = dout.shape[2:]
    dx = np.zeros(x_shape, dtype=dout.dtype)
    for i in range(Ho):
        for j in range(Wo):
            share = dout[:, :, i, j] / (KH * KW)                  # (N, C)
            dx[:, :, i * sh:i * sh + KH, j * sw:j * sw + KW] += share[:, :, None, None]
    return dx


def avgpool2d_vectorised(x, kernel, stride):
    """The sum of KH*KW strided slices, one per window offset, over KH*KW."""
    out_hw = pooled_hw(x.shape, kernel, stride)
    out = np.zeros(x.shape[:2] + out_hw, dtype=x.dtype)
    for rows, cols in _window_slices(kernel, stride, out_hw):
        out += x[:, :, rows, cols]                                # (N, C, Ho, Wo)
    return out / (kernel[0] * kernel[1]), (x.shape, kernel, stride)


def avgpool2d_vectorised_backward(dout, cache):
    """Every offset of every window gets dout / (KH*KW); overlapping windows add up."""
    x_shape, kernel, stride = cache
    share = dout / (kernel[0] * kernel[1])
    dx = np.zeros(x_shape, dtype=dout.dtype)
    for rows, cols in _window_slices(kernel, stride, dout.shape[2:]):
        dx[:, :, rows, cols] += share
    return dx


AVGPOOL_IMPLS = {"naive": (avgpool2d_naive, avgpool2d_naive_backward),
                 "vectorised": (avgpool2d_vectorised, avgpool2d_vectorised_backward),
                 "fast": (avgpool2d_vectorised, avgpool2d_vectorised_backward)}  # no trick needed


# --------------------------------------------------------------------------------------------
# The layers.
# --------------------------------------------------------------------------------------------
class _Pool2D(Layer):
    """What the windowed pools share: kernel_size, stride (default = kernel_size), the checks,
    and forward/backward through the pair of functions `impl` picks from `impls`."""

    impls: ClassVar[dict] = {}                  # name -> (forward, backward); set by each pool

    def __init__(self, kernel_size, stride=None, impl="fast"):
        super().__init__()
        self.kernel_size = as_pair("kernel_size", kernel_size, self.name)
        self.stride = as_pair("stride", self.kernel_size if stride is None else stride, self.name)
        self.impl = check_choice(impl, "impl", self.name, tuple(self.impls))
        self.pool, self.pool_backward = self.impls[impl]          # the one line that picks

    def __repr__(self):
        k, s = self.kernel_size, self.stride
        short_k, short_s = (k[0] if k[0] == k[1] else k), (s[0] if s[0] == s[1] else s)
        return f"{self.name}({short_k})" if s == k else f"{self.name}({short_k}, stride={short_s})"

    def output_shape(self, input_shape):
        if len(input_shape) != 4:
            raise ShapeError(f"{self!r} expected a 4-d input (N, C, H, W), got shape {input_shape}")
        N, C, H, W = input_shape
        KH, KW = self.kernel_size
        if KH > H or KW > W:
            raise ShapeError(f"{self!r}: kernel {self.kernel_size} is larger than the input "
                             f"{(H, W)} (x.shape={tuple(input_shape)})")
        return (N, C, *pooled_hw(input_shape, self.kernel_size, self.stride))

    def forward(self, x):
        x = self.check_input(x)
        out, self.cache = self.pool(x, self.kernel_size, self.stride)
        return out

    def backward(self, dout):
        return self.pool_backward(self.check_dout(dout), self.cache)


class MaxPool2D(_Pool2D):
    """Max over each KHxKW window, moved by `stride` (default: the kernel size).

    impl: "fast" (minicnn/fast/pool.py), "vectorised" (strided slices) or "naive" (loops).
    (N, C, H, W) -> (N, C, Ho, Wo). Ties: the gradient goes to the first maximum in row-major
    order.
    """

    impls = MAXPOOL_IMPLS


class AvgPool2D(_Pool2D):
    """Mean over each KHxKW window, moved by `stride` (default: the kernel size).

    impl: "fast" or "vectorised" (strided slices, the same code) or "naive" (loops).
    (N, C, H, W) -> (N, C, Ho, Wo); every pixel of a window gets dout / (KH*KW) back.
    """

    impls = AVGPOOL_IMPLS


class GlobalAvgPool2D(Layer):
    """Mean of each whole feature map: (N, C, H, W) -> (N, C).

    Position is averaged away, so over circularly padded convolutions the output is exactly
    invariant to circular shifts. Every pixel gets dout / (H*W) back.
    """

    def __repr__(self):
        return "GlobalAvgPool2D()"

    def output_shape(self, input_shape):
        if len(input_shape) != 4:
            raise ShapeError(f"{self!r} expected a 4-d input (N, C, H, W), got shape {input_shape}")
        return tuple(input_shape[:2])

    def forward(self, x):
        x = self.check_input(x)
        self.cache = x.shape
        return x.mean(axis=(2, 3))

    def backward(self, dout):
        dout = self.check_dout(dout)
        N, C, H, W = self.cache
        return np.broadcast_to((dout / (H * W))[:, :, None, None], (N, C, H, W)).copy()


class GlobalMaxPool2D(GlobalAvgPool2D):
    """Maximum of each whole feature map: (N, C, H, W) -> (N, C).

    "Did this feature fire anywhere?": invariant to where. The gradient goes to the first
    maximum in row-major order.
    """

    def __repr__(self):
        return "GlobalMaxPool2D()"

    def forward(self, x):
        x = self.check_input(x)
        N, C, H, W = x.shape
        flat = x.reshape(N, C, H * W)                             # (N, C, H*W)
        arg = flat.argmax(axis=2)                                 # (N, C), the first maximum
        self.cache = (x.shape, arg)
        return np.take_along_axis(flat, arg[:, :, None], axis=2)[:, :, 0]   # (N, C)

    def backward(self, dout):
        dout = self.check_dout(dout)
        (N, C, H, W), arg = self.cache
        dx = np.zeros((N, C, H * W), dtype=dout.dtype)            # (N, C, H*W)
        np.put_along_axis(dx, arg[:, :, None], dout[:, :, None], axis=2)
        return dx.reshape(N, C, H, W)
