"""The notebook form of the explanation, notebooks/explanation.py: it is a valid percent-format
notebook, it runs as a plain script, and its numbers point the way its four claims say."""

import pathlib
import re
import runpy

import pytest

SCRIPT = pathlib.Path(__file__).resolve().parents[1] / "notebooks" / "explanation.py"


@pytest.fixture(scope="module")
def nb(tmp_path_factory):
    """The script's module-level names after one run as a plain script, with MINICNN_QUICK=1
    (half the epochs; the claims below held so at seeds 0, 1 and 2)."""
    figures = tmp_path_factory.mktemp("notebook_figures")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MINICNN_FIGURES", str(figures))
        mp.setenv("MINICNN_QUICK", "1")
        names = runpy.run_path(str(SCRIPT), run_name="__main__")
    return names | {"figure_dir": figures}


def cells(text):
    """[(kind, lines)] of a percent-format script: kind "markdown" or "code"."""
    out = []
    for line in text.splitlines():
        if line.startswith("# %%"):
            out.append(("markdown" if "[markdown]" in line else "code", []))
        elif out:
            out[-1][1].append(line)
    return out


def test_the_script_is_a_percent_format_notebook():
    text = SCRIPT.read_text()
    assert text.startswith("# %% [markdown]")         # nothing before the first cell
    parsed = cells(text)
    kinds = [kind for kind, _ in parsed]
    assert kinds.count("markdown") >= 5 and kinds.count("code") >= 5
    for kind, lines in parsed:
        if kind == "markdown":                          # jupytext reads these as text
            assert all(line == "" or line == "#" or line.startswith("# ") for line in lines)


def test_text_cells_state_no_measured_numbers():
    # Results are printed by code cells; a decimal or a percentage in the text would be canned.
    for kind, lines in cells(SCRIPT.read_text()):
        if kind == "markdown":
            text = "\n".join(lines)
            assert not re.search(r"\d\.\d|\d\s*%", text), text


def test_claim_1_conv_is_equivariant_with_few_weights(nb):
    err = nb["EQUIVARIANCE"]
    assert err["circular padding, circular shift"] < 1e-6
    assert err["zero padding, away from the border"] < 1e-6
    assert err["zero padding, whole map"] > 0.05         # the border breaks it
    assert nb["DENSE_MAX_DIFF"] < 1e-5                   # the dense matrix is the same map
    assert nb["DISTINCT_WEIGHTS"] <= 9                   # built from one 3x3 kernel
    for conv_params, dense_params in nb["PARAMS"].values():
        assert dense_params > 100 * conv_params


def test_claim_2_flatten_head_fails_away_from_the_corner(nb):
    a = nb["CORNER_RESULTS"][nb["FLAT"]]
    assert a["trained"] > 0.7
    assert a["far"] < 0.25                               # chance is 0.1
    norms = nb["WEIGHT_NORMS"]
    assert norms["top-left"] > norms["bottom-right"]     # untrained positions stay small


def test_claim_3_features_change_little_for_small_shifts_and_much_for_large(nb):
    sims, shifts = nb["SIMILARITY"], nb["SHIFTS"]
    assert shifts[0] == 0 and shifts[1] == 1
    for name, s in sims.items():
        assert s[0] == pytest.approx(1.0), name
        assert s[1] > s[-1] + 0.3, name
    deep, first = sims["conv 3 + ReLU"], sims["conv 1 + ReLU"]
    assert deep[1] > 0.7
    assert deep[2] > first[2]                            # deeper features are fuzzier


def test_claim_4_remedies_and_their_limits(nb):
    r, acc = nb["CORNER_RESULTS"], nb["DIAGONAL_ACC"]
    a, c, e, d4, d = (r[nb[k]] for k in ("FLAT", "C", "E", "D4", "D"))
    assert d["far"] > a["far"] + 0.5                     # augmentation over the whole canvas
    assert d4["far"] < d["far"] - 0.4                    # only the shifts it was shown
    assert c["far"] > a["far"] + 0.3                     # global max pooling
    assert c["min"] < c["trained"] - 0.1                 # ... but the zero-padded border leaks
    assert e["spread"] <= 1 / len(nb["y_test"])          # circular: flat on the stride-4 grid
    assert acc[nb["E"]].max() > acc[nb["E"]].min()       # ... not at one-pixel steps


def test_figures_are_saved_when_run_as_a_script(nb):
    saved = sorted(p.name for p in nb["figure_dir"].glob("*.png"))
    assert saved == sorted(p.name for p in nb["SAVED"])
    assert len(saved) == 6
