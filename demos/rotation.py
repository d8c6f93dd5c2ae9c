"""Rotation invariance by weight sharing: a p4 group CNN vs a plain CNN (Cohen & Welling 2016).

    plain:  Conv2D(1, 16, 3, p=1) ReLU MaxPool2D(2) Conv2D(16, 32, 3, p=1) ReLU MaxPool2D(2)
            Flatten Linear(128, 10)
    p4:     P4LiftConv2D(1, 8, 3, "same") ReLU P4GroupConv2D(8, 16, 3, "same") ReLU
            P4GroupConv2D(16, 16, 3, "same") ReLU P4RotationPool("max") GlobalMaxPool2D
            Linear(16, 10)
    plain + aug: the plain CNN trained on randomly rotated copies (k * 90 degrees per image,
            drawn anew for every batch through fit's transform hook)

All three are trained on UPRIGHT 8x8 digits only and tested on the test digits rotated by 0, 90,
180 and 270 degrees. The p4 network uses every kernel in its four rotations and pools over them
and over space, so it is exactly invariant to 90-degree rotations: its accuracy is the same at
every angle, without ever seeing a rotated digit. The price: it cannot tell a 6 from a rotated 9.
The plain CNN has to learn each orientation from examples, so it fails on rotated digits unless
it is shown them (augmentation), and even then the invariance is only approximate.

Run: python demos/rotation.py [--epochs 15] [--out figures] [--jobs N]
"""

import time

import matplotlib.pyplot as plt
import numpy as np
from common import finish, parser, run_jobs, save_figure

from minicnn import (
    Adam,
    Conv2D,
    Flatten,
    GlobalMaxPool2D,
    Linear,
    MaxPool2D,
    ReLU,
    Sequential,
    fit,
    load_digits,
)
from minicnn.extensions.gconv import P4GroupConv2D, P4LiftConv2D, P4RotationPool, rotate

ANGLES = (0, 90, 180, 270)


def plain_cnn(seed):
    rng = np.random.default_rng(seed)
    return Sequential([Conv2D(1, 16, 3, padding=1, rng=rng), ReLU(), MaxPool2D(2),
                       Conv2D(16, 32, 3, padding=1, rng=rng), ReLU(), MaxPool2D(2),
                       Flatten(), Linear(32 * 2 * 2, 10, rng=rng)])


def p4_cnn(seed):
    rng = np.random.default_rng(seed)
    return Sequential([P4LiftConv2D(1, 8, 3, padding="same", rng=rng), ReLU(),
                       P4GroupConv2D(8, 16, 3, padding="same", rng=rng), ReLU(),
                       P4GroupConv2D(16, 16, 3, padding="same", rng=rng), ReLU(),
                       P4RotationPool("max"), GlobalMaxPool2D(), Linear(16, 10, rng=rng)])


def random_right_angles(x, rng):
    """fit's transform hook: rotate each image by its own random multiple of 90 degrees."""
    k = rng.integers(0, 4, size=len(x))                     # (N,)
    out = x.copy()
    for r in (1, 2, 3):
        out[k == r] = rotate(x[k == r], r)
    return out


MODELS = {"plain CNN": (plain_cnn, None), "p4 CNN": (p4_cnn, None),
          "plain CNN + rotation aug": (plain_cnn, random_right_angles)}


def train_and_rotate(name, seed, epochs, lr, X_tr, y_tr, X_te, y_te):
    """Train MODELS[name] on upright digits; (its scores on the test digits at the four right
    angles, the network)."""
    t0 = time.perf_counter()
    make, transform = MODELS[name]
    net = make(seed)
    fit(net, X_tr, y_tr, epochs=epochs, batch_size=64, optimizer=Adam(lr), transform=transform,
        rng=seed, progress=False)
    logits = [net.logits(np.ascontiguousarray(rotate(X_te, k))) for k in range(4)]
    preds = np.stack([lg.argmax(axis=1) for lg in logits])               # (4, N)
    return {"accuracy": {a: float(np.mean(p == y_te)) for a, p in zip(ANGLES, preds)},
            "same_prediction_all_angles": float(np.mean((preds == preds[0]).all(axis=0))),
            "max_logit_change": float(max(np.abs(lg - logits[0]).max() for lg in logits)),
            "params": net.num_params(), "train_seconds": time.perf_counter() - t0}, net


