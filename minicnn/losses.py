"""Softmax cross-entropy, the loss every classifier here is trained with."""

import numpy as np

from .layers.base import ShapeError, check_float_array
from .resilience import NonFiniteError


def check_labels(y, n, num_classes, where):
    """Return y as int64 of shape (n,) with values in [0, num_classes), or raise naming `where`."""
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != n:
        raise ShapeError(f"{where}: expected labels y of shape ({n},) to match {n} inputs, "
                         f"got y.shape={y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        if not (np.issubdtype(y.dtype, np.floating) and np.all(np.mod(y, 1) == 0)):
            raise TypeError(f"{where}: labels y must be integers, got dtype {y.dtype}")
        y = y.astype(np.int64)
    if n and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"{where}: labels y must be in [0, {num_classes - 1}] for "
                         f"{num_classes} classes, got values from {y.min()} to {y.max()}")
    return y.astype(np.int64, copy=False)


def softmax(logits):
    """Row-wise softmax of (N, K) logits, stable for any magnitude (subtract the row max)."""
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def softmax_cross_entropy(logits, y):
    """Mean cross-entropy of softmax(logits) against integer labels, and its gradient.

    logits: (N, K) float; y: (N,) ints in [0, K).
    Returns (loss, dlogits) with dlogits = (softmax(logits) - onehot(y)) / N, shape (N, K).
    Stable: log-softmax is computed as z - log(sum(exp(z))) with z = logits - max.
    NaN or inf logits (a forward pass that overflowed) raise NonFiniteError: the loss would be
    NaN, and so would every gradient.
    """
    logits = check_float_array(logits, "logits", "softmax_cross_entropy")
    if logits.ndim != 2 or logits.shape[0] == 0:
        raise ShapeError(f"softmax_cross_entropy expected logits of shape (N, K) with N >= 1, "
                         f"got logits.shape={logits.shape}")
    N, K = logits.shape
    y = check_labels(y, N, K, "softmax_cross_entropy")
    bad = ~np.isfinite(logits).all(axis=1)                       # (N,) rows with NaN or inf
    if bad.any():
        raise NonFiniteError(f"softmax_cross_entropy: the logits contain NaN or inf in "
                             f"{bad.sum()} of {N} rows (first: row {bad.argmax()}), so the loss "
                             "is nan: the model's forward pass overflowed", layer="loss")
    z = logits - logits.max(axis=1, keepdims=True)               # (N, K), max entry 0
    log_sum = np.log(np.exp(z).sum(axis=1, keepdims=True))       # (N, 1), in [0, log K]
    log_p = z - log_sum                                           # (N, K) log-probabilities
    loss = -log_p[np.arange(N), y].mean()
    dlogits = np.exp(log_p)
    dlogits[np.arange(N), y] -= 1
    return float(loss), dlogits / N
