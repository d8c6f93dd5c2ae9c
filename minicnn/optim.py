"""Optimisers. Each updates the model's parameter arrays in place from their gradients.

A step has two phases, so that it is all-or-nothing:
1. `compute_step(model)` works out every new parameter value and the new optimiser state
   without changing anything (an error or Ctrl-C here leaves the model as it was);
2. `apply_step(model, update)` copies them in, with Ctrl-C held back until the copy is done, so a
   model is never left with some parameters updated and others not.
"""

import contextlib
import numbers
import signal
import threading

import numpy as np


@contextlib.contextmanager
def interrupts_deferred():
    """Hold back Ctrl-C (SIGINT) for the duration of the block; raise it when the block ends.

    Only the main thread can receive signals, so elsewhere this does nothing. Nested uses hold
    the signal until the outermost block ends.
    """
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield
        return
    caught = []
    signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if caught:
        raise KeyboardInterrupt


def _check_number(owner, name, value, low, high, low_open=False):
    """A finite real number in [low, high) (or (low, high) with low_open), else an error."""
    bracket = "(" if low_open else "["
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{owner}: {name} must be a number in {bracket}{low}, {high}), "
                        f"got {value!r}")
    if not (np.isfinite(value) and (value > low if low_open else value >= low) and value < high):
        raise ValueError(f"{owner}: {name} must be a number in {bracket}{low}, {high}), "
                         f"got {value!r}")
    return float(value)


class Optimizer:
    """Base: `step(model)` applies one update; per-parameter state is keyed by parameter name."""

    def __init__(self, lr):
        self.lr = _check_number(type(self).__name__, "lr", lr, 0, np.inf, low_open=True)
        self.state = {}

    def step(self, model):
        """One update of every parameter of `model` from its gradient (all or nothing)."""
        update = self.compute_step(model)
        with interrupts_deferred():
            self.apply_step(model, update)

    def compute_step(self, model):
        """({name: new parameter value}, new state) for one step; changes nothing."""
        state = {k: v.copy() for k, v in self.state.items()}
        new_params = {}
        for name, p, g in model.param_items():
            if g is None:
                raise RuntimeError(f"{type(self).__name__}.step: parameter {name} has no "
                                   "gradient; call model.backward(...) first")
            new_params[name] = self._update(name, p, g, state)
        return new_params, state

    def apply_step(self, model, update):
        """Copy the values from `compute_step` into the parameters and keep the new state."""
        new_params, state = update
        for name, p, _ in model.param_items():
            p[...] = new_params[name]
        self.state = state

    def _update(self, name, p, g, state):
        """Return the new value of parameter `p`; may set entries of `state` (a private copy)."""
        raise NotImplementedError

    def state_dict(self):
        """{key: array} of the optimiser state (e.g. for a checkpoint)."""
        return {k: np.array(v) for k, v in self.state.items()}

    def check_state_dict(self, state, model):
        """Raise ValueError unless `state` could be this optimiser's state for `model`."""
        shapes = {name: p.shape for name, p, _ in model.param_items()}
        owner = type(self).__name__
        for key, value in state.items():
            expected = self._state_shape(key, shapes)
            if expected is None:
                raise ValueError(f"{owner}: state entry {key!r} does not belong to this "
                                 f"optimiser and model (parameters: {sorted(shapes)})")
            if np.shape(value) != expected:
                raise ValueError(f"{owner}: state entry {key!r} has shape {np.shape(value)}, "
                                 f"expected {expected}")

    def _state_shape(self, key, shapes):
        return shapes.get(key)

    def load_state_dict(self, state, model=None):
        """Replace the state; with `model`, check it first (nothing changes if it does not fit)."""
        if model is not None:
            self.check_state_dict(state, model)
        self.state = {k: np.array(v) for k, v in state.items()}


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum and L2 weight decay.

    v <- momentum * v + (g + weight_decay * p);  p <- p - lr * v
    State: one velocity v per parameter (same shape), only when momentum > 0.
    """

    def __init__(self, lr=0.01, momentum=0.0, weight_decay=0.0):
        super().__init__(lr)
        self.momentum = _check_number("SGD", "momentum", momentum, 0, 1)
        self.weight_decay = _check_number("SGD", "weight_decay", weight_decay, 0, np.inf)

    def _update(self, name, p, g, state):
        if self.weight_decay:
            g = g + self.weight_decay * p
        if self.momentum:
            v = state.get(name, np.zeros_like(p)) * self.momentum
            v += g
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
            raise ValueError(f"Adam: betas must be a pair (b1, b2), got {betas!r}")
        self.betas = tuple(_check_number("Adam", f"betas[{k}]", b, 0, 1)
                           for k, b in enumerate(betas))
        self.eps = _check_number("Adam", "eps", eps, 0, np.inf, low_open=True)
        self.weight_decay = _check_number("Adam", "weight_decay", weight_decay, 0, np.inf)

    def _update(self, name, p, g, state):
        b1, b2 = self.betas
        t = int(self.state.get("t", 0)) + 1                       # this step's number, from 1
        state["t"] = np.asarray(t)
        if self.weight_decay:
            g = g + self.weight_decay * p
        m = state.get(name + ".m", np.zeros_like(p)) * b1
        m += (1 - b1) * g
        v = state.get(name + ".v", np.zeros_like(p)) * b2
        v += (1 - b2) * g * g
        state[name + ".m"], state[name + ".v"] = m, v
        m_hat = m / (1 - b1 ** t)
        v_hat = v / (1 - b2 ** t)
        return p - (self.lr * m_hat / (np.sqrt(v_hat) + self.eps)).astype(p.dtype, copy=False)

    def _state_shape(self, key, shapes):
        if key == "t":
            return ()
        base, _, moment = key.rpartition(".")
        return shapes.get(base) if moment in ("m", "v") else None
