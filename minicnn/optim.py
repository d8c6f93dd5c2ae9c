"""Optimisers. Each updates the model's parameter arrays in place from their gradients."""

import numpy as np


class Optimizer:
    """Base: `step(model)` applies one update; per-parameter state is keyed by parameter name."""

    def __init__(self, lr):
        if not (isinstance(lr, (int, float)) and lr > 0):
            raise ValueError(f"{type(self).__name__}: lr must be a positive number, got {lr!r}")
        self.lr = float(lr)
        self.state = {}

    def step(self, model):
        for name, p, g in model.param_items():
            if g is None:
                raise RuntimeError(f"{type(self).__name__}.step: parameter {name} has no "
                                   "gradient; call model.backward(...) first")
            self._update(name, p, g)

    def _update(self, name, p, g):
        raise NotImplementedError

    def state_dict(self):
        """{key: array} of the optimiser state (e.g. for a checkpoint)."""
        return {k: v.copy() if isinstance(v, np.ndarray) else np.asarray(v)
                for k, v in self.state.items()}

    def load_state_dict(self, state):
        self.state = {k: np.array(v) for k, v in state.items()}


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum and L2 weight decay.

    v <- momentum * v + (g + weight_decay * p);  p <- p - lr * v
    """

    def __init__(self, lr=0.01, momentum=0.0, weight_decay=0.0):
        super().__init__(lr)
        if not 0 <= momentum < 1:
            raise ValueError(f"SGD: momentum must be in [0, 1), got {momentum!r}")
        if weight_decay < 0:
            raise ValueError(f"SGD: weight_decay must be >= 0, got {weight_decay!r}")
        self.momentum, self.weight_decay = momentum, weight_decay

    def _update(self, name, p, g):
        if self.weight_decay:
            g = g + self.weight_decay * p
        if self.momentum:
            v = self.state.setdefault(name, np.zeros_like(p))
            v *= self.momentum
            v += g
            g = v
        p -= (self.lr * g).astype(p.dtype, copy=False)


class Adam(Optimizer):
    """Adam (Kingma and Ba): per-parameter steps scaled by running gradient moments.

    m <- b1 m + (1-b1) g;  v <- b2 v + (1-b2) g^2;  p <- p - lr * m_hat / (sqrt(v_hat) + eps)
    """

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(lr)
        if not all(0 <= b < 1 for b in betas):
            raise ValueError(f"Adam: betas must be in [0, 1), got {betas!r}")
        self.betas, self.eps, self.weight_decay = tuple(betas), eps, weight_decay

    def step(self, model):
        self.state["t"] = np.asarray(int(self.state.get("t", 0)) + 1)
        super().step(model)

    def _update(self, name, p, g):
        b1, b2 = self.betas
        t = int(self.state["t"])
        if self.weight_decay:
            g = g + self.weight_decay * p
        m = self.state.setdefault(name + ".m", np.zeros_like(p))
        v = self.state.setdefault(name + ".v", np.zeros_like(p))
        m *= b1
        m += (1 - b1) * g
        v *= b2
        v += (1 - b2) * g * g
        m_hat = m / (1 - b1 ** t)
        v_hat = v / (1 - b2 ** t)
        p -= (self.lr * m_hat / (np.sqrt(v_hat) + self.eps)).astype(p.dtype, copy=False)
