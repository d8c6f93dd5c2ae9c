"""Blur before you subsample: anti-aliased pooling makes a CNN more shift-consistent (Zhang 2019).

    trunk(pool) = Conv2D(1, 16, 3, p=1) ReLU pool(16) Conv2D(16, 32, 3, p=1) ReLU pool(32)
                  Conv2D(32, 32, 3, p=1) ReLU GlobalAvgPool2D Linear(32, 10)
    pool in:  MaxPool2D(2) | AvgPool2D(2) | MaxBlurPool2D(C, 3) = MaxPool2D(2, stride=1) + blur

1. One pooling layer (stride 2) on feature maps of digit canvases (a fixed random 3x3 conv +
   ReLU). Shift the input right by s = 0..8 pixels. The output should move by s/2, so we measure

       e(s) = ||f(S_s x) - T_s|| / ||f(x)||,   T_s = S_{s/2} f(x)                       (s even)
                                              T_s = (S_{(s-1)/2} f(x) + S_{(s+1)/2} f(x)) / 2 (s odd)

   i.e. for an odd shift the target is the half-way point between the two neighbouring integer
   output shifts. The digit stays far from the canvas border, so the border plays no part.
2. Trained networks, on digits placed anywhere on a 16x16 canvas (a random shift per batch).
   Test: every test digit at two random positions. Accuracy alone would raise consistency (two
   correct answers agree), so we report both: consistency = fraction of pairs whose two
   predicted classes are equal.

Run: python demos/antialias.py [--epochs 30] [--pairs 4] [--canvas 16] [--out figures] [--jobs N]
"""

import time

import matplotlib.pyplot as plt
import numpy as np
from common import finish, integer_ticks, parser, run_jobs, save_figure

from minicnn import (
    Adam,
    AvgPool2D,
    Conv2D,
    GlobalAvgPool2D,
    Linear,
    MaxPool2D,
    ReLU,
    Sequential,
    fit,
    load_digits,
    place_on_canvas,
)
from minicnn.data.augment import RandomShift
from minicnn.extensions.blurpool import BlurPool2D, MaxBlurPool2D
from minicnn.measure.equivariance import shift_zero

# The pooling layers compared: name -> function (channels) -> a stride-2 layer.
POOLS = {
    "MaxPool2D(2)": lambda c: MaxPool2D(2),
    "AvgPool2D(2)": lambda c: AvgPool2D(2),
    "BlurPool2D(3)": lambda c: BlurPool2D(c, 3),
    "MaxBlurPool2D(3)": lambda c: MaxBlurPool2D(c, 3),
    "MaxBlurPool2D(5)": lambda c: MaxBlurPool2D(c, 5),
}
TRAINED = ["MaxPool2D(2)", "AvgPool2D(2)", "MaxBlurPool2D(3)", "MaxBlurPool2D(5)"]


def make_net(pool, seed):
    rng = np.random.default_rng(seed)
    return Sequential([Conv2D(1, 16, 3, padding=1, rng=rng), ReLU(), POOLS[pool](16),
                       Conv2D(16, 32, 3, padding=1, rng=rng), ReLU(), POOLS[pool](32),
                       Conv2D(32, 32, 3, padding=1, rng=rng), ReLU(),
                       GlobalAvgPool2D(), Linear(32, 10, rng=rng)])


def train_and_score(name, seed, epochs, X, y, transform, pairs):
    """Train the network with pooling `name`; its accuracy and consistency on the test pairs."""
    t0 = time.perf_counter()
    net = make_net(name, seed)
    fit(net, X, y, epochs=epochs, batch_size=64, optimizer=Adam(2e-3), transform=transform,
        rng=seed, progress=False)
    test_a, test_b, y_pairs = pairs
    pa, pb = net.predict(test_a), net.predict(test_b)
    return {"accuracy": float(np.mean(np.r_[pa == y_pairs, pb == y_pairs])),
            "consistency": float(np.mean(pa == pb)), "train_seconds": time.perf_counter() - t0}


def shift_error(f, x, s):
    """e(s) above, for a horizontal shift of s pixels through a stride-2 map f."""
    fx, fsx = f(x), f(shift_zero(x, (0, s)))
    lo, hi = s // 2, (s + 1) // 2                          # equal for even s
    target = 0.5 * (shift_zero(fx, (0, lo)) + shift_zero(fx, (0, hi)))
    return float(np.linalg.norm(fsx - target) / np.linalg.norm(fx))


