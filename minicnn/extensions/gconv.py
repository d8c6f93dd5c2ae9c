"""Rotation equivariance by weight sharing: p4 group convolutions (Cohen & Welling, ICML 2016).

A convolution shares one kernel across all positions, so it is equivariant to shifts. Share it
also across the four 90-degree rotations and the layer becomes equivariant to those too: every
kernel is used upright and rotated by 90, 180 and 270 degrees, and the outputs get a rotation
axis r = 0..3 next to the channel axis.

    P4LiftConv2D:   (N, C, H, W)    -> (N, F, 4, H', W')   out[:, f, r] = x * rot90(W[f], r)
    P4GroupConv2D:  (N, C, 4, H, W) -> (N, F, 4, H', W')   the filter is rotated AND its own
                                                           rotation axis is cyclically shifted
    P4RotationPool: (N, C, 4, H, W) -> (N, C, H, W)        max or mean over r

Rotate the input by 90 degrees (R = np.rot90 on the last two axes) and
    out(R x)[:, f, r] = R out(x)[:, f, r - 1]:
the maps rotate and the rotation axis rolls by one (EQUIVARIANT). Pooling over r then gives
maps that only rotate, and a global pool on top gives a number that does not change at all
(INVARIANT). This is exact, not approximate, when the grid of windows is rotation-symmetric:
square input, stride 1 and the same padding on all four sides (e.g. padding="same" with an odd
kernel), zero or circular.

Implementation: build the expanded filter bank (every rotated copy), run the ordinary im2col
convolution of minicnn.fast.conv, and in backward map the bank's gradient back onto W by rotating
each copy back and summing: one weight used in four places gets the sum of four gradients.
"""

import numpy as np

from ..fast.conv import conv2d_fast, conv2d_fast_backward
from ..layers.base import (
    Layer,
    ShapeError,
    check_choice,
    check_float_dtype,
    check_int,
    he_normal,
    nhwc_hint,
)
from ..layers.conv import conv_output_size
from ..layers.padding import PADDING_MODES

ROTATIONS = 4


def rotate(x, k=1):
    """Rotate the last two axes by k * 90 degrees counter-clockwise (np.rot90 on axes (-2, -1))."""
    return np.rot90(x, k, axes=(-2, -1))


def lift_filter_bank(w):
    """w: (F, C, K, K) -> bank (F*4, C, K, K), bank[f*4 + r] = rot90(w[f], r)."""
    bank = np.stack([rotate(w, r) for r in range(ROTATIONS)], axis=1)        # (F, 4, C, K, K)
    return bank.reshape(-1, *w.shape[1:])                                     # (F*4, C, K, K)


def lift_filter_bank_backward(dbank, w_shape):
    """Adjoint of lift_filter_bank: rotate each copy's gradient back and sum the four."""
    d = dbank.reshape(w_shape[0], ROTATIONS, *w_shape[1:])                    # (F, 4, C, K, K)
    return sum(rotate(d[:, r], -r) for r in range(ROTATIONS))                 # (F, C, K, K)


def group_filter_bank(w):
    """w: (F, C, 4, K, K) -> bank (F*4, C*4, K, K).

    bank[f, r, c, s] = rot90(w[f, c, (s - r) mod 4], r): output rotation r sees input rotation s
    through the filter slice s - r, turned by r. This is g^{-1} h in Cohen & Welling's formula.
    """
    F, C, _, K, _ = w.shape
    bank = np.stack([rotate(np.roll(w, r, axis=2), r) for r in range(ROTATIONS)],
                    axis=1)                                                   # (F, 4, C, 4, K, K)
    return bank.reshape(F * ROTATIONS, C * ROTATIONS, K, K)


def group_filter_bank_backward(dbank, w_shape):
    """Adjoint of group_filter_bank: un-rotate, un-roll, and sum over the four output rotations."""
    F, C, _, K, _ = w_shape
    d = dbank.reshape(F, ROTATIONS, C, ROTATIONS, K, K)                       # (F, 4, C, 4, K, K)
    return sum(np.roll(rotate(d[:, r], -r), -r, axis=2) for r in range(ROTATIONS))


