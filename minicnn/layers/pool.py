"""Pooling: summarise each window of a feature map by its maximum or its mean.

A KxK pool with stride s is equivariant only to shifts that are multiples of s: shift by one
pixel and different pixels share a window. Global pooling summarises the whole map in one number
per channel, so it throws away *where* a feature fired: over an equivariant map it is invariant.

Output size per axis: Ho = (H - KH) // sh + 1 (no padding; windows that do not fit are dropped).
Max-pool ties: the gradient goes to the first maximum of the window in row-major order (as in
PyTorch), in both the naive and the fast version.
"""

import numpy as np

from .base import Layer, ShapeError, as_pair, batch_blocks, check_choice


# --------------------------------------------------------------------------------------------
# Max pooling. Both versions share one contract (CS231n's), so they can be read side by side:
#     out, cache = maxpool2d_*(x, kernel, stride)      dx = maxpool2d_*_backward(dout, cache)
# --------------------------------------------------------------------------------------------
def maxpool2d_naive(x, kernel, stride):
    """Loop version, the reference. x: (N, C, H, W) -> out (N, C, Ho, Wo), cache."""
    N, C, H, W = x.shape
    (KH, KW), (sh, sw) = kernel, stride
    Ho, Wo = (H - KH) // sh + 1, (W - KW) // sw + 1
    out = np.empty((N, C, Ho, Wo), dtype=x.dtype)
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


def _window_slices(kernel, stride, out_hw):
    """Yield (rows, cols): the slices that pick offset (p, q) of every window at once."""
    (KH, KW), (sh, sw), (Ho, Wo) = kernel, stride, out_hw
    for p in range(KH):
        for q in range(KW):
            yield slice(p, p + sh * Ho, sh), slice(q, q + sw * Wo, sw)


def maxpool2d_fast(x, kernel, stride):
    """Same arguments as `maxpool2d_naive`: x (N, C, H, W) -> out (N, C, Ho, Wo), cache.

    The max of KH*KW strided slices (one per window offset), taken with np.maximum. The cache is
    just (x, out): backward finds the winners again by comparing, which costs less than keeping
    an index of them here (measured in demos/benchmark.py: 2x2 forward+backward about 5x faster).
    """
    N, C, H, W = x.shape
    Ho, Wo = (H - kernel[0]) // stride[0] + 1, (W - kernel[1]) // stride[1] + 1
    out = np.empty((N, C, Ho, Wo), dtype=x.dtype)
    for b in batch_blocks(x):                 # a block of images at a time (base.BLOCK_BYTES)
        for k, (rows, cols) in enumerate(_window_slices(kernel, stride, (Ho, Wo))):
            s = x[b, :, rows, cols]                               # (n, C, Ho, Wo)
            if k == 0:
                out[b] = s                                        # the first offset's values
            else:
                np.maximum(out[b], s, out=out[b])
    return out, (x, out, kernel, stride)


def maxpool2d_fast_backward(dout, cache):
    """Route each output gradient to the first pixel of its window that equals the maximum.

    Offsets are visited in row-major order and `free` marks the windows whose winner is not yet
    found, so on ties the first maximum wins, as in the naive version. Returns dx (N, C, H, W).
    When windows do not overlap (stride >= kernel) each pixel belongs to one window at most, so
    the gradient is written straight into dx, without a temporary and without a zero pass if the
    windows tile the whole input (measured in demos/benchmark.py: 2x2 backward about 3x faster).
    """
    x, out, (KH, KW), (sh, sw) = cache
    Ho, Wo = dout.shape[2:]
    disjoint = sh >= KH and sw >= KW
    tiled = (sh, sw) == (KH, KW) and x.shape[2:] == (sh * Ho, sw * Wo)   # every pixel written
    dx = (np.empty if tiled else np.zeros)(x.shape, dtype=dout.dtype)
    for b in batch_blocks(x):                 # a block of images at a time (base.BLOCK_BYTES)
        free = np.ones(out[b].shape, dtype=bool)                  # (n, C, Ho, Wo)
        hit = np.empty(out[b].shape, dtype=bool)
        for rows, cols in _window_slices((KH, KW), (sh, sw), (Ho, Wo)):
            np.equal(x[b, :, rows, cols], out[b], out=hit)        # this offset holds the max
            hit &= free
            free ^= hit                                           # hit is a part of free
            if disjoint:
                np.multiply(dout[b], hit, out=dx[b, :, rows, cols])   # 0/1 mask: beats where
            else:
                dx[b, :, rows, cols] += dout[b] * hit             # overlapping windows add up
    return dx


MAXPOOL_IMPLS = {"naive": (maxpool2d_naive, maxpool2d_naive_backward),
                 "fast": (maxpool2d_fast, maxpool2d_fast_backward)}


