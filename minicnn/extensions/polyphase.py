"""Adaptive polyphase downsampling: subsample at the phase the input chooses (Chaman and
Dokmanic, "Truly shift-invariant convolutional neural networks", CVPR 2021).

Keeping every s-th pixel always from phase (0, 0) ties the output to the pixel grid: shift the
input by one pixel and a different set of pixels survives. A map of H x W pixels splits into
s * s polyphase components x[n, :, i::s, j::s], one per phase (i, j). A circular shift of the
input only relabels the components (and rolls each one), so choosing the component by its
*content* -- the largest l2 norm over all channels -- picks the same pixels whatever the shift,
and the output is a circularly shifted copy of the unshifted output. After circularly padded
convolutions and before a global pool, the network is then exactly invariant to EVERY integer
circular shift, not only to multiples of its total stride.

    out[n] = x[n, :, i*::s, j*::s],  (i*, j*) = argmax_(i, j) ||x[n, :, i::s, j::s]||_2

(N, C, H, W) -> (N, C, H / s, W / s); H and W must be multiples of s (then a shift relabels
whole components; otherwise components have different sizes and the claim fails). Squared
norms are compared: same order, no square root.

Max pooling keeps exact equivariance the paper's way: CircularMaxPool2D(2) takes the 2x2
maximum at stride 1 with windows that wrap around the border (the map keeps its size, and
commutes with every np.roll), then PolyphaseDownsample2D(2) subsamples.
"""

import numpy as np

from ..layers.base import Layer, ShapeError, as_pair, check_choice, check_int
from ..layers.padding import pad2d, pad2d_backward
from ..layers.pool import MaxPool2D


