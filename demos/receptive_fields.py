"""What a deep unit sees: theoretical against effective receptive fields, and its top patches.

    trunk: Conv2D(1, 16, 3, p=1) ReLU MaxPool2D(2) Conv2D(16, 32, 3, p=1) ReLU MaxPool2D(2)
           Conv2D(32, 64, 3, p=1) ReLU           (the corner experiment's, minicnn.measure.corner)
    head:  GlobalMaxPool2D() Linear(64, 10)      (corner model "c"), trained the corner way:
           8x8 digits in the top-left corner of a 32x32 canvas.

For the ReLU after each convolution we compute the theoretical field (kernel sizes, strides,
paddings) and the effective field (Luo et al. 2016): mean |d centre unit / d input| over test
digits placed anywhere on the canvas, for the random-init and the trained trunk. Effective size:
sqrt(12) x the RMS distance of that gradient mass from the field's centre (per axis), the side of
a uniform square of the same spread: a flat field gives the theoretical size, a peaked one less.
Then, for the most active channels of each layer, the test crops (the unit's theoretical field)
that excite it most. The sentences printed at the end are chosen by the measured numbers.

Run: python demos/receptive_fields.py [--quick] [--seed 0] [--channels 4] [--top 8] [--out figures]
"""

import matplotlib.pyplot as plt
import numpy as np
from common import finish, parser, save_figure, show_crop

from minicnn.measure import corner
from minicnn.measure import receptive_field as rf
from minicnn.measure.positions import place_in_region

MODEL = "c"             # corner model: the trunk + global max pool + Linear
LAYERS = (1, 4, 7)      # the ReLU after conv1, conv2, conv3


def main(argv=None):
    p = parser(__doc__, defaults={"channels": 4, "top": 8})
    p.add_argument("--channels", type=int, help="most active channels shown per layer")
    p.add_argument("--top", type=int, help="patches shown per channel, best first")
    args = p.parse(argv)

    # ---- the two trunks and the test digits anywhere on the canvas -----------------------------
    setup = corner.prepare(quick=args.quick, rng=args.seed)
    S, s = setup.canvas, setup.image
    random_net = corner.MODELS[MODEL].build(S, rng=args.seed)
    trained_net = corner.train(MODEL, setup.X, setup.y, quick=args.quick, rng=args.seed)
    n_test = 100 if args.quick else 400
    X, _ = place_in_region(setup.X_test[:n_test], setup.y_test[:n_test], S, (0, S - s),
                           (0, S - s), rng=args.seed)                      # (n, 1, S, S)
    fields = rf.theoretical(trained_net.layers[:LAYERS[-1] + 1])
    names = [f"conv{i + 1}" for i in range(len(LAYERS))]

    # ---- effective fields: random-init and trained ----------------------------------------------
    rows_out, erfs = [], {}
    for name, k in zip(names, LAYERS):
        rows, cols = fields[k]
        row = {"layer": name, "theoretical": rows.size, "jump": rows.jump}
        for label, net in (("random", random_net), ("trained", trained_net)):
            erf, centre = rf.effective(net.layers, k, X)
            erfs[name, label] = (erf, centre)
            row[label] = rf.effective_size(erf, rows, cols, centre)
            row[label + "_ratio"] = row[label] / rows.size
        rows_out.append(row)
    print(f"corner trunk, canvas {S}x{S}, {len(X)} test digits anywhere on it; effective size = "
          f"sqrt(12) x RMS distance of mean |gradient| from the field's centre")
    print(f"{'layer':6} {'theor.':>7} {'jump':>5} {'eff. random':>12} {'ratio':>6} "
          f"{'eff. trained':>13} {'ratio':>6}")
    for r in rows_out:
        print(f"{r['layer']:6} {r['theoretical']:>7} {r['jump']:>5} {r['random']:>12.1f} "
              f"{r['random_ratio']:>6.2f} {r['trained']:>13.1f} {r['trained_ratio']:>6.2f}")

    # ---- top-activating patches of the trained trunk -------------------------------------------
    tops = {}
    for name, k in zip(names, LAYERS):
        acts = np.concatenate([rf.forward_to(trained_net.layers, k, X[i:i + 256])
                               for i in range(0, len(X), 256)])
        channels = np.argsort(-acts.max(axis=(2, 3)).mean(axis=0))[:args.channels]
        tops[name] = (channels, rf.top_patches(trained_net.layers, k, X, channels, args.top))
    ink = _ink_inside(X, tops[names[-1]][1], fields[LAYERS[-1]], round(rows_out[-1]["trained"]))

    # ---- sentences from the numbers --------------------------------------------------------
    deep = rows_out[-1]
    smaller = [r["layer"] for r in rows_out if r["trained"] < r["theoretical"]]
    print(f"\nThe trained effective field is smaller than the theoretical one in "
          f"{len(smaller)} of {len(rows_out)} layers ({', '.join(smaller) or 'none'}); at "
          f"{deep['layer']} it is {deep['trained']:.1f} px wide against {deep['theoretical']} px "
          f"({deep['trained_ratio']:.0%}).")
    change = "grew" if deep["trained"] > deep["random"] else (
        "shrank" if deep["trained"] < deep["random"] else "stayed the same")
    print(f"Training {change} {deep['layer']}'s effective field: {deep['random']:.1f} px at random "
          f"init, {deep['trained']:.1f} px trained.")
    print(f"The {deep['trained']:.0f}x{deep['trained']:.0f} effective square of "
          f"{deep['layer']}'s top units holds on average {ink:.0%} of their {s}x{s} digit's ink "
          f"({'under' if ink < 0.9 else 'at least'} 90%: "
          f"{'a part of the digit' if ink < 0.9 else 'nearly the whole digit'}).")

    # ---- figures ---------------------------------------------------------------------------------
    save_figure(_plot_fields(erfs, names, fields, LAYERS, rows_out), args,
                "receptive_fields.png", dpi=110)
    save_figure(_plot_patches(tops, names), args, "receptive_fields_patches.png", dpi=100)
    seconds = finish(args)
    return {"table": rows_out, "ink_inside": ink, "tops": tops, "erfs": erfs,
            "figures": args.figures, "seconds": seconds}


