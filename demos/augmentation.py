"""Augmentation: how far must the training digits move before a flatten head reads everywhere?

The corner experiment's model a (conv trunk + flatten + Linear) is trained on digits in the
top-left corner, each batch shifted by a fresh random (dy, dx) in [-s, s] that keeps the digit on
the canvas (minicnn.data.augment.RandomShift(s, keep_inside=True), passed to fit as `transform`).
For s = 0, 4, 8 and the whole canvas we measure the accuracy map over the canvas: inside the
offsets the shifted digits reach (0..4+s), beyond them, and at its minimum, where we also look at
what the head predicts. A gallery shows what each transform does, and where it can destroy the
label (ink pushed off the canvas, a digit split by a circular shift, a mirrored 2).

Run:  python demos/augmentation.py [--seed 0] [--out figures] [--quick] [--epochs N] [--jobs N]
"""

import time

import matplotlib.pyplot as plt
import numpy as np
from common import finish, parser, run_jobs, save_figure

import minicnn as mc
from minicnn.data.augment import (
    Compose,
    RandomCropPad,
    RandomFlip,
    RandomRotation,
    RandomShift,
    content_box,
)
from minicnn.measure.positions import accuracy_map, grid_offsets, place_in_region, summarize_map


# ---- the architecture: the corner experiment's model a ---------------------------------------
def flatten_net(S, rng):
    f = S // 4                                                       # feature-map side
    return mc.Sequential([
        mc.Conv2D(1, 16, 3, padding=1, rng=rng), mc.ReLU(), mc.MaxPool2D(2),
        mc.Conv2D(16, 32, 3, padding=1, rng=rng), mc.ReLU(), mc.MaxPool2D(2),
        mc.Conv2D(32, 64, 3, padding=1, rng=rng), mc.ReLU(),
        mc.Flatten(), mc.Linear(64 * f * f, 10, rng=rng)])


CORNER, IMAGE = 4, 8           # training offsets 0..CORNER in rows and columns; 8x8 digits


def parse_args(argv):
    p = parser(__doc__, defaults={"canvas": 32, "epochs": 8, "copies": 3, "stride": 4,
                                  "shifts": "0,4,8,all", "lr": 0.05, "batch_size": 32,
                                  "n_train": None},
               quick={"canvas": 16, "epochs": 6, "copies": 1, "stride": 4, "shifts": "0,all"}, jobs="shift ranges")
    p.add_argument("--canvas", type=int, help="canvas side (multiple of 4)")
    p.add_argument("--epochs", type=int, help="training epochs")
    p.add_argument("--copies", type=int, help="corner positions drawn per training digit")
    p.add_argument("--stride", type=int, help="grid step of the accuracy map")
    p.add_argument("--shifts", help="comma-separated max shifts; 'all' = canvas")
    p.add_argument("--lr", type=float, help="SGD step")
    p.add_argument("--batch-size", type=int, help="batch size")
    p.add_argument("--n-train", type=int, help="training digits (None: all)")
    args = p.parse(argv)
    if args.canvas % 4 or args.canvas < 2 * IMAGE:
        p.error(f"--canvas must be a multiple of 4 and >= {2 * IMAGE}, got {args.canvas}")
    return args


def ink_note(x, xt):
    """Per image: '' if the digit is intact, 'ink kept N%' if some fell off, 'split' if a
    circular shift cut it across the canvas edges. x, xt: (N, 1, H, W) before and after."""
    kept = xt.sum(axis=(1, 2, 3)) / x.sum(axis=(1, 2, 3))
    top, bottom, left, right = content_box(xt)
    H, W = x.shape[2:]
    split = ((top == 0) & (bottom == H - 1)) | ((left == 0) & (right == W - 1))
    return ["split" if s else f"ink kept {100 * k:.0f}%" if k < 0.99 else ""
            for k, s in zip(kept, split)]


# (row name, transform, warning: how it can change or destroy the label)
GALLERY = [("original", None, ""),
           ("shift 8, zeros", RandomShift(8), "can push strokes off the canvas"),
           ("shift 16, circular", RandomShift(16, fill="circular"), "can split a digit"),
           ("shift anywhere\n(keep inside)", "inside", ""),
           ("flip", RandomFlip(1.0), "a mirrored 2 looks like a 5;\n3 or 7 mirrored: no digit"),
           ("rotate +-30", RandomRotation(30),
            "can turn corner digits off the canvas;\npast 90 degrees a 6 reads as a 9"),
           ("crop-and-pad 6", RandomCropPad(6), "can cut strokes off"),
           ("shift 8 +\nrotate 15", Compose([RandomShift(8), RandomRotation(15)]),
            "can push strokes off the canvas")]


