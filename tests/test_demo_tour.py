"""Smoke test for demos/tour.py, which runs the chosen demos in a row."""

from conftest import load_demo


def test_tour_runs_the_chosen_demos_in_order(tmp_path, capsys):
    results = load_demo("tour").main(["--quick", "--out", str(tmp_path),
                                      "--demos", "weight_sharing,equivariance"])
    assert list(results) == ["weight_sharing", "equivariance"]
    assert all(path.exists() for path in results["weight_sharing"]["figures"])
    assert "ran: weight_sharing, equivariance" in capsys.readouterr().out
