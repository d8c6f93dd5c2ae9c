"""Can the fully connected head learn invariance? Digits 0-4 everywhere first, then 5-9 in a corner.

The corner experiment (demos/corner.py) shows that Flatten + Linear reads only the positions it
was trained on. Biscione and Bowers (JMLR 2021) found that networks which first saw OTHER
objects at every position then recognised new objects, trained at one position only, at other
positions too. Here the corner trunk is followed by Flatten, Linear, ReLU, Linear: a hidden fully
connected layer that could learn something position-free.

    phase 1 (experience)   digits 0-4 anywhere on the canvas (a fresh random shift every batch)
    phase 2 (new classes)  digits 5-9 only in the top-left corner (offsets 0..4)
    test                   digits 5-9 at every grid position (the accuracy map), and how much of
                           digits 0-4 at every position survives phase 2 (the forgetting)

Phase 2 comes in two kinds, each with and without phase 1 (VARIANTS). Every variant starts from
the same initial weights and gets the same phase-2 budget: data, batches, epochs and SGD rate.
The same four run with global max pooling in place of Flatten, for reference (HEADS).
Budgets (flags): phase 1, 8 epochs over 3 shifted copies of each 0-4 training digit; phase 2,
6 epochs over 3 copies of each 5-9 digit in the corner; SGD 0.03, momentum 0.9, batch 32.
The default run trains both heads at 3 seeds; --quick trains one seed on tiny settings.

Output layers: each phase gets its own fresh 5-way Linear(HIDDEN, 5); phase 1's answers 0-4,
phase 2's answers 5-9. A single 10-way output trained in phase 2 on labels 5-9 alone learns never
to answer 0-4, so the forgetting would measure the output layer's bias, not the features. With
separate outputs (as when a pretrained network gets a new last layer), every test of 5-9 is
5-way (chance 20%), and the forgetting is read with phase 1's own output layer on top of the
shared layers as phase 2 left them. "Last layer" variants compute the frozen layers' outputs once
and train the 5-way output layer alone on them.

Run:  python demos/learned_invariance.py [--seed 0] [--seeds 3] [--out figures] [--quick] [--jobs N]
"""

import copy
import textwrap

import matplotlib.pyplot as plt
import numpy as np
from common import finish, parser, run_jobs, save_figure

from minicnn.data.augment import RandomShift
from minicnn.data.digits import load_digits, place_on_canvas
from minicnn.layers import Flatten, GlobalMaxPool2D, Linear, ReLU
from minicnn.measure import corner, positions
from minicnn.measure.positions import accuracy_map, grid_offsets, place_in_region, summarize_map
from minicnn.model import Sequential
from minicnn.optim import SGD
from minicnn.train import fit

HIDDEN = 64     # units of the hidden fully connected layer


def flatten_body(canvas, hidden, rng):
    """corner trunk, Flatten, Linear, ReLU: (N, 1, S, S) -> (N, hidden); weights per position."""
    layers = corner.trunk("zeros", rng)
    C, h, w = corner.feature_shape(layers, canvas)
    return layers + [Flatten(), Linear(C * h * w, hidden, rng=rng), ReLU()]


def pool_body(canvas, hidden, rng):
    """corner trunk, GlobalMaxPool2D, Linear, ReLU: (N, 1, S, S) -> (N, hidden)."""
    layers = corner.trunk("zeros", rng)
    C = corner.feature_shape(layers, canvas)[0]
    return layers + [GlobalMaxPool2D(), Linear(C, hidden, rng=rng), ReLU()]


HEADS = {"flatten": ("flatten + FC", flatten_body), "pool": ("global max pool + FC", pool_body)}
VARIANTS = {                # key: (description, phase 1 first?, phase 2 trains the last layer only?)
    "corner": ("no phase 1, train all", False, False),
    "random": ("no phase 1, last layer", False, True),
    "last": ("phase 1, last layer", True, True),
    "all": ("phase 1, fine-tune all", True, False),
}


