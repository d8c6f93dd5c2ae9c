"""demos/explore.py, headless: the figure builds, sliders redraw it, weights are cached."""

import io
import re

import numpy as np
import pytest
from conftest import load_demo

from minicnn import place_on_canvas
from minicnn.measure import corner

explore = load_demo("explore")


@pytest.fixture(scope="module")
def digits():
    from minicnn import load_digits
    return load_digits(rng=0)


def small_training(digits, cache, **kw):
    X_tr, y_tr, _, _ = digits
    return explore.load_or_train(X_tr[:32], y_tr[:32], seed=0, cache_dir=cache, quick=True, **kw)


@pytest.fixture
def count_training(monkeypatch):
    """How many times explore.train_models ran (the cache tests count with it)."""
    calls, train_models = [], explore.train_models
    monkeypatch.setattr(explore, "train_models", lambda *a: calls.append(1) or train_models(*a))
    return calls


def test_weights_cached_after_first_training(digits, tmp_path, count_training, capsys):
    models, trained = small_training(digits, tmp_path)
    assert trained and len(count_training) == 1
    printed = capsys.readouterr().out                                     # progress, per model
    assert f"weights are then cached in {tmp_path}" in printed
    for i, key in enumerate("ace", 1):
        assert re.search(rf"training model {key} \(.*\), {i} of 3, .* \d+\.\d s\n", printed)
    assert len(list(tmp_path.glob("explorer-seed0-quick-*.npz"))) == 3     # a, c, e
    fresh = explore.make_models(0)
    assert not np.array_equal(models["a"].layers[0].params["W"],
                              fresh["a"].layers[0].params["W"])              # training moved it
    again, trained = small_training(digits, tmp_path)
    assert not trained and len(count_training) == 1                          # loaded, not trained
    for name in models:
        for (k, p, _), (_, q, _) in zip(models[name].param_items(), again[name].param_items()):
            np.testing.assert_array_equal(p, q, err_msg=f"{name} {k}")
    _, trained = small_training(digits, tmp_path, retrain=True)
    assert trained and len(count_training) == 2
    next(tmp_path.glob("explorer-seed0-quick-*-c.npz")).write_bytes(b"not an npz")   # broken
    _, trained = small_training(digits, tmp_path)
    assert trained and len(count_training) == 3


def test_weights_cached_by_another_version_of_the_corner_code_are_not_used(
        digits, tmp_path, count_training, monkeypatch):
    small_training(digits, tmp_path)
    assert len(count_training) == 1
    monkeypatch.setattr(explore.inspect, "getsource", lambda module: "a changed recipe")
    _, trained = small_training(digits, tmp_path)
    assert trained and len(count_training) == 2          # a new digest: trained, not loaded
    assert len(list(tmp_path.glob("explorer-seed0-quick-*.npz"))) == 6


def test_explorer_trains_the_corner_experiments_models(digits, tmp_path):
    """The explorer's models are the corner experiment's, trained by its recipe on corner digits."""
    from minicnn.measure.positions import place_in_region
    X_tr, y_tr, _, _ = digits
    models, _ = small_training(digits, tmp_path, keys=("a", "e"))
    X, y = place_in_region(X_tr[:32], y_tr[:32], 32, (0, 4), (0, 4), copies=1, rng=0)
    for key in ("a", "e"):
        ref = corner.train(corner.MODELS[key], X, y, epochs=3, rng=0)         # quick: half of 6
        assert [type(m).__name__ for m in models[key]] == [type(m).__name__ for m in ref]
        for (k, p, _), (_, q, _) in zip(models[key].param_items(), ref.param_items()):
            np.testing.assert_array_equal(p, q, err_msg=f"{key} {k}")
    assert models["e"].layers[0].padding_mode == "circular"


@pytest.fixture(scope="module")
def explorer(digits):
    """The explorer on untrained models (how they react to the sliders is what is tested)."""
    _, _, X_te, y_te = digits
    fig, controls = explore.build_explorer(explore.make_models(0), X_te, y_te, 32, 4, 4, 3)
    yield fig, controls, X_te, y_te
    import matplotlib.pyplot as plt
    plt.close(fig)


