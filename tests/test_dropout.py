"""minicnn.layers.dropout: inverted dropout in training mode, the identity in evaluation mode,
its gradient in both, and the train()/eval() switch it depends on. How fit and evaluate set the
mode: test_train.py."""

import numpy as np
import pytest
from conftest import Probe, small_model

import minicnn as mc


def test_layers_start_in_training_mode_and_train_eval_switch_every_layer():
    model = small_model(mc.Dropout(0.5), Probe())
    assert all(layer.training for layer in model)
    assert model.eval() is model and not any(layer.training for layer in model)
    assert model.train() is model and all(layer.training for layer in model)
    assert not model.train(False).layers[2].training
    layer = mc.Dropout(0.5)
    assert layer.eval() is layer and not layer.training
    assert layer.train().training


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
