"""The one piece of framework in minicnn: a tiny `Layer` base class and the argument rules.

The layer contract (CS231n's), which every layer here follows and a layer of your own can too
(the README's "Write your own layer" walks through it):

    class Scale(Layer):
        def __init__(self, k):
            super().__init__()                       # creates params, grads, cache, training
            self.params["k"] = np.array(k, dtype=np.float32)
        def forward(self, x):                        # keep in self.cache what backward needs
            self.cache = x
            return self.params["k"] * x
        def backward(self, dout):                    # return dL/dx; fill grads[k] for params[k]
            self.grads["k"] = np.sum(dout * self.cache)
            return dout * self.params["k"]
        def output_shape(self, input_shape):         # fit, evaluate and summary rely on it
            return input_shape

There is no autograd and no hidden global state: backprop is written out, layer by layer.
"""

import warnings

import numpy as np


class ShapeError(ValueError):
    """An array had the wrong number of dimensions, channels or size for a layer."""


# --- argument rules, one set for the whole library --------------------------------------
# A wrong type is a TypeError, a wrong value a ValueError; every message names `where` (the
# layer or function), the argument, what was expected and what came.
def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def check_int(value, name, where, minimum=None):
    """Return `value` as an int; an int is meant, so a pair, float or bool is a TypeError."""
    if not _is_int(value):
        raise TypeError(f"{where}: {name} must be an int, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{where}: {name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def check_number(value, name, where, low=None, high=None, low_open=False, high_open=False):
    """Return `value` as a float in [low, high] (an end is excluded where `*_open`)."""
    if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, bool):
        raise TypeError(f"{where}: {name} must be a number, got {value!r}")
    value = float(value)
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high or np.isnan(value):
        lo = "any" if low is None else f"{'(' if low_open else '['}{low}"
        hi = "any" if high is None else f"{high}{')' if high_open else ']'}"
        raise ValueError(f"{where}: {name} must be in {lo}, {hi}, got {value!r}")
    return value


def check_choice(value, name, where, choices):
    """Return `value` if it is one of `choices` (strings); TypeError/ValueError otherwise."""
    if not isinstance(value, str):
        raise TypeError(f"{where}: {name} must be one of {list(choices)}, got {value!r}")
    if value not in choices:
        raise ValueError(f"{where}: {name} must be one of {list(choices)}, got {value!r}")
    return value


