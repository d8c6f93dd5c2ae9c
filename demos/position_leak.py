"""Zero padding tells a "translation-invariant" network where things are (Kayhan & van Gemert 2020).

    net(mode) = Conv2D(1, 8, 3, p=1) ReLU Conv2D(8, 16, 3, p=1) ReLU Conv2D(16, 16, 3, p=1) ReLU
                Conv2D(16, 16, 3, p=1) ReLU GlobalMaxPool2D Linear(16, 2)   padding_mode = mode

Two classes that differ ONLY in where the same digit sits: class 0 has it near the top-left
corner, class 1 near the bottom-right, and the two images are exact circular shifts of each other
(by half the canvas in both directions). A convolutional trunk with a global pooling head is often
called translation-invariant. It is, exactly, with circular padding: a circularly padded conv
commutes with circular shifts and the global max ignores where the maximum is, so the two images
of a pair give IDENTICAL logits and the same predicted class. Since every test digit appears
once in each class, exactly one of the two is right: accuracy is 50% by construction.
With zero padding the frame of zeros differs from the background as soon as a bias makes the
background nonzero, so the network can learn "near the top border" and solve the task.

Run: python demos/position_leak.py [--epochs 8] [--canvas 20] [--out figures]
"""


import matplotlib.pyplot as plt
import numpy as np
from common import finish, integer_ticks, parser, save_figure

from minicnn import (
    Adam,
    Conv2D,
    GlobalMaxPool2D,
    Linear,
    ReLU,
    Sequential,
    fit,
    load_digits,
    place_on_canvas,
)

MODES = ("zeros", "circular")


def make_net(mode, seed):
    rng = np.random.default_rng(seed)
    return Sequential([Conv2D(1, 8, 3, padding=1, padding_mode=mode, rng=rng), ReLU(),
                       Conv2D(8, 16, 3, padding=1, padding_mode=mode, rng=rng), ReLU(),
                       Conv2D(16, 16, 3, padding=1, padding_mode=mode, rng=rng), ReLU(),
                       Conv2D(16, 16, 3, padding=1, padding_mode=mode, rng=rng), ReLU(),
                       GlobalMaxPool2D(), Linear(16, 2, rng=rng)])


