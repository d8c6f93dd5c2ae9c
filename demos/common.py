"""Plumbing every demo needs, so that each demo's first screen is its experiment.

    from common import parser, finish, save_figure
    p = parser(__doc__, defaults={"epochs": 20}, quick={"epochs": 2})
    p.add_argument("--epochs", type=int, help="training epochs")
    args = p.parse(argv)            # --seed --out --quick --threads --no-figures, then its own
    ...
    save_figure(fig, args, "name.png")
    finish(args)                    # lists the saved figures and prints the run time

The one rule for flags: a flag given on the command line always wins; a flag left out takes its
value from `quick` when --quick is given, else from `defaults`. Every flag's help shows both.
"""

import argparse
import ast
import functools
import importlib.util
import inspect
import multiprocessing
import os
import pathlib
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed

import matplotlib

matplotlib.use("Agg")  # demos write PNG files, they never open windows

try:  # threadpoolctl comes with scikit-learn
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover
    threadpool_limits = None


# What --quick is, in every demo's --help and output: tiny budgets keep the tests fast, and some
# of the lessons do not survive them, so a quick run is never the experiment.
QUICK_MEANS = ("tiny settings that check the demo runs; its numbers are not meaningful and may "
               "even point the wrong way. For a first look, run demos/tour.py without --quick.")


class DemoParser(argparse.ArgumentParser):
    """An ArgumentParser whose parse() fills unset flags from the defaults / quick tables."""

    def __init__(self, description, defaults, quick, jobs=None):
        self.defaults_table = dict(defaults or {})
        self.quick_table = dict(quick or {})
        self.subsets = {}             # flag -> (dest, the names its value may list)
        super().__init__(description=description,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
        self.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
        self.add_argument("--out", default="figures", help="folder for figures (default figures)")
        self.add_argument("--quick", action="store_true",
                          help=f"a smoke test: {QUICK_MEANS} Flags you give still win "
                          "(default off)")
        self.add_argument("--threads", type=int, default=1,
                          help="BLAS threads (default 1: small products gain nothing from more)")
        self.add_argument("--no-figures", action="store_true",
                          help="only the numbers, no figures: faster (default off)")
        if jobs:          # what the demo trains in parallel, e.g. "networks" (see run_jobs)
            self.add_argument("--jobs", type=int, default=None, help=f"{jobs} trained at once, "
                              "each in its own process with one BLAS thread (default: one per "
                              "core; 1 = one after another); the results are the same")

    def add_argument(self, *names, subset_of=None, **kwargs):
        """As argparse's, with 'default X; quick Y' appended to the help of table flags.

        subset_of: the names a comma-separated value such as --models may use (parse checks it).
        """
        dest = kwargs.get("dest") or names[-1].lstrip("-").replace("-", "_")
        if subset_of is not None:
            self.subsets[names[-1]] = (dest, list(subset_of))
        if dest in self.defaults_table or dest in self.quick_table:
            kwargs.setdefault("default", None)
            shown = [f"default {self.defaults_table.get(dest)}"]
            if dest in self.quick_table:
                shown.append(f"quick {self.quick_table[dest]}")
            kwargs["help"] = f"{kwargs.get('help', '')} ({'; '.join(shown)})".strip()
        return super().add_argument(*names, **kwargs)

    def parse(self, argv=None):
        """Parse argv, fill unset flags (quick table, then defaults), make --out, limit threads,
        check the flags given subset_of."""
        args = self.parse_args(argv)
        for table in ([self.quick_table] if args.quick else []) + [self.defaults_table]:
            for key, value in table.items():
                if getattr(args, key, None) is None:
                    setattr(args, key, value)
        args.out = pathlib.Path(args.out)
        args.out.mkdir(parents=True, exist_ok=True)
        args.figures = []
        args.start = time.perf_counter()
        limit_threads(args.threads)
        if args.quick:
            print(f"--quick is a smoke test: {QUICK_MEANS}\n", flush=True)
        for flag, (dest, names) in self.subsets.items():
            check_names(self, flag, getattr(args, dest), names)
        return args


def check_names(p, flag, given, names):
    """A comma-separated flag such as --models must name some of `names`: else a usage error."""
    if set(given.split(",")) - set(names):
        p.error(f"{flag} must name some of {','.join(names)}, got {given}")


def parser(doc, defaults=None, quick=None, jobs=None):
    """A DemoParser described by the first line of the demo's docstring.

    jobs: what the demo trains in worker processes ("networks"): adds the --jobs flag.
    """
    return DemoParser(doc.strip().splitlines()[0], defaults, quick, jobs)


def limit_threads(n):
    """Cap numpy's BLAS threads at n (None: leave as is). Returns the threadpoolctl limiter."""
    if n is None or threadpool_limits is None:
        return None
    return threadpool_limits(n)


def save_figure(fig, args, name, palette=False, **kwargs):
    """Save fig as args.out/name (dpi 80 unless given), close it, remember the path.

    With --no-figures it only closes the figure and returns None.

    palette=True stores a 256-colour PNG (photos in full colour would pass 200 KB).
    """
    import matplotlib.pyplot as plt
    if getattr(args, "no_figures", False):             # --no-figures: drawing is the slow part
        plt.close(fig)
        return None
    kwargs.setdefault("dpi", 80)
    path = pathlib.Path(args.out) / name
    fig.savefig(path, **kwargs)
    plt.close(fig)
    if palette:
        from PIL import Image  # ships with matplotlib
        Image.open(path).convert("RGB").quantize(256).save(path, optimize=True)
    args.figures.append(path)
    return path


def integer_ticks(*axes):
    """Ticks at whole numbers only, on both axes of each matplotlib Axes (pixels, cells)."""
    from matplotlib.ticker import MaxNLocator
    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))


