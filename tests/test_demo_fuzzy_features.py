"""demos/fuzzy_features.py (and its report, demos/fuzzy_report.py) on tiny settings (--quick).

Each test asserts the DIRECTION of an effect that the README claims about fuzzy features, on the
numbers the demo returns, and that the printed interpretation changes its words when the
numbers change.
"""

import copy

import numpy as np
import pytest
from conftest import assert_figures, load_demo, run_demo_once

TRUNK = ("pool 1 (stride 2)", "pool 2 (stride 4)", "conv 3 + ReLU")


@pytest.fixture(scope="module")
def fuzzy(tmp_path_factory):
    return run_demo_once(tmp_path_factory, "fuzzy_features", "--quick")


def mean(fuzzy, head, jitter, what, layer=None):
    r = fuzzy["results"][head, jitter]
    return (r[what] if layer is None else r["similarity"][layer]).mean(axis=0)   # (K+1,)


def test_features_are_fuzzy_and_deeper_layers_tolerate_shifts_better(fuzzy):
    assert fuzzy["jitter"] == [1, 0]
    for head, jitter in fuzzy["results"]:
        sims = [mean(fuzzy, head, jitter, "similarity", name) for name in TRUNK]
        for sim in sims:
            assert sim[0] == pytest.approx(1.0)
            assert sim[1] > 0.8 and sim[-1] < sim[1] - 0.2        # high for 1 px, falls later
        k = fuzzy["shifts"][-1]
        assert sims[0][k] < sims[1][k] < sims[2][k]                 # deeper: more tolerant


def test_predictions_are_tolerant_to_small_shifts_only_when_training_jitters(fuzzy):
    for head in ("flatten", "pooling"):
        with_jitter, without = (mean(fuzzy, head, j, "changed")[1] for j in (1, 0))
        assert without > with_jitter + 0.05, head
    # the flatten head: jitter changes its features' similarity far less than its predictions
    s1, s0 = (mean(fuzzy, "flatten", j, "similarity", "conv 3 + ReLU")[1] for j in (1, 0))
    c1, c0 = (mean(fuzzy, "flatten", j, "changed")[1] for j in (1, 0))
    assert abs(s1 - s0) / max(s1, s0) < abs(c1 - c0) / max(c1, c0) / 3
    changed = mean(fuzzy, "flatten", 1, "changed")
    assert changed[-1] > changed[1] + 0.3                          # beyond the jitter it breaks


def test_pooling_head_realigns_at_a_multiple_of_the_stride(fuzzy):
    assert fuzzy["shifts"][-1] >= 5
    for jitter in (1, 0):
        changed = mean(fuzzy, "pooling", jitter, "changed")
        assert changed[4] < min(changed[3], changed[5]) - 0.05
        g = mean(fuzzy, "pooling", jitter, "similarity", "global average")
        assert g[4] > max(g[3], g[5])
        flat = mean(fuzzy, "flatten", jitter, "changed")
        assert flat[4] > flat[3] - 0.05                             # no realignment there


def test_pooling_head_is_less_accurate_unshifted_and_fits_less(fuzzy):
    for jitter in (1, 0):
        acc = {h: mean(fuzzy, h, jitter, "accuracy")[0] for h in ("flatten", "pooling")}
        train = {h: fuzzy["results"][h, jitter]["train"].mean() for h in ("flatten", "pooling")}
        assert acc["pooling"] < acc["flatten"] and train["pooling"] < train["flatten"]
    assert_figures(fuzzy, ["fuzzy_features.png", "fuzzy_maps.png"])


def test_fuzzy_interpretation_follows_the_numbers(fuzzy):
    report = load_demo("fuzzy_report")
    args = (fuzzy["shifts"], fuzzy["jitter"], 32, 5, 4)
    text = " ".join(report.interpret(fuzzy["results"], *args))
    assert "(fewer with jitter at the one seed)" in text and "so it falls" in text
    swapped = copy.deepcopy(fuzzy["results"])            # pretend jitter made things worse
    for head in ("flatten", "pooling"):
        swapped[head, 1], swapped[head, 0] = swapped[head, 0], swapped[head, 1]
        swapped[head, 0]["train"], swapped[head, 1]["train"] = (
            fuzzy["results"][head, 0]["train"], fuzzy["results"][head, 1]["train"])
    for r in swapped.values():                           # and the features sharper far away
        for name, sim in r["similarity"].items():
            r["similarity"][name] = sim[:, ::-1].copy()
    text = " ".join(report.interpret(swapped, *args))
    assert "(fewer with jitter at no seed)" in text and "does not fall" in text


def test_fuzzy_features_in_parallel_is_bit_identical_to_a_serial_run(fuzzy, run_demo):
    """The fixture trained its four networks in two worker processes; here one runs serially."""
    serial = run_demo("fuzzy_features", "--quick", "--jitter", "1", "--jobs", "1",
                      "--no-figures")
    for head in ("flatten", "pooling"):
        got, want = serial["results"][head, 1], fuzzy["results"][head, 1]
        flat = lambda r: {**{k: v for k, v in r.items() if k != "similarity"},
                          **{f"similarity {n}": v for n, v in r["similarity"].items()}}
        got, want = flat(got), flat(want)
        assert got.keys() == want.keys()
        for k in got:
            np.testing.assert_array_equal(got[k], want[k], err_msg=f"{head} {k}")
