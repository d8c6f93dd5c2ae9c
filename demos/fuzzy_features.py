"""Deep features are fuzzy; are the predictions tolerant to small shifts? Two questions apart.

    trunk:        Conv2D(1, 8, 3, p=1) ReLU MaxPool2D(2) Conv2D(8, 16, 3, p=1) ReLU MaxPool2D(2)
                  Conv2D(16, 32, 3, p=1) ReLU          (--channels 8 16 32; total stride 4)
    flatten head: Flatten() Linear(32*6*6, 10)    every position has its own weights
    pooling head: GlobalAvgPool2D() Linear(32, 10) position is averaged away

Each network is trained on 8x8 digits near the centre of a 24x24 canvas, WITH training jitter (a
random offset of up to +-1 px) and WITHOUT it (--jitter 1,0), at seeds 0, 1, 2 (--n-seeds 3).
Then each test digit is shifted k px right and k px left, and we measure
  (a) per layer, the cosine similarity of the shifted digit's representation to the centred
      digit's: do deeper layers tolerate shifts better?
  (b) the fraction of test digits whose predicted class changes, and the accuracy.
Two 2x2 max pools give the trunk a total stride of 4: a shift by a multiple of 4 moves the
conv 3 map by whole cells, any other shift changes which pixels each pool keeps.

Run: python demos/fuzzy_features.py [--jitter 1,0] [--n-seeds 3] [--epochs 12] [--out figures] [--jobs N]
"""

import numpy as np
from common import finish, parser, run_jobs
from fuzzy_report import interpret, plot_curves, plot_maps, print_tables

from minicnn import (
    Adam,
    Conv2D,
    Flatten,
    GlobalAvgPool2D,
    Linear,
    MaxPool2D,
    ReLU,
    Sequential,
    fit,
    load_digits,
    place_on_canvas,
)
from minicnn.measure.equivariance import layer_outputs, representation_similarity

HEADS = ("flatten", "pooling")
STRIDE = 4                      # the trunk's total stride: two 2x2 max pools


def make_net(head, channels, canvas, rng):
    """The trunk and one of the two heads; the same rng gives both heads the same trunk."""
    rng = np.random.default_rng(rng)
    c1, c2, c3 = channels
    trunk = [Conv2D(1, c1, 3, padding=1, rng=rng), ReLU(), MaxPool2D(2),
             Conv2D(c1, c2, 3, padding=1, rng=rng), ReLU(), MaxPool2D(2),
             Conv2D(c2, c3, 3, padding=1, rng=rng), ReLU()]
    side = canvas // STRIDE
    if head == "flatten":
        return Sequential([*trunk, Flatten(), Linear(c3 * side * side, 10, rng=rng)])
    return Sequential([*trunk, GlobalAvgPool2D(), Linear(c3, 10, rng=rng)])


# Layers whose outputs are compared: name -> index into the Sequential.
PROBES = {"pool 1 (stride 2)": 2, "pool 2 (stride 4)": 5, "conv 3 + ReLU": 7}
PROBES_BY_HEAD = {"flatten": PROBES, "pooling": {**PROBES, "global average": 8}}


def measure(net, X, y, canvas, shifts, probes):
    """Per shift k: similarity per probed layer, fraction of predictions changed, accuracy.

    X: (N, 1, 8, 8) test digits, placed at the centre and shifted k px right and k px left.
    Returns {"similarity": {layer: [per k]}, "changed": [per k], "accuracy": [per k]}.
    """
    centre = (canvas - 8) // 2
    x0 = place_on_canvas(X, canvas, (centre, centre))                   # (N, 1, canvas, canvas)
    outs0 = layer_outputs(net, np.concatenate([x0, x0]))                # centred, for +k and -k
    pred0, y2 = outs0[-1].argmax(axis=1), np.concatenate([y, y])
    r = {"similarity": {name: [] for name in probes}, "changed": [], "accuracy": []}
    for k in shifts:
        xk = np.concatenate([place_on_canvas(X, canvas, (centre, centre + k)),
                             place_on_canvas(X, canvas, (centre, centre - k))])
        outs = layer_outputs(net, xk)
        for name, i in probes.items():
            r["similarity"][name].append(representation_similarity(outs0[i], outs[i])[1])
        pred = outs[-1].argmax(axis=1)
        r["changed"].append(float((pred != pred0).mean()))
        r["accuracy"].append(float((pred == y2).mean()))
    return r