def accuracy_panel(ax, grid, acc, title, xlabel, **scale):
    """One accuracy map of the corner experiment on ax; returns the mesh (for a colour bar).

    acc: (G, G), one value per grid position (rows, columns), drawn as a cell whose edges lie
    halfway between positions; row 0 at the top, as imshow; the training corner outlined in red.
    scale: pcolormesh's colour scale, norm= or vmin= and vmax=.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    from minicnn.measure.corner import CORNER
    step = grid[1] - grid[0] if len(grid) > 1 else 1
    # midpoints rather than one fixed step: the grid's last step may be shorter
    edges = np.concatenate([[grid[0] - step / 2], (grid[:-1] + grid[1:]) / 2,
                            [grid[-1] + step / 2]])
    mesh = ax.pcolormesh(edges, edges, acc, cmap="viridis", **scale)
    ax.set_aspect("equal")
    ax.invert_yaxis()
    ax.add_patch(plt.Rectangle((-0.5, -0.5), CORNER + 1, CORNER + 1, fill=False,
                               edgecolor="red", linewidth=1.5))
    ax.set_title(title, fontsize=9)
    ax.set_xlabel(xlabel)
    return mesh


def corner_comparisons(s, pct, anywhere="anywhere", far="far quadrant"):
    """The corner experiment's two comparisons, a sentence for each pair of models that ran:
    does shifting the training batches (a -> d) raise the far quadrant's accuracy, does circular
    padding (c -> e) narrow the spread of the map.

    s: {model key: corner summary}; pct: a share as printed; anywhere, far: the wording of the
    first sentence (where d's digits go, what it raises).
    """
    lines = []
    if {"a", "d"} <= s.keys():
        verb = "raises" if s["d"]["far"] > s["a"]["far"] else "does not raise"
        lines.append(f"Shifting every training batch {anywhere} (d) {verb} the flatten head's "
                     f"{far}: {pct(s['a']['far'])} -> {pct(s['d']['far'])}.")
    if {"c", "e"} <= s.keys():
        verb = "narrows" if s["e"]["spread"] < s["c"]["spread"] else "does not narrow"
        lines.append(f"Circular padding instead of zeros (c -> e) {verb} the spread of the map: "
                     f"{pct(s['c']['spread'])} -> {pct(s['e']['spread'])}.")
    return lines


def show_crop(ax, crop, cmap="gray"):
    """A crop of the input (h, w), 0..1, on ax without ticks, its padding (NaN) in orange."""
    import matplotlib.pyplot as plt
    import numpy as np
    cmap = plt.get_cmap(cmap).with_extremes(bad="tab:orange")
    im = ax.imshow(np.ma.masked_invalid(crop), cmap=cmap, vmin=0, vmax=1)
    ax.set_xticks([])
    ax.set_yticks([])
    return im


def finish(args):
    """Print the saved figures and the run time (seconds since parse)."""
    if args.figures:
        print("\nfigures written:")
        for path in args.figures:
            print(f"  {path}")
    seconds = time.perf_counter() - args.start
    print(f"done in {seconds:.1f} s")
    return seconds


def load_demo(name):
    """Import demos/<name>.py as a module without running its main() (for tour.py and tests)."""
    return _load_script(pathlib.Path(__file__).resolve().parent / f"{name}.py")


def _load_script(path):
    spec = importlib.util.spec_from_file_location(f"demo_{pathlib.Path(path).stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.cache
def _demo_in_worker(path):
    """A demo script loaded once per worker process (see _call_in_worker)."""
    return _load_script(path)


def _call_in_worker(path, name, args, kwargs):
    """Run function `name` of the demo script at `path`. A function defined in a demo is not
    importable by its module's name in a worker ("__main__", or "demo_<name>" from load_demo),
    so run_jobs sends the script's path and the function's name instead."""
    return getattr(_demo_in_worker(path), name)(*args, **kwargs)


# The modules every worker needs, imported once by the fork server (see worker_context); one
# that is not installed is skipped.
WORKER_PRELOAD = ["__main__", "common", "numpy", "minicnn", "matplotlib.pyplot",
                  "sklearn.datasets", "sklearn.model_selection"]


def worker_context():
    """How run_jobs starts its workers: forked from a fork server on Linux, spawned elsewhere.

    The fork server is a fresh interpreter, started at this process's first pool and kept for
    the later ones, that imports WORKER_PRELOAD and then forks one worker per job. A worker so
    starts with nothing of this process (no BLAS threads, no state) and with its modules already
    imported. Spawning starts every worker as a fresh interpreter that imports them all again
    (tools/pool_start.py times both ways). Spawning stays the method on macOS and Windows,
    where forking a process that has loaded the system's maths libraries is not safe.
    """
    if sys.platform != "linux":
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(WORKER_PRELOAD)       # no effect once the server runs
    return context


def called_outside_main_guard():
    """True if the running script (`python script.py`) reached this call from a top-level line
    outside `if __name__ == "__main__":`. A worker process imports that script before its first
    job, and the import would reach the same call and try to start workers of its own."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    frame = sys._getframe(1)
    while frame is not None and not (frame.f_code.co_name == "<module>" and
                                     frame.f_globals.get("__name__") == "__main__"):
        frame = frame.f_back
    if frame is None or path is None or not path.endswith(".py"):  # interactive: not imported
        return False
    try:
        tree = ast.parse(pathlib.Path(path).read_text())
    except (OSError, SyntaxError, ValueError):
        return False
    guarded = [range(node.lineno, node.end_lineno + 1) for node in tree.body
               if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test)
               and "__name__" in ast.unparse(node.test)]
    return not any(frame.f_lineno in lines for lines in guarded)