def _ink_inside(X, top, field, side):
    """Mean share of a top image's ink inside the centred side x side square of its unit."""
    rows, cols = field
    shares = []
    for images, units in zip(top["image"], top["unit"]):
        for n, (i, j) in zip(images, units):
            (r0, _), (c0, _) = rows.span(i), cols.span(j)
            lo_r, lo_c = r0 + (rows.size - side) // 2, c0 + (cols.size - side) // 2
            box = X[n, 0, max(lo_r, 0):max(lo_r + side, 0), max(lo_c, 0):max(lo_c + side, 0)]
            shares.append(box.sum() / X[n, 0].sum())
    return float(np.mean(shares))


def _plot_fields(erfs, names, fields, layers, table):
    """Mean |gradient| maps, each divided by its maximum: rows random/trained, columns layers."""
    fig, axes = plt.subplots(2, len(names), figsize=(4.3 * len(names), 7.5), squeeze=False)
    fig.subplots_adjust(left=0.06, right=0.84, wspace=0.4, hspace=0.35)
    for col, (name, k, row) in enumerate(zip(names, layers, table)):
        rows, cols = fields[k]
        for r, label in enumerate(("random", "trained")):
            erf, centre = erfs[name, label]
            ax = axes[r, col]
            im = ax.imshow(erf / erf.max(), cmap="viridis", vmin=0, vmax=1)
            (r0, r1), (c0, c1) = rows.span(centre[0]), cols.span(centre[1])
            ax.add_patch(plt.Rectangle((c0 - 0.5, r0 - 0.5), c1 - c0, r1 - r0, fill=False,
                                       ec="red", lw=1.5, label=f"theoretical {rows.size} px"))
            side = row[label]                                  # float px
            lo_r, lo_c = r0 + (rows.size - side) / 2, c0 + (cols.size - side) / 2
            ax.add_patch(plt.Rectangle((lo_c - 0.5, lo_r - 0.5), side, side, fill=False,
                                       ec="white", ls="--", lw=1.2,
                                       label=f"effective {side:.1f} px"))
            ax.set_title(f"{name}, {label}: {side:.1f} of {rows.size} px", fontsize=10)
            ax.set_xlabel("input column (px)")
            ax.set_ylabel("input row (px)")
            ax.legend(loc="lower left", fontsize=7, framealpha=0.7)
    fig.colorbar(im, ax=axes, shrink=0.8, fraction=0.04,
                 label="mean |d unit / d input| / its maximum")
    fig.suptitle("Theoretical (red) against effective (white, same-spread square) receptive field "
                 "of the central unit,\nrandom-init (top) and trained (bottom) corner trunk")
    return fig


def _plot_patches(tops, names):
    """One block of rows per layer: a row per channel, its top patches best first."""
    n_rows = sum(len(ch) for ch, _ in tops.values())
    n_top = next(iter(tops.values()))[1]["patch"].shape[1]
    fig, axes = plt.subplots(n_rows, n_top, figsize=(1.1 * n_top + 1.5, 1.1 * n_rows + 1),
                             squeeze=False)
    fig.subplots_adjust(top=0.92, bottom=0.03, right=0.8)
    r = 0
    for name in names:
        channels, top = tops[name]
        for c, ch in enumerate(channels):
            for t in range(n_top):
                im = show_crop(axes[r, t], top["patch"][c, t, 0], "gray_r")
            size = top["patch"].shape[-1]
            axes[r, 0].set_ylabel(f"{name} ch{ch}\n{size}x{size}", fontsize=8)
            r += 1
    fig.colorbar(im, ax=axes, shrink=0.5, label="input pixel (0..1); orange: padding")
    fig.suptitle("Test crops (each unit's theoretical field) that activate a channel most, "
                 "trained corner trunk;\nrows: the most active channels of conv1, conv2, conv3; "
                 "columns: best first")
    return fig


if __name__ == "__main__":
    main()
