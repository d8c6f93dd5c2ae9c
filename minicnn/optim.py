"""Optimisers: how a gradient becomes a step. Each optimiser writes one rule, `update`.

    SGD:   v <- momentum * v + (g + weight_decay * p);   p <- p - lr * v
    Adam:  m <- b1 m + (1-b1) g;  v <- b2 v + (1-b2) g^2;  p <- p - lr * m_hat / (sqrt(v_hat) + eps)

`step(model)` applies the rule to every parameter, all or nothing: it computes every new value
first (the rule writes into a copy of the optimiser's state), refuses NaN or inf, and only then
assigns, so a refused or interrupted step leaves the model and the optimiser as they were.
"""

import numpy as np

from .layers.base import check_number
from .resilience import NonFiniteError, interrupts_deferred


class Optimizer:
    """Base: `step(model)` updates every parameter from its gradient; state keyed by name.

    A subclass sets its hyperparameters in __init__, lists them in `hyperparameters()` (a
    checkpoint stores them, and a resume with other values is refused) and writes the rule
    `update(name, p, g, state) -> new p`, which may set entries of `state`.
    """

    def __init__(self, lr):
        self.lr = check_number(lr, "lr", type(self).__name__, 0, np.inf, low_open=True,
                               high_open=True)
        self.state = {}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters().items())
        return f"{type(self).__name__}({args})"

    def hyperparameters(self):
        """{name: value} of every setting that changes the steps."""
        return {"lr": self.lr}

    def step(self, model):
        """One update of every parameter of `model`: compute every new value, then assign."""
        check_gradients(model, f"{type(self).__name__}.step")
        state = {k: np.array(v) for k, v in self.state.items()}   # copies: the rule's to change
        new = {name: self.update(name, p, g, state) for name, p, g in model.param_items()}
        check_new_values(model, new, self)
        with interrupts_deferred():                   # Ctrl-C waits until every value is in
            for name, p, _ in model.param_items():
                p[...] = new[name]
            self.state = state

    def update(self, name, p, g, state):
        """Return the new value of parameter `p` with gradient `g`; may set entries of `state`."""
        raise NotImplementedError(f"{type(self).__name__} must implement update(self, name, p, "
                                  "g, state) -> the new value of p")

    # --- the state a checkpoint stores ------------------------------------------------------
    def state_dict(self):
        """{key: array} of the optimiser state (e.g. for a checkpoint)."""
        return {k: np.array(v) for k, v in self.state.items()}

    def check_state_dict(self, state, model):
        """Raise ValueError unless `state` could be this optimiser's state for `model`."""
        shapes = {name: p.shape for name, p, _ in model.param_items()}
        owner = type(self).__name__
        for key, value in state.items():
            expected = self.state_shape(key, shapes)
            if expected is None:
                raise ValueError(f"{owner}: state entry {key!r} does not belong to this "
                                 f"optimiser and model (parameters: {sorted(shapes)})")
            if np.shape(value) != expected:
                raise ValueError(f"{owner}: state entry {key!r} has shape {np.shape(value)}, "
                                 f"expected {expected}")

    def state_shape(self, key, shapes):
        """Shape of state entry `key` given {parameter name: shape}; None if it is foreign."""
        return shapes.get(key)

    def load_state_dict(self, state, model=None):
        """Replace the state; with `model`, check it first (nothing changes if it does not fit)."""
        if model is not None:
            self.check_state_dict(state, model)
        self.state = {k: np.array(v) for k, v in state.items()}


def check_gradients(model, where):
    """Every parameter has a finite gradient; the first bad layer in backward order is named."""
    for i in reversed(range(len(model.layers))):
        layer = model.layers[i]
        for key in layer.params:
            g = layer.grads.get(key)
            if g is None:
                raise RuntimeError(f"{where}: parameter {i}.{key} has no gradient; call "
                                   "model.backward(...) first")
            if not np.all(np.isfinite(g)):
                raise NonFiniteError(f"{where}: the gradient of {key} in layer {i} ({layer!r}) "
                                     "contains NaN or inf (the first such layer in backward "
                                     "order)", layer=i)


