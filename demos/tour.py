"""A first look at minicnn: the demos of the explanation's claims, one after the other.

Without --quick this is the first look. Each demo runs at its default settings, the settings at
which every direction it reports was checked at seeds 0, 1 and 2: a convolution commutes with
shifts (equivariance), it is a fully connected layer with tied weights (weight_sharing), a
flatten head reads only the positions it was trained on, global pooling reads further, and
augmentation and circular padding read them all (corner), features tolerate small shifts (fuzzy_features), and
shifts in training reach only as far as they go (augmentation). With --quick it is a smoke
test: every demo on tiny settings, whose numbers are not meaningful.
Each demo gets --seed, --out, --threads and (if given) --quick and --no-figures; its results
dict is collected.

Run:  python demos/tour.py [--seed 0] [--out figures] [--quick] [--demos a,b]
"""

import time

from common import finish, load_demo, parser

DEMOS = ["equivariance", "weight_sharing", "corner", "fuzzy_features", "augmentation"]


def main(argv=None):
    p = parser(__doc__, defaults={"demos": ",".join(DEMOS)})
    p.add_argument("--demos", help="comma-separated demos to run, in order")
    args = p.parse(argv)
    shared = ["--seed", str(args.seed), "--out", str(args.out), "--threads", str(args.threads)]
    shared += ["--quick"] if args.quick else []
    shared += ["--no-figures"] if args.no_figures else []
    results = {}
    for name in args.demos.split(","):
        print(f"\n{'=' * 30} {name} {'=' * 30}", flush=True)
        t0 = time.perf_counter()
        results[name] = load_demo(name).main(shared)
        print(f"({name}: {time.perf_counter() - t0:.1f} s)")
    print("\nran:", ", ".join(results))
    finish(args)
    return results


if __name__ == "__main__":
    main()
