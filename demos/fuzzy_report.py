"""Tables, interpretation and figures of demos/fuzzy_features.py (the experiment is there).

results: {(head, jitter): {"similarity": {layer: (S, K+1)}, "changed": (S, K+1),
"accuracy": (S, K+1), "train": (S,)}} over S seeds and shifts k = 0..K.
"""

from itertools import pairwise

import matplotlib.pyplot as plt
import numpy as np
from common import integer_ticks, save_figure

from minicnn import load_digits, place_on_canvas
from minicnn.measure.equivariance import layer_outputs, shift_zero

LAYER_COLOURS = {"pool 1 (stride 2)": "tab:blue", "pool 2 (stride 4)": "tab:orange",
                 "conv 3 + ReLU": "tab:green", "global average": "tab:purple"}
PROBE_ORDER = ("pool 1 (stride 2)", "pool 2 (stride 4)", "conv 3 + ReLU")      # shallow to deep
HEAD_COLOURS = {"flatten": "black", "pooling": "tab:red"}   # no colour means two things


def jitter_name(j, pm="+-"):
    """How a training jitter is named: printed with +-, in the figures with the real sign."""
    return f"jitter {pm}{j}" if j else "no jitter"


def cell(values, scale=100):
    """'mean [min-max]' over seeds (just the mean for one seed), in %."""
    v = scale * np.asarray(values)
    return f"{v.mean():.1f}" if len(v) == 1 else f"{v.mean():.1f} [{v.min():.1f}-{v.max():.1f}]"


def print_tables(results, shifts, args):
    """(a) similarity per layer (mean over seeds); (b) predictions changed and accuracy (%)."""
    seeds = ",".join(map(str, args.seeds))
    print(f"\ncanvas {args.canvas}x{args.canvas}, {args.epochs} epochs, trained near the centre "
          f"with {' and '.join(map(jitter_name, args.jitter))}, seeds {seeds}; "
          f"test digits shifted k px right and left")
    print(f"\n(a) cosine similarity to the centred digit, mean over seeds (last column: the "
          f"largest max-min over seeds)\n{'head':8s}{'training':12s}{'layer':19s}"
          + "".join(f"{f'k={k}':>6s}" for k in shifts) + f"{'range':>7s}")
    for (head, j), r in results.items():
        for name, sim in r["similarity"].items():
            spread = (sim.max(axis=0) - sim.min(axis=0)).max()
            print(f"{head:8s}{jitter_name(j):12s}{name:19s}"
                  + "".join(f"{v:6.2f}" for v in sim.mean(axis=0)) + f"{spread:7.2f}")
    keys = list(results)
    names = [f"{h}, {jitter_name(j)}" for h, j in keys]
    width = max(len(cell(results[keys[0]]["accuracy"][:, 0])), *map(len, names)) + 2
    for what, title in (("changed", "test digits whose predicted class changes"),
                        ("accuracy", "test accuracy")):
        print(f"\n(b) {title} (%), mean [min-max] over seeds\n{'k':>3s}"
              + "".join(f"{name:>{width}s}" for name in names))
        for i, k in enumerate(shifts):
            print(f"{k:3d}" + "".join(f"{cell(results[key][what][:, i]):>{width}s}"
                                      for key in keys))
    print("\ntraining accuracy (last epoch, %): " + "; ".join(
        f"{h}, {jitter_name(j)}: {cell(results[h, j]['train'])}" for h, j in keys))


def _mean(results, key, what):
    """Mean over seeds of "changed" or "accuracy": (K+1,)."""
    return results[key][what].mean(axis=0)


def _sim(results, key, layer):
    """Mean over seeds of one layer's similarity: (K+1,)."""
    return results[key]["similarity"][layer].mean(axis=0)


def _at_seeds(mask):
    """'at all 3 seeds' / 'at 2 of 3 seeds' / 'at no seed' for a boolean per seed."""
    n, total = int(np.sum(mask)), len(mask)
    return ("at no seed" if n == 0 else f"at all {total} seeds" if n == total > 1 else
            "at the one seed" if total == 1 else f"at {n} of {total} seeds")


