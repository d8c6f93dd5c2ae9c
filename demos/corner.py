"""The corner experiment: train on digits in one corner, test them everywhere.

Every training digit sits in the top-left corner of a blank canvas (its top-left pixel at row and
column 0..4). We then place ALL test digits at each position of a grid over the canvas and
measure the accuracy there: an accuracy map. Six networks share one trunk architecture (each
trains its own weights):

    a  flatten + Linear head, zero padding                 (reads each position separately)
    b  global average pooling + Linear, zero padding
    c  global max pooling + Linear, zero padding
    d  flatten + Linear, trained with a fresh random shift over the whole canvas every batch
    e  global max pooling + Linear, circular padding in every convolution
    f  e with every MaxPool2D(2) replaced by a circular stride-1 max pool + PolyphaseDownsample2D(2)

The trunk is translation-equivariant, so the features of a moved digit move with it. The flatten
head gives every feature-map position its own weights and learns only the positions it was shown
(a fails away from the corner); augmentation shows it every position (d); global pooling throws
position away (b, c); circular padding removes the border (e), but striding still makes e's
answer depend on the pixel phase of the shift, which polyphase downsampling removes (f). A second
figure slides a few digits pixel by pixel along a row: how jagged is each model's confidence?
The printed summary is written from the numbers of the models that ran.

The networks are the rows of the model table, MODELS in minicnn/measure/corner.py: edit the trunk
or a row there (or add one) and rerun. The protocol (train in the corner, test on the grid) is
corner.run, which takes any model of yours too.

The default data are scikit-learn's 8x8 digits (installed, nothing downloaded). MNIST or
Fashion-MNIST files you have (the four standard IDX files, raw or .gz) work too; their 28x28
images are averaged down 2x to 14x14 by default (--downsample 1 keeps 28x28, four times the
pixels) and a random subset is used (--train-size, --test-size), so the run stays minutes long.
The canvas grows with the image: 2 * image side + 16, rounded up to a multiple of 4.

Run:  python demos/corner.py [--seed 0] [--out figures] [--quick] [--epochs N] [--models a,e]
      python demos/corner.py --dataset mnist --data-dir DIR [--download]
"""

import textwrap

import matplotlib.pyplot as plt
import numpy as np
from common import accuracy_panel, corner_comparisons, finish, parser, run_jobs, save_figure
from matplotlib import colors

from minicnn.measure import corner
from minicnn.measure.consistency import sliding_probability
from minicnn.measure.positions import linear_weight_map

SLIDE_ROW, SLIDE_DIGITS = 2, 6      # the jaggedness plot: 6 test digits slide along row 2
# Networks handed to the workers first: d trains twice as many epochs and f pools at stride 1
# before each downsampling, so they take longest; started last, they would leave a worker idle.
LONGEST = ("d", "f")