def two_positions(digits, canvas, margin):
    """Every digit twice: top-left (class 0) and shifted by canvas/2 both ways (class 1)."""
    a = (margin, margin)
    b = (margin + canvas // 2, margin + canvas // 2)
    X = np.concatenate([place_on_canvas(digits, canvas, a), place_on_canvas(digits, canvas, b)])
    y = np.r_[np.zeros(len(digits), np.int64), np.ones(len(digits), np.int64)]
    return X, y                                              # X: (2N, 1, canvas, canvas)


def main(argv=None):
    p = parser(__doc__, defaults={"epochs": 8, "canvas": 20, "margin": 1}, quick={"epochs": 3})
    p.add_argument("--epochs", type=int, help="training epochs")
    p.add_argument("--canvas", type=int, help="canvas side: even, >= 16 + 2 * margin")
    p.add_argument("--margin", type=int, help="gap between digit and corner")
    args = p.parse(argv)
    C, m, epochs = args.canvas, args.margin, args.epochs
    if C % 2 or C // 2 + m + 8 > C:
        p.error(f"--canvas {C} must be even and leave room for two 8x8 digits at margin {m}")
    X_tr, _, X_te, _ = load_digits(rng=args.seed)           # digit labels are not used
    if args.quick:
        X_tr, X_te = X_tr[:250], X_te[:100]
    Xtr, ytr = two_positions(X_tr, C, m)
    Xte, yte = two_positions(X_te, C, m)
    n = len(X_te)
    # The pair really is a circular shift: the premise of the 50% argument, checked.
    assert np.array_equal(np.roll(Xte[:n], (C // 2, C // 2), axis=(2, 3)), Xte[n:])

    results, nets = {}, {}
    for mode in MODES:
        net = make_net(mode, args.seed)
        fit(net, Xtr, ytr, epochs=epochs, batch_size=64, optimizer=Adam(3e-3), rng=args.seed,
            progress=False)
        logits = net.logits(Xte)                             # (2n, 2)
        pred = logits.argmax(axis=1)
        results[mode] = {"test_accuracy": float(np.mean(pred == yte)),
                         "train_accuracy": float(np.mean(net.predict(Xtr) == ytr)),
                         "same_prediction_in_pair": float(np.mean(pred[:n] == pred[n:])),
                         "max_logit_diff_in_pair": float(np.abs(logits[:n] - logits[n:]).max())}
        nets[mode] = net

    # Feature maps of a constant image: the last conv layer's output, before the global max.
    const = np.full((1, 1, C, C), float(X_te.mean()), dtype=np.float32)
    const_maps = {mode: Sequential(nets[mode].layers[:-2]).forward(const)[0] for mode in MODES}
    for mode in MODES:
        results[mode]["constant_image_map_std"] = float(const_maps[mode].std(axis=(1, 2)).max())

    # ---- table ------------------------------------------------------------------------------
    print(f"{C}x{C} canvas; class 0 = digit at {(m, m)}, class 1 = the same image rolled by "
          f"{(C // 2, C // 2)}; {len(Xtr)} training and {len(Xte)} test images, "
          f"{epochs} epochs")
    print(f"{'padding':9s} | train acc | test acc | same class for both images of a pair | "
          f"max |logit diff| in pair | constant image: max std of a map")
    for mode, r in results.items():
        print(f"{mode:9s} |   {r['train_accuracy']:.3f}   |  {r['test_accuracy']:.3f}   | "
              f"{r['same_prediction_in_pair']:36.3f} | {r['max_logit_diff_in_pair']:23.2e} | "
              f"{r['constant_image_map_std']:.2e}")

    print("\nWhat the numbers say:")
    for sentence in readings(results, len(Xte)):
        print(f"- {sentence}")

    save_figure(plot_accuracy(Xte, n, results), args, "position_leak.png")
    save_figure(plot_constant(const_maps, float(X_te.mean())), args,
                "position_leak_constant.png")
    finish(args)
    return results | {"test_examples": len(Xte), "figures": args.figures}


ROUNDING = 1e-4      # float32 logits and maps: differences below this are rounding


def readings(results, n_test):
    """The interpretation, each sentence chosen by the measured numbers."""
    se = np.sqrt(0.25 / n_test)                             # std error of an accuracy near 0.5
    out = []
    for mode, r in results.items():
        acc, same = r["test_accuracy"], r["same_prediction_in_pair"]
        diff = r["max_logit_diff_in_pair"]
        gap = (acc - 0.5) / se
        out.append(f"{mode} padding: test accuracy {acc:.3f}, {gap:+.1f} standard errors "
                   f"({se:.3f}) from chance 0.5: "
                   + ("it tells the two positions apart." if abs(gap) > 3 else
                      "it cannot tell the two positions apart."))
        if diff < ROUNDING:
            out.append(f"{mode} padding: the two images of every pair get the same logits up to "
                       f"float32 rounding (max difference {diff:.1e}): the same class for "
                       f"{same:.0%} of pairs"
                       + (", so exactly one image of each pair is right (accuracy 0.5 by "
                          "construction)." if same == 1 else "."))
        else:
            out.append(f"{mode} padding: the two images of a pair get different logits (max "
                       f"difference {diff:.1e}); same class for {same:.0%} of pairs.")
        std = r["constant_image_map_std"]
        out.append(f"{mode} padding, a constant image: the last conv layer's maps vary by a std "
                   f"of up to {std:.1e} across positions: "
                   + ("constant up to rounding, no position signal." if std < ROUNDING else
                      "they vary with position, so position is encoded."))
    return out


def plot_accuracy(Xte, n, results):
    """The two classes (one example) and the test accuracy of each padding, chance marked."""
    fig, axes = plt.subplots(1, 3, figsize=(12, 4.2), layout="constrained")
    titles = ["class 0: top-left", "class 1: bottom-right\n(= class 0 rolled by half)"]
    for ax, idx, title in [(axes[0], 0, titles[0]), (axes[1], n, titles[1])]:
        ax.imshow(Xte[idx, 0], cmap="gray_r")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("column (px)")
        ax.set_ylabel("row (px)")
        integer_ticks(ax)
    accs = [results[mode]["test_accuracy"] for mode in MODES]
    bars = axes[2].bar([f"{mode} padding" for mode in MODES], accs, color=["C1", "C0"])
    axes[2].bar_label(bars, fmt="%.3f")
    axes[2].axhline(0.5, color="k", linestyle="--", linewidth=1, label="chance (0.5)")
    axes[2].legend(fontsize=8, loc="upper right")
    axes[2].set_ylim(0, 1.15)
    axes[2].set_ylabel("test accuracy")
    axes[2].set_title("Same conv net + global max pool,\ntwo paddings: test accuracy", fontsize=10)
    return fig


def plot_constant(const_maps, value):
    """Last conv layer's maps on a constant image: 4 most active channels per padding, one scale."""
    vmax = max(float(m.max()) for m in const_maps.values())
    fig, axes = plt.subplots(2, 4, figsize=(13, 7), layout="constrained")
    for row, mode in enumerate(MODES):
        maps = const_maps[mode]
        chans = np.argsort(-maps.max(axis=(1, 2)))[:4]      # the 4 most active channels
        for k, ch in enumerate(chans):
            ax = axes[row, k]
            im = ax.imshow(maps[ch], cmap="viridis", vmin=0, vmax=vmax)
            ax.set_title(f"{mode} padding, channel {ch}\nmin {maps[ch].min():.3g}, max "
                         f"{maps[ch].max():.3g}, std {maps[ch].std():.1e}", fontsize=9)
            ax.set_xlabel("column (px)")
            ax.set_ylabel("row (px)")
            integer_ticks(ax)
    fig.colorbar(im, ax=axes, shrink=0.7, label="activation after the last ReLU (0 = dark)")
    fig.suptitle(f"Trained nets, input = a CONSTANT image ({value:.2f} everywhere): the last conv "
                 "layer's 4 most active channels\n(a map that varies across the image tells the "
                 "network where it is)")
    return fig


if __name__ == "__main__":
    main()
