"""Flatten, the fully connected layer, and ReLU."""

import numpy as np

from .base import Layer, ShapeError, check_float_dtype, check_int, he_normal


class Flatten(Layer):
    """(N, C, H, W) -> (N, C*H*W): every pixel of every feature map becomes its own feature.

    After this, nothing remembers that pixel (i, j) and pixel (i, j+1) are neighbours.
    """

    def __repr__(self):
        return "Flatten()"

    def output_shape(self, input_shape):
        if len(input_shape) < 2:
            raise ShapeError(f"Flatten() expected at least a 2-d input (N, ...), got shape "
                             f"{tuple(input_shape)}")
        return (input_shape[0], int(np.prod(input_shape[1:])))

    def forward(self, x):
        x = self.check_input(x)
        self.cache = x.shape
        return x.reshape(x.shape[0], -1)                          # (N, C*H*W)

    def backward(self, dout):
        dout = self.check_dout(dout)
        return dout.reshape(self.cache)                           # (N, C, H, W)


class Linear(Layer):
    """The fully connected layer: out = x @ W.T + b.

    W has one column per input feature. After Flatten, every pixel position of every feature map
    gets its own weights (a column of W), learned separately: a pattern seen only in the top-left
    corner during training leaves the weights that read the bottom-right untrained. This layer is
    neither equivariant nor invariant to shifts.

    in_features D, out_features M; rng: Generator or seed for He init; dtype: float32/float64.
    Input (N, D) -> output (N, M). params: W (M, D) as in PyTorch, b (M,).
    """

    def __init__(self, in_features, out_features, rng=None, dtype=np.float32):
        super().__init__()
        self.in_features = check_int(in_features, "in_features", "Linear", minimum=1)
        self.out_features = check_int(out_features, "out_features", "Linear", minimum=1)
        dtype = check_float_dtype(dtype, "Linear")
        shape = (self.out_features, self.in_features)
        self.params["W"] = he_normal(shape, self.in_features, rng, dtype)
        self.params["b"] = np.zeros(self.out_features, dtype=dtype)

    def __repr__(self):
        return f"Linear(in_features={self.in_features}, out_features={self.out_features})"

    def output_shape(self, input_shape):
        shape = tuple(input_shape)                                # the batch that came, N included
        if len(shape) != 2 or shape[1] != self.in_features:
            raise ShapeError(f"{self!r} expected input of shape (N, {self.in_features}), got "
                             f"{shape}" + (" (add Flatten() before it?)" if len(shape) > 2 else ""))
        return (shape[0], self.out_features)

    def forward(self, x):
        x = self.check_input(x)
        self.cache = x
        return x @ self.params["W"].T + self.params["b"]          # (N, D) @ (D, M) -> (N, M)

    def backward(self, dout):
        dout = self.check_dout(dout)
        x, W = self.cache, self.params["W"]
        self.grads["W"] = (dout.T @ x).astype(W.dtype, copy=False)   # (M, N) @ (N, D) -> (M, D)
        self.grads["b"] = dout.sum(axis=0).astype(W.dtype, copy=False)
        return dout @ W                                           # (N, M) @ (M, D) -> (N, D)


class ReLU(Layer):
    """max(0, x), elementwise. Gradient 1 where x > 0, else 0 (0 at exactly x = 0)."""

    def __repr__(self):
        return "ReLU()"

    def output_shape(self, input_shape):
        return tuple(input_shape)

    def forward(self, x):
        x = self.check_input(x)
        self.cache = x > 0                                        # where the gradient flows
        return np.maximum(x, 0)

    def backward(self, dout):
        return self.check_dout(dout) * self.cache
