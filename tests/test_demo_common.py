"""demos/common.py, the demos' shared plumbing: the flag rule (an explicit flag wins over --quick,
every flag of every demo states its default) and the worker processes (forked from a preloaded
server on Linux; two workers give the serial numbers)."""

import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest
from conftest import load_demo


def test_an_explicit_flag_wins_over_quick(run_demo):
    quick = run_demo("weight_sharing", "--quick")
    explicit = run_demo("weight_sharing", "--quick", "--size", "5")
    assert quick["dense_shape"] == (2 * 6 * 6, 6 * 6)          # quick's size 6
    assert explicit["dense_shape"] == (2 * 5 * 5, 5 * 5)       # the given size wins


def test_every_demo_flag_shows_its_default(capsys):
    """--help of a demo built on common.parser names the default of each of its own flags."""
    with pytest.raises(SystemExit):
        load_demo("weight_sharing").main(["--help"])
    text = capsys.readouterr().out
    for flag in ("--size", "--out-channels", "--padding-mode", "--seed", "--threads"):
        assert flag in text
    assert "(default 8; quick 6)" in text


WITH_MAIN = ["equivariance", "weight_sharing", "antialias", "position_leak", "rotation", "tour",
        "idx_digits", "receptive_fields", "corner", "fuzzy_features", "augmentation", "explore"]


def help_entries(text):
    """The option entries of an argparse --help text, each joined onto one line."""
    entries = []
    for line in text.split("options:")[1].splitlines():
        if line.startswith("  -"):
            entries.append(line.strip())
        elif line.startswith("    ") and entries:
            entries[-1] += " " + line.strip()
        elif entries and not line.strip():
            break
    return entries


def test_every_flag_of_every_demo_states_its_default(capsys):
    """--help of every demo with a main() and of benchmark.py says every flag's default."""
    texts = {}
    for name in WITH_MAIN:
        with pytest.raises(SystemExit):
            load_demo(name).main(["--help"])
        texts[name] = capsys.readouterr().out
    bench = subprocess.run([sys.executable, "demos/benchmark.py", "--help"], check=True,
                           capture_output=True, text=True,
                           cwd=pathlib.Path(__file__).resolve().parents[1])
    texts["benchmark"] = bench.stdout
    for name, text in texts.items():
        entries = [e for e in help_entries(text) if not e.startswith("-h,")]
        assert len(entries) >= 2, name
        for entry in entries:
            assert re.search(r"\((default|required)", entry), f"{name}: {entry}"


def test_workers_fork_from_a_preloaded_server_on_linux_and_are_spawned_elsewhere(monkeypatch):
    import importlib.util
    import multiprocessing

    import common
    for name in common.WORKER_PRELOAD[1:]:           # a misspelt name would be skipped silently
        assert importlib.util.find_spec(name) is not None, name
    assert common.WORKER_PRELOAD[0] == "__main__"     # a demo script, imported once, not per worker
    if "forkserver" in multiprocessing.get_all_start_methods():     # not on Windows
        monkeypatch.setattr(common.sys, "platform", "linux")
        assert common.worker_context().get_start_method() == "forkserver"
    for platform in ("darwin", "win32"):
        monkeypatch.setattr(common.sys, "platform", platform)
        assert common.worker_context().get_start_method() == "spawn"


def test_antialias_and_rotation_networks_train_the_same_in_worker_processes():
    """Both demos hand each network to common.run_jobs; two workers give the serial numbers."""
    from common import run_jobs
    from conftest import load_demo

    from minicnn import load_digits
    aa, rot = load_demo("antialias"), load_demo("rotation")
    X_tr, y_tr, X_te, y_te = (a[:64] for a in load_digits(rng=0))
    canvas = np.pad(X_tr, ((0, 0), (0, 0), (4, 4), (4, 4)))                   # 16x16
    pairs = (np.pad(X_te, ((0, 0), (0, 0), (0, 8), (0, 8))),
             np.pad(X_te, ((0, 0), (0, 0), (8, 0), (8, 0))), y_te)
    tasks = {"aa": (aa.train_and_score, ("MaxBlurPool2D(3)", 0, 1, canvas, y_tr, None, pairs), {}),
             "rot": (rot.train_and_rotate, ("p4 CNN", 0, 1, 3e-3, X_tr, y_tr, X_te, y_te), {})}
    parallel, serial = run_jobs(tasks, jobs=2), run_jobs(tasks, jobs=1)
    for got, want in ((parallel["aa"], serial["aa"]), (parallel["rot"][0], serial["rot"][0])):
        got, want = dict(got), dict(want)
        got.pop("train_seconds"), want.pop("train_seconds")             # the clock, not the maths
        assert got == want
    for (k, p, _), (_, q, _) in zip(parallel["rot"][1].param_items(),
                                    serial["rot"][1].param_items()):
        np.testing.assert_array_equal(p, q, err_msg=k)
@pytest.mark.parametrize("guarded", [False, True])
def test_a_script_without_a_main_guard_runs_its_jobs_here_and_says_what_to_add(tmp_path, guarded):
    """Worker processes import the running script first: without `if __name__ == "__main__":`
    they would reach run_jobs again. run_jobs then runs the calls serially and names the fix."""
    call = "print(run_jobs({k: (operator.mul, (k, k), {}) for k in range(4)}, jobs=2))"
    script = tmp_path / "mine.py"
    script.write_text("import operator\nfrom common import run_jobs\n" +
                      (f"if __name__ == '__main__':\n    {call}\n" if guarded else call + "\n"))
    demos = pathlib.Path(__file__).resolve().parents[1] / "demos"
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(demos)}, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "{0: 0, 1: 1, 2: 4, 3: 9}"
    if guarded:
        assert "run_jobs" not in out.stderr
    else:
        assert "outside `if __name__ == '__main__':`" in out.stderr
        assert "one after another" in out.stderr


def test_every_demo_calls_quick_a_smoke_test_and_offers_the_tour_as_the_first_look(capsys,
                                                                                    tmp_path):
    """--quick's tiny budgets do not keep every lesson: no demo may present it as a first look."""
    for name in WITH_MAIN:
        with pytest.raises(SystemExit):
            load_demo(name).main(["--help"])
        entries = [e for e in help_entries(capsys.readouterr().out) if e.startswith("--quick")]
        if name != "idx_digits":                     # a file tool, without --quick
            assert len(entries) == 1 and "smoke test" in entries[0], name
    load_demo("weight_sharing").main(["--quick", "--no-figures", "--out", str(tmp_path)])
    assert "--quick is a smoke test" in capsys.readouterr().out
    assert "first look" in load_demo("tour").__doc__.splitlines()[0]