def main(argv=None):
    args = parse_args(argv)
    seeds = list(range(args.seed, args.seed + args.seeds))
    tasks = {(seed, head): (run_head, (args, seed, head), {})      # independent: in parallel
             for seed in seeds for head in args.heads}
    runs = run_jobs(tasks, args.jobs, done=lambda key, r: print(
        f"  seed {key[0]}: {key[1]} done", flush=True))
    per_seed, seed_maps, phase1 = ({seed: {} for seed in seeds} for _ in range(3))
    for (seed, head), (summaries, maps, net) in runs.items():
        per_seed[seed].update(summaries)
        seed_maps[seed].update(maps)
        phase1[seed][head] = net
    data = prepare(args, seeds[0])
    results = aggregate(per_seed)
    maps = {k: np.mean([seed_maps[s][k] for s in seeds], axis=0) for k in seed_maps[seeds[0]]}
    print("\n" + table(results, data, args, seeds))
    print("\n" + "\n".join(textwrap.fill(line, 98, subsequent_indent="   ")
                            for line in interpret(results, seeds)))
    save_figure(plot_maps(results, maps, data, seeds), args, "learned_invariance.png", dpi=80)
    seconds = finish(args)
    return {"results": results, "maps": maps, "seed_maps": seed_maps, "grid": data["grid"],
            "canvas": data["canvas"], "image": data["image"], "seeds": seeds,
            "phase1": phase1, "figures": args.figures, "seconds": seconds}


def prepare(args, seed):
    """Phase-1 data (0-4 anywhere), phase-2 data (5-9 in the corner) and the test digits."""
    X_tr, y_tr, X_te, y_te = load_digits(rng=seed)
    s = X_tr.shape[-1]
    S = corner.default_canvas(s, args.quick)
    old, new = y_tr < 5, y_tr >= 5
    X1, y1 = place_in_region(X_tr[old], y_tr[old], S, (0, S - s), (0, S - s),
                             copies=args.copies, rng=seed)             # (M1, 1, S, S)
    X2, y2 = corner.place_in_corner(X_tr[new], y_tr[new] - 5, S, args.copies, seed)  # 5-9 -> 0-4
    grid = grid_offsets(S, s, args.stride)
    new_test = corner.Setup(X2, y2, X_te[y_te >= 5], y_te[y_te >= 5] - 5, grid)
    return {"X1": X1, "y1": y1, "new": new_test, "old": (X_te[y_te < 5], y_te[y_te < 5]),
            "grid": grid, "canvas": S, "image": s}


def train(layers, X, y, epochs, args, seed, anywhere=False, far=None):
    """SGD (momentum 0.9) on Sequential(layers); anywhere: each batch shifted anywhere it fits.

    far: (X, y) scored after every epoch. Returns the accuracy on it per epoch (or []).
    """
    history = fit(Sequential(layers), X, y, epochs=epochs, batch_size=32, rng=seed,
                  progress=False, optimizer=SGD(args.lr, momentum=0.9), validation_data=far,
                  transform=RandomShift(X.shape[-1], keep_inside=True) if anywhere else None)
    return history.get("val_acc", [])


def run_head(args, seed, head):
    """Every variant of one head at one seed: {"head/variant": summary}, {name: accuracy map}
    and the network after phase 1, Sequential(body + [phase 1's output layer])."""
    d = prepare(args, seed)
    summaries, maps = {}, {}
    build = HEADS[head][1]
    start = build(d["canvas"], args.hidden, np.random.default_rng(seed))   # the same initial
    pre = build(d["canvas"], args.hidden, np.random.default_rng(seed))     # weights for all
    old_head = Linear(args.hidden, 5, rng=np.random.default_rng([seed, 1]))
    train(pre + [old_head], d["X1"], d["y1"], args.phase1_epochs, args, seed, anywhere=True)
    before = accuracy_map(Sequential(pre + [old_head]), *d["old"], d["canvas"], d["grid"])
    maps[f"{head}/0-4 after phase 1"] = before                               # (G, G)
    for key, (_, phase1, last_only) in VARIANTS.items():
        body = copy.deepcopy(pre if phase1 else start)
        r, maps[f"{head}/{key}"] = phase2(body, last_only, d, args, seed)
        if phase1:
            after = forgotten(body, pre, old_head, before, d)
            r.update(old_before=float(before.mean()), old_after=float(after.mean()),
                     forgetting=float(before.mean() - after.mean()))
            maps[f"{head}/{key} 0-4 after"] = after
        summaries[f"{head}/{key}"] = r
    return summaries, maps, Sequential(pre + [old_head])