def stack(runs):
    """A list of measure() dicts (one per seed) -> the same dict of arrays (n_seeds, ...)."""
    out = {key: np.array([r[key] for r in runs]) for key in ("changed", "accuracy", "train")}
    out["similarity"] = {name: np.array([r["similarity"][name] for r in runs])
                         for name in runs[0]["similarity"]}
    return out


def train_and_measure(args, shifts):
    """Train every (head, jitter) at every seed; returns ({(head, jitter): stacked}, map net)."""
    tasks = {(seed, jitter, head): (train_one, (args, shifts, seed, jitter, head), {})
             for seed in args.seeds for jitter in args.jitter for head in HEADS}
    done = lambda key, _: print(f"  seed {key[0]}, jitter {key[1]}, {key[2]} head done", flush=True)
    results = run_jobs(tasks, args.jobs, done=done)                 # independent: in parallel
    runs = {(h, j): [results[s, j, h][0] for s in args.seeds] for h in HEADS for j in args.jitter}
    map_net = results[args.seeds[0], args.jitter[0], "pooling"][1]  # first seed, first jitter
    return {key: stack(r) for key, r in runs.items()}, map_net


def train_one(args, shifts, seed, jitter, head):
    """One network: trained with offsets within +-jitter at `seed`; (measurements, network)."""
    centre = (args.canvas - 8) // 2
    X_tr, y_tr, X_te, y_te = load_digits(rng=seed)                     # (N, 1, 8, 8) float32
    X_tr, y_tr = X_tr[:args.n_train], y_tr[:args.n_train]
    offsets = np.random.default_rng(seed).integers(-jitter, jitter + 1, (len(X_tr), 2))
    X = place_on_canvas(X_tr, args.canvas, centre + offsets)           # (N, 1, canvas, canvas)
    net = make_net(head, args.channels, args.canvas, seed)
    history = fit(net, X, y_tr, epochs=args.epochs, batch_size=32, optimizer=Adam(args.lr),
                  rng=seed, progress=False)
    r = measure(net, X_te, y_te, args.canvas, shifts, PROBES_BY_HEAD[head])
    return {**r, "train": history["acc"][-1]}, net


def parse_args(argv):
    p = parser(__doc__, defaults={"epochs": 12, "jitter": "1,0", "n_seeds": 3, "max_shift": 8,
                                  "canvas": 24, "channels": (8, 16, 32), "lr": 3e-3,
                                  "n_train": None},
               quick={"canvas": 20, "epochs": 6, "max_shift": 5, "n_train": 500, "lr": 1e-2,
                      "n_seeds": 1}, jobs="networks")
    p.add_argument("--epochs", type=int, help="training epochs")
    p.add_argument("--jitter", help="comma-separated training jitters: offsets within +-J px")
    p.add_argument("--n-seeds", type=int, help="seeds --seed, --seed+1, ... (data split, "
                   "initial weights, jitter, batch order)")
    p.add_argument("--max-shift", type=int, help="largest test shift K")
    p.add_argument("--canvas", type=int, help="canvas side (a multiple of 4)")
    p.add_argument("--channels", type=int, nargs=3, help="channels of the three convolutions")
    p.add_argument("--lr", type=float, help="Adam step")
    p.add_argument("--n-train", type=int, help="training digits (None: all)")
    args = p.parse(argv)
    args.jitter = [int(j) for j in str(args.jitter).split(",")]
    args.seeds = [args.seed + i for i in range(args.n_seeds)]
    centre = (args.canvas - 8) // 2
    if args.canvas % STRIDE or min(args.jitter) < 0 or max(args.jitter) > centre:
        p.error(f"--canvas must be a multiple of {STRIDE} and every jitter in 0..{centre}")
    if not 1 <= args.max_shift <= centre:
        p.error(f"--max-shift {args.max_shift}: a digit at the centre of a {args.canvas}-canvas "
                f"can move 1 to {centre} px each way")
    return args


def main(argv=None):
    args = parse_args(argv)
    shifts = list(range(args.max_shift + 1))
    results, map_net = train_and_measure(args, shifts)
    print_tables(results, shifts, args)
    lines = interpret(results, shifts, args.jitter, args.channels[2], args.canvas // STRIDE,
                      STRIDE)
    print("\nWhat the numbers say:")
    for line in lines:
        print(f"- {line}")
    plot_curves(results, shifts, args, STRIDE)
    plot_maps(map_net, args, PROBES["conv 3 + ReLU"], STRIDE)
    seconds = finish(args)
    return {"shifts": shifts, "jitter": args.jitter, "seeds": args.seeds, "canvas": args.canvas,
            "results": results, "interpretation": lines, "figures": args.figures,
            "seconds": seconds}


if __name__ == "__main__":
    main()