class _P4Conv(Layer):
    """Shared set-up of the two p4 convolutions: padding, He init, shapes, forward, backward."""

    in_dims = 4                                     # 4 for (N, C, H, W), 5 for (N, C, 4, H, W)

    def __init__(self, in_channels, out_channels, kernel_size, padding=0, padding_mode="zeros",
                 rng=None, dtype=np.float32):
        super().__init__()
        self.in_channels = check_int(in_channels, "in_channels", self.name, minimum=1)
        self.out_channels = check_int(out_channels, "out_channels", self.name, minimum=1)
        self.kernel_size = check_int(kernel_size, "kernel_size", self.name, minimum=1)
        self.padding = self._resolve_padding(padding)
        self.padding_mode = check_choice(padding_mode, "padding_mode", self.name, PADDING_MODES)
        dtype = check_float_dtype(dtype, self.name)
        rotations_in = 1 if self.in_dims == 4 else ROTATIONS
        shape = (self.out_channels, self.in_channels) + (ROTATIONS,) * (rotations_in > 1) \
            + (self.kernel_size, self.kernel_size)
        fan_in = self.in_channels * rotations_in * self.kernel_size ** 2
        self.params["W"] = he_normal(shape, fan_in, rng, dtype)
        self.params["b"] = np.zeros(self.out_channels, dtype=dtype)   # one per f, all r

    def _resolve_padding(self, padding):
        """One int for all four sides (or rotations would not be exact): int, 'same' or 'valid'."""
        if isinstance(padding, str):
            check_choice(padding, "padding", self.name, ("same", "valid"))
            if padding == "valid":
                return 0
            if self.kernel_size % 2 == 0:
                raise ValueError(f"{self.name}: padding='same' needs an odd kernel_size (an "
                                 f"even one cannot be padded the same on all sides), got "
                                 f"{self.kernel_size}")
            return self.kernel_size // 2
        return check_int(padding, "padding (the same on all four sides)", self.name, minimum=0)

    def __repr__(self):
        extra = "" if self.padding == 0 else f", padding={self.padding}"
        extra += "" if self.padding_mode == "zeros" else f", padding_mode={self.padding_mode!r}"
        return (f"{self.name}({self.in_channels}, {self.out_channels}, "
                f"kernel_size={self.kernel_size}{extra})")

    def output_shape(self, input_shape):
        what = "(N, C, H, W)" if self.in_dims == 4 else "(N, C, 4, H, W)"
        shape = tuple(input_shape)
        if len(shape) != self.in_dims or (self.in_dims == 5 and shape[2] != ROTATIONS):
            raise ShapeError(f"{self!r} expected a {self.in_dims}-d input {what}, got shape "
                             f"{shape}" + (" (a P4LiftConv2D first?)" if len(shape) == 4 else ""))
        if shape[1] != self.in_channels:
            raise ShapeError(f"{self!r} got input with {shape[1]} channels, expected "
                             f"in_channels={self.in_channels}: x.shape={shape}"
                             + nhwc_hint(shape, self.in_channels))
        H, W, p, K = shape[-2], shape[-1], self.padding, self.kernel_size
        if K > H + 2 * p or K > W + 2 * p:
            raise ShapeError(f"{self!r}: kernel {K} is larger than the padded input "
                             f"{(H + 2 * p, W + 2 * p)} (x.shape={shape})")
        if self.padding_mode == "circular" and p > min(H, W):
            raise ShapeError(f"{self!r}: circular padding {p} wraps more than once around an "
                             f"input of size {(H, W)}")
        return (shape[0], self.out_channels, ROTATIONS, conv_output_size(H, p, p, K, 1),
                conv_output_size(W, p, p, K, 1))

    def forward(self, x):
        x = self.check_input(x)
        N, F, R = x.shape[0], self.out_channels, ROTATIONS
        x4 = x.reshape(N, -1, *x.shape[-2:])                  # (N, C, H, W) or (N, C*4, H, W)
        bank = self._bank(self.params["W"])                   # (F*4, C or C*4, K, K)
        zeros = np.zeros(F * R, dtype=bank.dtype)             # the bias is added below
        out, fast = conv2d_fast(x4, bank, zeros, (1, 1), (self.padding,) * 4, self.padding_mode)
        out = out.reshape(N, F, R, *out.shape[2:])            # (N, F*4, Ho, Wo) -> (N, F, 4, ...)
        out += self.params["b"].reshape(F, 1, 1, 1)
        self.cache = {"x_shape": x.shape, "fast": fast}
        return out

    def backward(self, dout):
        dout = self.check_dout(dout)
        N, F, R, Ho, Wo = dout.shape
        d4 = dout.reshape(N, F * R, Ho, Wo)                   # (N, F*4, Ho, Wo)
        dx4, dbank, _ = conv2d_fast_backward(d4, self.cache["fast"])
        W = self.params["W"]
        self.grads["W"] = self._bank_backward(dbank, W.shape).astype(W.dtype, copy=False)
        self.grads["b"] = dout.sum(axis=(0, 2, 3, 4)).astype(W.dtype, copy=False)
        return dx4.reshape(self.cache["x_shape"])             # back to the input's layout