def gallery(X, y, S, seed):
    """One row per transform, on one corner digit of each of six classes; warnings at right."""
    pick = [int(np.flatnonzero(y == c)[0]) for c in (2, 5, 3, 7, 6, 9)]
    x = X[pick]                                                      # (6, 1, S, S)
    fig, axes = plt.subplots(len(GALLERY), len(x), figsize=(1.35 * len(x) + 2.6,
                                                            1.45 * len(GALLERY)))
    for r, (name, t, warning) in enumerate(GALLERY):
        t = RandomShift(S, keep_inside=True) if t == "inside" else t
        xt = x if t is None else t(x, np.random.default_rng(seed + r))
        for c, note in enumerate(ink_note(x, xt)):
            ax = axes[r, c]
            ax.imshow(xt[c, 0], cmap="gray_r", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_xlabel(note, fontsize=7, color="tab:red", labelpad=1)
            if r == 0:
                ax.set_title(f"label {y[pick[c]]}", fontsize=8)
        axes[r, 0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
        axes[r, -1].annotate(warning, (1.08, 0.5), xycoords="axes fraction", va="center",
                             fontsize=7, color="tab:red")
    fig.suptitle("Each transform draws its own random parameters for every image (rotation turns "
                 "about the canvas centre).\nRed: where a transform can change or destroy the "
                 "label; under each image, ink lost off the canvas or a split digit",
                 fontsize=8, y=0.995)
    fig.subplots_adjust(top=0.93, hspace=0.35, right=0.78)
    return fig


def train_and_map(args, s, X, y, X_te, y_te, grid):
    """Train model a with shifts up to s; returns its accuracy map, predictions at the worst
    grid point (N,) and the last epoch's training accuracy."""
    S = args.canvas
    model = flatten_net(S, np.random.default_rng(args.seed))
    transform = RandomShift(s, keep_inside=True) if s > 0 else None
    history = mc.fit(model, X, y, epochs=args.epochs, batch_size=args.batch_size,
                     optimizer=mc.SGD(args.lr, momentum=0.9), transform=transform,
                     rng=args.seed, progress=False)
    acc = accuracy_map(model, X_te, y_te, S, grid)                    # (G, G)
    i, j = np.unravel_index(acc.argmin(), acc.shape)
    worst = model.predict(mc.place_on_canvas(X_te, S, (int(grid[i]), int(grid[j]))))
    return acc, (int(grid[i]), int(grid[j])), worst, history["acc"][-1]


def measure(args, X, y, X_te, y_te, grid, shifts):
    """For every shift range s: the map's summary, its reach and what is predicted at its min."""
    S, far, results = args.canvas, ((args.canvas // 2, args.canvas - IMAGE),) * 2, {}
    tasks = {s: (train_and_map, (args, s, X, y, X_te, y_te, grid), {}) for s in shifts}
    runs = run_jobs(tasks, args.jobs, done=lambda s, _: print(      # independent: in parallel
        f"  trained with max shift {s} in {time.perf_counter() - args.start:.0f} s", flush=True))
    for s, (acc, at, worst, train) in runs.items():
        r = summarize_map(acc, grid, ((0, CORNER), (0, CORNER)), far)
        reach = min(CORNER + s, S - IMAGE)                  # offsets the shifted digits reach
        inside = (grid[:, None] <= reach) & (grid[None, :] <= reach)
        counts = np.bincount(worst, minlength=10)
        r.update(reach=reach, in_reach=float(acc[inside].mean()), train=train, min_at=at,
                 beyond=float(acc[~inside].mean()) if (~inside).any() else None,
                 top_class=int(counts.argmax()), top_share=float(counts.max() / len(worst)))
        results[s] = r
    return results


def print_table(results, args, n_grid, n_train):
    S = args.canvas
    print(f"\nflatten head, trained in the corner (offsets 0..{CORNER}) with random shifts up "
          f"to s pixels, {args.epochs} epochs of {n_train} images; test accuracy (%) over a "
          f"{n_grid}x{n_grid} grid on {S}x{S}")
    print(f"{'max shift s':<12}{'trained':>8}{'far':>7}{'mean':>7}{'min':>7}{'min at':>10}"
          f"{'reach':>7}{'inside':>8}{'beyond':>8}{'train':>7}   top class at the min")
    for s, r in results.items():
        label = f"{s} (all)" if s == S else str(s)
        beyond = "-" if r["beyond"] is None else f"{100 * r['beyond']:.1f}"
        print(f"{label:<12}" + "".join(f"{100 * r[k]:{w}.1f}" for k, w in
                                       (("trained", 8), ("far", 7), ("mean", 7), ("min", 7)))
              + f"{r['min_at']!s:>10}{'0..' + str(r['reach']):>7}{100 * r['in_reach']:8.1f}"
              f"{beyond:>8}{100 * r['train']:7.1f}   {r['top_class']} "
              f"({100 * r['top_share']:.0f}% of digits)")


def pct(v):
    return f"{100 * v:.1f}%"


def interpret(results, args, y_te, n_train):
    """Sentences about the results, each a comparison whose wording follows its numbers."""
    freq = np.bincount(y_te, minlength=10) / len(y_te)                  # share of each class
    out = []
    for s, r in results.items():
        if r["beyond"] is None:
            continue
        lower = r["beyond"] < r["in_reach"]
        row, col = r["min_at"]
        where = "beyond" if max(row, col) > r["reach"] else "inside"
        side = "below" if r["min"] < freq.max() else "above"
        text = (f"s={s}: the shifted digits reach offsets 0..{r['reach']}; the grid points there "
                f"get {pct(r['in_reach'])}, those beyond {pct(r['beyond'])} "
                f"({'lower' if lower else 'not lower'}). The minimum, {pct(r['min'])} at "
                f"{r['min_at']}, lies {where} the reach, {side} the {pct(freq.max())} of "
                f"always guessing the commonest class; ")
        c = r["top_class"]
        if r["top_share"] >= 0.5:
            text += (f"there {pct(r['top_share'])} of the digits get class {c}, so the accuracy "
                     f"is about the share of {c}s among the test digits ({pct(freq[c])}).")
        else:
            text += (f"the predictions there are spread (the commonest, {c}, "
                     f"{pct(r['top_share'])}) and mostly wrong: the head reads displaced "
                     "strokes as other digits.")
        out.append(text)
    partial = [s for s, r in results.items() if r["beyond"] is not None]
    if len(partial) > 1:
        below = sum(results[s]["min"] < freq.max() for s in partial)
        out.append(f"For s = {', '.join(map(str, partial))} the minimum goes "
                   f"{' -> '.join(pct(results[s]['min']) for s in partial)} and stays below the "
                   f"guessing level {below} of {len(partial)} times: "
                   + ("at positions the shifts never reached it measures how the head fails "
                      "(misread strokes, or one class for every digit), not how well it reads."
                      if below == len(partial) else "some unreached positions are read."))
    full = [s for s, r in results.items() if r["beyond"] is None]
    if full and 0 in results:
        r0, rf = results[0], results[full[0]]
        d = rf["trained"] - r0["trained"]
        n0, nf = (args.epochs * n_train / (r["reach"] + 1) ** 2 for r in (r0, rf))
        out.append(f"Shifts over the whole canvas lift the minimum from {pct(r0['min'])} to "
                   f"{pct(rf['min'])} and {'cost' if d < 0 else 'gain'} {100 * abs(d):.1f} "
                   f"points in the trained region ({pct(r0['trained'])} -> "
                   f"{pct(rf['trained'])}). Spread over {(rf['reach'] + 1) ** 2} offsets instead "
                   f"of {(r0['reach'] + 1) ** 2}, each offset gets about {nf:.0f} training images "
                   f"in {args.epochs} epochs instead of {n0:.0f}, and the last epoch's training "
                   f"accuracy is {pct(rf['train'])} against {pct(r0['train'])}"
                   + (": the wider task is learned less well in the same epochs."
                      if rf["train"] < r0["train"] else "."))
    return out


def plot_range(results, args, guess):
    """Summary of each accuracy map against the shift range, spaced by the real shift sizes."""
    S, shifts = args.canvas, list(results)
    fig, ax = plt.subplots(figsize=(6, 3.8))
    for key, style, label in (("trained", "D-", "trained region (offsets 0..4)"),
                              ("far", "^:", "far quadrant"), ("mean", "s--", "mean over the grid"),
                              ("min", "o-", "worst grid point")):
        ax.plot(shifts, [100 * results[s][key] for s in shifts], style, label=label)
    ax.axhline(100 * guess, color="grey", lw=0.8, ls="-.",
               label=f"always the commonest class ({100 * guess:.1f}%)")
    ax.axvline(S - IMAGE - CORNER, color="grey", lw=0.8, ls=":",
               label=f"from s = {S - IMAGE - CORNER}, shifted digits can reach every offset")
    ax.set_xticks(shifts, [f"{s}\n(all)" if s == S else str(s) for s in shifts])
    ax.set_xlim(-1, S + 1)
    ax.set_xlabel("max random shift s during training (pixels)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_ylim(0, 100)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))
    ax.set_title(f"Flatten head trained in the corner of a {S}x{S} canvas with random shifts up "
                 "to s px:\naccuracy over a grid of test positions (markers: the measured s; "
                 "lines only join them)", fontsize=9)
    return fig


def main(argv=None):
    args = parse_args(argv)
    S = args.canvas
    X_tr, y_tr, X_te, y_te = mc.load_digits(rng=args.seed)
    X_tr, y_tr = X_tr[:args.n_train], y_tr[:args.n_train]
    X, y = place_in_region(X_tr, y_tr, S, (0, CORNER), (0, CORNER), copies=args.copies,
                           rng=args.seed)                                   # (M, 1, S, S)
    grid = grid_offsets(S, IMAGE, args.stride)
    save_figure(gallery(X, y, S, args.seed), args, "augment_gallery.png", bbox_inches="tight")

    shifts = [S if s == "all" else int(s) for s in args.shifts.split(",")]
    results = measure(args, X, y, X_te, y_te, grid, shifts)
    print_table(results, args, len(grid), len(X))
    lines = interpret(results, args, y_te, len(X))
    print("\nWhat the numbers say:")
    for line in lines:
        print(f"- {line}")
    guess = np.bincount(y_te).max() / len(y_te)
    save_figure(plot_range(results, args, guess), args, "augment_range.png", dpi=90,
                bbox_inches="tight")
    seconds = finish(args)
    return {"results": results, "shifts": shifts, "interpretation": lines,
            "figures": args.figures, "seconds": seconds}


if __name__ == "__main__":
    main()
