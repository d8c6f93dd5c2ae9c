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

The default data are scikit-learn's 8x8 digits (installed, nothing downloaded). MNIST or
Fashion-MNIST files you have (the four standard IDX files, raw or .gz) work too; their 28x28
images are averaged down 2x to 14x14 by default (--downsample 1 keeps 28x28, four times the
pixels) and a random subset is used (--train-size, --test-size), so the run stays minutes long.
The canvas grows with the image: 2 * image side + 16, rounded up to a multiple of 4.

Run:  python demos/corner.py [--seed 0] [--out figures] [--quick] [--epochs N] [--models a,e]
      python demos/corner.py --dataset mnist --data-dir DIR [--download]
"""

import argparse
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))   # run from anywhere
import matplotlib.pyplot as plt
import numpy as np

import minicnn as mc
from minicnn.data.augment import RandomShift
from minicnn.measure.positions import (
    accuracy_map,
    grid_offsets,
    linear_weight_map,
    place_in_region,
    summarize_map,
)


# ---- the architecture: one trunk, five heads -------------------------------------------------
def trunk(padding_mode, rng):
    """(N, 1, S, S) -> (N, 64, S/4, S/4); the same layers for every model."""
    return [mc.Conv2D(1, 16, 3, padding=1, padding_mode=padding_mode, rng=rng), mc.ReLU(),
            mc.MaxPool2D(2),
            mc.Conv2D(16, 32, 3, padding=1, padding_mode=padding_mode, rng=rng), mc.ReLU(),
            mc.MaxPool2D(2),
            mc.Conv2D(32, 64, 3, padding=1, padding_mode=padding_mode, rng=rng), mc.ReLU()]


def flatten_head(f, rng):
    return [mc.Flatten(), mc.Linear(64 * f * f, 10, rng=rng)]      # f = feature-map side S/4


def gap_head(f, rng):
    return [mc.GlobalAvgPool2D(), mc.Linear(64, 10, rng=rng)]


def gmp_head(f, rng):
    return [mc.GlobalMaxPool2D(), mc.Linear(64, 10, rng=rng)]


# key: (description, padding mode, head, shift augmentation?, SGD learning rate).
# b's average over the 8x8 map divides every gradient reaching the trunk by 64: it gets a larger
# step. d has to learn every position, so it also trains for more epochs (--aug-epochs).
MODELS = {
    "a": ("flatten + linear", "zeros", flatten_head, False, 0.03),
    "b": ("global avg pool", "zeros", gap_head, False, 0.1),
    "c": ("global max pool", "zeros", gmp_head, False, 0.03),
    "d": ("flatten + shift aug", "zeros", flatten_head, True, 0.05),
    "e": ("global max, circular", "circular", gmp_head, False, 0.03),
}
CORNER = 4           # training positions: rows and cols 0..CORNER


def build_model(key, canvas, rng):
    """Model `key` of MODELS, untrained, for a canvas of side `canvas` (a multiple of 4)."""
    _, padding_mode, head, _, _ = MODELS[key]
    return mc.Sequential(trunk(padding_mode, rng) + head(canvas // 4, rng))


def train_model(key, X, y, epochs, aug_epochs, lr=None, batch_size=32, seed=0):
    """Build model `key` and train it on canvases X (N, 1, S, S) the corner experiment's way:
    SGD with momentum 0.9 at the model's own rate (or `lr`); d sees a fresh random shift of
    every canvas in every batch, anywhere the digit fits, for `aug_epochs` epochs."""
    _, _, _, augment, model_lr = MODELS[key]
    S = X.shape[-1]
    model = build_model(key, S, np.random.default_rng(seed))
    mc.fit(model, X, y, epochs=aug_epochs if augment else epochs, batch_size=batch_size,
           optimizer=mc.SGD(lr or model_lr, momentum=0.9), rng=seed, progress=False,
           transform=RandomShift(S, keep_inside=True) if augment else None)
    return model


def limit_blas_threads(n):
    """Let numpy's BLAS use n threads (threadpoolctl comes with scikit-learn; without it, a
    no-op). numpy must already be imported: only loaded libraries are limited."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(n)