class P4LiftConv2D(_P4Conv):
    """Lift an image to the rotation group: each kernel is used in its four 90-degree rotations.

    in_channels C, out_channels F, kernel_size K (square); padding: int, "same" (odd K) or
    "valid", the same on all four sides; padding_mode "zeros" or "circular"; rng: seed for He init.
    Input (N, C, H, W) -> output (N, F, 4, H', W'). params: W (F, C, K, K), b (F,) shared by the
    four rotations. Rotating the input by 90 degrees rotates every map and rolls axis 2 by one.
    """

    in_dims = 4

    def _bank(self, w):
        return lift_filter_bank(w)

    def _bank_backward(self, dbank, w_shape):
        return lift_filter_bank_backward(dbank, w_shape)


class P4GroupConv2D(_P4Conv):
    """Convolution on the rotation group: (N, C, 4, H, W) -> (N, F, 4, H', W').

    For output rotation r, the filter W[f] (C, 4, K, K) is turned by r * 90 degrees and its
    rotation axis rolled by r, then correlated with all C*4 input maps. Same arguments as
    P4LiftConv2D. params: W (F, C, 4, K, K), b (F,).
    """

    in_dims = 5

    def _bank(self, w):
        return group_filter_bank(w)

    def _bank_backward(self, dbank, w_shape):
        return group_filter_bank_backward(dbank, w_shape)


class P4RotationPool(Layer):
    """Pool over the rotation axis: (N, C, 4, H, W) -> (N, C, H, W), mode "max" or "mean".

    Rolling the rotation axis does not change a max or a mean, so after this layer a rotated
    input gives only rotated maps. Max: the gradient goes to the first maximum.
    """

    def __init__(self, mode="max"):
        super().__init__()
        self.mode = check_choice(mode, "mode", "P4RotationPool", ("max", "mean"))

    def __repr__(self):
        return f"P4RotationPool({self.mode!r})"

    def output_shape(self, input_shape):
        shape = tuple(input_shape)
        if len(shape) != 5 or shape[2] != ROTATIONS:
            raise ShapeError(f"{self!r} expected a 5-d input (N, C, 4, H, W), got shape {shape}")
        return shape[:2] + shape[3:]

    def forward(self, x):
        x = self.check_input(x)
        if self.mode == "mean":
            self.cache = {"x_shape": x.shape}
            return x.mean(axis=2)
        arg = x.argmax(axis=2)[:, :, None]                                    # (N, C, 1, H, W)
        out = np.take_along_axis(x, arg, axis=2)[:, :, 0]                     # (N, C, H, W)
        self.cache = {"x_shape": x.shape, "arg": arg}
        return out

    def backward(self, dout):
        dout = self.check_dout(dout)
        shape = self.cache["x_shape"]
        if self.mode == "mean":
            return np.broadcast_to(dout[:, :, None] / ROTATIONS, shape).copy()
        dx = np.zeros(shape, dtype=dout.dtype)
        np.put_along_axis(dx, self.cache["arg"], dout[:, :, None], axis=2)
        return dx
