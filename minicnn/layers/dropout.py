"""Dropout: the worked example of a layer that acts differently in training and evaluation."""

from .base import Layer, as_rng, check_number


class Dropout(Layer):
    """Zero each input element with probability p while training; the identity in evaluation.

    Inverted dropout: the kept elements are divided by (1 - p), so the expected output equals
    the input and evaluation needs no rescaling. Every forward in training mode draws a fresh
    random mask from `rng` (int seed, Generator or None); backward lets the gradient through
    exactly where the mask kept the input, scaled the same way. Reads `self.training`, which
    Sequential.train() / .eval(), fit and evaluate set (check_layer needs evaluation mode).

    p: drop probability in [0, 1). Input any shape -> output the same shape. No params.
    """

    def __init__(self, p=0.5, rng=None):
        super().__init__()
        self.p = check_number(p, "p", "Dropout", low=0, high=1, high_open=True)
        self.rng = as_rng(rng)

    def __repr__(self):
        return f"Dropout(p={self.p})"

    def output_shape(self, input_shape):
        return tuple(input_shape)

    def forward(self, x):
        x = self.check_input(x)
        if not self.training or self.p == 0:
            self.cache = 1.0                                       # evaluation: identity
            return x
        keep = self.rng.random(x.shape) >= self.p                  # (same shape as x), bools
        self.cache = (keep / (1 - self.p)).astype(x.dtype)        # the scale: 0 or 1/(1-p)
        return x * self.cache

    def backward(self, dout):
        return self.check_dout(dout) * self.cache