# --------------------------------------------------------------------------------------------
# Naive reference: loop over examples and phases.
# --------------------------------------------------------------------------------------------
def polyphase_downsample_naive(x, stride):
    """Loop version. x: (N, C, H, W) -> out (N, C, H/s, W/s), cache (x.shape, choice, stride).

    choice (N,) holds k = i*s + j of the kept component; on ties the first in row-major order of
    (i, j) wins (strict > in the loop), as in the fast version.
    """
    N, C, H, W = x.shape
    s = stride
    out = np.empty((N, C, H // s, W // s), dtype=x.dtype)
    choice = np.zeros(N, dtype=np.int64)
    for n in range(N):
        best = -1.0
        for i in range(s):
            for j in range(s):
                norm2 = float(np.sum(x[n, :, i::s, j::s] ** 2))
                if norm2 > best:
                    best, choice[n] = norm2, i * s + j
        i, j = divmod(int(choice[n]), s)
        out[n] = x[n, :, i::s, j::s]
    return out, (x.shape, choice, s)


def polyphase_downsample_naive_backward(dout, cache):
    """Loop version: each example's gradient goes back into its kept component. dx (N, C, H, W)."""
    x_shape, choice, s = cache
    dx = np.zeros(x_shape, dtype=dout.dtype)
    for n in range(x_shape[0]):
        i, j = divmod(int(choice[n]), s)
        dx[n, :, i::s, j::s] = dout[n]
    return dx


# --------------------------------------------------------------------------------------------
# Fast: one reshape lays the s*s components side by side, one argmax picks them.
# --------------------------------------------------------------------------------------------
def _components(x, s):
    """x (N, C, H, W) -> (N, s*s, C, H/s, W/s): component k = i*s + j is x[:, :, i::s, j::s]."""
    N, C, H, W = x.shape
    phases = x.reshape(N, C, H // s, s, W // s, s)                # (N, C, Ho, i, Wo, j)
    phases = phases.transpose(0, 3, 5, 1, 2, 4)                   # (N, i, j, C, Ho, Wo)
    return phases.reshape(N, s * s, C, H // s, W // s)            # (N, s*s, C, Ho, Wo)


def polyphase_downsample_fast(x, stride):
    """x: (N, C, H, W) -> out (N, C, H/s, W/s), cache (x.shape, choice, stride).

    Same output and cache as the naive version; np.argmax returns the first maximum, so ties go
    to the first component in row-major order of (i, j) here too.
    """
    comps = _components(x, stride)                                # (N, s*s, C, Ho, Wo)
    norm2 = np.sum(comps ** 2, axis=(2, 3, 4))                    # (N, s*s)
    choice = np.argmax(norm2, axis=1)                             # (N,)
    out = comps[np.arange(x.shape[0]), choice]                    # (N, C, Ho, Wo)
    return out, (x.shape, choice, stride)


def polyphase_downsample_fast_backward(dout, cache):
    """Scatter dout into the kept component of each example, zeros elsewhere. dx (N, C, H, W)."""
    (N, C, H, W), choice, s = cache
    dcomps = np.zeros((N, s * s, C, H // s, W // s), dtype=dout.dtype)   # (N, s*s, C, Ho, Wo)
    dcomps[np.arange(N), choice] = dout
    dx = dcomps.reshape(N, s, s, C, H // s, W // s)               # (N, i, j, C, Ho, Wo)
    dx = dx.transpose(0, 3, 4, 1, 5, 2)                           # (N, C, Ho, i, Wo, j)
    return dx.reshape(N, C, H, W)


POLYPHASE_IMPLS = {"naive": (polyphase_downsample_naive, polyphase_downsample_naive_backward),
                   "fast": (polyphase_downsample_fast, polyphase_downsample_fast_backward)}


# --------------------------------------------------------------------------------------------
# The layer.
# --------------------------------------------------------------------------------------------
class PolyphaseDownsample2D(Layer):
    """Keep, for each example, the polyphase component with the largest l2 norm (APS).

    stride s: int >= 1 (1 keeps x); impl: "fast" or "naive". (N, C, H, W) -> (N, C, H/s, W/s),
    H and W multiples of s. No parameters. cache["choice"] (N,): kept phase k = i*s + j.
    Ties go to the first component in row-major order of (i, j). A tie can break invariance:
    a shift relabels the components, so the first of the tied ones may be a different one, and
    if the tied components differ in content (e.g. x = [[1, 0], [0, -1]] keeps 1, while x rolled
    by one row keeps -1) the outputs differ by more than a shift. An all-zero map ties too, but
    harmlessly: all its components are equal. Random-valued maps do not tie.
    """

    def __init__(self, stride=2, impl="fast"):
        super().__init__()
        self.stride = check_int(stride, "stride", "PolyphaseDownsample2D", minimum=1)
        self.impl = check_choice(impl, "impl", "PolyphaseDownsample2D", ("fast", "naive"))

    def __repr__(self):
        return f"PolyphaseDownsample2D({self.stride})"

    def output_shape(self, input_shape):
        if len(input_shape) != 4:
            raise ShapeError(f"{self!r} expected a 4-d input (N, C, H, W), got shape "
                             f"{tuple(input_shape)}")
        N, C, H, W = input_shape
        s = self.stride
        if H % s or W % s:
            raise ShapeError(f"{self!r}: H and W must be multiples of stride={s} (so a shift "
                             f"relabels whole components), got x.shape={tuple(input_shape)}")
        return (N, C, H // s, W // s)

    def forward(self, x):
        x = self.check_input(x)
        down, _ = POLYPHASE_IMPLS[self.impl]
        out, cache = down(x, self.stride)
        self.cache = {"down": cache, "choice": cache[1]}        # choice: (N,) kept phases
        return out

    def backward(self, dout):
        _, down_backward = POLYPHASE_IMPLS[self.impl]
        return down_backward(self.check_dout(dout), self.cache["down"])


class CircularMaxPool2D(Layer):
    """Max pooling whose windows wrap around the border: MaxPool2D on a circularly padded map.

    kernel_size K, stride s (default 1), impl "fast"/"naive": as MaxPool2D. The map is padded by
    K - 1 rows at the bottom and K - 1 columns at the right, copied from the top and the left,
    so (N, C, H, W) -> (N, C, ceil(H / sh), ceil(W / sw)): H x W at stride 1, where it
    commutes with every circular shift. A wrapped pixel's gradient goes back to its source.
    """

    def __init__(self, kernel_size=2, stride=1, impl="fast"):
        super().__init__()
        self.kernel_size = as_pair("kernel_size", kernel_size, "CircularMaxPool2D")
        self.stride = as_pair("stride", stride, "CircularMaxPool2D")
        check_choice(impl, "impl", "CircularMaxPool2D", ("fast", "naive"))
        self.pool = MaxPool2D(kernel_size, stride, impl=impl)    # on the padded map
        KH, KW = self.kernel_size
        self.pads = (0, KH - 1, 0, KW - 1)                        # (top, bottom, left, right)

    def __repr__(self):
        k, s = self.kernel_size, self.stride
        short_k, short_s = (k[0] if k[0] == k[1] else k), (s[0] if s[0] == s[1] else s)
        return f"CircularMaxPool2D({short_k}, stride={short_s})"

    def output_shape(self, input_shape):
        if len(input_shape) != 4:
            raise ShapeError(f"{self!r} expected a 4-d input (N, C, H, W), got shape "
                             f"{tuple(input_shape)}")
        N, C, H, W = input_shape
        if self.kernel_size[0] > H or self.kernel_size[1] > W:
            raise ShapeError(f"{self!r}: kernel {self.kernel_size} is larger than the input "
                             f"{(H, W)} (it would wrap more than once): "
                             f"x.shape={tuple(input_shape)}")
        return (N, C, -(-H // self.stride[0]), -(-W // self.stride[1]))   # ceil(H / s)

    def forward(self, x):
        x = self.check_input(x)
        self.cache = True                                         # self.pool keeps its own
        return self.pool.forward(pad2d(x, self.pads, "circular"))

    def backward(self, dout):
        dout = self.check_dout(dout)
        return pad2d_backward(self.pool.backward(dout), self.pads, "circular")