def main(argv=None):
    p = parser(__doc__, defaults={"epochs": 30, "pairs": 4, "canvas": 16, "max_shift": 8},
               quick={"epochs": 1, "pairs": 1}, jobs="networks")
    p.add_argument("--epochs", type=int, help="training epochs")
    p.add_argument("--pairs", type=int, help="random position pairs per test digit")
    p.add_argument("--canvas", type=int, help="side of the training canvas")
    p.add_argument("--max-shift", type=int, help="largest shift in part 1")
    args = p.parse(argv)
    epochs, pairs = args.epochs, args.pairs
    X_tr, y_tr, X_te, y_te = load_digits(rng=args.seed)
    if args.quick:
        X_tr, y_tr, X_te, y_te = X_tr[:300], y_tr[:300], X_te[:100], y_te[:100]

    # ---- 1. one pooling layer, shifts 0..max_shift ------------------------------------------
    shifts = list(range(args.max_shift + 1))
    side = 8 + 2 * args.max_shift + 8                      # digit at column 8, room to move
    x = place_on_canvas(X_te[:64], side, (side // 2 - 4, 8)).astype(np.float64)
    features = Sequential([Conv2D(1, 8, 3, padding=1, rng=args.seed, dtype=np.float64), ReLU()])
    fx_in = features.forward(x)                            # (64, 8, side, side): bias 0, so the
    pools = {name: make(8) for name, make in POOLS.items()}  # background stays exactly 0
    errors = {}
    for name, pool in pools.items():
        def f(v, pool=pool):
            return pool.forward(features.forward(v))
        errors[name] = [shift_error(f, x, s) for s in shifts]

    # ---- 2. trained networks: accuracy and consistency -------------------------------------
    C = args.canvas
    centre = (C - 8) // 2
    train_canvas = place_on_canvas(X_tr, C, (centre, centre))
    anywhere = RandomShift(centre, fill="zeros")           # the whole 8x8 box stays inside
    rng = np.random.default_rng(args.seed + 1)
    reps = np.repeat(np.arange(len(X_te)), pairs)          # each test digit `pairs` times
    pos_a = rng.integers(0, C - 8 + 1, size=(len(reps), 2))
    pos_b = rng.integers(0, C - 8 + 1, size=(len(reps), 2))
    test_a = place_on_canvas(X_te[reps], C, pos_a)
    test_b = place_on_canvas(X_te[reps], C, pos_b)
    y_pairs = y_te[reps]
    tasks = {name: (train_and_score, (name, args.seed, epochs, train_canvas, y_tr, anywhere,
                                      (test_a, test_b, y_pairs)), {}) for name in TRAINED}
    results = run_jobs(tasks, args.jobs)                    # independent: in parallel

    # ---- tables -------------------------------------------------------------------------------
    print(f"1. one stride-2 pooling layer after a random conv + ReLU, {len(x)} digit canvases "
          f"{side}x{side}, shifted right by s pixels")
    print(f"{'pool':18s}" + "".join(f"  s={s:<5d}" for s in shifts))
    for name, errs in errors.items():
        print(f"{name:18s}" + "".join(f"  {e:7.4f}" for e in errs))
    print("   e(s) = ||f(S_s x) - T_s|| / ||f(x)||; T_s = f(x) shifted by s/2, or for odd s the "
          "mean of the shifts by (s-1)/2 and (s+1)/2")
    print(f"\n2. trained on digits anywhere on a {C}x{C} canvas ({epochs} epochs, Adam); tested "
          f"on {len(reps)} pairs = {len(X_te)} test digits x {pairs} pairs of random positions")
    print(f"{'model (pooling)':18s} | accuracy | consistency | train time")
    for name, r in results.items():
        print(f"{name:18s} |  {r['accuracy']:6.3f}  |   {r['consistency']:6.3f}    | "
              f"{r['train_seconds']:5.1f} s")

    print("\nWhat the numbers say:")
    for sentence in readings(errors, shifts, results, len(reps)):
        print(f"- {sentence}")

    save_figure(plot_summary(errors, shifts, results), args, "antialias.png")
    save_figure(plot_maps(pools, features, x, fx_in, errors, side), args, "antialias_maps.png")
    finish(args)
    return {"shifts": shifts, "equivariance_error": errors, "trained": results,
            "epochs": epochs, "pairs": len(reps), "figures": args.figures}


def readings(errors, shifts, results, n_pairs, base="MaxPool2D(2)"):
    """The interpretation, each sentence chosen by the measured numbers."""
    even = max(errors[n][s] for n in errors for s in shifts if s % 2 == 0)
    odd = {n: float(np.mean([e[s] for s in shifts if s % 2])) for n, e in errors.items()}
    exact = "exactly 0" if even == 0 else "zero up to rounding"
    out = [f"Even shifts: largest error over all pools {even:.1e}, "
           + (f"{exact}: a stride-2 pool is exact there." if even < 1e-9 else
              "NOT zero: even shifts are not exact here.")]
    for name, e in odd.items():
        if name != base:
            change = e / odd[base] - 1
            out.append(f"Odd shifts, {name}: mean error {e:.3f} against {odd[base]:.3f} for "
                       f"{base}, {abs(change):.0%} {'lower' if change < 0 else 'higher'}.")
    out += [f"{name}: accuracy {r['accuracy']:.3f} is near chance (0.1): its consistency says "
            "little (a network that always predicts one class is perfectly consistent)."
            for name, r in results.items() if r["accuracy"] < 0.2]
    b = results[base]
    for name, r in results.items():
        if name == base or min(r["accuracy"], b["accuracy"]) < 0.2:   # near chance: skip
            continue
        dc, da = r["consistency"] - b["consistency"], r["accuracy"] - b["accuracy"]
        se = np.sqrt((r["consistency"] * (1 - r["consistency"])
                      + b["consistency"] * (1 - b["consistency"])) / n_pairs)
        size = ("within 2 standard errors: not distinguishable at this seed" if abs(dc) < 2 * se
                else f"{abs(dc) / se:.1f} standard errors: a "
                f"{'gain' if dc > 0 else 'loss'} beyond sampling noise, at this one seed")
        out.append(f"Trained, {name} against {base}: consistency {dc:+.3f} ({size}; se "
                   f"{se:.3f}, binomial, {n_pairs} pairs), accuracy {da:+.3f}.")
    return out


def plot_summary(errors, shifts, results):
    """Left: e(s) per pool. Right: accuracy and consistency per trained network, from 0."""
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8), layout="constrained")
    for name, errs in errors.items():
        axes[0].plot(shifts, errs, "o-", label=name)
    axes[0].set_xlabel("input shift s (pixels, to the right)")
    axes[0].set_ylabel("e(s): distance to the ideal shifted output")
    axes[0].set_title("One stride-2 pool after a random conv: error e(s) against the input "
                      "shift\n(ideal output shift s/2; odd s: half-way between neighbours)",
                      fontsize=10)
    axes[0].set_ylim(0, 1.1 * max(max(e) for e in errors.values()))
    axes[0].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), title="pool")
    names = list(results)
    pos = np.arange(len(names))
    for k, key in enumerate(["accuracy", "consistency"]):
        bars = axes[1].bar(pos + (k - 0.5) * 0.38, [results[n][key] for n in names], 0.38,
                           label=key)
        axes[1].bar_label(bars, fmt="%.3f", fontsize=8)
    axes[1].set_xticks(pos, [n.replace("(", "\n(") for n in names], fontsize=8)
    axes[1].set_xlabel("pooling layer of the trained network")
    axes[1].set_ylabel("fraction of test images / of test pairs")
    axes[1].set_ylim(0, 1.12)
    axes[1].set_title("Trained networks: accuracy and shift consistency\n(consistency: same "
                      "class for two random positions of a digit)", fontsize=10)
    axes[1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    return fig


def plot_maps(pools, features, x, fx_in, errors, side):
    """One digit's pooled map (its strongest channel) for input shifts 0..3, one colour scale."""
    ch = int(np.argmax((fx_in[0] ** 2).sum(axis=(1, 2))))
    names = ["MaxPool2D(2)", "MaxBlurPool2D(3)"]
    maps = {(name, s): pools[name].forward(features.forward(shift_zero(x[:1], (0, s))))[0, ch]
            for name in names for s in range(4)}
    lo = side // 4 - 4                                     # rows around the digit (pooled grid)
    vmax = max(float(m[lo:lo + 8, 2:14].max()) for m in maps.values())
    fig, axes = plt.subplots(2, 4, figsize=(13, 6.4), layout="constrained")
    for (name, s), m in maps.items():
        ax = axes[names.index(name), s]
        im = ax.imshow(m[lo:lo + 8, 2:14], cmap="viridis", vmin=0, vmax=vmax,
                       extent=(1.5, 13.5, lo + 7.5, lo - 0.5))
        m0 = maps[name, 0]
        centre = (m0.sum(axis=0) * np.arange(m0.shape[1])).sum() / m0.sum()   # at shift 0
        ax.axvline(centre + s / 2, color="w", ls="--", lw=1)
        ax.set_title(f"{name}, input shift {s} px\ne(s) over {len(x)} digits = "
                     f"{errors[name][s]:.3f}", fontsize=9)
        ax.set_xlabel("pooled column")
        ax.set_ylabel("pooled row")
        integer_ticks(ax)
    fig.colorbar(im, ax=axes, shrink=0.7, label=f"pooled activation, channel {ch} (one scale)")
    fig.suptitle("One digit's pooled feature map as the input moves right 1 px at a time; white "
                 "dashes: the shift-0 map's centre moved by s/2 (the ideal)")
    return fig


if __name__ == "__main__":
    main()
