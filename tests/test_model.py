"""minicnn.model: Sequential's bookkeeping: construction, batching, the shape check before
computing, summary, state dicts, dtype and mode.

Not pinned: the column widths of summary() beyond its exact text for one model below.
"""

import numpy as np
import pytest
from conftest import rand

import minicnn as mc
from minicnn import Conv2D, Flatten, Linear, MaxPool2D, ReLU, Sequential


def small_model():
    return mc.Sequential([mc.Conv2D(1, 2, 3, padding=1, rng=0), mc.ReLU(), mc.MaxPool2D(2),
                          mc.Flatten(), mc.Linear(8, 3, rng=1)])


def test_sequential_takes_any_iterable_of_layers():
    model = mc.Sequential(layer for layer in small_model())      # a generator, used once
    assert len(model) == 5 and isinstance(model[4], mc.Linear)
    assert [type(layer).__name__ for layer in model] == ["Conv2D", "ReLU", "MaxPool2D",
                                                         "Flatten", "Linear"]
    x = rand(2, 1, 4, 4).astype(np.float32)
    np.testing.assert_array_equal(model(x), model.forward(x))
    assert repr(mc.Sequential([mc.ReLU(), mc.Flatten()])) == "Sequential([\n  ReLU(),\n  Flatten()\n])"


def test_sequential_refuses_what_is_not_a_layer():
    with pytest.raises(TypeError, match="item 1 is 3, not a minicnn Layer"):
        mc.Sequential([mc.ReLU(), 3])

    class NoInit(mc.Layer):
        def __init__(self):
            self.params = {}                                      # but no grads or training
    with pytest.raises(TypeError, match=r"must call super\(\).__init__\(\)"):
        mc.Sequential([NoInit()])


@pytest.mark.parametrize("n, batch_size", [(6, 3), (7, 3), (1, 5), (4, 1)])
def test_logits_in_batches_equal_one_forward_pass(n, batch_size):
    model = small_model()
    x = rand(n, 1, 4, 4).astype(np.float32)
    np.testing.assert_allclose(model.logits(x, batch_size), model.forward(x), rtol=1e-6)
    np.testing.assert_array_equal(model.predict(x, batch_size),
                                  model.forward(x).argmax(axis=1))
    with pytest.raises(mc.ShapeError, match="empty batch"):
        model.logits(x[:0])
    with pytest.raises(ValueError, match="batch_size"):
        model.logits(x, 0)


class CountingIdentity(mc.Layer):
    """The identity, counting its forward calls and their batch sizes."""

    def __init__(self):
        super().__init__()
        self.batches = []

    def forward(self, x):
        self.batches.append(len(x))
        return x

    def output_shape(self, input_shape):
        return tuple(input_shape)


def test_logits_and_predict_default_to_batches_of_256():
    counter = CountingIdentity()
    model = mc.Sequential([counter, mc.Flatten(), mc.Linear(4, 2, rng=0)])
    x = rand(600, 1, 2, 2).astype(np.float32)
    model.logits(x)
    assert counter.batches == [256, 256, 88]
    counter.batches.clear()
    model.predict(x[:512])
    assert counter.batches == [256, 256]


def test_a_backward_without_a_return_statement_is_named_even_in_the_first_layer():
    class NoReturnBackward(mc.Layer):
        def forward(self, x):
            return x

        def backward(self, dout):
            self.grads = {}                                       # ... and forgets `return`

        def output_shape(self, input_shape):
            return tuple(input_shape)
    model = mc.Sequential([NoReturnBackward()])
    model.forward(rand(2, 3))
    with pytest.raises(TypeError, match=r"layer 0 \(NoReturnBackward\(\)\): backward returned "
                                        r"NoneType.*missing return statement"):
        model.backward(rand(2, 3))


def test_summary_layout():
    model = mc.Sequential([mc.Conv2D(1, 2, 3, rng=0), mc.Flatten(), mc.Linear(200, 1000)])
    assert model.summary((1, 1, 12, 12)).splitlines() == [
        "#  layer                                       output shape     params",
        "----------------------------------------------------------------------",
        "0  Conv2D(1, 2, kernel_size=3)                 (1, 2, 10, 10)       20",
        "1  Flatten()                                   (1, 200)              0",
        "2  Linear(in_features=200, out_features=1000)  (1, 1000)       201,000",
        "total parameters: 201,020"]


class Counting(mc.Layer):
    """Identity that counts its forward and output_shape calls."""

    def __init__(self):
        super().__init__()
        self.forwards = self.shape_checks = 0

    def output_shape(self, input_shape):
        self.shape_checks += 1
        return tuple(input_shape)

    def forward(self, x):
        self.forwards += 1
        self.cache = x
        return self.cache


