"""demos/corner.py on tiny settings: every effect points the right way, also on IDX files written
by demos/idx_digits.py, and bad flags say what to do (augmentation: see
test_demo_augmentation.py)."""

import pytest


@pytest.fixture(scope="module")
def corner(tmp_path_factory):
    from conftest import run_demo_once
    return run_demo_once(tmp_path_factory, "corner", "--quick")


def test_corner_effects_point_the_right_way(corner):
    r = corner["results"]
    assert set(r) == {"a", "b", "c", "d", "e", "f"}
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
    # f: polyphase downsampling keeps the pixel phase: the same class wherever the digit is, and
    # the same probabilities as a digit slides pixel by pixel; e (stride-2 pools) changes some
    assert r["f"]["spread"] == 0 and r["f"]["consistency"] == 1 and r["f"]["fragility"] == 0
    assert r["f"]["jaggedness"] < 1e-6 < r["e"]["jaggedness"]
    assert r["e"]["fragility"] > 0 and r["e"]["consistency"] < 1
    # the printed summary follows the numbers: "flat" only for maps whose spread is 0
    flat = [line for line in corner["summary"] if "same accuracy" in line]
    assert sorted(line[0] for line in flat) == sorted(k for k in r if r[k]["spread"] == 0)
    # a's fully connected weights are larger where the corner digits lit the features up
    wm = corner["weight_map"]
    assert wm[0, 0] > wm[-1, -1]
    assert all(p.exists() and p.stat().st_size > 10_000 for p in corner["figures"])


def test_corner_in_parallel_is_bit_identical_to_serial(corner, run_demo):
    """The fixture trains its six models in worker processes (one per core); --jobs 1 trains
    here, one after another: the same numbers, bit for bit."""
    again = run_demo("corner", "--quick", "--models", "a", "--jobs", "1", "--no-figures")
    assert again["figures"] == []                              # --no-figures: numbers only
    for key in "a":
        mine = {k: v for k, v in again["results"][key].items() if k != "seconds"}
        assert mine == {k: corner["results"][key][k] for k in mine}
        assert (again["maps"][key] == corner["maps"][key]).all()


def test_corner_summary_is_written_from_the_numbers():
    """The same code prints "flat" for a spread of 0, "not flat" and the spread otherwise, and
    names the models in the order of their measured fragility."""
    from types import SimpleNamespace

    import numpy as np
    from conftest import load_demo
    demo = load_demo("corner")

    def run(spread, fragility, trained=0.9, consistency=None):
        summary = {"trained": trained, "far": trained - spread, "mean": trained,
                   "min": trained - spread, "max": trained, "spread": spread, "epochs": 6,
                   "consistency": 1 - fragility if consistency is None else consistency,
                   "fragility": fragility, "lr": 0.03}
        return SimpleNamespace(summary=summary)
    stride1 = SimpleNamespace(grid=np.arange(0, 25), y_test=np.arange(10))
    stride4 = SimpleNamespace(grid=np.arange(0, 25, 4), y_test=np.arange(10))
    text = " ".join(demo.interpret({"e": run(0.05, 0.06), "f": run(0.0, 0.0)}, stride1,
                                   {"e": 0.1, "f": 0.0}))
    assert "e's map is not flat (spread 5.0%)" in text and "f's map is flat" in text
    assert "not multiples of 4" in text and "0.0% (f), 6.0% (e)" in text
    assert "moves least for f" in text and "Training budgets differ" not in text
    assert "near chance" not in text
    text = " ".join(demo.interpret({"e": run(0.0, 0.03), "c": run(0.2, 0.01)}, stride4,
                                   {"e": 0.2, "c": 0.1}))
    assert "e's map is flat" in text and "is a multiple of 4" in text
    assert "1.0% (c), 3.0% (e)" in text and "moves least for c" in text
    assert "(c -> e) narrows the spread of the map: 20.0% -> 0.0%" in text
    text = " ".join(demo.interpret({"a": run(0.0, 0.1, trained=0.12)}, stride4, {"a": 0.1}))
    assert "did not learn" in text
    assert ("a near chance where it trained: its one-pixel change, consistency and sliding "
            "figures say little") in text
    # each list in its own order: a is less fragile than b, and also less consistent
    text = " ".join(demo.interpret({"a": run(0.9, 0.1, consistency=0.5),
                                    "b": run(0.5, 0.2, consistency=0.7)}, stride4,
                                   {"a": 0.1, "b": 0.1}))
    assert "10.0% (a), 20.0% (b) of the test digits" in text
    assert "two random positions: 70.0% (b), 50.0% (a)" in text


def test_corner_runs_on_idx_files(mnist_dir, run_demo):
    res = run_demo("corner", "--quick", "--dataset", "mnist", "--data-dir", str(mnist_dir),
                   "--models", "a,e", "--train-size", "1347", "--epochs", "4")
    assert res["image"] == 14 and res["canvas"] == 36               # 2 * 14 + 8, rounded up to 4
    r = res["results"]
    # the same story as the 8x8 digits: a reads the corner only, e reads everywhere
    assert r["a"]["trained"] > 0.6 and r["a"]["far"] < 0.3
    assert r["e"]["min"] > r["a"]["min"] + 0.4
    assert r["e"]["spread"] < 0.5 * r["a"]["spread"]
    assert [p.name for p in res["figures"]] == ["corner_maps_mnist.png", "corner_sliding_mnist.png"]
    assert all(p.stat().st_size > 10_000 for p in res["figures"])


def test_missing_files_and_bad_flags_say_what_to_do(tmp_path, run_demo, capsys):
    with pytest.raises(FileNotFoundError, match="--download"):
        run_demo("corner", "--quick", "--dataset", "mnist", "--data-dir", str(tmp_path))
    with pytest.raises(SystemExit):
        run_demo("corner", "--quick", "--data-dir", str(tmp_path))   # digits need no files
    assert "--data-dir and --download are for --dataset mnist or fashion" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="canvas must be a multiple of 4 and >= 16"):
        run_demo("corner", "--quick", "--canvas", "12")