def default_canvas(image, quick=False):
    """2 * image + 16 (2 * image + 8 with --quick), rounded up to a multiple of 4: 32 for 8x8."""
    return -(-(2 * image + (8 if quick else 16)) // 4) * 4


def load_data(name, seed, data_dir=None, downsample=2, train_size=None, test_size=None,
              download=False):
    """Square images (N, 1, s, s) in [0, 1] and labels 0..9: X_train, y_train, X_test, y_test.

    "digits": scikit-learn's 8x8 digits. "mnist", "fashion": the IDX files in `data_dir`
    (downloaded there first if `download`), averaged over downsample x downsample blocks, and a
    random subset of train_size / test_size images drawn with `seed`.
    """
    if name == "digits":
        data = mc.load_digits(rng=seed)
    elif name in ("mnist", "fashion"):
        if download:
            mc.download_mnist(data_dir, kind=name)
        data = mc.load_mnist(data_dir, kind=name)
    else:
        raise ValueError(f"unknown dataset {name!r}; expected digits, mnist or fashion")
    X_tr, y_tr, X_te, y_te = data
    if X_tr.shape[-1] != X_tr.shape[-2] or X_tr.shape[-2:] != X_te.shape[-2:]:
        raise ValueError(f"{name}: expected square images of one size, got train "
                         f"{X_tr.shape[-2:]} and test {X_te.shape[-2:]}")
    if name == "digits":
        return data
    side = X_tr.shape[-1]
    if downsample < 1 or side % downsample:
        raise ValueError(f"--downsample must be >= 1 and divide the image side {side}, "
                         f"got {downsample}")
    rng = np.random.default_rng(seed)
    out = []
    for X, y, n in ((X_tr, y_tr, train_size), (X_te, y_te, test_size)):
        keep = rng.permutation(len(X))[:n]                       # n=None keeps them all
        X = X[keep]
        s = side // downsample
        X = X.reshape(len(X), 1, s, downsample, s, downsample).mean(axis=(3, 5))
        out += [X.astype(np.float32), y[keep]]
    return tuple(out)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="figures", help="folder for the PNG figures")
    p.add_argument("--quick", action="store_true", help="tiny settings (for tests)")
    p.add_argument("--dataset", choices=["digits", "mnist", "fashion"], default="digits",
                   help="digits: scikit-learn's 8x8 digits (default); mnist, fashion: IDX files "
                   "in --data-dir")
    p.add_argument("--data-dir", default=None, help="folder with the four IDX files (default "
                   "~/.cache/minicnn/<dataset>)")
    p.add_argument("--download", action="store_true", help="download the IDX files into "
                   "--data-dir first (the only network access minicnn makes)")
    p.add_argument("--downsample", type=int, default=2, help="average IDX images over NxN "
                   "blocks (28x28 -> 14x14 by default; 1 keeps them)")
    p.add_argument("--train-size", type=int, default=None, help="random subset of the IDX "
                   "training images (default 1500)")
    p.add_argument("--test-size", type=int, default=None, help="random subset of the IDX test "
                   "images (default 500)")
    p.add_argument("--models", default="a,b,c,d,e", help="comma-separated subset of a,b,c,d,e")
    p.add_argument("--canvas", type=int, default=None, help="canvas side, a multiple of 4 and at "
                   "least twice the image side (default 2 * image side + 16, rounded up)")
    p.add_argument("--epochs", type=int, default=None, help="epochs for a, b, c, e")
    p.add_argument("--aug-epochs", type=int, default=None, help="epochs for d (augmented)")
    p.add_argument("--copies", type=int, default=None, help="copies of each training digit")
    p.add_argument("--stride", type=int, default=None, help="grid step of the accuracy map")
    p.add_argument("--lr", type=float, default=None, help="SGD learning rate for every model "
                   "(default: the per-model rate in MODELS; momentum 0.9)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--threads", type=int, default=1, help="BLAS threads (the many small matrix "
                   "products here run fastest on 1; 2 spin-wait on a busy machine)")
    args = p.parse_args(argv)
    # default / quick settings; an explicit flag wins over both. The canvas default depends on
    # the image size, so main() sets it once the data are loaded.
    defaults = {"epochs": 6, "aug_epochs": 12, "copies": 3, "stride": 4, "train_size": 1500,
                "test_size": 500}
    quick = {"epochs": 3, "aug_epochs": 6, "copies": 1, "stride": 8, "train_size": 300,
             "test_size": 100}
    for k, v in (quick if args.quick else defaults).items():
        if getattr(args, k) is None:
            setattr(args, k, v)
    bad = set(args.models.split(",")) - set(MODELS)
    if bad:
        p.error(f"--models must name some of {','.join(MODELS)}, got {args.models}")
    if args.dataset == "digits" and (args.data_dir or args.download):
        p.error("--data-dir and --download are for --dataset mnist or fashion")
    return args