def main(argv=None):
    p = parser(__doc__, defaults={"epochs": 15, "lr": 3e-3}, quick={"epochs": 4}, jobs="networks")
    p.add_argument("--epochs", type=int, help="training epochs")
    p.add_argument("--lr", type=float, help="Adam step")
    args = p.parse(argv)
    epochs = args.epochs
    X_tr, y_tr, X_te, y_te = load_digits(rng=args.seed)
    if args.quick:
        X_tr, y_tr, X_te, y_te = X_tr[:500], y_tr[:500], X_te[:200], y_te[:200]

    tasks = {name: (train_and_rotate, (name, args.seed, epochs, args.lr, X_tr, y_tr, X_te, y_te),
                    {}) for name in MODELS}
    runs = run_jobs(tasks, args.jobs)                       # independent: in parallel
    results = {name: r for name, (r, _) in runs.items()}
    nets = {name: net for name, (_, net) in runs.items()}
    # What the p4 network cannot see: 6 and 9 are one 180-degree turn apart.
    six_nine = np.isin(y_te, (6, 9))
    confusions = {}                                         # upright 6 taken for 9 and vice versa
    for name, net in nets.items():
        pred = net.predict(X_te)
        confusions[name] = int(np.sum(six_nine & np.isin(pred, (6, 9)) & (pred != y_te)))
    p4_six_nine_confusions = confusions["p4 CNN"]

    # ---- table ------------------------------------------------------------------------------
    print(f"trained on {len(X_tr)} upright digits ({epochs} epochs, Adam lr {args.lr:g}); "
          f"tested on {len(X_te)} test digits, rotated")
    print(f"{'model':26s}" + "".join(f" | {a:>3d} deg" for a in ANGLES)
          + " | same class at all 4 | max logit change | params | train time")
    for name, r in results.items():
        print(f"{name:26s}" + "".join(f" |  {r['accuracy'][a]:.3f}" for a in ANGLES)
              + f" | {r['same_prediction_all_angles']:19.3f} | {r['max_logit_change']:16.2e}"
              + f" | {r['params']:6,d} | {r['train_seconds']:5.1f} s")
    print("\nWhat the numbers say:")
    for sentence in readings(results, confusions, int(six_nine.sum())):
        print(f"- {sentence}")

    save_figure(plot_accuracy(results), args, "rotation.png")
    save_figure(plot_lift(nets["p4 CNN"].layers[0], X_te[:1]), args, "rotation_maps.png")
    finish(args)
    return {"models": results, "p4_six_nine_confusions": p4_six_nine_confusions,
            "six_nine_confusions": confusions,
            "test_examples": len(X_te), "figures": args.figures}


def readings(results, confusions, n_six_nine):
    """The interpretation, each sentence chosen by the measured numbers."""
    out = []
    for name, r in results.items():
        acc = [r["accuracy"][a] for a in ANGLES]
        spread, turned = max(acc) - min(acc), float(np.mean(acc[1:]))
        same, change = r["same_prediction_all_angles"], r["max_logit_change"]
        text = (f"{name}: accuracy {min(acc):.3f} to {max(acc):.3f} over the four angles "
                f"(spread {spread:.3f}); upright {acc[0]:.3f}, turned {turned:.3f} on average. ")
        if change < 1e-4:
            text += (f"Its logits do not change under rotation beyond float32 rounding "
                     f"(max change {change:.1e}): invariant to 90-degree turns.")
        else:
            text += (f"Same class at all four angles for {same:.1%} of digits (max logit change "
                     f"{change:.1f}): " + ("nearly invariant." if same > 0.9 else
                                          "not invariant."))
        out.append(text)
    p4, plain = confusions["p4 CNN"], confusions["plain CNN"]
    out.append("Upright sixes and nines taken for the other one: "
               + ", ".join(f"{n} {c}" for n, c in confusions.items()) + f" of {n_six_nine}; "
               + ("the p4 CNN confuses more of them than the plain CNN: it cannot see that a 6 "
                  "turned by 180 degrees is a 9." if p4 > plain else
                  "the p4 CNN confuses no more of them than the plain CNN at this seed."))
    return out


def plot_accuracy(results):
    """Test accuracy at each rotation, one bar group per angle, one colour per model."""
    fig, ax = plt.subplots(figsize=(10, 4.6), layout="constrained")
    width = 0.8 / len(results)
    for k, (name, r) in enumerate(results.items()):
        pos = np.arange(len(ANGLES)) + (k - (len(results) - 1) / 2) * width
        bars = ax.bar(pos, [r["accuracy"][a] for a in ANGLES], width, label=name)
        ax.bar_label(bars, fmt="%.3f", fontsize=7)
    ax.axhline(0.1, color="k", ls=":", lw=1, label="chance (0.1)")
    ax.set_xticks(range(len(ANGLES)), [f"{a} deg" for a in ANGLES])
    ax.set_xlabel("test digits turned counter-clockwise by")
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0, 1.05)
    ax.set_title("Trained on upright digits only, tested on turned digits: accuracy per angle",
                 fontsize=10)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    return fig


def plot_lift(lift, x):
    """P4LiftConv2D's channel-0 maps for a digit and for the digit turned 90 deg ccw."""
    maps = [lift.forward(np.ascontiguousarray(rotate(x, k)))[0, 0] for k in (0, 1)]  # (4, 8, 8)
    lim = max(np.abs(m).max() for m in maps)
    diff = np.abs(maps[1] - np.roll(rotate(maps[0]), 1, axis=0)).max()
    fig, axes = plt.subplots(2, 5, figsize=(14, 6.6), layout="constrained")
    for row, k in enumerate((0, 1)):
        axes[row, 0].imshow(rotate(x, k)[0, 0], cmap="gray_r")
        axes[row, 0].set_title("input digit" if k == 0 else
                               "the digit turned 90 deg\ncounter-clockwise", fontsize=10)
        for r in range(4):
            im = axes[row, r + 1].imshow(maps[row][r], cmap="RdBu_r", vmin=-lim, vmax=lim)
            note = "" if row == 0 else f"\n= top r={(r - 1) % 4} turned 90 deg ccw"
            axes[row, r + 1].set_title(f"channel 0, kernel rotation r={r}{note}", fontsize=9)
    for ax in axes.flat:
        ax.set_xlabel("column (px)", fontsize=8)
        ax.set_ylabel("row (px)", fontsize=8)
    fig.colorbar(im, ax=axes[:, 1:], shrink=0.7, label="lifted feature value (white = 0)")
    fig.suptitle("P4LiftConv2D: the input turned 90 deg counter-clockwise (bottom) against the "
                 "input (top);\n" + (f"each map turns the same way AND moves from rotation r-1 "
                                     f"to r (max difference {diff:.1e})" if diff < 1e-5 else
                                     f"bottom r differs from top r-1 turned by up to {diff:.1e}"))
    return fig


if __name__ == "__main__":
    main()