def interpret(results, shifts, jitters, c3, side, stride):
    """Sentences about the results, each a comparison whose wording follows its numbers."""
    K, keys, conv3 = shifts[-1], list(results), "conv 3 + ReLU"
    s1, sK = (np.mean([_sim(results, key, conv3)[k] for key in keys]) for k in (1, K))
    out = [(f"Features are fuzzy: conv 3's similarity to the centred digit averages {s1:.2f} "
            f"at k=1 and {sK:.2f} at k={K}, so it {'falls' if sK < s1 else 'does not fall'} "
            f"as the shift grows.")]
    deeper = [(_sim(results, key, a)[k] < _sim(results, key, b)[k])
              for key in keys for k in shifts[1:] for a, b in pairwise(PROBE_ORDER)]
    verb = "makes" if 2 * sum(deeper) > len(deeper) else "does not make"
    out.append(f"Depth: a deeper layer keeps more similarity than the one before it in "
               f"{sum(deeper)} of {len(deeper)} comparisons (pairs of layers, heads, trainings, "
               f"shifts k>0), so depth {verb} the features more tolerant of shifts here.")
    if 0 in jitters and len(jitters) > 1:
        out += _jitter_sentences(results, max(jitters))
    out += _stride_sentences(results, keys, K, stride)
    for j in jitters:
        f, p = (results[h, j]["accuracy"][:, 0] for h in ("flatten", "pooling"))
        ft, pt = (results[h, j]["train"] for h in ("flatten", "pooling"))
        out.append(f"Unshifted ({jitter_name(j)}): the pooling head gets {100 * p.mean():.1f}% "
                   f"against the flatten head's {100 * f.mean():.1f}% (lower {_at_seeds(p < f)})"
                   f", and {100 * pt.mean():.1f}% against {100 * ft.mean():.1f}% on its "
                   f"training digits (lower {_at_seeds(pt < ft)})"
                   + (f": it fits its training data less well too; its classifier sees {c3} "
                      f"averaged numbers per digit, the flatten head's {c3 * side * side}."
                      if pt.mean() < ft.mean() else "."))
    return out


def _jitter_sentences(results, J):
    """Does training jitter make the features, or the predictions, tolerant of a 1-px shift?"""
    out = []
    for head, layer in (("flatten", "conv 3 + ReLU"), ("pooling", "global average")):
        c0, cJ = (results[head, j]["changed"][:, 1] for j in (0, J))      # (S,) per seed
        s0, sJ = (_sim(results, (head, j), layer)[1] for j in (0, J))
        rc = abs(cJ.mean() - c0.mean()) / max(c0.mean(), cJ.mean(), 1e-9)
        rs = abs(sJ - s0) / max(s0, sJ)
        out.append(f"{head} head, 1-px shift: {100 * c0.mean():.1f}% of predictions change "
                   f"without jitter, {100 * cJ.mean():.1f}% with {jitter_name(J)} (fewer with "
                   f"jitter {_at_seeds(cJ < c0)}); the features its Linear layer reads "
                   f"({layer}) keep a similarity of {s0:.2f} and {sJ:.2f}, a relative "
                   f"difference of {rs:.0%} against {rc:.0%} for the changed predictions: "
                   + ("jitter changes the predictions' tolerance more than the features'."
                      if rs < rc else "jitter changes the features at least as much."))
    if J + 1 < len(results["flatten", J]["changed"][0]):
        at_J, past = (_mean(results, ("flatten", J), "changed")[k] for k in (J, J + 1))
        out.append(f"Beyond the training offsets: the jittered flatten head changes "
                   f"{100 * at_J:.1f}% of its predictions at k={J} and {100 * past:.1f}% at "
                   f"k={J + 1}, " + ("more than twice as many: its tolerance ends about where "
                                     "the training offsets end." if past > 2 * at_J else
                                     "less than twice as many."))
    a0, aJ = (results["flatten", j]["accuracy"][:, 0] for j in (0, J))
    p0, pJ = (results["pooling", j]["accuracy"][:, 0] for j in (0, J))
    out.append(f"Unshifted digits: jitter takes the flatten head from {100 * a0.mean():.1f}% to "
               f"{100 * aJ.mean():.1f}% (lower {_at_seeds(aJ < a0)}) and the pooling head from "
               f"{100 * p0.mean():.1f}% to {100 * pJ.mean():.1f}% (lower {_at_seeds(pJ < p0)}).")
    return out


