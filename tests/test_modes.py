"""Training and evaluation mode, Dropout, and the layer contract for layers of your own."""

import numpy as np
import pytest

import minicnn as mc


class Probe(mc.Layer):
    """The identity, recording (batch size, training flag) at every forward."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def output_shape(self, input_shape):
        return tuple(input_shape)

    def forward(self, x):
        self.seen.append((len(x), self.training))
        self.cache = x
        return x

    def backward(self, dout):
        return dout


class Gain(mc.Layer):
    """out = x * gain[c] for channel c: a parameter under a key of its own ("gain")."""

    def __init__(self, channels):
        super().__init__()
        self.params["gain"] = np.ones(channels, dtype=np.float32)

    def output_shape(self, input_shape):
        return tuple(input_shape)

    def forward(self, x):
        self.cache = x
        return x * self.params["gain"][:, None, None]               # (N, C, H, W)

    def backward(self, dout):
        self.grads["gain"] = np.sum(dout * self.cache, axis=(0, 2, 3))
        return dout * self.params["gain"][:, None, None]


@pytest.fixture(scope="module")
def data():
    X, y, _, _ = mc.load_digits(rng=0)
    return X[:96], y[:96]


def small_model(*middle, seed=0):
    return mc.Sequential([mc.Conv2D(1, 4, 3, padding=1, rng=seed), mc.ReLU(), *middle,
                          mc.MaxPool2D(2), mc.Flatten(), mc.Linear(64, 10, rng=seed + 1)])


def test_layers_start_in_training_mode_and_train_eval_switch_every_layer():
    model = small_model(mc.Dropout(0.5), Probe())
    assert all(layer.training for layer in model)
    assert model.eval() is model and not any(layer.training for layer in model)
    assert model.train() is model and all(layer.training for layer in model)
    assert not model.train(False).layers[2].training
    layer = mc.Dropout(0.5)
    assert layer.eval() is layer and not layer.training
    assert layer.train().training


@pytest.mark.parametrize("start", ["train", "eval"])
def test_fit_trains_in_training_mode_validates_in_eval_and_restores(data, start):
    X, y = data
    probe = Probe()
    model = getattr(small_model(probe), start)()
    mc.fit(model, X, y, epochs=2, batch_size=32, validation_data=(X[:40], y[:40]),
           progress=False)
    train_calls = [t for n, t in probe.seen if n == 32]
    val_calls = [t for n, t in probe.seen if n == 40]
    assert len(train_calls) == 6 and all(train_calls)                   # 3 batches x 2 epochs
    assert len(val_calls) == 2 and not any(val_calls)
    assert all(layer.training == (start == "train") for layer in model)


@pytest.mark.parametrize("call", ["evaluate", "accuracy", "logits", "predict"])
def test_evaluation_helpers_use_eval_mode_and_restore_it(data, call):
    X, y = data
    probe = Probe()
    model = small_model(probe)
    if call in ("evaluate", "accuracy"):
        getattr(mc, call)(model, X, y)
    else:
        getattr(model, call)(X)
    assert probe.seen and not any(t for _, t in probe.seen)
    assert all(layer.training for layer in model)                       # put back


def test_a_model_without_dropout_trains_the_same_in_either_mode(data):
    X, y = data
    a, b = small_model(), small_model().eval()
    mc.fit(a, X, y, epochs=1, progress=False)
    mc.fit(b, X, y, epochs=1, progress=False)
    for (name, p, _), (_, q, _) in zip(a.param_items(), b.param_items()):
        np.testing.assert_array_equal(p, q, err_msg=name)


def test_dropout_is_inverted_and_random_in_training_and_the_identity_in_eval():
    x = np.random.default_rng(0).standard_normal((200, 3, 10, 10)).astype(np.float32)
    layer = mc.Dropout(0.25, rng=1)
    out = layer.forward(x)
    assert out.dtype == np.float32 and out.shape == x.shape
    kept = out != 0
    assert abs(1 - kept.mean() - 0.25) < 0.01                           # 60,000 draws
    np.testing.assert_allclose(out[kept], x[kept] / 0.75, rtol=1e-6)    # inverted: E[out] = x
    dout = np.random.default_rng(2).standard_normal(x.shape).astype(np.float32)
    np.testing.assert_allclose(layer.backward(dout), np.where(kept, dout / 0.75, 0), rtol=1e-6)
    assert not np.array_equal(layer.forward(x) != 0, kept)              # a fresh mask
    np.testing.assert_array_equal(mc.Dropout(0.25, rng=1).forward(x), out)   # rng seeds it
    layer.eval()
    assert layer.forward(x) is x or np.array_equal(layer.forward(x), x)
    np.testing.assert_array_equal(layer.backward(dout), dout)
    np.testing.assert_array_equal(mc.Dropout(0.0).forward(x), x)        # p = 0: identity


def test_dropout_gradient_check_in_eval_mode_and_by_hand_in_training_mode():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 2, 4, 4))
    assert max(mc.check_layer(mc.Dropout(0.5).eval(), x, rng=0).values()) <= 1e-6
    with pytest.raises(ValueError, match="layer.eval"):
        mc.check_layer(mc.Dropout(0.5), x)
    # training mode with the mask held fixed: a fresh generator with the same seed every call
    layer = mc.Dropout(0.5)

    def forward(inp):
        layer.rng = np.random.default_rng(7)
        return layer.forward(inp)

    g = rng.standard_normal(x.shape)
    forward(x)
    dx = layer.backward(g)
    numeric = mc.numerical_gradient(lambda: float(np.sum(forward(x) * g)), x)
    assert mc.rel_error(dx, numeric) <= 1e-6
    model = small_model(mc.Dropout(0.3, rng=0)).astype(np.float64).eval()
    x8 = rng.standard_normal((3, 1, 8, 8))                              # random: no pool ties
    assert max(mc.check_model(model, x8, [1, 2, 3]).values()) <= 1e-6


def test_a_model_with_dropout_trains_and_evaluates_deterministically(data):
    X, y = data
    model = small_model(mc.Dropout(0.3, rng=0))
    history = mc.fit(model, X, y, epochs=10, batch_size=16, optimizer=mc.Adam(1e-2),
                     validation_data=(X, y), progress=False)
    assert history["val_acc"][-1] > 0.7                                  # it learned (0.875)
    assert mc.evaluate(model, X, y) == mc.evaluate(model, X, y)          # no dropout in eval
    assert history["val_acc"][-1] == mc.accuracy(model, X, y)
    model.train()
    assert not np.array_equal(model.forward(X[:8]), model.forward(X[:8]))   # it is on here


@pytest.mark.parametrize("optimizer", [mc.SGD(0.1, momentum=0.9), mc.Adam(1e-2)])
def test_a_parameter_under_any_key_is_trained_saved_and_loaded(data, optimizer, tmp_path):
    X, y = data
    model = small_model(Gain(4))
    assert "2.gain" in model.state_dict()
    mc.fit(model, X, y, epochs=1, optimizer=optimizer, progress=False)
    assert not np.allclose(model.layers[2].params["gain"], 1)
    x = np.random.default_rng(0).standard_normal((2, 4, 3, 3))
    assert max(mc.check_layer(Gain(4).astype(np.float64), x, rng=0).values()) <= 1e-6
    mc.save_weights(model, tmp_path / "w.npz")
    fresh = mc.load_weights(small_model(Gain(4)), tmp_path / "w.npz")
    np.testing.assert_array_equal(fresh.layers[2].params["gain"], model.layers[2].params["gain"])


def test_a_layer_without_output_shape_says_what_to_implement():
    class Twice(mc.Layer):
        def forward(self, x):
            return 2 * x

        def backward(self, dout):
            return 2 * dout

    model = mc.Sequential([mc.Flatten(), Twice(), mc.Linear(64, 10)])
    assert model.forward(np.zeros((2, 1, 8, 8), np.float32)).shape == (2, 10)  # forward works
    assert repr(Twice()) == "Twice()"                    # not <...Twice object at 0x7f...>
    for call in (lambda: model.summary((1, 1, 8, 8)),
                 lambda: mc.evaluate(model, np.zeros((2, 1, 8, 8), np.float32), [0, 1])):
        with pytest.raises(NotImplementedError, match=r"Twice must implement output_shape"):
            call()