def as_rng(rng):
    """The one name for randomness, `rng`: an int seed, a numpy Generator, or None (fresh)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or _is_int(rng):
        return np.random.default_rng(rng)
    raise TypeError(f"rng must be an int seed, a numpy Generator or None, got {rng!r}")


def he_normal(shape, fan_in, rng, dtype):
    """He initialisation: N(0, 2 / fan_in), which keeps a ReLU stack's activations O(1)."""
    return (as_rng(rng).standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(dtype)


def as_pair(name, value, layer="", minimum=1):
    """Turn an int or a 2-tuple into a (height, width) pair of ints >= minimum."""
    where = f"{layer}: " if layer else ""
    if _is_int(value):
        pair = (int(value), int(value))
    elif isinstance(value, (tuple, list)) and len(value) == 2 and all(map(_is_int, value)):
        pair = (int(value[0]), int(value[1]))
    else:
        raise TypeError(f"{where}{name} must be an int or a pair of ints, got {value!r}")
    if min(pair) < minimum:
        raise ValueError(f"{where}{name} must be >= {minimum}, got {value!r}")
    return pair


def check_float_array(x, name, where):
    """Return `x` as a floating-point ndarray, or raise a TypeError that names `where`.

    float16 is cast to float32 with a warning: its 3 significant digits make gradients wrong.
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{where} expected {name} to be a numpy array, got {type(x).__name__}")
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"{where} expected a floating-point {name} (float32 or float64), "
                        f"got dtype {x.dtype}; convert with {name}.astype(np.float32)")
    if x.dtype == np.float16:
        warnings.warn(f"{where}: {name} is float16, casting to float32 "
                      "(float16 is too coarse for training)", stacklevel=3)
        x = x.astype(np.float32)
    return x


def nhwc_hint(input_shape, channels):
    """The fix for a channel mismatch that is an (N, H, W, C) batch: "" when it is not one."""
    if len(input_shape) == 4 and input_shape[-1] == channels != input_shape[1]:
        return ("; minicnn's layout is (N, C, H, W) and this looks like (N, H, W, C): "
                "pass np.transpose(x, (0, 3, 1, 2))")
    return ""


def check_float_dtype(dtype, where):
    """Return np.dtype(dtype) if parameters of that dtype can train: float32 or float64.

    Training moves every weight by a small step (lr * gradient); an integer dtype rounds that
    step to zero, so the model would never change, and float16 rounds most of it away.
    """
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        got = dtype if dt is None else dt
        raise TypeError(f"{where}: dtype must be np.float32 or np.float64, got {got!r}: weights "
                        "of another dtype cannot move by a small gradient step "
                        "(pass dtype=np.float32)")
    return dt


class Layer:
    """Base class of every layer. Subclass it, call super().__init__(), then implement:

    forward(x) -> out: keep in self.cache what backward needs;
    backward(dout) -> dx: dout = dL/dout, shaped like out; return dL/dx, shaped like x, and set
        self.grads[k] (shaped like self.params[k]) for every key k of self.params;
    output_shape(input_shape) -> the shape forward returns (batch axis included): Sequential,
        fit, evaluate and summary use it to check a stack before computing anything.
    params: {name: array}, any names ("W", "b", "k", ...); the optimisers update every one.
    training: True (the default) while training, False in evaluation mode; Sequential.train()
        and .eval() set it, fit and evaluate too. Only layers that act differently (Dropout)
        read it.
    Optional: check_input(x) first in forward and check_dout(dout) first in backward give a
    layer the library's error messages for bad input.
    """

    def __init__(self):
        self.params = {}
        self.grads = {}
        self.cache = None
        self.training = True
        self.out_shape = None           # noted by check_input, compared by check_dout

    def __call__(self, x):
        return self.forward(x)

    def __repr__(self):
        """How summary() and error messages name the layer; override it to show arguments."""
        return f"{type(self).__name__}()"

    def train(self, mode=True):
        """Training mode (mode=False: evaluation mode); returns self."""
        self.training = bool(mode)
        return self

    def eval(self):
        """Evaluation mode: stochastic layers such as Dropout become deterministic; returns self."""
        return self.train(False)

    def forward(self, x):
        raise NotImplementedError(f"{type(self).__name__} must implement forward(x) -> out, "
                                  "keeping in self.cache what backward needs")

    def backward(self, dout):
        raise NotImplementedError(f"{type(self).__name__} must implement backward(dout) -> dx, "
                                  "filling self.grads[k] for every self.params[k]")

    def output_shape(self, input_shape):
        """Shape of forward's output for an input of `input_shape` (batch axis included)."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement output_shape(self, input_shape) -> the shape "
            "forward returns for an input of that shape, batch axis included (fit, evaluate "
            "and Sequential.summary rely on it; for a layer that keeps the shape, "
            "return tuple(input_shape))")

    @property
    def name(self):
        return type(self).__name__

    # --- the checks every built-in layer makes; a layer of your own may call them too --------
    def check_input(self, x):
        """Check x at the top of forward: a non-empty floating-point array of a shape this layer
        takes (output_shape raises ShapeError otherwise). Returns x (float16 becomes float32).
        Notes the output shape in self.out_shape, which check_dout compares dout with."""
        x = check_float_array(x, "x", repr(self))
        if x.ndim == 0:
            raise ShapeError(f"{self!r} expected a batch (N, ...), got a 0-d x")
        if x.size == 0:
            raise ShapeError(f"{self!r} got an empty batch: x.shape={x.shape}")
        self.out_shape = self.output_shape(x.shape)
        return x

    def check_dout(self, dout):
        """Check dout at the top of backward: forward has run, and dout is an array shaped like
        forward's output (when check_input noted it). Returns dout."""
        if self.cache is None:
            raise RuntimeError(f"{self!r}: backward() called before forward()")
        if not isinstance(dout, np.ndarray):
            raise TypeError(f"{self!r}.backward expected dout to be a numpy array, "
                            f"got {type(dout).__name__}")
        expected = getattr(self, "out_shape", None)      # None: check_input never ran
        if expected is not None and dout.shape != tuple(expected):
            raise ShapeError(f"{self!r}.backward expected dout of shape {tuple(expected)} "
                             f"(the shape forward returned), got {dout.shape}")
        return dout

    def astype(self, dtype):
        """Cast parameters (and any gradients) to `dtype` (float32 or float64); returns self."""
        dtype = check_float_dtype(dtype, f"{self!r}.astype")
        for k in self.params:
            self.params[k] = self.params[k].astype(dtype)
            if k in self.grads:
                self.grads[k] = self.grads[k].astype(dtype)
        return self