def _stride_sentences(results, keys, K, stride):
    """At shifts that are multiples of the trunk's stride the pooled grid realigns."""
    out = []
    for m in range(stride, K + 1, stride):
        for head, j in keys:
            changed = results[head, j]["changed"]                          # (S, K+1)
            near = [k for k in (m - 1, m + 1) if k <= K]
            fewer = changed[:, m] < changed[:, near].min(axis=1)           # per seed
            around = " and ".join(f"{100 * changed[:, k].mean():.1f}% at k={k}" for k in near)
            text = (f"{head} head, {jitter_name(j)}: {100 * changed[:, m].mean():.1f}% of "
                    f"predictions change at k={m} against {around} (fewer {_at_seeds(fewer)})")
            if head == "pooling":
                g = _sim(results, (head, j), "global average")
                text += (f"; its global average keeps a similarity of {g[m]:.3f} against "
                         f"{max(g[near]):.3f} nearby"
                         + (f": the pooled grid realigns ({m} is a multiple of the trunk's "
                            f"stride {stride}, so the conv 3 map moves by whole cells and its "
                            "average hardly changes)." if g[m] > max(g[near]) else
                            ": no sign of the pooled grid realigning."))
            else:
                text += ("." if fewer.all() else ": a map moved by whole cells meets other "
                         "weights of the flatten layer.")
            out.append(text)
    return out


def plot_curves(results, shifts, args, stride):
    """(a) similarity per layer, one panel per head; (b) predictions changed; accuracy."""
    fig, axes = plt.subplots(2, 2, figsize=(12, 8.6), layout="constrained")
    x, J = np.array(shifts), max(args.jitter)
    for ax, head in zip(axes[0], ("flatten", "pooling")):
        series = [(results[head, j]["similarity"][name], LAYER_COLOURS[name], j)
                  for name in results[head, args.jitter[0]]["similarity"] for j in args.jitter]
        _draw(ax, x, series, scale=1)
        ax.set_ylabel("cosine similarity to the centred digit")
        ax.set_title(f"(a) {head} head's layers: similarity of the shifted digit's "
                     "representation", fontsize=10)
    for ax, what, label in ((axes[1, 0], "changed", "test digits whose prediction changes (%)"),
                            (axes[1, 1], "accuracy", "test accuracy (%)")):
        _draw(ax, x, [(results[h, j][what], HEAD_COLOURS[h], j) for h in ("flatten", "pooling")
                      for j in args.jitter], scale=100)
        ax.set_ylabel(label)
        ax.set_title(f"(b) {'predictions changed' if what == 'changed' else 'accuracy'}: "
                     "flatten head against pooling head", fontsize=10)
    for ax in axes.flat:
        if J:
            ax.axvspan(-0.3, J + 0.3, color="grey", alpha=0.12, lw=0)
        for m in range(stride, shifts[-1] + 1, stride):
            ax.axvline(m, color="grey", lw=0.8, ls=":")
        ax.set_xlabel("shift of the test digit, k (pixels)")
        ax.set_xticks(x)
    handles = [plt.Line2D([], [], color=c, marker="o", label=n)
               for n, c in {**LAYER_COLOURS, **{f"{h} head": c for h, c in
                                                HEAD_COLOURS.items()}}.items()]
    handles += [plt.Line2D([], [], color="grey", marker="o", ls=_style(j)[0], mfc=_style(j)[1],
                           label=f"trained with {jitter_name(j, '±')}") for j in args.jitter]
    handles.append(plt.Rectangle((0, 0), 1, 1, color="grey", alpha=0.12,
                                 label=f"shifts within the training jitter (±{J} px)"))
    handles.append(plt.Line2D([], [], color="grey", ls=":",
                              label=f"k = multiple of stride {stride}"))
    fig.legend(handles=handles, loc="outside lower center", ncol=5, fontsize=9)
    fig.suptitle(f"Test digits shifted k px: networks trained with and without jitter, mean "
                 f"over seeds {','.join(map(str, args.seeds))} (bars: min to max over seeds)")
    save_figure(fig, args, "fuzzy_features.png")


