"""Finite-difference gradient checks, for every layer here and for the layers you write.

Centred differences: df/dx_i ~ (f(x + h e_i) - f(x - h e_i)) / 2h, error O(h^2). Run in float64:
in float32 the rounding error of f swamps the difference for any useful h (a correct layer then
shows errors of about 1e-2), so a float32 layer or model gets a PrecisionWarning.

Pass threshold: a correct backward gives a relative error <= 1e-6 for x and every parameter in
float64 (usually 1e-10 to 1e-8); the tests use 1e-6. Larger than about 1e-4 means a bug.

    result = check_layer(Conv2D(2, 3, 3, dtype=np.float64), x)   # {"x": 3e-10, "W": ..., "b": ...}
    result.passed, result.worst                                    # True, ("W", 4e-10)

A stochastic layer (Dropout in training mode) draws new randomness on every forward, so the
differences would compare two different functions: check it in evaluation mode, layer.eval().
Both checks raise a ValueError naming the layer when two forward passes on one input disagree.
"""

import warnings

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


PASS = 1e-6     # a correct backward in float64 stays below this
BUG = 1e-4      # above this, something in backward is wrong


class GradCheck(dict):
    """{name: relative error} from a gradient check, printed with its verdict.

    passed: every error <= PASS (1e-6); worst: (name, error) of the largest. repr() states the
    rule of thumb, so a learner need not know it: <= 1e-6 is right, > 1e-4 is a bug.
    """

    @property
    def worst(self):
        name = max(self, key=self.get)
        return name, self[name]

    @property
    def passed(self):
        return self.worst[1] <= PASS

    def verdict(self):
        name, error = self.worst
        if error <= PASS:
            return f"PASS: every relative error <= {PASS:g} (worst {name}: {error:.2g})"
        if error > BUG:
            return (f"FAIL: {name} has relative error {error:.2g} > {BUG:g}: its gradient in "
                    "backward is wrong")
        return (f"DOUBTFUL: {name} has relative error {error:.2g}, between {PASS:g} (right) and "
                f"{BUG:g} (a bug): check in float64, or try another h")

    def __repr__(self):
        errors = ", ".join(f"{k!r}: {v:.2g}" for k, v in self.items())
        return f"GradCheck({self.verdict()}; errors {{{errors}}})"


class PrecisionWarning(UserWarning):
    """A gradient check ran in float32, where correct gradients show errors of about 1e-2."""


def check_precision(where, var, obj, params, out):
    """Warn unless the parameters {name: array} and the output `out` are all float64."""
    low = [f"{k} is {np.asarray(p).dtype}" for k, p in params.items()
           if np.asarray(p).dtype != np.float64]
    low += [f"its output is {out.dtype}"] if out.dtype != np.float64 else []
    if low:
        warnings.warn(f"{where}: {type(obj).__name__} computes in reduced precision "
                      f"({', '.join(low)}); finite differences then show errors of about "
                      "1e-2 even for a correct backward. Check in float64: pass "
                      f"{var}.astype(np.float64) (x is cast to float64 for you); a correct "
                      "backward then gives errors <= 1e-6", PrecisionWarning, stacklevel=3)


def check_deterministic(where, var, layers, x):
    """Raise ValueError naming every layer (run in order from x) whose forward, called twice on
    the same input, gives two different outputs: a stochastic layer such as Dropout."""
    found = []
    for i, layer in enumerate(layers):
        out = layer.forward(x)
        if not np.array_equal(out, layer.forward(x), equal_nan=True):
            found.append((f"layer {i}, " if var == "model" else "") + repr(layer)
                         + (", in training mode" if getattr(layer, "training", False) else ""))
        x = out
    if found:
        raise ValueError(
            f"{where}: {'; '.join(found)}: two forward passes on the same input gave different "
            "outputs, so finite differences would measure the randomness, not the gradient. A "
            f"stochastic layer is checked in evaluation mode: {var}.eval() (Dropout is then the "
            "identity; in training mode its backward is dout times forward's own mask)")