def test_forward_checks_the_whole_stack_once_per_input_shape_before_computing():
    spy = Counting()
    model = mc.Sequential([spy, mc.Flatten(), mc.Linear(5, 2)])
    with pytest.raises(mc.ShapeError, match=r"Sequential layer 2 \(Linear.*cannot take input"):
        model.forward(rand(2, 4))
    assert spy.forwards == 0                                      # nothing computed
    model = mc.Sequential([spy, mc.Flatten(), mc.Linear(4, 2)])
    spy.shape_checks = 0
    model.forward(rand(2, 4))
    model.forward(rand(2, 4))
    assert spy.shape_checks == 1                                  # the second call: same shape
    model.forward(rand(3, 4))
    assert spy.shape_checks == 2


def test_a_layer_without_output_shape_still_runs_in_a_sequential():
    class Double(mc.Layer):
        def forward(self, x):
            self.cache = 2 * x
            return self.cache

        def backward(self, dout):
            return 2 * dout
    model = mc.Sequential([Double(), mc.ReLU()])
    np.testing.assert_array_equal(model.forward(np.array([[1.0, -1.0]])), [[2.0, 0.0]])
    with pytest.raises(mc.ShapeError, match=r"Sequential layer 1 \(Linear.*could not take the "
                       r"output of the layer before it, shape \(1, 2\)"):
        mc.Sequential([Double(), mc.Linear(3, 1)]).forward(np.array([[1.0, -1.0]]))


def test_state_dict_copies_and_load_state_dict_checks_names_shapes_and_values():
    model = small_model()
    state = model.state_dict()
    state["0.W"][...] = 7
    assert not np.any(model[0].params["W"] == 7)                   # a copy, not the weights
    only_missing = {k: v for k, v in state.items() if k != "4.b"}
    with pytest.raises(ValueError, match=r"missing \['4.b'\], unexpected \[\]"):
        model.load_state_dict(only_missing)
    with pytest.raises(ValueError, match=r"missing \[\], unexpected \['5.W'\]"):
        model.load_state_dict(state | {"5.W": np.zeros(2)})
    with pytest.raises(ValueError, match=r"shapes do not match this model: 4.b: model \(3,\), given \(2,\)"):
        model.load_state_dict(state | {"4.b": np.zeros(2)})
    with pytest.raises(ValueError, match=r"\['4.b'\] are not finite"):
        model.load_state_dict(state | {"4.b": np.array([0.0, np.inf, 0.0])})
    with pytest.raises(ValueError, match="not finite real numbers"):
        model.load_state_dict(state | {"4.b": np.array(["a", "b", "c"])})
    before = model.state_dict()
    with pytest.raises(ValueError):
        model.load_state_dict(state | {"4.b": np.zeros(2)})
    np.testing.assert_array_equal(model[0].params["W"], before["0.W"])   # unchanged on error
    model.load_state_dict(state | {"4.b": np.array([1, 2, 3])})      # integers are numbers
    np.testing.assert_array_equal(model[0].params["W"], 7)
    np.testing.assert_array_equal(model[4].params["b"], [1, 2, 3])


def test_num_params_and_astype():
    model = small_model()
    assert model.num_params() == 2 * 9 + 2 + 8 * 3 + 3
    assert model.astype(np.float64) is model
    assert all(p.dtype == np.float64 for _, p, _ in model.param_items())


def test_train_eval_and_mode_set_every_layer_and_mode_restores_it():
    model = small_model()
    assert model.eval() is model and not any(layer.training for layer in model)
    assert model.train() is model and all(layer.training for layer in model)
    model[1].training = False
    with model.mode(False) as inside:
        assert inside is model and not any(layer.training for layer in model)
    assert [layer.training for layer in model] == [True, False, True, True, True]
    model.logits(rand(1, 1, 4, 4).astype(np.float32))
    assert [layer.training for layer in model] == [True, False, True, True, True]


def test_summary_lists_shapes_and_parameter_counts():
    model = Sequential([Conv2D(1, 4, 3, padding=1), ReLU(), MaxPool2D(2), Flatten(),
                        Linear(64, 10)])
    lines = model.summary((1, 1, 8, 8)).splitlines()
    rows = {line.split()[0]: line for line in lines[2:-1]}      # "#" column -> table row
    expected = {"0": ("Conv2D(1, 4, kernel_size=3, padding=1)", "(1, 4, 8, 8)", "40"),
                "1": ("ReLU()", "(1, 4, 8, 8)", "0"),
                "2": ("MaxPool2D(2)", "(1, 4, 4, 4)", "0"),
                "3": ("Flatten()", "(1, 64)", "0"),
                "4": ("Linear(in_features=64, out_features=10)", "(1, 10)", "650")}
    assert set(rows) == set(expected)
    for i, (layer, shape, count) in expected.items():
        assert layer in rows[i] and shape in rows[i]
        assert rows[i].split()[-1] == count        # 4*1*3*3 + 4 = 40; 64*10 + 10 = 650
    assert lines[-1] == "total parameters: 690"
    assert model.num_params() == 690