def phase2(body, last_only, d, args, seed):
    """Digits 5-9 in the corner on `body` + a fresh 5-way layer: (summary, accuracy map (G, G)).

    last_only: the body is frozen; its outputs (M, hidden) are computed once and the new layer
    trains alone on them. summary["far_by_epoch"]: far-quadrant accuracy after every epoch.
    """
    new, S, grid = d["new"], d["canvas"], d["grid"]
    out = Linear(args.hidden, 5, rng=np.random.default_rng([seed, 2]))    # the same for all
    far = far_set(new)
    if last_only:
        features = Sequential(body).logits                                   # (N, hidden)
        curve = train([out], features(new.X), new.y, args.phase2_epochs, args, seed,
                      far=(features(far[0]), far[1]))
    else:
        curve = train(body + [out], new.X, new.y, args.phase2_epochs, args, seed, far=far)
    acc = accuracy_map(Sequential(body + [out]), new.X_test, new.y_test, S, grid)
    r = summarize_map(acc, grid, new.trained, new.far)
    r["far_by_epoch"] = [float(v) for v in curve]
    return r, acc


def far_set(new):
    """The test digits 5-9 at every grid position of the far quadrant: X (P*N, 1, S, S), y."""
    rows, cols = np.nonzero(positions.region_mask(new.grid, *new.far))
    X = np.concatenate([place_on_canvas(new.X_test, new.canvas, (int(new.grid[i]),
                                                                  int(new.grid[j])))
                        for i, j in zip(rows, cols)])
    return X, np.tile(new.y_test, len(rows))


def forgotten(body, pre, old_head, before, d):
    """Accuracy map of digits 0-4 (phase 1's output layer) on the layers as phase 2 left them."""
    same = all(np.array_equal(a.params[k], b.params[k])
               for a, b in zip(body, pre) for k in a.params)
    if same:                    # frozen: bit-identical weights give the identical map
        return before
    return accuracy_map(Sequential(body + [old_head]), *d["old"], d["canvas"], d["grid"])


METRICS = ("trained", "far", "min", "mean", "old_before", "old_after", "forgetting")


def aggregate(per_seed):
    """{key: {metric: mean over seeds, "range": {metric: (lo, hi)}, "per_seed": {metric: [..]}}}."""
    seeds = list(per_seed)
    out = {}
    for key in per_seed[seeds[0]]:
        values = {m: [per_seed[s][key][m] for s in seeds] for m in METRICS
                  if m in per_seed[seeds[0]][key]}
        out[key] = {m: float(np.mean(v)) for m, v in values.items()}
        out[key]["range"] = {m: (min(v), max(v)) for m, v in values.items()}
        out[key]["per_seed"] = values
        curves = [per_seed[s][key]["far_by_epoch"] for s in seeds]     # (seeds, epochs)
        out[key]["far_by_epoch"] = np.mean(curves, axis=0).tolist()
        out[key]["per_seed"]["far_by_epoch"] = curves
    return out


def table(results, d, args, seeds):
    """The results table: mean over the seeds (lowest-highest), accuracies in %."""
    S, s = d["canvas"], d["image"]
    lines = [(f"seeds {', '.join(map(str, seeds))}: mean (lowest-highest), accuracy in %, 5-way "
             f"(chance 20%). Phase 1: {len(d['y1'])} canvases of digits 0-4, "
             f"{args.phase1_epochs} epochs, shifted anywhere every batch. Phase 2 (every "
             f"variant): {len(d['new'].y)} canvases of digits 5-9 at offsets 0..{corner.CORNER}, "
             f"{args.phase2_epochs} epochs, SGD {args.lr:g}, momentum 0.9, batch 32. New digits "
             f"5-9 tested in the trained region, the far quadrant (offsets {S // 2}..{S - s}) "
             f"and at the worst grid position; digits 0-4 at every position."),
             f"{'network / phase 2':<46}" + "".join(f"{h:>17}" for h in (
                 "5-9 trained", "5-9 far", "5-9 min", "0-4 before", "0-4 after", "forgot"))]
    for key, r in results.items():
        head, var = key.split("/")
        cells = [f"{100 * r[m]:5.1f} ({100 * r['range'][m][0]:4.1f}-{100 * r['range'][m][1]:4.1f})"
                 if m in r else "-" for m in ("trained", "far", "min", "old_before", "old_after",
                                              "forgetting")]
        label = f"{HEADS[head][0]}: {VARIANTS[var][0]}"
        lines.append(f"{label:<46}" + "".join(f"{c:>17}" for c in cells))
    return textwrap.fill(lines[0], 98) + "\n" + "\n".join(lines[1:])


