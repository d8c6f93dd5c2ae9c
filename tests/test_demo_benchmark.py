"""Smoke test: demos/benchmark.py runs in its tiny mode and writes every number it prints."""

import json
import pathlib
import subprocess
import sys

BENCHMARK = pathlib.Path(__file__).resolve().parents[1] / "demos" / "benchmark.py"


def test_benchmark_quick_writes_its_json(tmp_path):
    out = tmp_path / "bench.json"
    run = subprocess.run([sys.executable, str(BENCHMARK), "--quick", "--repeats", "1",
                          "--threads", "1", "--seed", "1", "--json", str(out)],
                         check=False, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    results = json.loads(out.read_text())
    assert results["threads"] == 1 and results["repeats"] == 1 and results["seed"] == 1
    assert "corner training step" in run.stdout
    if results["torch"]:                       # the closing sentence follows the measured ratio
        word = "slower" if results["geomean_ratio_both"] > 1 else "faster"
        assert f"{results['geomean_ratio_both']:.2f}x PyTorch's time" in run.stdout
        assert f"{word} than PyTorch" in run.stdout
        step = results["train"][0]
        lo, hi = step["ratio_quartiles"]                        # one round (--repeats 1): its ratio
        assert lo == hi == step["ratio"]
        assert f"middle half of the rounds {lo:.2f}-{hi:.2f}x" in run.stdout
