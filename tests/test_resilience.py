"""minicnn.resilience: the safety checks around a training step. Ctrl-C deferred to the end
of the outermost block, the first non-finite gradient, update or input found and named, numpy's
floating-point flags turned into NonFiniteError. Whole runs that survive trouble:
test_reliability.py."""

import signal
import warnings

import numpy as np
import pytest
from conftest import make_data, make_model

import minicnn as mc
from minicnn import resilience
from minicnn.optim import check_gradients
from minicnn.train import train_step


@pytest.fixture
def ctrl_c_raises():
    """Python's own Ctrl-C handler for the test (a background process may inherit SIG_IGN)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_ctrl_c_inside_nested_deferred_blocks_waits_for_the_outermost(ctrl_c_raises):
    done = []
    with pytest.raises(KeyboardInterrupt), resilience.interrupts_deferred():
        with resilience.interrupts_deferred():
            signal.raise_signal(signal.SIGINT)
            done.append("inner")
        done.append("outer")
    assert done == ["inner", "outer"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_deferring_leaves_another_sigint_handler_alone():
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with resilience.interrupts_deferred():
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


class Param(mc.Layer):
    """Identity with a two-element parameter whose gradient we choose."""

    def __init__(self, g):
        super().__init__()
        self.params["W"] = np.zeros(2)
        self.grads["W"] = np.array(g, dtype=np.float64)

    def output_shape(self, input_shape):
        return tuple(input_shape)


def test_one_non_finite_gradient_entry_is_found_and_the_last_layer_is_named_first():
    model = mc.Sequential([Param([np.nan, 0.0]), Param([0.0, np.inf]), Param([1.0, 1.0])])
    with pytest.raises(mc.NonFiniteError, match="gradient of W in layer 1") as info:
        check_gradients(model, "here")
    assert info.value.layer == 1


def test_one_overflowing_update_entry_is_caught():
    model = mc.Sequential([Param([0.0, -1e308])])
    model[0].params["W"] = np.array([0.0, 1e308])
    opt = mc.SGD(1.0)
    with np.errstate(over="ignore"), pytest.raises(
            mc.NonFiniteError, match="update would make W of layer 0") as info:
        opt.step(model)
    assert info.value.layer == 0
    np.testing.assert_array_equal(model[0].params["W"], [0.0, 1e308])     # nothing assigned


def test_a_transform_that_returns_one_nan_stops_fit():
    X, y = make_data(4)

    def one_nan(x, rng):
        x = x.copy()
        x[0, 0, 0, 0] = np.nan
        return x
    with pytest.raises(mc.NonFiniteError, match="transform returned NaN") as info:
        mc.fit(make_model(), X, y, transform=one_nan, progress=False)
    assert (info.value.layer, info.value.epoch, info.value.batch) == ("input", 1, 1)


FLAG_OPS = {"invalid": lambda x: np.sqrt(-np.abs(x) - 1),     # NaN
            "divide": lambda x: np.log(0 * x),                # -inf
            "over": lambda x: np.exp(1e4 + np.abs(x))}        # inf


class NonFiniteOp(mc.Layer):
    """A layer whose forward raises one of numpy's floating-point flags on every element."""

    def __init__(self, flag):
        super().__init__()
        self.flag = flag

    def forward(self, x):
        return FLAG_OPS[self.flag](x)

    def output_shape(self, input_shape):
        return tuple(input_shape)


@pytest.mark.parametrize("flag", sorted(FLAG_OPS))
def test_a_floating_point_error_in_a_step_raises_non_finite_without_numpy_warnings(flag):
    X, y = make_data(4)
    model = mc.Sequential([NonFiniteOp(flag), mc.Flatten(), mc.Linear(4, 3, rng=0,
                                                                       dtype=np.float64)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")                       # a RuntimeWarning would fail here
        with pytest.raises(mc.NonFiniteError, match="loss"):
            mc.fit(model, X, y, optimizer=mc.SGD(0.1), progress=False)


def test_non_finite_error_reads_as_its_message_and_keeps_where_it_happened():
    e = mc.NonFiniteError("loss is nan", 2, 5, "loss")             # positional, as documented
    assert str(e) == "loss is nan" and e.args == ("loss is nan",)
    assert (e.epoch, e.batch, e.layer) == (2, 5, "loss")
    assert isinstance(e, FloatingPointError)


class NaNGradient(mc.Layer):
    """The identity with a parameter whose gradient comes out NaN while the loss stays finite."""

    def __init__(self):
        super().__init__()
        self.params["W"] = np.zeros(2)

    def forward(self, x):
        return x

    def backward(self, dout):
        self.grads["W"] = np.array([np.nan, 0.0])
        return dout

    def output_shape(self, input_shape):
        return tuple(input_shape)


def test_a_non_finite_gradient_is_caught_as_a_gradient_before_it_reaches_an_update():
    X, y = make_data(4)
    model = mc.Sequential([NaNGradient(), mc.Flatten(), mc.Linear(4, 3, rng=0, dtype=np.float64)])
    before = model.state_dict()
    with pytest.raises(mc.NonFiniteError, match="gradient of W in layer 0") as info:
        train_step(model, X, y, mc.SGD(0.1))
    assert info.value.layer == 0
    assert all(np.array_equal(v, before[k], equal_nan=True) for k, v in model.state_dict().items())


def test_the_divergence_warning_names_the_epoch_that_diverged_and_comes_once():
    rng = np.random.default_rng(0)
    X, y = rng.random((32, 1, 4, 4)).astype(np.float32), rng.integers(0, 10, 32)
    model = mc.Sequential([mc.Flatten(), mc.Linear(16, 10, rng=0)])
    batches = []

    def huge_after_epoch_1(x, rng):                       # 4 batches an epoch
        batches.append(1)
        return x if len(batches) <= 4 else x * 1e7

    with pytest.warns(RuntimeWarning, match=r"fit: epoch 2's mean training loss") as caught:
        history = mc.fit(model, X, y, epochs=4, batch_size=8, optimizer=mc.SGD(1e-15),
                         transform=huge_after_epoch_1, progress=False)
    assert history["loss"][0] < 10 and min(history["loss"][1:]) > 1e3 * np.log(10)
    assert len([w for w in caught if issubclass(w.category, RuntimeWarning)]) == 1