def main(argv=None):
    args = parse_args(argv)
    limit_blas_threads(args.threads)
    plt.switch_backend("Agg")             # figures go to files, never to a window
    t_start = time.time()
    X_tr, y_tr, X_te, y_te = load_data(args.dataset, args.seed, args.data_dir, args.downsample,
                                       args.train_size, args.test_size, args.download)
    image = X_tr.shape[-1]                                         # 8 for the sklearn digits
    S = args.canvas or default_canvas(image, args.quick)
    f = S // 4
    if S % 4 or S < 2 * image:
        raise SystemExit(f"corner.py: error: --canvas must be a multiple of 4 and >= "
                         f"{2 * image} (twice the image side), got {S}")
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    # ---- data: every training digit in the top-left corner ------------------------------------
    X, y = place_in_region(X_tr, y_tr, S, (0, CORNER), (0, CORNER), copies=args.copies,
                           rng=args.seed)                                   # (M, 1, S, S)
    grid = grid_offsets(S, image, args.stride)
    trained_region = ((0, CORNER), (0, CORNER))
    far_region = ((S // 2, S - image), (S // 2, S - image))    # digit wholly in the bottom-right
    print(f"{args.dataset}: {len(X)} training images ({image}x{image} digits) on a {S}x{S} "
          f"canvas, positions 0..{CORNER}; {len(X_te)} test digits at each of "
          f"{len(grid)}x{len(grid)} grid positions {grid.tolist()}")

    # ---- train every model and measure its accuracy map --------------------------------------
    results, maps, weight_map = {}, {}, None
    for key in args.models.split(","):
        t0 = time.time()
        model = train_model(key, X, y, args.epochs, args.aug_epochs, args.lr, args.batch_size,
                            args.seed)
        maps[key] = accuracy_map(model, X_te, y_te, S, grid)
        results[key] = summarize_map(maps[key], grid, trained_region, far_region)
        results[key]["seconds"] = time.time() - t0
        if key == "a":
            weight_map = linear_weight_map(model[-1].params["W"], (64, f, f))     # (f, f)
        print(f"  trained {key} ({MODELS[key][0]}) in {results[key]['seconds']:.1f} s",
              flush=True)

    # ---- results table -------------------------------------------------------------------------
    print(f"\naccuracy (%) on the test digits; trained region = positions 0..{CORNER}, far "
          f"quadrant = positions {S // 2}..{S - image} (chance = 10%)")
    print(f"{'model':<26}{'trained':>8}{'far':>8}{'mean':>8}{'min':>8}{'max-min':>9}")
    for key, r in results.items():
        print(f"{key + ' ' + MODELS[key][0]:<26}{100 * r['trained']:8.1f}{100 * r['far']:8.1f}"
              f"{100 * r['mean']:8.1f}{100 * r['min']:8.1f}{100 * r['spread']:9.1f}")
    print("""
a: the flatten head has separate weights for every feature-map position; the corner digits only
   trained the weights of the top-left positions, so elsewhere it is near chance.
d: the same network, shown every position by fresh random shifts, reads them all.
b, c: global pooling discards where a feature fired, but the trunk is not exactly equivariant:
   near the canvas border the zero padding changes the features (the network can tell where it
   is), and 2x2 pooling only commutes with shifts by multiples of 4; so they fall in between.
e: circular padding removes the border. This grid moves the digit by multiples of 4 (the
   trunk's total stride), shifts under which the circular trunk is exactly equivariant, so the
   global maximum is exactly invariant there; 1-3 pixel shifts are not on this grid.""")

    # ---- figure: the accuracy maps on one colour scale, and model a's weight map --------------
    suffix = "" if args.dataset == "digits" else f"_{args.dataset}"
    figures = [out / f"corner_maps{suffix}.png"]
    keys = list(maps)
    fig, axes = plt.subplots(1, len(keys) + (weight_map is not None),
                             figsize=(2.6 * (len(keys) + 1) + 0.6, 3.2), squeeze=False)
    axes = axes[0]
    # one cell per grid position, edges halfway between positions (the last step may be shorter)
    edges = np.concatenate([[grid[0] - args.stride / 2], (grid[:-1] + grid[1:]) / 2,
                            [grid[-1] + args.stride / 2]])
    for ax, key in zip(axes, keys):
        im = ax.pcolormesh(edges, edges, 100 * maps[key], vmin=0, vmax=100, cmap="viridis")
        ax.set_aspect("equal")
        ax.invert_yaxis()                                        # row 0 at the top, as imshow
        ax.add_patch(plt.Rectangle((-0.5, -0.5), CORNER + 1, CORNER + 1, fill=False,
                                   edgecolor="red", linewidth=1.5))
        ax.set_title(f"{key}: {MODELS[key][0]}\nmin {100 * results[key]['min']:.0f}%",
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
                 f"placed at each position ({args.dataset}: {image}x{image} images, {S}x{S} "
                 f"canvas)", fontsize=10)
    fig.savefig(figures[0], dpi=90, bbox_inches="tight")
    plt.close(fig)

    print("\nfigures:", *figures, sep="\n  ")
    seconds = time.time() - t_start
    print(f"run time: {seconds:.1f} s")
    return {"results": results, "maps": maps, "grid": grid, "image": image, "canvas": S,
            "weight_map": weight_map, "figures": figures, "seconds": seconds}


if __name__ == "__main__":
    main()