def snapshot(controls):
    view = controls["view"]
    return {"canvas": np.array(view["img"].get_array()),
            "maps": [np.array(im.get_array()) for row in view["fmaps"] for im in row],
            "bars": {name: np.array([b.get_height() for b in bars])
                     for name, (_, bars) in view["bars"].items()}}


def test_sliders_redraw_canvas_maps_and_bars(explorer):
    _, controls, X_te, y_te = explorer
    controls["row"].set_val(4)
    controls["col"].set_val(4)
    controls["digit"].set_val(3)
    before = snapshot(controls)
    controls["row"].set_val(20)
    controls["col"].set_val(20)
    after = snapshot(controls)
    idx = int(np.flatnonzero(y_te == 3)[0])
    np.testing.assert_array_equal(after["canvas"], place_on_canvas(X_te[idx], 32, (20, 20))[0])
    assert not np.array_equal(before["canvas"], after["canvas"])
    for name in before["bars"]:
        assert np.isclose(after["bars"][name].sum(), 1, atol=1e-5)           # probabilities
    for name in ("a", "c"):                                   # position-dependent heads
        assert not np.allclose(before["bars"][name], after["bars"][name])
    # e: circular padding, global max: a shift by 16 (a multiple of the total stride 4) leaves
    # the pooled features, hence the probabilities, unchanged (up to float32 rounding).
    np.testing.assert_allclose(before["bars"]["e"], after["bars"]["e"], atol=1e-6)
    # conv1 maps moved with the digit: equal away from the border, 16 pixels further on.
    for old, new in zip(before["maps"][:explore.CHANNELS_SHOWN],
                        after["maps"][:explore.CHANNELS_SHOWN]):
        assert old.shape == (32, 32)
        np.testing.assert_allclose(new[19:29, 19:29], old[3:13, 3:13], atol=1e-5)
        assert not np.allclose(new, old)
    controls["digit"].set_val(7)
    assert "digit 7" in controls["view"]["ax_in"].get_title()
    assert not np.array_equal(snapshot(controls)["canvas"], after["canvas"])


def test_frames_differ_between_positions(explorer):
    fig, controls, _, _ = explorer
    frames = []
    for pos in (0, 22):
        controls["row"].set_val(pos)
        controls["col"].set_val(pos)
        fig.canvas.draw()
        frames.append(np.asarray(fig.canvas.buffer_rgba()).copy())
    assert frames[0].shape == frames[1].shape
    assert (frames[0] != frames[1]).any(axis=-1).mean() > 0.005          # > 0.5% of pixels
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=40)
    assert buf.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"


def test_main_saves_a_frame_from_cached_weights(digits, tmp_path, count_training):
    small_training(digits, tmp_path / "cache")
    out = tmp_path / "frame.png"
    result = explore.main(["--quick", "--cache", str(tmp_path / "cache"), "--save", str(out),
                           "--row", "22", "--col", "22", "--digit", "5"])
    assert result["trained"] is False and len(count_training) == 1
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size < 300_000
    assert len(result["accuracy"]) == 5                                     # positions
    for accs in result["accuracy"].values():
        assert set(accs) == {"a", "c", "e"} and all(0 <= a <= 1 for a in accs.values())
    for name in ("a", "c", "e"):
        assert result["probs"][name].shape == (10,)


def test_main_without_a_display_says_so_and_suggests_save(digits, tmp_path, capsys):
    """Headless (the tests' Agg backend), main prints the table, then why no window opened."""
    small_training(digits, tmp_path / "cache", keys=("a",))
    capsys.readouterr()
    result = explore.main(["--quick", "--cache", str(tmp_path / "cache"), "--row", "7",
                           "--models", "a"])
    printed = capsys.readouterr().out
    assert result["shown"] is False and result["saved"] is None
    assert "test accuracy" in printed and "loaded cached weights" in printed
    assert "no window can open here: matplotlib's backend is 'agg'" in printed.lower()
    assert "python demos/explore.py --save explorer.png --row 7 --col 0 --digit 3" in printed