def check_new_values(model, new, optimizer):
    """Every new parameter value is finite; otherwise the step was too large."""
    for i, layer in enumerate(model.layers):
        for key in layer.params:
            if not np.all(np.isfinite(new[f"{i}.{key}"])):
                raise NonFiniteError(f"{type(optimizer).__name__}.step: the update would make "
                                     f"{key} of layer {i} ({layer!r}) NaN or inf: the learning "
                                     f"rate ({optimizer.lr:g}) is too large", layer=i)


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum and L2 weight decay.

    v <- momentum * v + (g + weight_decay * p);  p <- p - lr * v
    State: one velocity v per parameter (same shape), only when momentum > 0.
    """

    def __init__(self, lr=0.01, momentum=0.0, weight_decay=0.0):
        super().__init__(lr)
        self.momentum = check_number(momentum, "momentum", "SGD", 0, 1, high_open=True)
        self.weight_decay = check_number(weight_decay, "weight_decay", "SGD", 0, np.inf,
                                         high_open=True)

    def hyperparameters(self):
        return {"lr": self.lr, "momentum": self.momentum, "weight_decay": self.weight_decay}

    def update(self, name, p, g, state):
        if self.weight_decay:
            g = g + self.weight_decay * p                     # L2 penalty's gradient
        if self.momentum:
            v = state.get(name, np.zeros_like(p)) * self.momentum
            v += g                                            # velocity: a running sum of g
            state[name] = v
            g = v
        return p - (self.lr * g).astype(p.dtype, copy=False)


class Adam(Optimizer):
    """Adam (Kingma and Ba): per-parameter steps scaled by running gradient moments.

    m <- b1 m + (1-b1) g;  v <- b2 v + (1-b2) g^2;  p <- p - lr * m_hat / (sqrt(v_hat) + eps)
    State: the step count "t" and, per parameter, "<name>.m" and "<name>.v".
    """

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(lr)
        if not (isinstance(betas, (tuple, list)) and len(betas) == 2):
            raise TypeError(f"Adam: betas must be a pair (b1, b2), got {betas!r}")
        self.betas = tuple(check_number(b, f"betas[{k}]", "Adam", 0, 1, high_open=True)
                           for k, b in enumerate(betas))
        self.eps = check_number(eps, "eps", "Adam", 0, np.inf, low_open=True, high_open=True)
        self.weight_decay = check_number(weight_decay, "weight_decay", "Adam", 0, np.inf,
                                         high_open=True)

    def hyperparameters(self):
        return {"lr": self.lr, "betas": self.betas, "eps": self.eps,
                "weight_decay": self.weight_decay}

    def update(self, name, p, g, state):
        b1, b2 = self.betas
        t = int(self.state.get("t", 0)) + 1                       # this step's number, from 1
        state["t"] = np.asarray(t)
        if self.weight_decay:
            g = g + self.weight_decay * p
        m = state.get(name + ".m", np.zeros_like(p)) * b1
        m += (1 - b1) * g                                         # running mean of g
        v = state.get(name + ".v", np.zeros_like(p)) * b2
        v += (1 - b2) * g * g                                     # running mean of g^2
        state[name + ".m"], state[name + ".v"] = m, v
        m_hat = m / (1 - b1 ** t)                                 # undo the bias towards 0
        v_hat = v / (1 - b2 ** t)
        return p - (self.lr * m_hat / (np.sqrt(v_hat) + self.eps)).astype(p.dtype, copy=False)

    def state_shape(self, key, shapes):
        if key == "t":
            return ()
        base, _, moment = key.rpartition(".")
        return shapes.get(base) if moment in ("m", "v") else None