def main(argv=None):
    args = parse_args(argv)
    data = corner.load_data(args.dataset, args.data_dir, downsample=args.downsample,
                            train_size=args.train_size, test_size=args.test_size,
                            download=args.download, rng=args.seed)
    try:
        setup = corner.prepare(data, quick=args.quick, canvas=args.canvas, copies=args.copies,
                               stride=args.stride, rng=args.seed)
    except ValueError as e:
        raise SystemExit(f"corner.py: error: {e}") from None
    S, image, grid = setup.canvas, setup.image, setup.grid
    print(f"{args.dataset}: {len(setup.X)} training images ({len(setup.X) // len(data[0])} copies "
          f"of each of {len(data[0])} {image}x{image} digits, each at a random position 0.."
          f"{corner.CORNER} of a {S}x{S} canvas); {len(setup.X_test)} test digits at each of "
          f"{len(grid)}x{len(grid)} grid positions {grid.tolist()}")

    # ---- train every model in the corner, test it on the grid ----------------------------------
    keys, tasks = args.models.split(","), {}
    for key in sorted(keys, key=lambda k: k not in LONGEST):     # the longest start first
        epochs = args.aug_epochs if corner.MODELS[key].augment else args.epochs   # None: its own
        tasks[key] = (corner.run, (key, setup), {"quick": args.quick, "epochs": epochs,
                      "lr": args.lr, "batch_size": args.batch_size, "rng": args.seed})
    runs = run_jobs(tasks, args.jobs, done=lambda key, r: print(       # independent: in parallel
        f"  trained {key} ({r.description}) in {r.seconds:.1f} s", flush=True))
    runs = {key: runs[key] for key in keys}                          # back in the table's order
    print("\n" + corner.table({f"{k} {corner.MODELS[k].description}": r.summary
                               for k, r in runs.items()}, setup))

    # ---- one digit at a time, sliding pixel by pixel along a row -------------------------------
    digits = np.arange(min(SLIDE_DIGITS, len(setup.X_test)))
    slides = {key: np.stack([sliding_probability(r.model, setup.X_test[i], setup.y_test[i], S,
                                                 row=SLIDE_ROW) for i in digits])
              for key, r in runs.items()}                                  # (digits, S - s + 1)
    jagged = {key: float(np.abs(np.diff(p, axis=1)).mean()) for key, p in slides.items()}
    print("\nmean change of P(true class) per one-pixel step along row "
          f"{SLIDE_ROW}: " + ", ".join(f"{k} {v:.3f}" for k, v in jagged.items()))
    summary = interpret(runs, setup, jagged)
    print("\n" + "\n".join(textwrap.fill(line, 98, subsequent_indent="   ") for line in summary))

    weight_map = None
    if "a" in runs:       # a's Linear reads Flatten of the trunk's (C, h, w) feature maps
        net = runs["a"].model
        weight_map = linear_weight_map(net[-1].params["W"],
                                       corner.feature_shape(net.layers[:-2], S))       # (h, w)
    what = f"{args.dataset}: {image}x{image} images, {S}x{S} canvas, seed {args.seed}"
    suffix = "" if args.dataset == "digits" else f"_{args.dataset}"
    save_figure(plot_maps(runs, weight_map, what), args, f"corner_maps{suffix}.png", dpi=90)
    save_figure(plot_slides(runs, slides, digits, what), args, f"corner_sliding{suffix}.png",
                dpi=90)
    seconds = finish(args)
    results = {key: dict(r.summary, seconds=r.seconds, jaggedness=jagged[key])
               for key, r in runs.items()}
    return {"results": results, "maps": {key: r.map for key, r in runs.items()}, "grid": grid,
            "image": image,
            "canvas": S, "weight_map": weight_map, "slides": slides, "summary": summary,
            "figures": args.figures, "seconds": seconds}


def interpret(runs, setup, jagged):
    """What came out, in sentences each chosen by the numbers of the models that ran."""
    s = {key: r.summary for key, r in runs.items()}
    chance, G = 1 / len(np.unique(setup.y_test)), len(setup.grid)
    def pct(v):
        return f"{100 * v:.1f}%"

    lines = []
    for key, r in s.items():
        if r["trained"] < 2 * chance:
            say = (f"{pct(r['trained'])} even where it trained (chance {pct(chance)}): it did not "
                   f"learn the digits in this budget")
        elif r["spread"] == 0:
            say = f"the same accuracy, {pct(r['min'])}, at all {G}x{G} positions"
        elif r["far"] < 2 * chance:
            say = (f"{pct(r['trained'])} where it trained but {pct(r['far'])} in the far "
                   f"quadrant (chance {pct(chance)}): it reads only the positions it was shown")
        else:
            say = (f"{pct(r['trained'])} where it trained, {pct(r['far'])} in the far quadrant, "
                   f"between {pct(r['min'])} and {pct(r['max'])} over the map")
        lines.append(f"{key}: {say}.")
    lines += corner_comparisons(s, pct, anywhere="anywhere on the canvas",
                                far="far-quadrant accuracy")
    circular = [key for key in ("e", "f") if key in s]
    if circular:
        on = ("Every shift between grid positions is a multiple of 4 pixels (the trunk's total "
              "stride)" if np.all((setup.grid - setup.grid[0]) % 4 == 0)
              else "This grid includes shifts that are not multiples of 4 (the trunk's stride)")
        lines.append(f"{on}: " + ", ".join(
            f"{key}'s map is " + ("flat" if s[key]["spread"] == 0 else
                                  f"not flat (spread {pct(s[key]['spread'])})")
            for key in circular) + ".")
    fragile = sorted(s, key=lambda k: s[k]["fragility"])                # least fragile first
    consistent = sorted(s, key=lambda k: -s[k]["consistency"])          # most consistent first
    lines.append("A one-pixel move changes the predicted class of " + ", ".join(
        f"{pct(s[k]['fragility'])} ({k})" for k in fragile) + " of the test digits; the same "
        "class at two random positions: " + ", ".join(f"{pct(s[k]['consistency'])} ({k})"
                                                      for k in consistent) + ".")
    smooth = min(jagged, key=jagged.get)
    lines.append(f"Sliding a digit pixel by pixel, the probability of its class moves least "
                 f"for {smooth} ({jagged[smooth]:.3f} per step) and most for "
                 f"{max(jagged, key=jagged.get)} ({max(jagged.values()):.3f}).")
    near = [key for key in s if s[key]["trained"] < 2 * chance]
    if near:
        it, its = ("it", "its") if len(near) == 1 else ("they", "their")
        lines.append(f"{', '.join(near)} near chance where {it} trained: {its} one-pixel change, "
                     "consistency and sliding figures say little (a network that always "
                     "predicts one class never changes its answer).")
    budgets = {(r["epochs"], r["lr"]) for r in s.values()}
    if len(budgets) > 1:
        lines.append("Training budgets differ (epochs and SGD rate are in the table): " + ", ".join(
            f"{k} {r['epochs']} epochs at {r['lr']:g}" for k, r in s.items()) + ".")
    return lines


