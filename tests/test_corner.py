"""minicnn.measure.corner: the model table, heads that follow the trunk, the protocol, and
load_data on IDX files (written by demos/idx_digits.py; nothing is downloaded)."""

import dataclasses

import numpy as np
import pytest

import minicnn as mc
from minicnn.measure import corner


def test_model_table_has_named_fields():
    a, d, e = corner.MODELS["a"], corner.MODELS["d"], corner.MODELS["e"]
    assert a.head is corner.flatten_head and a.padding_mode == "zeros" and not a.augment
    assert d.augment and d.epochs == 2 * a.epochs
    assert e.padding_mode == "circular" and e.head is corner.global_max_head
    assert corner.MODELS["b"].lr > a.lr                  # the average divides gradients by 64
    net = e.build(32, 0)
    assert all(layer.padding_mode == "circular" for layer in net if isinstance(layer, mc.Conv2D))
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.lr = 1.0


def test_model_f_is_e_with_every_max_pool_made_shift_friendly():
    e, f = corner.MODELS["e"], corner.MODELS["f"]
    assert f.padding_mode == "circular" and f.head is corner.global_max_head
    net_e, net_f = e.build(32, 0), f.build(32, 0)
    kinds = [type(layer).__name__ for layer in net_f]
    assert "MaxPool2D" not in kinds and kinds.count("CircularMaxPool2D") == 2
    assert [kinds[i + 1] for i, k in enumerate(kinds) if k == "CircularMaxPool2D"] == [
        "PolyphaseDownsample2D"] * 2
    for (k, p, _), (_, q, _) in zip(net_e.param_items(), net_f.param_items()):
        np.testing.assert_array_equal(p, q, err_msg=k)                 # the same initial weights
    assert isinstance(net_f[-2], mc.GlobalMaxPool2D)


def test_the_same_seed_builds_the_same_network():
    one, two = corner.MODELS["a"].build(32, 0), corner.MODELS["a"].build(32, 0)
    for (k, p, _), (_, q, _) in zip(one.param_items(), two.param_items()):
        np.testing.assert_array_equal(p, q, err_msg=k)


def small_trunk(padding_mode, rng):
    """Another trunk: 8 channels and three pools, (N, 1, S, S) -> (N, 8, S/8, S/8)."""
    return [mc.Conv2D(1, 8, 3, padding=1, padding_mode=padding_mode, rng=rng), mc.ReLU(),
            mc.MaxPool2D(2), mc.MaxPool2D(2), mc.MaxPool2D(2)]


@pytest.mark.parametrize("head", [corner.flatten_head, corner.global_avg_head,
                                  corner.global_max_head])
def test_heads_read_their_input_size_from_the_trunk(head):
    for trunk, canvas, (C, h, w) in ((corner.trunk, 32, (64, 8, 8)), (corner.trunk, 24, (64, 6, 6)),
                                     (small_trunk, 32, (8, 4, 4))):
        net = corner.CornerModel("test", head=head, trunk=trunk).build(canvas, 0)
        assert corner.feature_shape(net.layers[:len(trunk("zeros", 0))], canvas) == (C, h, w)
        assert net[-1].in_features == (C * h * w if head is corner.flatten_head else C)
        assert net.forward(np.zeros((2, 1, canvas, canvas), np.float32)).shape == (2, 10)


def test_as_model_accepts_keys_models_and_builders():
    assert corner.as_model("c") is corner.MODELS["c"]
    def mine(canvas, rng):
        return mc.Sequential([mc.Flatten(), mc.Linear(canvas * canvas, 10, rng=rng)])
    spec = corner.as_model(mine)
    assert spec.description == "mine" and spec.build(16, 0)[-1].in_features == 256
    with pytest.raises(ValueError, match="model must be one of"):
        corner.as_model("z")
    with pytest.raises(TypeError, match="model must be"):
        corner.as_model(3)


def test_prepare_puts_the_training_digits_in_the_corner():
    X = np.ones((10, 1, 8, 8), np.float32)
    y = np.arange(10)
    setup = corner.prepare((X, y, X[:4], y[:4]), canvas=24, copies=2, stride=8, rng=0)
    assert setup.X.shape == (20, 1, 24, 24) and setup.canvas == 24 and setup.image == 8
    np.testing.assert_array_equal(setup.grid, [0, 8, 16])
    for canvas in setup.X[:, 0]:
        r, c = np.argwhere(canvas > 0).min(axis=0)
        assert 0 <= r <= corner.CORNER and 0 <= c <= corner.CORNER
    assert setup.far == ((12, 16), (12, 16))
    with pytest.raises(ValueError, match="canvas must be a multiple of 4 and >= 16"):
        corner.prepare((X, y, X, y), canvas=12)


