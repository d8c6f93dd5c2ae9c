"""demos/receptive_fields.py, run with --quick: the theoretical fields of its three layers, and
effective fields measured before and after training (the measures: test_receptive_field.py)."""

import pytest


def test_demo_quick(run_demo):
    result = run_demo("receptive_fields", "--quick")
    table = result["table"]
    assert [r["theoretical"] for r in table] == [3, 8, 18]
    for r in table:
        for label in ("random", "trained"):
            assert 0 < r[label] and r[label + "_ratio"] == pytest.approx(r[label] / r["theoretical"])
    assert all(p.exists() for p in result["figures"])
    assert result["seconds"] < 30               # about 5 s of CPU; the 2 cores are shared
