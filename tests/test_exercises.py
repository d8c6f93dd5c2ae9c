"""The README's exercises and its own-layer example still run, as written, at tiny sizes.

Each exercise is a Python block in the README's "Exercises" section that replaces one statement
(`model = ...`) of the section's first block. The test runs every variant with corner.run cut
down to a few digits and one epoch, so that a renamed function or argument breaks it.
"""

import ast
import contextlib
import io
import pathlib
import re

import pytest

import minicnn as mc
from minicnn.measure import corner

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def section(title):
    """The text of the README section `## <title>` (up to the next `## `)."""
    text = README.read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end >= 0 else None]


def python_blocks(text):
    """The ```python blocks of `text`, dedented (the exercises sit inside a numbered list)."""
    blocks = re.findall(r"^( *)```python\n(.*?)^\1```", text, flags=re.DOTALL | re.MULTILINE)
    return [re.sub(rf"(?m)^{indent}", "", code) for indent, code in blocks]


def statements(code):
    return [ast.dump(node) for node in ast.parse(code).body]


BASE, *EXERCISES = python_blocks(section("Exercises"))


def test_there_are_five_exercises_each_one_statement_away_from_the_base():
    assert len(EXERCISES) == 5
    base = statements(BASE)
    assert sum("model" in s and "Assign" in s for s in base) == 1
    for code in EXERCISES:
        new = [s for s in statements(code) if s not in base]
        assert len(new) == 1, code                                     # one changed line


@pytest.fixture(scope="module")
def tiny_data():
    X, y, X_test, y_test = mc.load_digits(rng=0)
    return X[:60], y[:60], X_test[:30], y_test[:30]


@pytest.mark.parametrize("k", range(1, 6))
def test_each_exercise_runs(k, tiny_data, monkeypatch):
    real_run = corner.run

    def tiny_run(model, setup=None, **kw):                             # prepare after CORNER=
        setup = corner.prepare(tiny_data, quick=True) if setup is None else setup
        return real_run(model, setup, quick=True, epochs=1)

    monkeypatch.setattr(corner, "run", tiny_run)
    monkeypatch.setattr(corner, "CORNER", corner.CORNER)               # exercise 5 sets it
    code = EXERCISES[k - 1]
    base = BASE.splitlines()
    line = next(i for i, s in enumerate(base) if s.startswith("model = "))
    program = "\n".join(base[:line] + [code] + base[line + 1:])
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(program, f"README exercise {k}", "exec"), {})  # noqa: S102 - our README
    name = re.search(r'CornerModel\("([^"]+)"', code).group(1)
    assert f"{name}: accuracy (%)" in out.getvalue() and "far quadrant" in out.getvalue()


def test_the_own_layer_example_prints_what_the_readme_says():
    text = section("Write your own layer")
    code = python_blocks(text)[0]
    printed = re.search(r"```\n\nprints `([^`]+)`", text).group(1)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README Gain", "exec"), {})  # noqa: S102 - our README
    assert out.getvalue().strip() == printed