def _style(j):
    return ("-", None) if j else ("--", "white")


def _draw(ax, x, series, scale):
    """One line per (values (S, K+1), colour, jitter), nudged sideways so none hides another."""
    for i, (values, colour, j) in enumerate(series):
        v, dx = scale * values, (i - (len(series) - 1) / 2) * 0.05
        mean = v.mean(axis=0)
        ls, mfc = _style(j)
        ax.errorbar(x + dx, mean, yerr=[mean - v.min(axis=0), v.max(axis=0) - mean],
                    color=colour, ls=ls, marker="o", ms=4, mfc=mfc, lw=1.3, capsize=2)
    ax.set_ylim(0, 1.02 * scale)


def plot_maps(net, args, conv3, stride):
    """One digit's conv 3 map (mean over channels) at a few shifts, on one colour scale."""
    K, centre = args.max_shift, (args.canvas - 8) // 2
    show = sorted({k for k in (0, 1, 2, 3, 4, 8, K) if k <= K})
    digit = load_digits(rng=args.seeds[0])[2][:1]                       # (1, 1, 8, 8)
    xs = [place_on_canvas(digit, args.canvas, (centre, centre + k)) for k in show]
    maps = [layer_outputs(net, x)[conv3][0].mean(axis=0) for x in xs]   # each (side, side)
    diffs = []                     # the cells that came in at the border have no counterpart
    for k, m in zip(show, maps):
        cells = (0, (k + 1) // stride)                                  # nearest, ties down
        seen = shift_zero(np.ones_like(m), cells) > 0
        diffs.append(np.where(seen, m - shift_zero(maps[0], cells), np.nan))
    top, lim = max(m.max() for m in maps), max(np.nanmax(np.abs(d)) for d in diffs)
    grey = plt.get_cmap("RdBu_r").with_extremes(bad="0.6")
    fig, axes = plt.subplots(3, len(show), figsize=(2.1 * len(show) + 1.4, 7.6),
                             layout="constrained")
    for col, k in enumerate(show):
        axes[0, col].imshow(xs[col][0, 0], cmap="gray_r", vmin=0, vmax=1)
        axes[0, col].set_title(f"digit moved right {k} px", fontsize=10)
        axes[0, col].set_xlabel("canvas column (px)", fontsize=8)
        im1 = axes[1, col].imshow(maps[col], cmap="viridis", vmin=0, vmax=top)
        axes[1, col].set_xlabel("map column (cell)", fontsize=8)
        im2 = axes[2, col].imshow(diffs[col], cmap=grey, vmin=-lim, vmax=lim)
        cells = (k + 1) // stride
        moved = f"moved right {cells} cell{'s' * (cells != 1)}" if cells else "not moved"
        axes[2, col].set_title(f"this map minus the first map,\n{moved}", fontsize=9)
        axes[2, col].set_xlabel("map column (cell)", fontsize=8)
    for ax in axes.flat:
        ax.tick_params(labelsize=7)
    integer_ticks(*axes.flat)
    axes[0, 0].set_ylabel("input digit\ncanvas row (px)")
    axes[1, 0].set_ylabel("conv 3 map\nmap row (cell)")
    axes[2, 0].set_ylabel("difference\nmap row (cell)")
    fig.colorbar(im1, ax=axes[1], label="mean activation over channels", shrink=0.9)
    fig.colorbar(im2, ax=axes[2], label="difference (grey: a cell that\ncame in at the border)",
                 shrink=0.9)
    fig.suptitle(f"Does the pooling head's conv 3 map move with the digit? "
                 f"({jitter_name(args.jitter[0], '±')}, seed {args.seeds[0]})\n"
                 f"One map cell covers {stride} input pixels: a move by a multiple of {stride} "
                 f"px moves the map by whole cells (difference near 0), other moves reshape it",
                 fontsize=12)
    save_figure(fig, args, "fuzzy_maps.png")
