"""Finite-difference gradient checks, for every layer here and for the layers you write.

Centred differences: df/dx_i ~ (f(x + h e_i) - f(x - h e_i)) / 2h, error O(h^2). Run in float64:
in float32 the rounding error of f swamps the difference for any useful h.

    errors = check_layer(Conv2D(2, 3, 3, dtype=np.float64), x)   # {"x": 3e-10, "W": ..., "b": ...}
"""

import numpy as np

from .layers.base import as_rng, check_number
from .losses import softmax_cross_entropy


def rel_error(analytic, numeric):
    """max |a - n| / max(max |a|, max |n|): the error relative to the gradient's scale."""
    a, n = np.asarray(analytic, np.float64), np.asarray(numeric, np.float64)
    scale = max(np.abs(a).max(initial=0), np.abs(n).max(initial=0), 1e-300)
    return float(np.abs(a - n).max(initial=0) / scale)


def numerical_gradient(f, x, h=1e-6):
    """Centred-difference gradient of the scalar function f() with respect to array x.

    x is perturbed in place, one element at a time, and restored.
    """
    grad = np.zeros(x.shape, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        f_plus = f()
        x[i] = old - h
        f_minus = f()
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def check_layer(layer, x, h=1e-6, rng=None):
    """Compare a layer's backward with finite differences on L = sum(forward(x) * g), g random.

    layer: any object with forward/backward/params/grads (cast it to float64 first);
    x: float64 input. Returns {"x": rel error of dx, "<key>": rel error of grads[key], ...}.
    """
    check_number(h, "h", "check_layer", low=0, low_open=True)
    x = np.array(x, dtype=np.float64)
    g = as_rng(rng).standard_normal(layer.forward(x).shape)

    def loss():
        return float(np.sum(layer.forward(x) * g))

    layer.forward(x)
    dx = layer.backward(g)
    missing = [k for k in layer.params if k not in layer.grads]
    if missing:
        raise RuntimeError(f"check_layer: {layer!r}.backward did not fill grads{missing} "
                           "(backward must set self.grads[k] for every self.params[k])")
    analytic = {"x": dx} | {k: layer.grads[k].copy() for k in layer.params}
    numeric = {"x": numerical_gradient(loss, x, h)}
    numeric |= {k: numerical_gradient(loss, p, h) for k, p in layer.params.items()}
    return {k: rel_error(analytic[k], numeric[k]) for k in analytic}


def check_model(model, x, y, h=1e-6):
    """Compare a Sequential's backward through softmax cross-entropy with finite differences.

    Returns {"x": rel error of dL/dx, "0.W": ..., ...} for every parameter.
    """
    check_number(h, "h", "check_model", low=0, low_open=True)
    x = np.array(x, dtype=np.float64)

    def loss():
        return softmax_cross_entropy(model.forward(x), y)[0]

    _, dlogits = softmax_cross_entropy(model.forward(x), y)
    dx = model.backward(dlogits)
    errors = {"x": rel_error(dx, numerical_gradient(loss, x, h))}
    analytic = {name: g.copy() for name, _, g in model.param_items()}
    for name, p, _ in model.param_items():
        errors[name] = rel_error(analytic[name], numerical_gradient(loss, p, h))
    return errors
