"""`Sequential`: a list of layers run forward in order and backward in reverse."""

import contextlib

import numpy as np

from .layers.base import Layer, ShapeError, check_int


class Sequential:
    """A network as a plain list of layers, e.g.

        Sequential([Conv2D(1, 8, 3, padding=1), ReLU(), MaxPool2D(2), Flatten(), Linear(128, 10)])

    forward(x) -> logits; backward(dout) -> dx (fills every layer's grads);
    predict(X) -> class labels; summary(input_shape) -> a table of shapes and parameter counts.
    Parameters are named "<layer index>.<key>", e.g. "0.W".
    train() / eval(): training or evaluation mode for every layer, by each layer's own train(),
    so a layer holding others (a block with a Dropout inside) passes the mode on. A new model
    trains; fit trains in training mode and validates in evaluation mode; evaluate, accuracy,
    logits and predict use evaluation mode; each puts back the mode it found.
    A batch of another float dtype than the parameters' (float64 into a float32 model) is cast
    once to the parameters' dtype on the way in, so forward, backward and the gradients all
    compute in one precision: model.astype(np.float64) computes in float64 instead.
    """

    def __init__(self, layers):
        layers = list(layers)
        for i, layer in enumerate(layers):
            if isinstance(layer, type) and issubclass(layer, Layer):
                raise TypeError(f"Sequential: item {i} is the class {layer.__name__} itself, "
                                f"not a layer: call it with its arguments, e.g. "
                                f"{layer.__name__}(...)")
            if not isinstance(layer, Layer):
                raise TypeError(f"Sequential: item {i} is {layer!r}, not a minicnn Layer")
            if not all(hasattr(layer, a) for a in ("params", "grads", "training")):
                raise TypeError(f"Sequential: item {i} ({type(layer).__name__}) has no "
                                "self.params, self.grads or self.training: its __init__ must "
                                "call super().__init__() before anything else")
        self.layers = layers
        self._checked_shape = None   # the last input shape that output_shapes accepted

    def _shapes_known(self):
        """True when every layer implements output_shape (a custom layer may not)."""
        return all(type(layer).output_shape is not Layer.output_shape for layer in self.layers)

    def __repr__(self):
        inner = ",\n".join(f"  {layer!r}" for layer in self.layers)
        return f"Sequential([\n{inner}\n])"

    def __iter__(self):
        return iter(self.layers)

    def __len__(self):
        return len(self.layers)

    def __getitem__(self, i):
        return self.layers[i]

    def __call__(self, x):
        return self.forward(x)

    def train(self, mode=True):
        """Put every layer in training mode (mode=False: evaluation mode); returns self."""
        for layer in self.layers:
            layer.train(bool(mode))
        return self

    def eval(self):
        """Put every layer in evaluation mode (Dropout becomes the identity); returns self."""
        return self.train(False)

    @contextlib.contextmanager
    def mode(self, training):
        """`with model.mode(False):` evaluation mode inside (True: training mode); afterwards
        every layer has the mode it had before."""
        before = [layer.training for layer in self.layers]
        self.train(training)
        try:
            yield self
        finally:
            for layer, flag in zip(self.layers, before):
                layer.train(flag)

    def forward(self, x):
        """Run every layer in order. A shape error names the layer's index and both shapes.

        The whole stack is checked against x.shape (with `output_shapes`) before anything is
        computed, so a mismatch deep in the network costs no wasted forward pass.
        """
        x = self._as_param_dtype(x)
        shape = getattr(x, "shape", None)
        if shape is not None and shape != self._checked_shape:
            if self._shapes_known():
                self.output_shapes(shape)
            self._checked_shape = shape
        for i, layer in enumerate(self.layers):
            try:
                x = layer.forward(x)
            except ShapeError as e:
                raise ShapeError(f"Sequential layer {i} ({layer!r}) could not take the output "
                                 f"of the layer before it, shape {getattr(x, 'shape', None)}: "
                                 f"{e}") from None
            _check_returned(i, layer, x, "forward")
        return x

    def _param_dtype(self):
        """The one floating dtype of every parameter, or None (no parameters, or several)."""
        dtypes = {p.dtype for _, p, _ in self.param_items()}
        if len(dtypes) == 1 and np.issubdtype(next(iter(dtypes)), np.floating):
            return dtypes.pop()
        return None

    def _as_param_dtype(self, x):
        """x cast to the parameters' dtype if both are floating point and differ."""
        dtype = self._param_dtype()
        if (dtype is None or not isinstance(x, np.ndarray) or x.dtype == dtype
                or not np.issubdtype(x.dtype, np.floating) or x.dtype == np.float16):
            return x
        return x.astype(dtype)

    def backward(self, dout):
        """Backprop through the layers in reverse; returns dL/dx of the network's input.

        Every layer must return an array and set grads[k], shaped like params[k], for every k.
        """
        for i in reversed(range(len(self.layers))):
            layer = self.layers[i]
            dout = layer.backward(dout)
            _check_returned(i, layer, dout, "backward")
            for k, p in layer.params.items():
                g = layer.grads.get(k)
                if np.shape(g) != p.shape:
                    got = "nothing" if g is None else f"shape {np.shape(g)}"
                    raise ShapeError(f"Sequential layer {i} ({layer!r}): backward set grads"
                                     f"[{k!r}] to {got}, expected the shape of params[{k!r}], "
                                     f"{p.shape}")
        return dout

    def predict(self, X, batch_size=256):
        """Class labels (N,) for inputs X, in batches so memory stays bounded (evaluation mode)."""
        return self.logits(X, batch_size).argmax(axis=1)

    def logits(self, X, batch_size=256):
        """Raw outputs (N, K) for inputs X, in batches, in evaluation mode."""
        batch_size = check_int(batch_size, "batch_size", "Sequential.logits", minimum=1)
        if len(X) == 0:
            raise ShapeError(f"Sequential.logits: got an empty batch: X.shape={np.shape(X)}")
        with self.mode(False):
            return np.concatenate([self.forward(X[i:i + batch_size])
                                   for i in range(0, len(X), batch_size)])

    def output_shapes(self, input_shape):
        """[(layer, output shape)] for an input of `input_shape`, without computing anything."""
        shapes, shape = [], tuple(input_shape)
        for i, layer in enumerate(self.layers):
            try:
                shape = layer.output_shape(shape)
            except ShapeError as e:
                raise ShapeError(f"Sequential layer {i} ({layer!r}) cannot take input shape "
                                 f"{shape}: {e}") from None
            shapes.append((layer, shape))
        return shapes

    def summary(self, input_shape):
        """A table: layer, output shape, parameter count, for input_shape such as (1, 1, 8, 8)."""
        rows = [("#", "layer", "output shape", "params")]
        for i, (layer, shape) in enumerate(self.output_shapes(input_shape)):
            n = sum(p.size for p in layer.params.values())
            rows.append((str(i), repr(layer), str(shape), f"{n:,}"))
        widths = [max(len(r[k]) for r in rows) for k in range(4)]
        lines = ["  ".join(c.ljust(w) if k < 3 else c.rjust(w)
                           for k, (c, w) in enumerate(zip(r, widths))) for r in rows]
        lines.insert(1, "-" * len(lines[0]))
        lines.append(f"total parameters: {self.num_params():,}")
        return "\n".join(lines)

    def num_params(self):
        return sum(p.size for _, p, _ in self.param_items())

    def param_items(self):
        """Yield (name, param, grad) for every parameter; grad is None before any backward."""
        for i, layer in enumerate(self.layers):
            for key, p in layer.params.items():
                yield f"{i}.{key}", p, layer.grads.get(key)

    def state_dict(self):
        """{name: array} of all parameters (copies)."""
        return {name: p.copy() for name, p, _ in self.param_items()}

    def check_state_dict(self, state):
        """Raise ValueError unless `state` has exactly this model's parameter names and shapes."""
        own = {name: p for name, p, _ in self.param_items()}
        missing, extra = sorted(set(own) - set(state)), sorted(set(state) - set(own))
        if missing or extra:
            raise ValueError(f"load_state_dict: parameters do not match this model: "
                             f"missing {missing}, unexpected {extra}")
        wrong = [f"{k}: model {own[k].shape}, given {np.shape(state[k])}"
                 for k in own if own[k].shape != np.shape(state[k])]
        if wrong:
            raise ValueError("load_state_dict: shapes do not match this model: " + "; ".join(wrong))
        bad = [k for k in own if not (np.asarray(state[k]).dtype.kind in "fiu"
                                      and np.all(np.isfinite(state[k])))]
        if bad:
            raise ValueError(f"load_state_dict: parameters {bad} are not finite real numbers")
        return own

    def load_state_dict(self, state):
        """Copy arrays into the parameters, in place. All names and shapes are checked first,
        so a mismatch raises and leaves the model unchanged."""
        own = self.check_state_dict(state)
        for k, p in own.items():
            p[...] = state[k]

    def astype(self, dtype):
        """Cast every parameter to dtype (e.g. np.float64 for gradient checks); returns self."""
        if not np.issubdtype(np.dtype(dtype), np.floating):
            raise TypeError(f"Sequential.astype: dtype must be a floating-point type such as "
                            f"np.float32 or np.float64, got {np.dtype(dtype)} (integer weights "
                            "cannot train: every step would be rounded away)")
        for layer in self.layers:
            layer.astype(dtype)
        return self


def _check_returned(i, layer, out, method):
    """A layer's forward and backward must return an array (a missing `return` gives None)."""
    if not isinstance(out, np.ndarray):
        raise TypeError(f"Sequential layer {i} ({layer!r}): {method} returned "
                        f"{type(out).__name__}, expected a numpy array"
                        + (" (a missing return statement?)" if out is None else ""))
