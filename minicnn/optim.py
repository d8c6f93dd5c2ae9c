"""Optimisers: how a gradient becomes a step. Each writes one rule, `_update(name, p, g, state)`.

    SGD:   v <- momentum * v + (g + weight_decay * p);   p <- p - lr * v
    Adam:  m <- b1 m + (1-b1) g;  v <- b2 v + (1-b2) g^2;  p <- p - lr * m_hat / (sqrt(v_hat) + eps)

`step(model)` applies the rule to every parameter, all or nothing (the machinery behind that,
and the state a checkpoint stores, is in resilience.py).
"""

import numpy as np

from .layers.base import check_number
from .resilience import TwoPhaseSteps, interrupts_deferred


class Optimizer(TwoPhaseSteps):
    """Base: `step(model)` updates every parameter from its gradient; state keyed by name."""

    def __init__(self, lr):
        self.lr = check_number(lr, "lr", type(self).__name__, 0, np.inf, low_open=True,
                               high_open=True)
        self.state = {}

    def step(self, model):
        """One update of every parameter of `model`: compute all new values, then copy them in."""
        update = self.compute_step(model)             # changes nothing yet
        with interrupts_deferred():                   # Ctrl-C waits until every copy is done
            self.apply_step(model, update)

    def _update(self, name, p, g, state):
        """Return the new value of parameter `p` with gradient `g`; may set entries of `state`."""
        raise NotImplementedError


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

    def _update(self, name, p, g, state):
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

    def _update(self, name, p, g, state):
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

    def _state_shape(self, key, shapes):
        if key == "t":
            return ()
        base, _, moment = key.rpartition(".")
        return shapes.get(base) if moment in ("m", "v") else None
