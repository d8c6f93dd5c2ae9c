"""demos/explore.py, headless: the figure builds, sliders redraw it, weights are cached."""

import io

import numpy as np
import pytest
from conftest import load_demo

from minicnn import place_on_canvas

explore = load_demo("explore")


@pytest.fixture(scope="module")
def digits():
    from minicnn import load_digits
    return load_digits(seed=0)


def small_training(digits, cache, **kw):
    X_tr, y_tr, _, _ = digits
    return explore.load_or_train(X_tr[:32], y_tr[:32], seed=0, cache_dir=cache, quick=True, **kw)


def test_weights_cached_after_first_training(digits, tmp_path):
    calls = explore.TRAIN_CALLS
    models, trained = small_training(digits, tmp_path)
    assert trained and explore.TRAIN_CALLS == calls + 1
    assert len(list(tmp_path.glob("explorer-seed0-quick-*.npz"))) == 2
    fresh = explore.make_models(0)
    assert not np.array_equal(models["flatten"].layers[0].params["W"],
                              fresh["flatten"].layers[0].params["W"])        # training moved it
    again, trained = small_training(digits, tmp_path)
    assert not trained and explore.TRAIN_CALLS == calls + 1                  # loaded, not trained
    for name in models:
        for (k, p, _), (_, q, _) in zip(models[name].param_items(), again[name].param_items()):
            np.testing.assert_array_equal(p, q, err_msg=f"{name} {k}")
    _, trained = small_training(digits, tmp_path, retrain=True)
    assert trained and explore.TRAIN_CALLS == calls + 2
    (tmp_path / "explorer-seed0-quick-gap.npz").write_bytes(b"not an npz")   # broken cache
    _, trained = small_training(digits, tmp_path)
    assert trained and explore.TRAIN_CALLS == calls + 3


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
        assert not np.allclose(before["bars"][name], after["bars"][name])
        assert np.isclose(after["bars"][name].sum(), 1, atol=1e-5)           # probabilities
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


def test_main_saves_a_frame_from_cached_weights(digits, tmp_path):
    small_training(digits, tmp_path / "cache")
    calls = explore.TRAIN_CALLS
    out = tmp_path / "frame.png"
    result = explore.main(["--quick", "--cache", str(tmp_path / "cache"), "--save", str(out),
                           "--row", "22", "--col", "22", "--digit", "5"])
    assert result["trained"] is False and explore.TRAIN_CALLS == calls
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size < 300_000
    assert len(result["accuracy"]) == 3
    for accs in result["accuracy"].values():
        assert set(accs) == {"flatten", "gap"} and all(0 <= a <= 1 for a in accs.values())
    for name in ("flatten", "gap"):
        assert result["probs"][name].shape == (10,)
