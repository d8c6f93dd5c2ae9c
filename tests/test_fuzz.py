"""Property-based fuzzing of random layer stacks: the output-size formula never lies.

For a random stack of Conv2D / MaxPool2D / AvgPool2D / ReLU / global pools / Flatten / Linear and
a random input shape, either
- `model.output_shapes(shape)` succeeds, and then forward runs and every layer's output has
  exactly the predicted shape, and backward returns dx of the input's shape and a gradient of
  every parameter's shape; or
- `output_shapes` raises a ShapeError naming layer i, and then running the layers one by one
  fails at that same layer i with a ShapeError naming it, while `Sequential.forward` fails
  before computing anything (no layer has a cache).

500 examples in the regular suite; more with e.g. `MINICNN_FUZZ_EXAMPLES=5000 pytest
tests/test_fuzz.py` (or a hypothesis profile with a larger max_examples).
"""

import os
import re

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import minicnn as mc
from minicnn import ShapeError

EXAMPLES = max(int(os.environ.get("MINICNN_FUZZ_EXAMPLES", "500")), settings.default.max_examples)


def pair(draw, low, high):
    a = draw(st.integers(low, high))
    return a if draw(st.booleans()) else (a, draw(st.integers(low, high)))


def draw_layer(draw, shape):
    """One random layer; its input size mostly fits `shape` (None when unknown)."""
    channels = shape[1] if shape is not None and len(shape) == 4 else draw(st.integers(1, 3))
    features = (int(np.prod(shape[1:])) if shape is not None and len(shape) == 2
                else draw(st.integers(1, 40)))
    if draw(st.integers(0, 14)) == 0:                         # sometimes a wrong size
        channels, features = draw(st.integers(1, 3)), draw(st.integers(1, 40))
    kind = draw(st.sampled_from(["conv"] * 3 + ["max", "avg", "relu"] * 2
                                + ["gavg", "gmax", "flatten", "linear"]))
    if kind == "conv":
        stride = pair(draw, 1, 3)
        padding = draw(st.sampled_from([0, 1, 2, (0, 2), "valid"] + ["same"] * (stride == 1)))
        return mc.Conv2D(channels, draw(st.integers(1, 3)), pair(draw, 1, 3), stride=stride,
                         padding=padding, padding_mode=draw(st.sampled_from(["zeros", "circular"])),
                         impl=draw(st.sampled_from(["fast", "naive"])), rng=0,
                         dtype=np.float64)
    if kind in ("max", "avg"):
        stride = draw(st.one_of(st.none(), st.integers(1, 3)))
        if kind == "max":
            return mc.MaxPool2D(pair(draw, 1, 3), stride, impl=draw(st.sampled_from(["fast",
                                                                                    "naive"])))
        return mc.AvgPool2D(pair(draw, 1, 3), stride)
    if kind == "linear":
        return mc.Linear(features, draw(st.integers(1, 4)), rng=0, dtype=np.float64)
    return {"relu": mc.ReLU, "gavg": mc.GlobalAvgPool2D, "gmax": mc.GlobalMaxPool2D,
            "flatten": mc.Flatten}[kind]()


@st.composite
def stacks(draw):
    """(layers, input shape), drawn layer by layer so that most stacks fit together."""
    ndim = draw(st.sampled_from([4] * 19 + [2, 3]))
    shape = tuple(draw(st.integers(1, 3)) for _ in range(2)) + tuple(
        draw(st.integers(1, 10)) for _ in range(ndim - 2))
    input_shape, layers = shape, []
    for _ in range(draw(st.integers(1, 6))):
        layer = draw_layer(draw, shape)
        layers.append(layer)
        try:
            shape = layer.output_shape(shape) if shape is not None else None
        except ShapeError:
            shape = None
    return layers, input_shape


def failing_index(error):
    match = re.match(r"Sequential layer (\d+) ", str(error))
    assert match, f"error does not name the layer: {error}"
    return int(match.group(1))


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(stacks(), st.integers(0, 2**32 - 1))
def test_forward_and_backward_shapes_match_the_formula(stack, seed):
    layers, input_shape = stack
    model = mc.Sequential(layers)
    x = np.random.default_rng(seed).standard_normal(input_shape)
    try:
        predicted = [shape for _, shape in model.output_shapes(input_shape)]
    except ShapeError as error:
        i = failing_index(error)
        event("rejected by output_shapes")
        assert repr(layers[i]) in str(error)
        try:
            model.forward(x)
            raise AssertionError("output_shapes raised but Sequential.forward did not")
        except ShapeError as forward_error:
            assert failing_index(forward_error) == i
        assert all(layer.cache is None for layer in layers)    # nothing was computed
        out = x
        for layer in layers[:i]:                                # layer by layer, no pre-check
            out = layer.forward(out)
        try:
            layers[i].forward(out)
            raise AssertionError(f"layer {i} accepted a shape output_shapes rejected")
        except ShapeError as layer_error:
            assert repr(layers[i]) in str(layer_error)
        return
    event(f"ran (stack of {len(layers)})")
    out, shapes = x, []
    for layer in layers:
        out = layer.forward(out)
        shapes.append(out.shape)
    assert shapes == predicted
    assert model.forward(x).shape == predicted[-1]
    dx = model.backward(np.ones(predicted[-1]))
    assert dx.shape == x.shape and np.all(np.isfinite(dx))
    for name, p, g in model.param_items():
        assert g is not None and g.shape == p.shape, name
