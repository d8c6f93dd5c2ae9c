"""demos/faces.py and demos/faces_why.py on tiny settings at seeds 0, 1 and 2: the directions
the README claims for faces hold at every one of them."""

import numpy as np
import pytest

SEEDS = (0, 1, 2)


@pytest.fixture(scope="module")
def faces(tmp_path_factory):
    """Models a, c, e, f at every seed, one process; figures at seed 0 only."""
    from conftest import run_demo_once
    return {seed: run_demo_once(tmp_path_factory, "faces", "--quick", "--seed", str(seed),
                                "--models", "a,c,e,f", "--jobs", "1", "--stride", "16",
                                "--channels", "2", "--top", "4",
                                *([] if seed == 0 else ["--no-figures"])) for seed in SEEDS}


@pytest.fixture(scope="module")
def why(tmp_path_factory):
    """The two changes that remove the border from training, at every seed, one process."""
    from conftest import run_demo_once
    return run_demo_once(tmp_path_factory, "faces_why", "--quick", "--seeds", "0,1,2",
                         "--variants", "off_edge,grey", "--jobs", "1")


def test_faces_models_are_the_corner_models_with_two_outputs():
    from conftest import load_demo
    demo = load_demo("faces")
    for key in "abcdef":
        spec = demo.faces_model(key)
        assert spec.classes == 2 and spec.optimizer == "adam"
        assert spec.build(60, 0)[-1].params["W"].shape[0] == 2     # Linear: (2, inputs)


@pytest.mark.parametrize("seed", SEEDS)
def test_corner_directions_on_faces(faces, seed):
    r = faces[seed]["results"]
    # a: the flatten head reads the corner it trained on; far away it calls every face "not a
    # face" (chance 50%)
    assert r["a"]["trained"] > r["a"]["far"] + 0.25 and r["a"]["far_faces"] < 0.2
    # e: circular padding + global max pooling: far from the corner as good as in it, and a
    # flatter map than a's
    assert r["e"]["far"] > r["e"]["trained"] - 0.1 and r["e"]["spread"] < r["a"]["spread"]
    # f: polyphase downsampling: exactly the same class wherever the patch is
    assert r["f"]["spread"] == 0 and r["f"]["consistency"] == 1 and r["f"]["fragility"] == 0


@pytest.mark.parametrize("seed", SEEDS)
def test_fuzzy_response(faces, seed):
    f = faces[seed]["inside"]["fuzzy"]
    # a face lights up a blob of its strongest conv3 channel, not one pixel
    assert f["count"][0].mean() > 3
    # moves by whole cells of the stride-4 map (4, 8 px) keep that channel's peak closer to its
    # unshifted value than moves by 1 or 2 px, which change what each 2x2 pool keeps
    off = np.abs(f["peak"] - 1).max(axis=1)                        # (shifts,)
    shifts = list(f["shifts"])
    assert max(off[shifts.index(4)], off[shifts.index(8)]) < max(off[shifts.index(1)],
                                                                  off[shifts.index(2)])


@pytest.mark.parametrize("seed", SEEDS)
def test_moving_faces_down_pulls_toward_not_a_face(faces, seed):
    """The margin logit(face) - logit(not a face) after global max pooling is a sum over
    channels, so its change splits exactly into one term per channel."""
    d = faces[seed]["inside"]["down"]
    assert d["margin"] < 0
    assert abs(d["before"] + d["margin"] - d["after"]) < 1e-3 * (1 + abs(d["before"]))


def test_top_patches_and_figures(faces):
    p = faces[0]["inside"]["patches"]
    assert list(p) == ["conv1", "conv2", "conv3", "conv3, moved down"]
    assert [p[k]["size"] for k in p] == [3, 8, 18, 18]             # the trunk's fields
    assert p["conv3"]["vote"].shape == (2,)                         # --channels 2
    down = faces[0]["inside"]["down"]
    assert p["conv3, moved down"]["channels"][0] == np.argmin(down["terms"])
    assert all(0 <= p[k]["inside"].min() and p[k]["inside"].max() <= 1 for k in p)
    names = sorted(path.name for path in faces[0]["figures"])
    assert names == ["faces_fuzzy.png", "faces_maps.png", "faces_patches.png",
                     "faces_sliding.png"]
    assert all(path.stat().st_size > 10_000 for path in faces[0]["figures"])
    assert faces[1]["figures"] == []


def test_summary_follows_the_numbers(faces):
    for seed in SEEDS:
        r, lines = faces[seed]["results"], faces[seed]["summary"]
        for key in r:
            failing = r[key]["far"] < r[key]["trained"] - 0.2
            line = next(x for x in lines if x.startswith(f"{key}:"))
            assert ("errors are mostly" in line) == failing


def test_faces_off_the_edge_or_on_grey_never_fail(why):
    """Trained off the canvas's edge, or on a grey canvas, model c reads faces in the far
    quadrant at every seed; and the printed summary says so from the same numbers."""
    for (variant, seed), r in why["results"].items():
        assert not r["fails"] and r["far"] > r["trained"] - 0.2, (variant, seed)
        assert r["far_faces"] > 0.5
    assert [line.split(":")[0] for line in why["summary"]] == ["trained off edge", "grey canvas"]
    assert all("fails at 0 of 3 seeds" in line for line in why["summary"])
    assert [path.name for path in why["figures"]] == ["faces_why.png"]