def interpret(results, seeds):
    """Sentences, each chosen by the measured numbers."""
    pct = lambda v: f"{100 * v:.1f}%"
    n = len(seeds)

    def wins(a, b, m="far"):                                                # seeds where b > a
        return sum(y > x for x, y in zip(results[a]["per_seed"][m], results[b]["per_seed"][m]))
    lines = []
    for head in {k.split("/")[0]: None for k in results}:
        r = {v: results[f"{head}/{v}"] for v in VARIANTS}
        name = HEADS[head][0]
        lines.append(f"{name}: new digits 5-9 in the far quadrant: " + ", ".join(
            f"{VARIANTS[v][0]} {pct(r[v]['far'])}" for v in VARIANTS) + " (trained region: "
            + ", ".join(pct(r[v]["trained"]) for v in VARIANTS) + ").")
        for a, b, what in (("random", "last", "training the last layer only"),
                           ("corner", "all", "training every layer")):
            k = wins(f"{head}/{a}", f"{head}/{b}")
            verb = "raises" if k == n else "does not raise" if k == 0 else "raises at some seeds"
            lines.append(f"  With {what}, phase 1 {verb} the far-quadrant accuracy of the new "
                         f"digits: {pct(r[a]['far'])} -> {pct(r[b]['far'])} (higher at {k} of {n} "
                         f"seeds); far / trained region: {r[a]['far'] / r[a]['trained']:.2f} -> "
                         f"{r[b]['far'] / r[b]['trained']:.2f}.")
        lines.append("  Far quadrant during phase 2 (mean curve's best epoch, last epoch; seeds "
                     "whose last epoch is below their best): " + "; ".join(
            f"{VARIANTS[v][0]} {pct(max(c))} at epoch {int(np.argmax(c)) + 1}, {pct(c[-1])}; "
            f"{sum(s[-1] < max(s) for s in r[v]['per_seed']['far_by_epoch'])} of {n}"
            for v in VARIANTS for c in [r[v]["far_by_epoch"]]) + ".")
        for v, how in (("last", "training the last layer only"), ("all", "fine-tuning all")):
            f = r[v]["forgetting"]
            say = ("leaves digits 0-4 exactly as they were" if f == 0 else
                   f"{'costs' if f > 0 else 'gains'} digits 0-4 {pct(abs(f))} of accuracy")
            lines.append(f"  After phase 1, {how} {say} (mean over every position: "
                         f"{pct(r[v]['old_before'])} -> {pct(r[v]['old_after'])}).")
    return lines


