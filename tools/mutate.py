"""Mutation testing of the minicnn engine: does some test fail when the code is changed?

Each mutant is one small change to one engine module (a flipped operator, a dropped operand, an
off-by-one constant or slice, max <-> min, a deleted statement, a negated condition, ...). The
module is changed in a private copy of the repository (never in the working tree), and the test
files that belong to that module (TESTS below) run against the copy with `-x`. A mutant is
"killed" when a test fails, "timeout" when the tests hang, "survived" when every test passes.

    python tools/mutate.py                          # every engine module, every mutant (slow)
    python tools/mutate.py --module optim --sample 40 --seed 0

Runs at nice 19 with one BLAS thread and one test process (one forked pytest per mutant).
Mutants listed in tools/equivalent_mutants.txt ("module:line: change  # reason") cannot change
behaviour; they are reported but left out of the score.
Not part of the test suite: pytest only collects tests/.
"""

import argparse
import ast
import copy
import os
import pathlib
import random
import shutil
import signal
import sys
import tempfile
import time

os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
sys.dont_write_bytecode = True    # a mutant written within the same second must not hit a .pyc

ROOT = pathlib.Path(__file__).resolve().parents[1]
EQUIVALENT = ROOT / "tools" / "equivalent_mutants.txt"
# Each module's own test file first, then the files that pin it too.
_LAYERS = ["test_conv.py", "test_pool.py", "test_linear.py", "test_padding.py", "test_base.py",
           "test_model.py", "test_naive_vs_fast.py", "test_errors.py", "test_shift_claims.py",
           "test_references.py", "test_gradients.py", "test_fast.py"]
_TRAIN = ["test_train.py", "test_losses.py", "test_optim.py", "test_resilience.py",
          "test_checkpoint.py", "test_files.py", "test_reliability.py", "test_errors.py"]


def _own_first(own, files):
    return list(dict.fromkeys([own, *files]))          # each file once, the module's own first


# module (short name) -> (file, the test files that pin it, fastest and most targeted first)
TESTS = {
    "conv": ("minicnn/layers/conv.py", _own_first("test_conv.py", _LAYERS) + ["test_winograd.py"]),
    "pool": ("minicnn/layers/pool.py", _own_first("test_pool.py", _LAYERS)),
    "linear": ("minicnn/layers/linear.py", _own_first("test_linear.py", _LAYERS)),
    "padding": ("minicnn/layers/padding.py", _own_first("test_padding.py", _LAYERS)),
    "fast_conv": ("minicnn/fast/conv.py", _own_first("test_fast.py", _LAYERS)
                  + ["test_reliability.py", "test_winograd_blocked.py"]),
    "fast_pool": ("minicnn/fast/pool.py", _own_first("test_fast.py", _LAYERS)),
    "blocks": ("minicnn/fast/blocks.py", ["test_naive_vs_fast.py", "test_fast.py",
                                          "test_winograd_blocked.py"]),
    "winograd": ("minicnn/fast/winograd.py", ["test_winograd.py", "test_naive_vs_fast.py"]),
    "winograd_blocked": ("minicnn/fast/winograd_blocked.py",
                         ["test_winograd_blocked.py", "test_naive_vs_fast.py"]),
    "losses": ("minicnn/losses.py", _own_first("test_losses.py", _LAYERS + _TRAIN)),
    "optim": ("minicnn/optim.py", _own_first("test_optim.py", _TRAIN)),
    "train": ("minicnn/train.py", _TRAIN),
    "resilience": ("minicnn/resilience.py", _own_first("test_resilience.py", _TRAIN)),
    "checkpoint": ("minicnn/checkpoint.py", _own_first("test_checkpoint.py", _TRAIN)),
    "files": ("minicnn/files.py", _own_first("test_files.py", _TRAIN)),
    "model": ("minicnn/model.py", _own_first("test_model.py", _LAYERS + _TRAIN)),
    "augment": ("minicnn/data/augment.py", ["test_augment.py", "test_errors.py"]),
}

