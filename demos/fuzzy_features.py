"""Deep features are fuzzy: a 1-2 pixel shift changes them little, a large shift a lot.

    trunk:        Conv2D(1, 8, 3, p=1) ReLU MaxPool2D(2) Conv2D(8, 16, 3, p=1) ReLU MaxPool2D(2)
                  Conv2D(16, 32, 3, p=1) ReLU                      (--channels 8 16 32)
    flatten head: Flatten() Linear(32*6*6, 10)    every position has its own weights
    pooling head: GlobalAvgPool2D() Linear(32, 10) position is averaged away

Both networks are trained on 8x8 digits placed on a 24x24 canvas near the centre (random offset of
up to --jitter pixels). Then each test digit is placed at the centre and shifted by k pixels to
the right and to the left, and we measure, layer by layer, the cosine similarity between the
representations of the centred and the shifted digit, and how often the prediction stays the same.
Pooling makes the maps coarse (stride 4 after two pools), so a small shift moves a feature less
than one cell; a large shift moves it to cells whose flatten weights were never trained.

Run: python demos/fuzzy_features.py [--epochs 12] [--jitter 1] [--max-shift 8] [--out figures]
"""


import matplotlib.pyplot as plt
import numpy as np
from common import finish, parser, save_figure

from minicnn import (
    Adam,
    Conv2D,
    Flatten,
    GlobalAvgPool2D,
    Linear,
    MaxPool2D,
    ReLU,
    Sequential,
    accuracy,
    fit,
    load_digits,
    place_on_canvas,
)
from minicnn.measure.equivariance import layer_outputs, representation_similarity


def make_net(head, channels, canvas, seed):
    """The shared trunk and one of the two heads."""
    rng = np.random.default_rng(seed)
    c1, c2, c3 = channels
    trunk = [Conv2D(1, c1, 3, padding=1, rng=rng), ReLU(), MaxPool2D(2),
             Conv2D(c1, c2, 3, padding=1, rng=rng), ReLU(), MaxPool2D(2),
             Conv2D(c2, c3, 3, padding=1, rng=rng), ReLU()]
    side = canvas // 4
    if head == "flatten":
        return Sequential([*trunk, Flatten(), Linear(c3 * side * side, 10, rng=rng)])
    return Sequential([*trunk, GlobalAvgPool2D(), Linear(c3, 10, rng=rng)])


# Layers whose outputs we compare (index into the Sequential) and how to call them.
PROBES = {"pool 1 (stride 2)": 2, "pool 2 (stride 4)": 5, "conv 3 + ReLU": 7,
          "head features": 8, "logits": 9}