def plot_maps(results, maps, d, seeds):
    """Mean maps over the seeds (digits 5-9 per variant, 0-4 after fine-tuning) and far curves."""
    heads = list(dict.fromkeys(k.split("/")[0] for k in results))
    cols = len(VARIANTS) + 2
    fig, axes = plt.subplots(len(heads), cols, figsize=(2.45 * cols + 1, 2.9 * len(heads) + 0.9),
                             squeeze=False, layout="constrained")
    for row, head in zip(axes, heads):
        panels = [(f"{head}/{v}", f"{VARIANTS[v][0]}\ndigits 5-9") for v in VARIANTS]
        panels.append((f"{head}/all 0-4 after", "phase 1, fine-tune all\ndigits 0-4 after"))
        for ax, (key, title) in zip(row, panels):
            im = draw_map(ax, maps[key], d["grid"])
            r = results[f"{head}/all"] if key.endswith("0-4 after") else results[key]
            note = (f"mean {100 * r['old_after']:.0f}% (before {100 * r['old_before']:.0f}%)"
                    if key.endswith("0-4 after") else
                    f"far {100 * r['far']:.0f}%, min {100 * r['min']:.0f}%")
            ax.set_title(f"{title}\n{note}", fontsize=8)
        row[0].set_ylabel(f"{HEADS[head][0]}\n\ndigit row (px)")
        draw_curves(row[-1], results, head)
    bar = fig.colorbar(im, ax=axes[:, :-1].ravel().tolist(), shrink=0.7,
                       label="test accuracy (%)")
    bar.ax.axhline(20, color="white", linewidth=1.5)                       # 5-way chance
    fig.suptitle(textwrap.fill(
        "New digits 5-9 trained only in the red corner, tested everywhere, with and without "
        "phase 1 (digits 0-4 shown at every position); 5th column: digits 0-4 after phase 2 "
        "fine-tuned everything; last column: far-quadrant accuracy during phase 2. Means over "
        f"seeds {', '.join(map(str, seeds))}; {d['canvas']}x{d['canvas']} canvas; chance 20% "
        "(white line on the colour bar)", 175), fontsize=9)
    return fig


def draw_map(ax, acc, grid):
    """One accuracy map (%) with the trained corner in red; returns the mesh (for a colour bar)."""
    step = grid[1] - grid[0] if len(grid) > 1 else 1
    edges = np.concatenate([[grid[0] - step / 2], (grid[:-1] + grid[1:]) / 2,
                            [grid[-1] + step / 2]])                      # cell edges (px)
    im = ax.pcolormesh(edges, edges, 100 * acc, vmin=0, vmax=100, cmap="viridis")
    ax.set_aspect("equal")
    ax.invert_yaxis()                                                    # row 0 at the top
    ax.add_patch(plt.Rectangle((-0.5, -0.5), corner.CORNER + 1, corner.CORNER + 1, fill=False,
                               edgecolor="red", linewidth=1.5))
    ax.set_xlabel("digit column (px)")
    return im


def draw_curves(ax, results, head):
    """Far-quadrant accuracy of digits 5-9 after every phase-2 epoch, one line per variant."""
    for v, style in zip(VARIANTS, ("-", ":", "--", "-.")):
        c = 100 * np.asarray(results[f"{head}/{v}"]["far_by_epoch"])
        ax.plot(np.arange(1, len(c) + 1), c, style, marker="o", markersize=3,
                label=VARIANTS[v][0])
    ax.axhline(20, color="0.5", linewidth=0.8)
    ax.set(ylim=(0, 100), xlabel="phase-2 epoch", ylabel="far-quadrant accuracy (%)")
    ax.set_title(f"{HEADS[head][0]}:\ndigits 5-9, far quadrant", fontsize=8)
    ax.legend(fontsize=6, loc="best")


def parse_args(argv):
    p = parser(__doc__, defaults={"seeds": 3, "phase1_epochs": 8, "phase2_epochs": 6,
                                  "copies": 3, "stride": 4},
               quick={"seeds": 1, "phase1_epochs": 20, "phase2_epochs": 3, "copies": 1,
                      "stride": 8}, jobs="seeds and heads")
    p.add_argument("--seeds", type=int, help="number of seeds, from --seed on")
    p.add_argument("--heads", default="flatten,pool", help="comma-separated subset of "
                   f"{','.join(HEADS)} (default both)")
    p.add_argument("--hidden", type=int, default=HIDDEN, help="units of the hidden FC layer")
    p.add_argument("--phase1-epochs", type=int, help="epochs of phase 1 (0-4 anywhere)")
    p.add_argument("--phase2-epochs", type=int, help="epochs of phase 2, every variant")
    p.add_argument("--copies", type=int, help="copies of each training digit, both phases")
    p.add_argument("--stride", type=int, help="grid step of the accuracy maps (px)")
    p.add_argument("--lr", type=float, default=0.03, help="SGD rate, both phases (momentum 0.9)")
    args = p.parse(argv)
    args.heads = args.heads.split(",")
    if set(args.heads) - set(HEADS) or args.seeds < 1:
        p.error(f"--heads must name some of {','.join(HEADS)} and --seeds be >= 1")
    return args


if __name__ == "__main__":
    main()
