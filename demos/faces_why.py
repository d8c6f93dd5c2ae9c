"""Why does the zero-padded global-max-pool network (corner model c) fail on faces? Remove one
candidate at a time and measure, at seeds 0, 1 and 2.

Every variant is model c of demos/faces.py (conv trunk, zero padding, global max pooling, the
same data, recipe and test grid), with ONE thing changed:

    c as it is         faces and non-faces in the top-left corner (rows, cols 0..4), black canvas
    no conv1-2 bias    the first two convolutions' biases held at 0: a blank canvas then gives
                       exactly 0 at the input of every padded layer, the value of the zero
                       padding, so no unit can tell padding from blank canvas by its value (a
                       "border detector" through the biases is gone)
    circular padding   model e: the canvas wraps around, there is no border at all
    trained off edge   the training patches at rows, cols 8..12: none touches the canvas's edge
    grey canvas        every pixel minus 0.5: the blank canvas (0) is mid-grey, no longer the
                       black (-0.5) of the non-faces' regions beyond the photograph's edge
    black fill grey    every pure-black pixel (0.0: the non-faces' regions beyond the edge of
                       the photograph; the faces have almost none) set to 0.5, canvas still black

Per variant and seed: accuracy where it trained and in the far quadrant, the worst position, and
the far quadrant's faces and non-faces apart; along the top rows (the patch moved right) and the
left columns (moved down). A variant "fails" at a seed when its far-quadrant accuracy is 20 or
more points below its trained accuracy. The sentences at the end are computed from the table.

Run: python demos/faces_why.py [--seeds 0,1,2] [--quick] [--variants base,grey] [--out figures]
"""

import dataclasses
import textwrap

import matplotlib.pyplot as plt
import numpy as np
from common import finish, parser, run_jobs, save_figure

from minicnn import Conv2D, load_faces
from minicnn.measure import corner
from minicnn.measure.positions import accuracy_map, grid_offsets, place_in_region, summarize_map

VARIANTS = {"base": "c as it is", "bias": "no conv1-2 bias", "circular": "circular padding",
            "off_edge": "trained off edge", "grey": "grey canvas", "fill": "black fill grey"}
EPOCHS, LR = 6, 0.003           # model c's recipe in demos/faces.py, Adam (--quick halves epochs)
OFF_EDGE = (8, 12)              # training rows and cols of "trained off edge"
FAIL = 0.2                      # "fails": far quadrant this much below where it trained


class ZeroBiasConv2D(Conv2D):
    """Conv2D whose bias stays 0 (its gradient is dropped): a blank input gives exactly 0."""

    def backward(self, dout):
        dx = super().backward(dout)
        self.grads["b"] = np.zeros_like(self.params["b"])
        return dx


def bias_free_trunk(padding_mode="zeros", rng=None):
    """corner.trunk with its first two convolutions made ZeroBiasConv2D (the same weights)."""
    layers = corner.trunk(padding_mode, rng)
    for i in [i for i, layer in enumerate(layers) if isinstance(layer, Conv2D)][:2]:
        old = layers[i]
        layers[i] = ZeroBiasConv2D(old.in_channels, old.out_channels, old.kernel_size,
                                   padding=old.padding, padding_mode=old.padding_mode)
        layers[i].params["W"] = old.params["W"]
    return layers