def run_jobs(tasks, jobs=None, done=None):
    """Run independent calls in `jobs` worker processes; {key: fn(*args, **kwargs)} in key order.

    tasks: {key: (fn, args, kwargs)}, fn a module-level function of the library or of a demo
    script (sent to the workers by name). jobs: worker processes (None: one per core; 1 runs
    the calls here, one after another, as does a script without `if __name__ == "__main__":`).
    Every worker uses one BLAS thread, so each call computes exactly what it computes serially
    and the results are bit-identical to a serial run. done(key, result) is called as each call
    finishes, in finishing order (for one progress line per result).
    """
    jobs = min(len(tasks), jobs or os.cpu_count() or 1)
    results = {}
    if jobs > 1 and called_outside_main_guard():
        print(f"run_jobs: this script calls run_jobs (or a demo's main()) outside `if __name__ == "
              f"'__main__':`, so every worker process would run the script again; running the "
              f"{len(tasks)} calls here, one after another. To use {jobs} workers, put the "
              f"script's calls under `if __name__ == '__main__':`.", file=sys.stderr, flush=True)
        jobs = 1
    if jobs <= 1:
        for key, (fn, args, kwargs) in tasks.items():
            results[key] = fn(*args, **kwargs)
            if done:
                done(key, results[key])
        return results
    with ProcessPoolExecutor(jobs, mp_context=worker_context(), initializer=limit_threads,
                             initargs=(1,)) as pool:
        futures = {}
        for key, (fn, args, kwargs) in tasks.items():
            if fn.__module__ == "__main__" or fn.__module__.startswith("demo_"):   # a demo's own
                fn, args, kwargs = _call_in_worker, (inspect.getfile(fn), fn.__name__, args,
                                                     kwargs), {}
            futures[pool.submit(fn, *args, **kwargs)] = key
        for future in as_completed(futures):
            key = futures[future]
            results[key] = future.result()
            if done:
                done(key, results[key])
    return {key: results[key] for key in tasks}