def main(argv=None):
    p = parser(__doc__, defaults={"epochs": 12, "jitter": 1, "max_shift": 8, "canvas": 24,
                                  "channels": (8, 16, 32), "lr": 3e-3, "n_train": None},
               quick={"canvas": 16, "epochs": 6, "max_shift": 4, "n_train": 600, "lr": 6e-3})
    p.add_argument("--epochs", type=int, help="training epochs")
    p.add_argument("--jitter", type=int, help="training offsets: +-jitter px")
    p.add_argument("--max-shift", type=int, help="largest test shift K")
    p.add_argument("--canvas", type=int, help="canvas side")
    p.add_argument("--channels", type=int, nargs=3, help="channels of the three convolutions")
    p.add_argument("--lr", type=float, help="Adam step")
    p.add_argument("--n-train", type=int, help="training digits (None: all)")
    args = p.parse(argv)
    canvas, epochs, max_shift = args.canvas, args.epochs, args.max_shift
    n_train, lr = args.n_train, args.lr

    X_tr, y_tr, X_te, y_te = load_digits(rng=args.seed)    # (N, 1, 8, 8) float32
    X_tr, y_tr = X_tr[:n_train], y_tr[:n_train]
    centre = (canvas - 8) // 2
    if max_shift > centre:
        raise ValueError(f"--max-shift {max_shift}: a digit at the centre of a {canvas}-canvas "
                         f"can move at most {centre} px each way")
    rng = np.random.default_rng(args.seed)
    offsets = rng.integers(-args.jitter, args.jitter + 1, size=(len(X_tr), 2))
    X_train = place_on_canvas(X_tr, canvas, centre + offsets)   # (N, 1, canvas, canvas)

    nets, train_acc = {}, {}
    for head in ("flatten", "pooling"):
        nets[head] = make_net(head, args.channels, canvas, args.seed)
        history = fit(nets[head], X_train, y_tr, epochs=epochs, batch_size=32,
                      optimizer=Adam(lr), rng=args.seed, progress=False)
        train_acc[head] = history["acc"][-1]

    # Test: centred digits vs the same digits shifted k px right and k px left (both pooled).
    shifts = list(range(max_shift + 1))
    x0 = place_on_canvas(X_te, canvas, (centre, centre))
    results = {}
    for head, net in nets.items():
        outs0 = layer_outputs(net, np.concatenate([x0, x0]))
        pred0 = outs0[-1].argmax(axis=1)
        sims = {name: [] for name in PROBES}
        acc, unchanged = [], []
        for k in shifts:
            xk = np.concatenate([place_on_canvas(X_te, canvas, (centre, centre + k)),
                                 place_on_canvas(X_te, canvas, (centre, centre - k))])
            outs_k = layer_outputs(net, xk)
            for name, i in PROBES.items():
                sims[name].append(representation_similarity(outs0[i], outs_k[i])[1])
            acc.append(accuracy(net, xk, np.concatenate([y_te, y_te])))
            unchanged.append(float((outs_k[-1].argmax(axis=1) == pred0).mean()))
        results[head] = {"similarity": sims, "accuracy": acc, "unchanged": unchanged,
                         "train_accuracy": train_acc[head]}

    # ---- table ----------------------------------------------------------------------------
    print(f"canvas {canvas}x{canvas}, trained on offsets within +-{args.jitter} px of the centre, "
          f"{epochs} epochs, {len(X_tr)} digits; tested on {len(X_te)} digits shifted +-k px")
    print(f"\n{'head':8s} {'measure (mean over test digits)':32s}"
          + "".join(f"{f'k={k}':>7s}" for k in shifts))
    for head, r in results.items():
        rows = [(f"cos sim, {name}", v) for name, v in r["similarity"].items()]
        rows += [("prediction unchanged", r["unchanged"]), ("accuracy", r["accuracy"])]
        for label, values in rows:
            print(f"{head:8s} {label:32s}" + "".join(f"{v:7.3f}" for v in values))
        print()

    # ---- figures --------------------------------------------------------------------------
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
    for ax, head in zip(axes[:2], ("flatten", "pooling")):
        for name, values in results[head]["similarity"].items():
            ax.plot(shifts, values, "o-", label=name)
        ax.axvspan(0, args.jitter, color="grey", alpha=0.15, label="offsets seen in training")
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("shift of the test digit (pixels)")
        ax.set_ylabel("cosine similarity to the centred digit")
        ax.set_title(f"{head} head: representation vs shift"
                     + ("\n(head features = conv 3 flattened)" if head == "flatten" else ""))
        ax.legend(fontsize=8, loc="lower left")
    for head, style in (("flatten", "-"), ("pooling", "--")):
        axes[2].plot(shifts, results[head]["unchanged"], "o" + style, label=f"{head}: unchanged")
        axes[2].plot(shifts, results[head]["accuracy"], "s" + style, alpha=0.6,
                     label=f"{head}: accuracy")
    axes[2].axvspan(0, args.jitter, color="grey", alpha=0.15)
    axes[2].set_ylim(0, 1.02)
    axes[2].set_xlabel("shift of the test digit (pixels)")
    axes[2].set_title("predictions: fraction unchanged, and accuracy")
    axes[2].legend(fontsize=8, loc="lower left")
    fig.suptitle("Fuzzy features: representations change gradually with the shift; the flatten "
                 "head's predictions break beyond the trained offsets, the pooling head's do not")
    fig.tight_layout()
    save_figure(fig, args, "fuzzy_features.png")

    # The deepest maps of one digit at a few shifts: a blob that moves by k/4 cells.
    show = [0, 1, 2, max_shift // 2, max_shift]
    net = nets["pooling"]
    fig, axes = plt.subplots(2, len(show), figsize=(2.4 * len(show), 5))
    for col, k in enumerate(show):
        xk = place_on_canvas(X_te[:1], canvas, (centre, centre + k))
        fmap = layer_outputs(net, xk)[PROBES["conv 3 + ReLU"]][0].mean(axis=0)  # (side, side)
        axes[0, col].imshow(xk[0, 0], cmap="gray_r")
        axes[0, col].set_title(f"digit shifted {k} px")
        axes[1, col].imshow(fmap, cmap="viridis")
        axes[1, col].set_title("conv 3 maps (mean)", fontsize=9)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("After two 2x2 pools one cell covers 4 pixels: a 1-2 px shift barely moves "
                 "the map")
    fig.tight_layout()
    save_figure(fig, args, "fuzzy_maps.png")

    finish(args)
    return {"shifts": shifts, "jitter": args.jitter, "canvas": canvas, "heads": results,
            "figures": args.figures}


if __name__ == "__main__":
    main()