def plot_maps(runs, weight_map, what):
    """Example canvases, a's weight map, then every model's accuracy map on one colour scale."""
    keys = list(runs)
    setup = runs[keys[0]].setup
    grid = setup.grid
    cols = max(len(keys), 3)
    fig = plt.figure(figsize=(2.7 * cols + 1, 6.8), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[1, 1.05])
    examples = top.subplots(1, cols)                  # columns aligned with the maps below
    for ax in examples[3:]:
        ax.axis("off")
    show_examples(examples[:2], setup)
    if weight_map is not None:
        wm = examples[2].imshow(weight_map, cmap="magma", vmin=0)
        examples[2].set_title("a: size of Linear's weights\nat each feature-map position",
                              fontsize=9)
        examples[2].set(xlabel="feature-map column", ylabel="feature-map row")
        top.colorbar(wm, ax=examples[2], shrink=0.8, label="|W| over classes, channels")
    else:
        examples[2].axis("off")
    axes = bottom.subplots(1, cols, squeeze=False)
    # half the colour scale for 90-100%, where the good models differ; every cell's value printed
    norm = colors.TwoSlopeNorm(vmin=0, vcenter=90, vmax=100)
    for ax, key in zip(axes[0], keys):
        acc = 100 * runs[key].map                                               # (G, G)
        im = accuracy_panel(ax, grid, acc, f"{key}: {runs[key].description}\nmin "
                            f"{100 * runs[key].summary['min']:.1f}%", "digit column (px)",
                            norm=norm)
        for (i, j), value in np.ndenumerate(acc):
            ax.text(grid[j], grid[i], f"{value:.0f}", ha="center", va="center", fontsize=7,
                    color="black" if norm(value) > 0.6 else "white")
    for ax in axes[0, len(keys):]:
        ax.axis("off")
    axes[0, 0].set_ylabel("digit row (px)")
    bar = bottom.colorbar(im, ax=list(axes[0, :len(keys)]), shrink=0.8,
                          label="test accuracy (%), printed in each cell")
    bar.set_ticks([0, 30, 60, 90, 95, 100])
    fig.suptitle(textwrap.fill("Trained with digits only in the red corner; accuracy with every "
                               f"test digit placed at each position ({what})", int(10 * (2.7 * cols + 1))),
                 fontsize=10)
    return fig


def show_examples(axes, setup):
    """A training canvas (digit in the corner) and a test canvas (digit in the far quadrant)."""
    far = setup.far[0][1]
    test = np.zeros(setup.X.shape[1:], setup.X.dtype)[0]                   # (S, S)
    s = setup.image
    test[far:far + s, far:far + s] = setup.X_test[0, 0]
    titles = ("a training image: its digit\nlies in the dashed corner",
              "a test image: every test digit\nat every grid position in turn")
    for ax, img, title in zip(axes, (setup.X[0, 0], test), titles):
        ax.imshow(img, cmap="gray_r", vmin=0, vmax=1)
        ax.add_patch(plt.Rectangle((-0.5, -0.5), corner.CORNER + s, corner.CORNER + s, fill=False,
                                   edgecolor="red", linewidth=1, linestyle="--"))
        ax.set_title(title, fontsize=9)
        ax.set(xlabel="canvas column (px)", ylabel="canvas row (px)")


