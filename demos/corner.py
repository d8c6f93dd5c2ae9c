"""The corner experiment: train on digits in one corner, test them everywhere.

Every training digit sits in the top-left corner of a blank canvas (its top-left pixel at row and
column 0..4). We then place ALL test digits at each position of a grid over the canvas and
measure the accuracy there: an accuracy map. Five networks share one convolutional trunk:

    a  flatten + Linear head, zero padding                 (reads each position separately)
    b  global average pooling + Linear, zero padding
    c  global max pooling + Linear, zero padding
    d  flatten + Linear, trained with a fresh random shift over the whole canvas every batch
    e  global max pooling + Linear, circular padding in every convolution

The trunk is translation-equivariant, so the features of a moved digit move with it. The flatten
head gives every feature-map position its own weights and learns only the positions it was shown
(a fails away from the corner); augmentation shows it every position (d); global pooling throws
position away (b, c), exactly so once circular padding removes the border (e).

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

import matplotlib.pyplot as plt
import numpy as np
from common import finish, parser, save_figure

from minicnn.measure import corner
from minicnn.measure.positions import linear_weight_map

INTERPRETATION = """
a: the flatten head has separate weights for every feature-map position; the corner digits only
   trained the weights of the top-left positions, so elsewhere it is near chance.
d: the same network, shown every position by fresh random shifts, reads them all.
b, c: global pooling discards where a feature fired, but the trunk is not exactly equivariant:
   near the canvas border the zero padding changes the features (the network can tell where it
   is), and 2x2 pooling only commutes with shifts by multiples of 4; so they fall in between.