def check_layer(layer, x, h=1e-6, rng=None):
    """Compare a layer's backward with finite differences on L = sum(forward(x) * g), g random.

    layer: any object with forward/backward/params/grads, in float64 (layer.astype(np.float64)),
    in evaluation mode if it is stochastic (Dropout: layer.eval()); x: input, cast to float64.
    Returns a GradCheck, {"x": rel error of dx, "<key>": rel error of grads[key], ...} whose
    repr says PASS (every entry <= 1e-6, as for a correct backward) or FAIL (> 1e-4) and names
    the worst. Warns (PrecisionWarning) if the layer computes in float32.
    """
    check_number(h, "h", "check_layer", low=0, low_open=True)
    if isinstance(layer, type):
        raise TypeError(f"check_layer: got the class {layer.__name__} itself; pass a layer, "
                        f"e.g. {layer.__name__}(...).astype(np.float64)")
    if not all(hasattr(layer, a) for a in ("params", "grads")):
        raise TypeError(f"check_layer: {type(layer).__name__} has no self.params or self.grads: "
                        "its __init__ must call super().__init__() before anything else")
    x = np.array(x, dtype=np.float64)
    out = layer.forward(x)
    check_deterministic("check_layer", "layer", [layer], x)
    check_precision("check_layer", "layer", layer, layer.params, out)
    g = as_rng(rng).standard_normal(out.shape)

    def loss():
        return float(np.sum(layer.forward(x) * g))

    layer.forward(x)
    dx = layer.backward(g)
    missing = [k for k in layer.params if k not in layer.grads]
    if missing:
        raise RuntimeError(f"check_layer: {layer!r}.backward did not fill grads{missing} "
                           "(backward must set self.grads[k] for every self.params[k])")
    wrong = [f"grads[{k!r}] {np.shape(layer.grads[k])}, params[{k!r}] {np.shape(p)}"
             for k, p in layer.params.items() if np.shape(layer.grads[k]) != np.shape(p)]
    if wrong or np.shape(dx) != x.shape:
        wrong += [] if np.shape(dx) == x.shape else [f"dx {np.shape(dx)}, x {x.shape}"]
        raise RuntimeError(f"check_layer: {layer!r}.backward gave gradients of the wrong shape: "
                           f"{'; '.join(wrong)} (each must have the shape of what it is the "
                           "gradient of)")
    analytic = {"x": dx} | {k: np.array(layer.grads[k], copy=True) for k in layer.params}
    numeric = {"x": numerical_gradient(loss, x, h)}
    numeric |= {k: numerical_gradient(loss, p, h) for k, p in layer.params.items()}
    return GradCheck({k: rel_error(analytic[k], numeric[k]) for k in analytic})


def check_model(model, x, y, h=1e-6):
    """Compare a Sequential's backward through softmax cross-entropy with finite differences.

    model: in float64 (model.astype(np.float64)) and, with Dropout, in evaluation mode
    (model.eval()); x: (N, ...) input, cast to float64; y: (N,) labels.
    Returns a GradCheck, {"x": rel error of dL/dx, "0.W": ..., ...} for every parameter, whose
    repr says PASS (every entry <= 1e-6, as for a correct backward) or FAIL (> 1e-4) and names
    the worst. Warns (PrecisionWarning) if the model computes in float32.
    """
    check_number(h, "h", "check_model", low=0, low_open=True)
    x = np.array(x, dtype=np.float64)
    out = model.forward(x)                          # shape errors name the layer here
    check_deterministic("check_model", "model", model.layers, x)
    params = {name: p for name, p, _ in model.param_items()}
    check_precision("check_model", "model", model, params, out)

    def loss():
        return softmax_cross_entropy(model.forward(x), y)[0]

    _, dlogits = softmax_cross_entropy(model.forward(x), y)
    dx = model.backward(dlogits)
    errors = {"x": rel_error(dx, numerical_gradient(loss, x, h))}
    analytic = {name: g.copy() for name, _, g in model.param_items()}
    for name, p, _ in model.param_items():
        errors[name] = rel_error(analytic[name], numerical_gradient(loss, p, h))
    return GradCheck(errors)