def run_variant(name, seed, quick, copies, stride):
    """Train model c changed by variant `name` at `seed`; its accuracy map and numbers."""
    X_tr, y_tr, X_te, y_te = load_faces(mirror=not quick, rng=seed)     # as demos/faces.py
    if name == "grey":
        X_tr, X_te = X_tr - 0.5, X_te - 0.5
    if name == "fill":
        X_tr, X_te = np.where(X_tr == 0, 0.5, X_tr), np.where(X_te == 0, 0.5, X_te)
    S, s = corner.default_canvas(25, quick), 25
    spec = dataclasses.replace(corner.MODELS["c"], classes=2, epochs=EPOCHS, lr=LR,
                               optimizer="adam",
                               padding_mode="circular" if name == "circular" else "zeros",
                               trunk=bias_free_trunk if name == "bias" else corner.trunk)
    region = OFF_EDGE if name == "off_edge" else (0, corner.CORNER)
    X, y = place_in_region(X_tr, y_tr, S, region, region, copies=copies, rng=seed)
    net = corner.train(spec, X, y, quick=quick, rng=seed)
    grid = grid_offsets(S, s, stride)
    acc = accuracy_map(net, X_te, y_te, S, grid)                             # (G, G)
    far = (S // 2, S - s)
    out = summarize_map(acc, grid, (region, region), (far, far))
    for label, key in ((1, "far_faces"), (0, "far_not_faces")):
        out[key] = float(accuracy_map(net, X_te[y_te == label], y_te[y_te == label], S,
                                      grid[grid >= far[0]]).mean())
    out.update(top_rows=float(acc[0].mean()), left_cols=float(acc[:, 0].mean()),
               fails=bool(out["far"] <= out["trained"] - FAIL))
    return out, acc, grid


def main(argv=None):
    args = parse_args(argv)
    tasks = {(v, seed): (run_variant, (v, seed, args.quick, args.copies, args.stride), {})
             for seed in args.seeds for v in args.variants}
    results = run_jobs(tasks, args.jobs, done=lambda key, r: print(
        f"  {VARIANTS[key[0]]}, seed {key[1]}: far {100 * r[0]['far']:.0f}%", flush=True))
    print("\nmodel c on faces, one change at a time; accuracy (%), chance 50; top rows = mean "
          "over the first grid row (patch moved right), left cols = first grid column (moved "
          "down)")
    print(f"{'variant':<19}{'seed':>5}{'trained':>8}{'far':>6}{'min':>6}{'faces far':>10}"
          f"{'others far':>11}{'top rows':>9}{'left cols':>10}")
    for (v, seed), (r, _, _) in results.items():
        print(f"{VARIANTS[v]:<19}{seed:>5}" + "".join(
            f"{100 * r[k]:>{w}.0f}" for k, w in (("trained", 8), ("far", 6), ("min", 6),
                                                 ("far_faces", 10), ("far_not_faces", 11),
                                                 ("top_rows", 9), ("left_cols", 10))))
    summary = interpret({key: r for key, (r, _, _) in results.items()}, args)
    print("\n" + "\n".join(textwrap.fill(line, 98, subsequent_indent="  ") for line in summary))
    save_figure(plot_maps(results, args), args, "faces_why.png", dpi=90)
    seconds = finish(args)
    return {"results": {key: r for key, (r, _, _) in results.items()},
            "maps": {key: acc for key, (_, acc, _) in results.items()}, "summary": summary,
            "figures": args.figures, "seconds": seconds}


def interpret(results, args):
    """Per variant: at how many seeds it fails, its far quadrant's mean and range."""
    lines = []
    for v in args.variants:
        rs = [results[v, seed] for seed in args.seeds]
        far = np.array([r["far"] for r in rs])
        failed = [seed for seed, r in zip(args.seeds, rs) if r["fails"]]
        missed = [r["far_faces"] < r["far_not_faces"] for r in rs if r["fails"]]
        who = ("; in every failing run the far faces are the ones called 'not a face'"
               if missed and all(missed) else "")
        lines.append(f"{VARIANTS[v]}: fails at {len(failed)} of {len(rs)} seeds "
                     f"({', '.join(map(str, failed)) or 'none'}); far quadrant "
                     f"{100 * far.mean():.0f}% (range {100 * far.min():.0f}-{100 * far.max():.0f})"
                     f"{who}.")
    if "base" in args.variants:
        base = sum(results["base", seed]["fails"] for seed in args.seeds)
        fixed = [VARIANTS[v] for v in args.variants if v != "base" and
                 not any(results[v, seed]["fails"] for seed in args.seeds)]
        kept = [VARIANTS[v] for v in args.variants if v != "base" and
                any(results[v, seed]["fails"] for seed in args.seeds)]
        lines.append(f"c as it is fails at {base} of {len(args.seeds)} seeds. No failure at any "
                     f"seed with: {', '.join(fixed) or 'none'}. Still failing at some seed: "
                     f"{', '.join(kept) or 'none'}.")
    return lines


def plot_maps(results, args):
    """Accuracy maps: a row per seed, a column per variant, one colour scale."""
    seeds, variants = args.seeds, args.variants
    fig, axes = plt.subplots(len(seeds), len(variants), squeeze=False, layout="constrained",
                             figsize=(2.3 * len(variants) + 1, 2.3 * len(seeds) + 1))
    for i, seed in enumerate(seeds):
        for j, v in enumerate(variants):
            r, acc, grid = results[v, seed]
            ax = axes[i, j]
            im = ax.imshow(100 * acc, vmin=0, vmax=100, cmap="viridis",
                           extent=(grid[0] - 4, grid[-1] + 4, grid[-1] + 4, grid[0] - 4))
            lo, hi = OFF_EDGE if v == "off_edge" else (0, corner.CORNER)
            ax.add_patch(plt.Rectangle((lo - 0.5, lo - 0.5), hi - lo + 1, hi - lo + 1,
                                       fill=False, edgecolor="red", linewidth=1.2))
            ax.set_title(f"{VARIANTS[v]}, seed {seed}\nfar {100 * r['far']:.0f}%, "
                         f"min {100 * r['min']:.0f}%", fontsize=8)
            ax.tick_params(labelsize=7)
            if i == len(seeds) - 1:
                ax.set_xlabel("patch column (px)", fontsize=8)
            if j == 0:
                ax.set_ylabel("patch row (px)", fontsize=8)
    fig.colorbar(im, ax=axes, shrink=0.6, label="test accuracy (%), chance 50%")
    fig.suptitle("Model c on faces with one change at a time: accuracy with every test patch at "
                 "each position (red: trained positions)", fontsize=10)
    return fig


def parse_args(argv):
    p = parser(__doc__, defaults={"copies": 2, "stride": 8}, quick={"copies": 1})
    p.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default 0,1,2)")
    p.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated subset of "
                   f"{','.join(VARIANTS)} (default all)")
    p.add_argument("--copies", type=int, help="training positions of each patch")
    p.add_argument("--stride", type=int, help="grid step of the accuracy map, px")
    p.add_argument("--jobs", type=int, default=None, help="networks trained at once (default: "
                   "one per core); same results")
    args = p.parse(argv)
    args.variants = args.variants.split(",")
    if set(args.variants) - set(VARIANTS):
        p.error(f"--variants must name some of {','.join(VARIANTS)}, got {args.variants}")
    try:
        args.seeds = [int(s) for s in args.seeds.split(",")]
    except ValueError:
        p.error(f"--seeds must be comma-separated ints, e.g. 0,1,2, got {args.seeds!r}")
    grid = grid_offsets(corner.default_canvas(25, args.quick), 25, args.stride)
    if "off_edge" in args.variants and not any(OFF_EDGE[0] <= g <= OFF_EDGE[1] for g in grid):
        p.error(f"--stride {args.stride} leaves no grid point {grid.tolist()} in the off-edge "
                f"training region {OFF_EDGE}: choose another stride or leave out off_edge")
    return args


if __name__ == "__main__":
    main()
