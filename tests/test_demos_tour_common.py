"""Smoke tests for demos/tour.py (runs demos in a row) and demos/common.py's flag rule."""

from conftest import load_demo


def test_tour_runs_the_chosen_demos_in_order(tmp_path, capsys):
    results = load_demo("tour").main(["--quick", "--out", str(tmp_path),
                                      "--demos", "weight_sharing,equivariance"])
    assert list(results) == ["weight_sharing", "equivariance"]
    assert all(path.exists() for path in results["weight_sharing"]["figures"])
    assert "ran: weight_sharing, equivariance" in capsys.readouterr().out


def test_an_explicit_flag_wins_over_quick(run_demo):
    quick = run_demo("weight_sharing", "--quick")
    explicit = run_demo("weight_sharing", "--quick", "--size", "5")
    assert quick["dense_shape"] == (2 * 6 * 6, 6 * 6)          # quick's size 6
    assert explicit["dense_shape"] == (2 * 5 * 5, 5 * 5)       # the given size wins


def test_every_demo_flag_shows_its_default(capsys):
    """--help of a demo built on common.parser names the default of each of its own flags."""
    import pytest
    with pytest.raises(SystemExit):
        load_demo("weight_sharing").main(["--help"])
    text = capsys.readouterr().out
    for flag in ("--size", "--out-channels", "--padding-mode", "--seed", "--threads"):
        assert flag in text
    assert "(default 8; quick 6)" in text