CMP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
       ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn,
       ast.NotIn: ast.In}
BIN = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
       ast.FloorDiv: ast.Div, ast.Mod: ast.FloorDiv, ast.Pow: ast.Mult, ast.MatMult: ast.Mult,
       ast.BitAnd: ast.BitOr, ast.BitOr: ast.BitAnd}
NAMES = {"max": "min", "min": "max", "argmax": "argmin", "argmin": "argmax",
         "maximum": "minimum", "minimum": "maximum", "any": "all", "all": "any"}
FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)


def _is_docstring(node):
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str))


def _plus_one(expr):
    return ast.BinOp(expr, ast.Add(), ast.Constant(1))


def _with(node, **fields):
    new = copy.deepcopy(node)
    for k, v in fields.items():
        setattr(new, k, v)
    return new


def candidates(node, field):
    """[(kind, make)] for one node: make(node) returns the mutated replacement node."""
    out = []
    if isinstance(node, ast.Compare) and type(node.ops[0]) in CMP:
        out.append(("cmp", lambda n: _with(n, ops=[CMP[type(n.ops[0])]()] + n.ops[1:])))
    if isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in BIN:
        out.append(("op", lambda n: _with(n, op=BIN[type(n.op)]())))
    if isinstance(node, ast.BinOp):
        out += [("drop-right", lambda n: copy.deepcopy(n.left)),
                ("drop-left", lambda n: copy.deepcopy(n.right))]
    if isinstance(node, ast.BoolOp):
        out.append(("and/or", lambda n: _with(n, op=ast.Or() if isinstance(n.op, ast.And)
                                              else ast.And())))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub, ast.Invert)):
        out.append(("drop-unary", lambda n: copy.deepcopy(n.operand)))
    if isinstance(node, (ast.If, ast.While, ast.IfExp)):
        out.append(("negate", lambda n: _with(n, test=ast.UnaryOp(ast.Not(), n.test))))
    if isinstance(node, ast.Constant) and type(node.value) in (int, float, bool):
        v = node.value
        if isinstance(v, bool):
            out.append(("const", lambda n: _with(n, value=not n.value)))
        elif isinstance(v, int):
            out += [("const+1", lambda n: _with(n, value=n.value + 1)),
                    ("const-1", lambda n: _with(n, value=n.value - 1))]
        else:
            out.append(("const", lambda n: _with(n, value=n.value * 2 if n.value else 1.0)))
    if isinstance(node, ast.Slice):
        if node.lower is not None:
            out.append(("slice-lower+1", lambda n: _with(n, lower=_plus_one(n.lower))))
        if node.upper is not None:
            out.append(("slice-upper+1", lambda n: _with(n, upper=_plus_one(n.upper))))
    if isinstance(node, ast.Name) and node.id in NAMES:
        out.append(("name", lambda n: _with(n, id=NAMES[n.id])))
    if isinstance(node, ast.Attribute) and node.attr in NAMES:
        out.append(("name", lambda n: _with(n, attr=NAMES[n.attr])))
    if isinstance(node, ast.Call):
        for k in range(len(node.keywords)):
            out.append((f"drop-kwarg-{k}", lambda n, k=k: _with(
                n, keywords=n.keywords[:k] + n.keywords[k + 1:])))
    if (isinstance(node, ast.stmt) and field in ("body", "orelse", "finalbody")
            and not isinstance(node, (*FUNCS, ast.ClassDef, ast.Pass)) and not _is_docstring(node)):
        out.append(("delete", lambda n: ast.Pass()))
    return out


def walk(node, in_func=False, parent=None, field=None, index=None):
    """Yield (node, parent, field, index) for every node inside a function, outside f-strings."""
    if in_func and not _is_docstring(node):
        yield node, parent, field, index
    if isinstance(node, ast.JoinedStr) or _is_docstring(node):
        return
    inside = in_func or isinstance(node, FUNCS)
    for name, value in ast.iter_fields(node):
        items = value if isinstance(value, list) else [value]
        for i, child in enumerate(items):
            if isinstance(child, ast.AST):
                yield from walk(child, inside, node, name, i if isinstance(value, list) else None)


