"""The corner and augmentation demos on tiny settings: every effect points the right way."""

import pytest


@pytest.fixture(scope="module")
def corner(tmp_path_factory):
    from conftest import run_demo_once
    return run_demo_once(tmp_path_factory, "corner", "--quick")


def test_corner_effects_point_the_right_way(corner):
    r = corner["results"]
    assert set(r) == {"a", "b", "c", "d", "e"}
    # a: flatten head reads the corner it was trained on, not the far quadrant (chance 10%)
    assert r["a"]["trained"] > 0.5 and r["a"]["far"] < 0.2
    assert r["a"]["trained"] - r["a"]["far"] > 0.4
    # d: augmentation lifts the worst position far above a's
    assert r["d"]["min"] > r["a"]["min"] + 0.15
    assert r["d"]["far"] > r["a"]["far"] + 0.15
    # e: circular padding + global pooling is flatter than a, and flatter than b and c
    assert r["e"]["spread"] < 0.5 * r["a"]["spread"]
    assert r["e"]["spread"] <= min(r["b"]["spread"], r["c"]["spread"])
    # b, c: global pooling with zero padding reads the far quadrant better than a
    assert r["b"]["far"] > r["a"]["far"] and r["c"]["far"] > r["a"]["far"]
    # a's fully connected weights are larger where the corner digits lit the features up
    wm = corner["weight_map"]
    assert wm[0, 0] > wm[-1, -1]
    assert all(p.exists() and p.stat().st_size > 10_000 for p in corner["figures"])


def test_corner_is_deterministic(corner, run_demo):
    again = run_demo("corner", "--quick", "--models", "a")
    assert again["results"]["a"]["trained"] == corner["results"]["a"]["trained"]
    assert (again["maps"]["a"] == corner["maps"]["a"]).all()


def test_augmentation_wider_shifts_read_more_positions(run_demo):
    res = run_demo("augmentation", "--quick")
    r, shifts = res["results"], res["shifts"]
    assert shifts[0] == 0 and shifts[-1] > 8
    assert r[shifts[-1]]["min"] > r[0]["min"] + 0.15
    assert r[shifts[-1]]["far"] > r[0]["far"] + 0.15
    assert all(p.exists() and p.stat().st_size > 10_000 for p in res["figures"])