def test_run_any_builder_through_the_protocol():
    """A tiny setting: a circular trunk with a global max head is flat on this grid, a flatten
    head trained only in the corner is not."""
    data = corner.load_data("digits", rng=0)
    setup = corner.prepare(data, quick=True, rng=0)                  # 24x24, grid 0, 8, 16

    def mine(canvas, rng):
        return mc.Sequential(corner.trunk("circular", rng) +
                             [mc.GlobalMaxPool2D(), mc.Linear(64, 10, rng=rng)])
    flat = corner.run(mine, setup, epochs=2)
    a = corner.run("a", setup, epochs=2)
    assert flat.map.shape == (3, 3) and flat.description == "mine"
    assert flat.summary["spread"] < 1e-9                      # shifts by multiples of 4: exact
    assert a.summary["trained"] > a.summary["far"] + 0.3
    assert a.summary["spread"] > 0.3
    text = str(flat)
    assert "mine" in text and "max-min" in text and f"{100 * flat.map[0, 0]:.1f}" in text


def test_load_data_downsamples_and_subsets(mnist_dir):
    X_tr, y_tr, X_te, y_te = corner.load_data("mnist", mnist_dir, downsample=2, train_size=50,
                                              test_size=20, rng=0)
    assert X_tr.shape == (50, 1, 14, 14) and X_te.shape == (20, 1, 14, 14) and len(y_te) == 20
    assert X_tr.dtype == np.float32 and 0 <= X_tr.min() and X_tr.max() <= 1
    full = corner.load_data("mnist", mnist_dir, downsample=1, train_size=50, test_size=20,
                            rng=0)
    assert full[0].shape == (50, 1, 28, 28)
    np.testing.assert_array_equal(full[1], y_tr)                 # same subset for the same seed
    blocks = full[0].reshape(50, 1, 14, 2, 14, 2).mean(axis=(3, 5))
    np.testing.assert_allclose(X_tr, blocks, atol=1e-6)           # 2x2 block means
    other = corner.load_data("mnist", mnist_dir, train_size=50, test_size=20, rng=1)
    assert not np.array_equal(other[0], X_tr)                     # another seed, another subset
    with pytest.raises(ValueError, match="downsample must .* divide the image side 28"):
        corner.load_data("mnist", mnist_dir, downsample=3)


def test_download_flag_fetches_before_loading(mnist_dir, monkeypatch):
    calls = []
    monkeypatch.setattr(corner, "download_mnist", lambda d, kind: calls.append((d, kind)))
    X_tr = corner.load_data("fashion", mnist_dir, train_size=5, test_size=5, download=True)[0]
    assert calls == [(mnist_dir, "fashion")] and X_tr.shape == (5, 1, 14, 14)


def tiny(canvas, rng):
    """A builder small enough to train in a moment: Flatten + Linear."""
    return mc.Sequential([mc.Flatten(), mc.Linear(canvas * canvas, 10, rng=rng)])


def test_run_given_a_built_model_names_the_builder_it_needs():
    """A built Sequential is callable too; the protocol needs the function that builds one."""
    with pytest.raises(TypeError, match=r"corner\.run: model is a built Sequential") as info:
        corner.run(tiny(24, 0), quick=True)
    assert "def build(canvas, rng)" in str(info.value) and "corner.run(build)" in str(info.value)
    with pytest.raises(TypeError, match=r"corner\.train: model is a built Linear"):
        corner.train(mc.Linear(4, 10), np.zeros((2, 1, 24, 24), np.float32), np.arange(2))


def test_run_takes_a_generator_as_rng_like_everywhere_else():
    """One int seed is drawn from the Generator: the same Generator state, the same run, the
    run of that int seed (a seeded run repeats exactly)."""
    one = corner.run(tiny, quick=True, epochs=1, rng=np.random.default_rng(0))
    seed = corner.as_seed(np.random.default_rng(0))
    two = corner.run(tiny, quick=True, epochs=1, rng=seed)
    np.testing.assert_array_equal(one.map, two.map)
    assert one.summary == two.summary
    setup = corner.prepare(quick=True, rng=np.random.default_rng(1))
    assert setup.X.shape[-1] == 24
    for bad in ("0", 1.5, -1, True):
        with pytest.raises(TypeError, match=r"corner\.run: rng must be an int seed >= 0, a numpy "
                                            r"Generator or None"):
            corner.run(tiny, setup, rng=bad)