def mutants(source):
    """[(node number, candidate number, line, 'cCOL kind: `old` -> `new`')] for every mutant."""
    tree, found = ast.parse(source), []
    for number, (node, _, field, _) in enumerate(walk(tree)):
        for k, (kind, make) in enumerate(candidates(node, field)):
            old, new = ast.unparse(node), ast.unparse(make(node))
            if old != new:
                old, new = old.splitlines()[0][:70], new.splitlines()[0][:70]
                change = f"c{node.col_offset} {kind}: `{old}` -> `{new}`"
                found.append((number, k, node.lineno, change))
    return found


def mutated_source(source, number, k):
    """The source with mutant (number, k) applied."""
    tree = ast.parse(source)
    node, parent, field, index = list(walk(tree))[number]
    new = candidates(node, field)[k][1](node)
    if index is None:
        setattr(parent, field, new)
    else:
        getattr(parent, field)[index] = new
    return ast.unparse(ast.fix_missing_locations(tree))


class FailedTests:
    """pytest plugin: remember the node ids of failing tests (for the baseline run)."""

    def __init__(self, path):
        self.path = path

    def pytest_runtest_logreport(self, report):
        if report.failed:
            with open(self.path, "a") as f:
                f.write(report.nodeid + "\n")


def run_tests(workdir, args, timeout, failed_log=None):
    """Run pytest in a forked child inside `workdir`: 'passed', 'failed' or 'timeout'."""
    import pytest
    pid = os.fork()
    if pid == 0:                                              # the child: its own process group
        code = 3
        try:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.setpgid(0, 0)
            os.chdir(workdir)
            sys.path.insert(0, str(workdir))
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            plugins = [FailedTests(failed_log)] if failed_log else []
            code = int(pytest.main(args, plugins=plugins))
        finally:
            os._exit(code)
    deadline = time.monotonic() + timeout
    try:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return "passed" if os.waitstatus_to_exitcode(status) == 0 else "failed"
            if time.monotonic() > deadline:
                os.killpg(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return "timeout"
            time.sleep(0.02)
    except BaseException:                                     # stopped: take the child along
        os.killpg(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise


def copy_repo(dest):
    """A private copy of what the tests need (the working tree is never changed)."""
    ignore = shutil.ignore_patterns("__pycache__", ".hypothesis", "*.egg-info", ".git")
    for name in ("minicnn", "tests", "demos", "docs", "notebooks"):
        if (ROOT / name).exists():
            shutil.copytree(ROOT / name, dest / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, dest / name)


def load_equivalent():
    """{(module, line, change)} from tools/equivalent_mutants.txt."""
    found = set()
    if EQUIVALENT.exists():
        for line in EQUIVALENT.read_text().splitlines():
            entry = line.split("  #")[0].strip()
            if entry and not entry.startswith("#"):
                module, lineno, change = entry.split(":", 2)
                found.add((module, int(lineno), change.strip()))
    return found


def run_module(name, work, args, equivalent):
    """Mutate one module; returns {'killed', 'timeout', 'survived', 'equivalent': [...]}."""
    rel, test_files = TESTS[name]
    path = work / rel
    source = path.read_text()
    tests = [f"tests/{f}" for f in test_files if (work / "tests" / f).exists()
             and not (args.skip_tests and f.startswith(args.skip_tests))]
    runs, seconds, broken = [], 0.0, []       # one pytest per test file: a kill stops early
    serial = ["-o", "addopts=", "-p", "no:cacheprovider"]   # one process: no xdist workers
    for test in tests:
        log = work / f"baseline-{name}-{pathlib.Path(test).stem}.txt"
        start = time.monotonic()
        run_tests(work, [test, "-q", *serial], 1800, failed_log=log)
        took = time.monotonic() - start
        failing = log.read_text().split() if log.exists() else []
        runs.append(([test, "-x", "-q", *serial]
                     + [f"--deselect={t}" for t in failing], 2 * took + 10))
        seconds, broken = seconds + took, broken + failing
    found = mutants(source)
    if args.line:
        found = [m for m in found if m[2] in args.line]
    if args.sample and args.sample < len(found):
        found = sorted(random.Random(f"{args.seed}-{name}").sample(found, args.sample))
    print(f"\n{name} ({rel}): {len(found)} mutants, tests {' '.join(tests)}; unmutated run "
          f"{seconds:.1f} s" + (f", {len(broken)} failing test(s) deselected: {broken}"
                                 if broken else ""), flush=True)
    result = {"killed": [], "timeout": [], "survived": [], "equivalent": []}
    try:
        for number, k, line, change in found:
            if (name, line, change) in equivalent:
                result["equivalent"].append((line, change))
                continue
            path.write_text(mutated_source(source, number, k))
            outcome = "passed"
            for test_args, timeout in runs:
                outcome = run_tests(work, test_args, timeout)
                if outcome == "timeout":      # a busy machine can starve a run: once more, 3x
                    outcome = run_tests(work, test_args, 3 * timeout)
                if outcome != "passed":
                    break
            key = {"failed": "killed", "passed": "survived", "timeout": "timeout"}[outcome]
            result[key].append((line, change))
            if args.verbose or key in ("survived", "timeout"):     # the two to look at
                print(f"  {key:8s} L{line}: {change}", flush=True)
    finally:
        path.write_text(source)
    return result


def report(name, r):
    detected = len(r["killed"]) + len(r["timeout"])
    total = detected + len(r["survived"])
    score = 100 * detected / total if total else 100.0
    print(f"{name:11s} killed {len(r['killed']):4d}  timeout {len(r['timeout']):3d}  survived "
          f"{len(r['survived']):3d}  equivalent {len(r['equivalent']):3d}  "
          f"score {detected}/{total} = {score:5.1f}%")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", action="append", choices=sorted(TESTS),
                        help="only this module (repeatable); default: all")
    parser.add_argument("--sample", type=int, default=0, help="N random mutants per module")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample")
    parser.add_argument("--line", action="append", type=int, help="only the mutants on this line "
                        "(repeatable; e.g. to re-run a timeout on a quiet machine)")
    parser.add_argument("--skip-tests", metavar="PREFIX",
                        help="leave out test files whose name starts with PREFIX")
    parser.add_argument("--list", action="store_true", help="only list the mutants")
    parser.add_argument("--verbose", action="store_true", help="print every mutant's outcome")
    args = parser.parse_args(argv)
    os.nice(19 - os.nice(0))
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit("mutate.py: stopped"))
    names = args.module or list(TESTS)
    if args.list:
        for name in names:
            for _, _, line, change in mutants((ROOT / TESTS[name][0]).read_text()):
                print(f"{name}:{line}: {change}")
        return
    # warm imports, shared by every forked test run (minicnn itself is imported in each fork)
    import importlib
    for module in ("numpy", "scipy.ndimage", "pytest", "hypothesis", "tqdm", "matplotlib"):
        importlib.import_module(module)
    sys.modules["matplotlib"].use("Agg")
    importlib.import_module("matplotlib.pyplot")
    equivalent, results, start = load_equivalent(), {}, time.monotonic()
    with tempfile.TemporaryDirectory(prefix="minicnn-mutate-") as tmp:
        work = pathlib.Path(tmp)
        copy_repo(work)
        for name in names:
            results[name] = run_module(name, work, args, equivalent)
            report(name, results[name])
    what = (f"a sample of {args.sample} per module, seed {args.seed}" if args.sample
            else "all mutants")
    print(f"\nsummary ({time.monotonic() - start:.0f} s; {what}):")
    for name, r in results.items():
        report(name, r)


if __name__ == "__main__":
    main()
