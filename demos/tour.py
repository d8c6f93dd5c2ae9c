"""A tour of minicnn's demos, run one after the other with the same flags.

Order: equivariance, weight_sharing, corner, fuzzy_features, augmentation (those that exist).
Each demo gets --seed, --out and (if given) --quick; its results dict is collected.

Run:  python demos/tour.py [--seed 0] [--out figures] [--quick]
"""

import argparse
import importlib.util
import pathlib
import time

DEMOS = ["equivariance", "weight_sharing", "corner", "fuzzy_features", "augmentation"]
HERE = pathlib.Path(__file__).resolve().parent


def load(name):
    """Import demos/<name>.py as a module without running its main()."""
    spec = importlib.util.spec_from_file_location(f"demo_{name}", HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="figures")
    p.add_argument("--quick", action="store_true", help="tiny settings for every demo")
    args = p.parse_args(argv)
    shared = ["--seed", str(args.seed), "--out", args.out] + (["--quick"] if args.quick else [])
    results = {}
    for name in [d for d in DEMOS if (HERE / f"{d}.py").exists()]:
        print(f"\n{'=' * 30} {name} {'=' * 30}", flush=True)
        t0 = time.time()
        results[name] = load(name).main(shared)
        print(f"({name}: {time.time() - t0:.1f} s)")
    print("\nran:", ", ".join(results))
    return results


if __name__ == "__main__":
    main()