def plot_slides(runs, slides, digits, what):
    """P(true class) as each of a few test digits slides one pixel at a time along a row."""
    keys = list(runs)
    fig, axes = plt.subplots(1, len(keys), figsize=(2.6 * len(keys) + 0.6, 3.2), sharey=True,
                             squeeze=False, layout="constrained")
    for ax, key in zip(axes[0], keys):
        p = slides[key]                                                   # (digits, positions)
        for curve in p:
            ax.plot(curve, color="0.6", linewidth=0.8)
        ax.plot(p.mean(axis=0), color="black", linewidth=1.8, label="mean")
        ax.axvspan(-0.5, corner.CORNER + 0.5, color="red", alpha=0.12, label="trained columns")
        jagged = np.abs(np.diff(p, axis=1)).mean()
        ax.set_title(f"{key}: {runs[key].description}\njaggedness {jagged:.3f}", fontsize=9)
        ax.set_xlabel("digit column (px), one step = 1 px")
        ax.set_ylim(-0.02, 1.02)
    axes[0, 0].set_ylabel("P(true class)")
    axes[0, 0].legend(fontsize=7, loc="lower left")
    width = int(10 * (2.6 * len(keys) + 0.6))
    fig.suptitle(textwrap.fill(f"{len(digits)} test digits (grey) slide along row {SLIDE_ROW}, one "
                               f"pixel at a time; black = their mean ({what})", width) + "\n" +
                 "jaggedness = |P(column + 1) - P(column)| averaged over the steps and the "
                 "digits (0: a flat curve)", fontsize=10)
    return fig


def parse_args(argv):
    # IDX subset sizes come from these tables; epochs, copies, stride and canvas left unset are
    # the library's defaults (each model's epochs, halved with --quick).
    p = parser(__doc__, defaults={"train_size": 1500, "test_size": 500},
               quick={"train_size": 300, "test_size": 100}, jobs="models")
    p.add_argument("--dataset", choices=["digits", "mnist", "fashion"], default="digits",
                   help="digits: scikit-learn's 8x8 digits (default); mnist, fashion: IDX files "
                   "in --data-dir")
    p.add_argument("--data-dir", default=None, help="folder with the four IDX files (default "
                   "~/.cache/minicnn/<dataset>)")
    p.add_argument("--download", action="store_true", help="download the IDX files into "
                   "--data-dir first, the only network access minicnn makes (default off)")
    p.add_argument("--downsample", type=int, default=2, help="average IDX images over NxN "
                   "blocks (default 2: 28x28 -> 14x14; 1 keeps them)")
    p.add_argument("--train-size", type=int, help="random subset of the IDX training images")
    p.add_argument("--test-size", type=int, help="random subset of the IDX test images")
    p.add_argument("--models", default="a,b,c,d,e,f", subset_of=corner.MODELS,
                   help=f"comma-separated subset of {','.join(corner.MODELS)}, the rows of "
                   "corner.MODELS (default all)")
    p.add_argument("--canvas", type=int, default=None, help="canvas side, a multiple of 4 and at "
                   "least twice the image side (default 2 * image side + 16, rounded up)")
    p.add_argument("--epochs", type=int, default=None, help="epochs for the models without "
                   "augmentation (default: each model's own, 6; 3 with --quick)")
    p.add_argument("--aug-epochs", type=int, default=None, help="epochs for the augmented "
                   "model d (default 12; 6 with --quick)")
    p.add_argument("--copies", type=int, default=None, help="copies of each training digit "
                   "(default 2; 1 with --quick)")
    p.add_argument("--stride", type=int, default=None, help="grid step of the accuracy map "
                   "(default 4; 8 with --quick)")
    p.add_argument("--lr", type=float, default=None, help="SGD learning rate for every model "
                   "(default: the per-model rate in MODELS; momentum 0.9)")
    p.add_argument("--batch-size", type=int, default=32, help="training batch size (default 32)")
    args = p.parse(argv)
    if args.dataset == "digits" and (args.data_dir or args.download):
        p.error("--data-dir and --download are for --dataset mnist or fashion")
    return args


if __name__ == "__main__":
    main()
