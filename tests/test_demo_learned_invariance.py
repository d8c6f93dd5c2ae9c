"""The learned-invariance demo on tiny settings: every effect the README claims points its way."""

import copy

import pytest
from common import load_demo


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    from conftest import run_demo_once
    return run_demo_once(tmp_path_factory, "learned_invariance", "--quick")


def test_flatten_head_without_phase1_reads_only_the_corner(quick):
    r = quick["results"]["flatten/corner"]
    assert r["trained"] > 0.5 and r["far"] < 0.3          # 5-way: chance 20%
    assert r["trained"] - r["far"] > 0.3


def test_phase1_raises_the_flatten_heads_far_quadrant(quick):
    r = quick["results"]
    # last layer only: the features after phase 1 against the same features before it
    assert r["flatten/last"]["far"] > r["flatten/random"]["far"] + 0.1
    # every layer trained: after phase 1 against from scratch
    assert r["flatten/all"]["far"] > r["flatten/corner"]["far"] + 0.1
    assert r["flatten/all"]["min"] > r["flatten/corner"]["min"]
    # ... but only part of the way: far below where the new digits were trained
    assert r["flatten/all"]["trained"] - r["flatten/all"]["far"] > 0.2


def test_frozen_features_cost_accuracy_where_the_new_digits_trained(quick):
    r = quick["results"]
    assert r["flatten/last"]["trained"] < r["flatten/all"]["trained"] - 0.1
    assert r["pool/last"]["trained"] < r["pool/all"]["trained"] - 0.1


def test_pooling_head_reads_the_far_quadrant_without_phase1(quick):
    r = quick["results"]
    assert r["pool/corner"]["far"] > r["flatten/corner"]["far"] + 0.15
    assert r["pool/all"]["far"] > r["pool/corner"]["far"]


def test_fine_tuning_forgets_digits_0_to_4_and_freezing_does_not(quick):
    r = quick["results"]
    for head in ("flatten", "pool"):
        assert r[f"{head}/last"]["forgetting"] == 0.0      # frozen weights: the same map
        assert r[f"{head}/all"]["old_before"] > 0.6         # phase 1 learned 0-4 everywhere
    # at --quick, seeds 0, 1, 2: flatten 10.4, 7.5, 9.2 points; the pooling head's forgetting is
    # not stable there (-0.1, 3.8, 22.8 points) and is reported for the default run only
    assert r["flatten/all"]["forgetting"] > 0.05


def test_curves_end_where_the_maps_are_scored_and_figure_is_written(quick):
    for key, r in quick["results"].items():
        assert len(r["far_by_epoch"]) == 3                   # --quick: 3 phase-2 epochs
        assert r["far_by_epoch"][-1] == pytest.approx(r["far"], abs=1e-9), key
    assert set(quick["maps"]) >= {f"{h}/{v}" for h in ("flatten", "pool")
                                  for v in ("corner", "random", "last", "all")}
    assert all(p.exists() and p.stat().st_size > 10_000 for p in quick["figures"])


def test_frozen_transfer_fades_as_the_last_layer_keeps_training(quick, tmp_path):
    """Flatten head frozen after phase 1: the far quadrant is best early in phase 2, then falls
    as the last layer keeps fitting the corner (only the cheap last layer trains here). At
    --quick, best of epochs 1-3 minus epoch 60 was 0.04 to 0.24 over seeds 0, 1 and 2
    (docs/measurements.md): 0.03 is about seven of the 224 test digits."""
    demo = load_demo("learned_invariance")
    args = demo.parse_args(["--out", str(tmp_path), "--quick", "--phase2-epochs", "60"])
    body = copy.deepcopy(quick["phase1"][0]["flatten"].layers[:-1])    # phase 1's features
    curve = demo.phase2(body, True, demo.prepare(args, 0), args, 0)[0]["far_by_epoch"]
    assert curve[:3] == pytest.approx(quick["results"]["flatten/last"]["far_by_epoch"])
    assert max(curve[:3]) > curve[-1] + 0.03


def test_parallel_run_is_bit_identical_to_a_serial_one(quick, run_demo):
    """The fixture trained its two heads in two worker processes; here one head runs serially."""
    serial = run_demo("learned_invariance", "--quick", "--heads", "pool", "--jobs", "1",
                      "--no-figures")
    for key, r in serial["results"].items():
        assert r == quick["results"][key], key             # every number, every seed
    for name, m in serial["maps"].items():
        assert (m == quick["maps"][name]).all(), name