class _Pool2D(Layer):
    """Shared checks of the windowed pools: kernel_size and stride (default = kernel_size)."""

    def __init__(self, kernel_size, stride=None):
        super().__init__()
        self.kernel_size = as_pair("kernel_size", kernel_size, self.name)
        self.stride = as_pair("stride", self.kernel_size if stride is None else stride, self.name)

    def __repr__(self):
        k, s = self.kernel_size, self.stride
        short_k, short_s = (k[0] if k[0] == k[1] else k), (s[0] if s[0] == s[1] else s)
        return f"{self.name}({short_k})" if s == k else f"{self.name}({short_k}, stride={short_s})"

    def output_shape(self, input_shape):
        if len(input_shape) != 4:
            raise ShapeError(f"{self!r} expected a 4-d input (N, C, H, W), got shape {input_shape}")
        N, C, H, W = input_shape
        (KH, KW), (sh, sw) = self.kernel_size, self.stride
        if KH > H or KW > W:
            raise ShapeError(f"{self!r}: kernel {self.kernel_size} is larger than the input "
                             f"{(H, W)} (x.shape={tuple(input_shape)})")
        return (N, C, (H - KH) // sh + 1, (W - KW) // sw + 1)


class MaxPool2D(_Pool2D):
    """Max over each KHxKW window, moved by `stride` (default: the kernel size).

    impl: "fast" (strided slices + np.maximum) or "naive" (loops). (N, C, H, W) -> (N, C, Ho, Wo).
    Ties: the gradient goes to the first maximum in row-major order.
    """

    def __init__(self, kernel_size, stride=None, impl="fast"):
        super().__init__(kernel_size, stride)
        self.impl = check_choice(impl, "impl", "MaxPool2D", tuple(MAXPOOL_IMPLS))
        self._forward, self._backward = MAXPOOL_IMPLS[impl]

    def forward(self, x):
        x = self._check_input(x)
        out, cache = self._forward(x, self.kernel_size, self.stride)
        return self._remember(out, cache)

    def backward(self, dout):
        return self._backward(self._check_dout(dout), self.cache)


class AvgPool2D(_Pool2D):
    """Mean over each KHxKW window, moved by `stride` (default: the kernel size).

    (N, C, H, W) -> (N, C, Ho, Wo); every pixel of a window gets dout / (KH*KW) back.
    """

    def forward(self, x):
        x = self._check_input(x)
        (KH, KW), (sh, sw), (H, W) = self.kernel_size, self.stride, x.shape[2:]
        out = 0
        for rows, cols in _window_slices((KH, KW), (sh, sw), ((H - KH) // sh + 1,
                                                               (W - KW) // sw + 1)):
            out = out + x[:, :, rows, cols]                       # (N, C, Ho, Wo)
        out = out / (KH * KW)
        return self._remember(out.astype(x.dtype, copy=False), x_shape=x.shape)

    def backward(self, dout):
        dout = self._check_dout(dout)
        share = dout / (self.kernel_size[0] * self.kernel_size[1])
        dx = np.zeros(self.cache["x_shape"], dtype=dout.dtype)
        for rows, cols in _window_slices(self.kernel_size, self.stride, dout.shape[2:]):
            dx[:, :, rows, cols] += share
        return dx


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
        x = self._check_input(x)
        return self._remember(x.mean(axis=(2, 3)), x_shape=x.shape)

    def backward(self, dout):
        dout = self._check_dout(dout)
        N, C, H, W = self.cache["x_shape"]
        return np.broadcast_to((dout / (H * W))[:, :, None, None], (N, C, H, W)).copy()


class GlobalMaxPool2D(GlobalAvgPool2D):
    """Maximum of each whole feature map: (N, C, H, W) -> (N, C).

    "Did this feature fire anywhere?": invariant to where. The gradient goes to the first
    maximum in row-major order.
    """

    def __repr__(self):
        return "GlobalMaxPool2D()"

    def forward(self, x):
        x = self._check_input(x)
        N, C, H, W = x.shape
        flat = x.reshape(N, C, H * W)                             # (N, C, H*W)
        arg = flat.argmax(axis=2)                                 # first maximum
        out = np.take_along_axis(flat, arg[:, :, None], axis=2)[:, :, 0]
        return self._remember(out, x_shape=x.shape, arg=arg)

    def backward(self, dout):
        dout = self._check_dout(dout)
        N, C, H, W = self.cache["x_shape"]
        dx = np.zeros((N, C, H * W), dtype=dout.dtype)
        np.put_along_axis(dx, self.cache["arg"][:, :, None], dout[:, :, None], axis=2)
        return dx.reshape(N, C, H, W)