e: circular padding removes the border. This grid moves the digit by multiples of 4 (the
   trunk's total stride), shifts under which the circular trunk is exactly equivariant, so the
   global maximum is exactly invariant there; 1-3 pixel shifts are not on this grid."""


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
    print(f"{args.dataset}: {len(setup.X)} training images ({image}x{image} digits) on a {S}x{S} "
          f"canvas, positions 0..{corner.CORNER}; {len(setup.X_test)} test digits at each of "
          f"{len(grid)}x{len(grid)} grid positions {grid.tolist()}")

    # ---- train every model in the corner, test it on the grid ----------------------------------
    runs = {}
    for key in args.models.split(","):
        model = corner.MODELS[key]
        epochs = args.aug_epochs if model.augment else args.epochs        # None: the model's own
        runs[key] = corner.run(model, setup, quick=args.quick, epochs=epochs, lr=args.lr,
                               batch_size=args.batch_size, rng=args.seed)
        print(f"  trained {key} ({model.description}) in {runs[key].seconds:.1f} s", flush=True)
    print("\n" + corner.table({f"{k} {corner.MODELS[k].description}": r.summary
                               for k, r in runs.items()}, setup))
    print(INTERPRETATION)

    maps = {key: r.map for key, r in runs.items()}
    weight_map = None
    if "a" in runs:       # a's Linear reads Flatten of the trunk's (C, h, w) feature maps
        net = runs["a"].model
        weight_map = linear_weight_map(net[-1].params["W"],
                                       corner.feature_shape(net.layers[:-2], S))       # (h, w)
    fig = plot_maps(runs, weight_map, f"{args.dataset}: {image}x{image} images, {S}x{S} canvas")
    suffix = "" if args.dataset == "digits" else f"_{args.dataset}"
    save_figure(fig, args, f"corner_maps{suffix}.png", dpi=90, bbox_inches="tight")
    seconds = finish(args)
    results = {key: dict(r.summary, seconds=r.seconds) for key, r in runs.items()}
    return {"results": results, "maps": maps, "grid": grid, "image": image, "canvas": S,
            "weight_map": weight_map, "figures": args.figures, "seconds": seconds}


def plot_maps(runs, weight_map, what):
    """The accuracy maps on one colour scale, and model a's weight map if there is one."""
    keys = list(runs)
    grid = runs[keys[0]].setup.grid
    stride = grid[1] - grid[0] if len(grid) > 1 else 1
    fig, axes = plt.subplots(1, len(keys) + (weight_map is not None),
                             figsize=(2.6 * (len(keys) + 1) + 0.6, 3.2), squeeze=False)
    axes = axes[0]
    # one cell per grid position, edges halfway between positions (the last step may be shorter)
    edges = np.concatenate([[grid[0] - stride / 2], (grid[:-1] + grid[1:]) / 2,
                            [grid[-1] + stride / 2]])
    for ax, key in zip(axes, keys):
        im = ax.pcolormesh(edges, edges, 100 * runs[key].map, vmin=0, vmax=100, cmap="viridis")
        ax.set_aspect("equal")
        ax.invert_yaxis()                                        # row 0 at the top, as imshow
        ax.add_patch(plt.Rectangle((-0.5, -0.5), corner.CORNER + 1, corner.CORNER + 1,
                                   fill=False, edgecolor="red", linewidth=1.5))
        ax.set_title(f"{key}: {runs[key].description}\nmin {100 * runs[key].summary['min']:.0f}%",
                     fontsize=9)
        ax.set_xlabel("digit column")
    axes[0].set_ylabel("digit row")
    fig.colorbar(im, ax=list(axes[:len(keys)]), shrink=0.8, label="test accuracy (%)")
    if weight_map is not None:
        ax = axes[-1]
        wm = ax.imshow(weight_map, cmap="magma")
        ax.set_title("a: |W| of Linear at each\nfeature-map position", fontsize=9)
        ax.set_xlabel("feature column")
        fig.colorbar(wm, ax=ax, shrink=0.8)
    fig.suptitle(f"Trained with digits only in the red corner; accuracy with every test digit "
                 f"placed at each position ({what})", fontsize=10)
    return fig


def parse_args(argv):
    # IDX subset sizes come from these tables; epochs, copies, stride and canvas left unset are
    # the library's defaults (each model's epochs, halved with --quick).
    p = parser(__doc__, defaults={"train_size": 1500, "test_size": 500},
               quick={"train_size": 300, "test_size": 100})
    p.add_argument("--dataset", choices=["digits", "mnist", "fashion"], default="digits",
                   help="digits: scikit-learn's 8x8 digits (default); mnist, fashion: IDX files "
                   "in --data-dir")
    p.add_argument("--data-dir", default=None, help="folder with the four IDX files (default "
                   "~/.cache/minicnn/<dataset>)")
    p.add_argument("--download", action="store_true", help="download the IDX files into "
                   "--data-dir first (the only network access minicnn makes)")
    p.add_argument("--downsample", type=int, default=2, help="average IDX images over NxN "
                   "blocks (28x28 -> 14x14 by default; 1 keeps them)")
    p.add_argument("--train-size", type=int, help="random subset of the IDX training images")
    p.add_argument("--test-size", type=int, help="random subset of the IDX test images")
    p.add_argument("--models", default="a,b,c,d,e", help="comma-separated subset of "
                   f"{','.join(corner.MODELS)} (the rows of corner.MODELS)")
    p.add_argument("--canvas", type=int, default=None, help="canvas side, a multiple of 4 and at "
                   "least twice the image side (default 2 * image side + 16, rounded up)")
    p.add_argument("--epochs", type=int, default=None, help="epochs for the models without "
                   "augmentation (default: each model's own, 6; 3 with --quick)")
    p.add_argument("--aug-epochs", type=int, default=None, help="epochs for the augmented "
                   "model d (default 12; 6 with --quick)")
    p.add_argument("--copies", type=int, default=None, help="copies of each training digit "
                   "(default 3; 1 with --quick)")
    p.add_argument("--stride", type=int, default=None, help="grid step of the accuracy map "
                   "(default 4; 8 with --quick)")
    p.add_argument("--lr", type=float, default=None, help="SGD learning rate for every model "
                   "(default: the per-model rate in MODELS; momentum 0.9)")
    p.add_argument("--batch-size", type=int, default=32)
    args = p.parse(argv)
    bad = set(args.models.split(",")) - set(corner.MODELS)
    if bad:
        p.error(f"--models must name some of {','.join(corner.MODELS)}, got {args.models}")
    if args.dataset == "digits" and (args.data_dir or args.download):
        p.error("--data-dir and --download are for --dataset mnist or fashion")
    return args


if __name__ == "__main__":
    main()
