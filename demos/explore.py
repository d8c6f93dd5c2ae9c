"""Slide a digit across the canvas and watch the feature maps and the classifier heads live.

The models are the corner experiment's (minicnn.measure.corner.MODELS), trained the same way:
the 8x8 digits only in the top-left corner of a 32x32 canvas (offsets 0..4, the dashed box),
3 copies of each training digit, SGD with momentum, 6 epochs. By default three of them, one trunk
each:

    a  trunk + Flatten + Linear(4096, 10)      one weight per (channel, position)
    c  trunk + GlobalMaxPool2D + Linear(64, 10), zero padding
    e  trunk + GlobalMaxPool2D + Linear(64, 10), circular padding

    trunk: Conv2D(1,16,3,p=1) ReLU MaxPool2D(2) Conv2D(16,32,3,p=1) ReLU MaxPool2D(2)
           Conv2D(32,64,3,p=1) ReLU                      -> 64 feature maps of 8x8

Drag the digit: the feature maps move with it (the trunk is translation-equivariant). Head a has
only seen features in the corner and loses the digit away from it. The pooling heads keep it;
watch c near the border (zero padding tells the trunk where the border is) and e at offsets that
are not multiples of 4 (the two stride-2 pools), the two limits of a global pooling head.
The three are trained on first use only; the weights are then cached (--cache) and
reloaded on the next run (--retrain to redo).

Run: python demos/explore.py                         (a window with sliders; without a
                                                      display it prints the table, says so)
     python demos/explore.py --save docs/explorer.png --row 22 --col 22 --digit 3   (headless)
     python demos/explore.py --models a,b,c,d,e      (any of the corner experiment's models)
"""

import argparse
import hashlib
import inspect
import os
import time

import matplotlib

matplotlib.rcParams["image.interpolation"] = "nearest"        # crisp pixels
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle
from matplotlib.widgets import Slider

from minicnn import (
    Flatten,
    GlobalAvgPool2D,
    GlobalMaxPool2D,
    ReLU,
    accuracy,
    files,
    load_digits,
    load_weights,
    place_on_canvas,
    save_weights,
    softmax,
)
from minicnn.measure import corner

CANVAS = 32            # canvas side; 3 convs and 2 pools leave 64 maps of 8x8 = 4096 features
CHANNELS_SHOWN = 4     # feature maps shown per conv layer
HEAD_LAYERS = (Flatten, GlobalAvgPool2D, GlobalMaxPool2D)      # where a model's head begins
NO_WINDOW = {"agg", "cairo", "pdf", "pgf", "ps", "svg", "template"}   # matplotlib file backends


def can_open_window():
    """False when matplotlib fell back to a file-only backend (no display or GUI toolkit)."""
    return matplotlib.get_backend().lower() not in NO_WINDOW


def make_models(seed, keys=("a", "c", "e")):
    """{key: the corner experiment's model `key`, untrained} for a CANVAS x CANVAS canvas."""
    return {key: corner.MODELS[key].build(CANVAS, seed) for key in keys}


def train_models(keys, X, y, seed=0, quick=False):
    """{key: model} trained as the corner experiment does: every digit at offsets 0..CORNER, 3
    copies, 6 epochs (12 for the augmented d). quick: 1 copy, half the epochs. Prints progress."""
    Xc, yc = corner.place_in_corner(X, y, CANVAS, copies=1 if quick else 3, rng=seed)
    models = {}
    for i, key in enumerate(keys, 1):
        start = time.perf_counter()
        print(f"  training model {key} ({corner.MODELS[key].description}), {i} of {len(keys)}, "
              f"on {len(Xc)} corner canvases ...", end="", flush=True)
        models[key] = corner.train(key, Xc, yc, quick=quick, rng=seed)
        print(f" {time.perf_counter() - start:.1f} s", flush=True)
    return models


def load_or_train(X, y, seed=0, cache_dir=None, quick=False, retrain=False,
                  keys=("a", "c", "e")):
    """The models `keys`, from the weight cache if all are there, else trained and saved there.

    Returns (models, trained): trained is True when this call ran `train_models`.
    """
    cache_dir = cache_dir or files.cache_dir()
    # the file names carry a digest of the corner experiment's code (models, budgets, training),
    # so weights cached by an older version are not mistaken for today's models
    recipe = hashlib.sha256(inspect.getsource(corner).encode()).hexdigest()[:10]
    tag = f"explorer-seed{seed}{'-quick' if quick else ''}-{recipe}"
    paths = {key: os.path.join(cache_dir, f"{tag}-{key}.npz") for key in keys}
    if not retrain and all(os.path.exists(p) for p in paths.values()):
        models = make_models(seed, keys)
        try:
            for key, model in models.items():
                load_weights(model, paths[key])
            return models, False
        except ValueError as e:                      # training below builds fresh models
            print(f"weight cache unusable, training again: {e}")
    print(f"training the models {', '.join(keys)} (first use, or --retrain); their weights "
          f"are then cached in {cache_dir} for the next run", flush=True)
    models = train_models(keys, X, y, seed, quick)
    os.makedirs(cache_dir, exist_ok=True)
    for key, model in models.items():
        save_weights(model, paths[key])
    return models, True


def trunk_maps(model, canvas):
    """[output (F, H', W') of each conv layer's ReLU] for one canvas (1, 1, H, W)."""
    maps, x = [], canvas
    for layer in model.layers:
        if isinstance(layer, HEAD_LAYERS):                         # the head starts here
            break
        x = layer.forward(x)
        if isinstance(layer, ReLU):                                # each ReLU follows a conv
            maps.append(x[0])
    return maps


def pick_channels(model, examples, canvas_size):
    """The CHANNELS_SHOWN most active channels of each conv layer on the examples (K, 1, h, w)
    in the training corner, and a fixed colour scale per layer (so moving maps stay comparable).
    Returns (maps of the first example, [channel indices per layer], [vmax per layer])."""
    ref = [trunk_maps(model, place_on_canvas(e[None], canvas_size, (2, 2))) for e in examples]
    layers = range(len(ref[0]))
    shown = [np.argsort(-np.mean([r[k].mean(axis=(1, 2)) for r in ref], axis=0))[:CHANNELS_SHOWN]
             for k in layers]
    vmax = [max(float(r[k][shown[k]].max()) for r in ref) or 1.0 for k in layers]
    return ref[0], shown, vmax


def build_explorer(models, images, labels, canvas_size=CANVAS, row=0, col=0, digit=None):
    """The figure: canvas, feature maps of each conv layer, every model's probabilities, sliders.

    models: {key: Sequential} (the maps shown are those of the first model's trunk); images:
    (N, 1, h, w) digits; labels: (N,). The digit slider picks the first example of each class.
    Returns (fig, controls): controls["row"], ["col"], ["digit"] are Sliders (moving one redraws
    through `update`), controls["view"] holds the artists.
    """
    h, w = images.shape[-2:]
    classes = np.unique(labels)
    first = {int(k): int(np.flatnonzero(labels == k)[0]) for k in classes}
    examples = images[list(first.values())]                          # (K, 1, h, w)
    shown_key = next(iter(models))
    ref, shown, vmax = pick_channels(models[shown_key], examples, canvas_size)

    fig = plt.figure(figsize=(14, 7.2))
    fig.suptitle("The corner experiment's models. Training digits were only inside the dashed "
                 f"box (offsets 0..{corner.CORNER}).", fontsize=13)
    fig.text(0.5, 0.92, f"Middle: ReLU outputs of model {shown_key}'s trunk ({CHANNELS_SHOWN} "
             "most active channels per conv layer). Right: class probabilities, green = true "
             "class, red = wrong prediction.", ha="center", fontsize=9.5)
    outer = fig.add_gridspec(1, 3, width_ratios=[1.25, 2.0, 1.5], left=0.03, right=0.98,
                             top=0.82, bottom=0.25, wspace=0.18)
    ax_in = fig.add_subplot(outer[0])
    img = ax_in.imshow(np.zeros((canvas_size, canvas_size)), cmap="gray_r", vmin=0, vmax=1)
    ax_in.add_patch(Rectangle((-0.5, -0.5), corner.CORNER + w, corner.CORNER + h,
                              fill=False, ls="--", lw=1.5, ec="tab:orange"))
    ax_in.set_xticks([0, canvas_size - 1])
    ax_in.set_yticks([0, canvas_size - 1])
    grid = outer[1].subgridspec(len(shown), CHANNELS_SHOWN, hspace=0.35, wspace=0.08)
    fmaps = []
    for k, channels in enumerate(shown):
        row_imgs = []
        for j, c in enumerate(channels):
            ax = fig.add_subplot(grid[k, j])
            row_imgs.append(ax.imshow(ref[k][c], cmap="viridis", vmin=0, vmax=vmax[k]))
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"channel {c}", fontsize=8, pad=2)
            if j == 0:
                size = ref[k].shape[-1]
                ax.set_ylabel(f"conv{k + 1}\n{size}x{size}", fontsize=10)
        bar = fig.colorbar(row_imgs[-1], ax=[im.axes for im in row_imgs], fraction=0.05,
                           pad=0.02)                              # the row's one shared scale
        bar.ax.tick_params(labelsize=7)
        bar.set_label("ReLU output", fontsize=8)
        fmaps.append(row_imgs)
    bars_grid = outer[2].subgridspec(len(models), 1, hspace=0.3 + 0.15 * len(models))
    bars = {}
    for i, key in enumerate(models):
        ax = fig.add_subplot(bars_grid[i])
        bars[key] = (ax, ax.bar(classes, np.zeros(len(classes)), color="tab:gray"))
        ax.set_ylim(0, 1)
        ax.set_xticks(classes)
        ax.set_ylabel("probability")
    ax.set_xlabel("class")

    sliders = {}
    digit = int(classes[0]) if digit is None else digit
    for i, (key, label, low, high, init) in enumerate([
            ("row", "digit row", 0, canvas_size - h, row),
            ("col", "digit col", 0, canvas_size - w, col),
            ("digit", "digit class", int(classes.min()), int(classes.max()), digit)]):
        ax = fig.add_axes([0.12, 0.14 - 0.05 * i, 0.6, 0.03])
        sliders[key] = Slider(ax, label, low, high, valinit=init, valstep=1, valfmt="%d")
        sliders[key].drawon = False                            # the callback redraws, once
    view = {"models": models, "shown_key": shown_key, "images": images, "labels": labels,
            "first": first, "shown": shown, "canvas_size": canvas_size, "img": img,
            "ax_in": ax_in, "fmaps": fmaps, "bars": bars}
    controls = dict(sliders, view=view)
    for s in sliders.values():
        s.on_changed(lambda _val: (update(controls), fig.canvas.draw_idle()))
    update(controls)
    return fig, controls


def update(controls):
    """Redraw for the sliders' current values. Returns {"canvas": (H, W), model key: probs}."""
    v = controls["view"]
    row, col = int(controls["row"].val), int(controls["col"].val)
    idx = v["first"][int(controls["digit"].val)]
    label = int(v["labels"][idx])
    canvas = place_on_canvas(v["images"][idx:idx + 1], v["canvas_size"], (row, col))
    v["img"].set_data(canvas[0, 0])
    v["ax_in"].set_title(f"input {v['canvas_size']}x{v['canvas_size']}: digit {label} at "
                         f"row {row}, col {col}", fontsize=11)
    for k, fmap in enumerate(trunk_maps(v["models"][v["shown_key"]], canvas)):
        for im, c in zip(v["fmaps"][k], v["shown"][k]):
            im.set_data(fmap[c])
    out = {"canvas": canvas[0, 0]}
    for key, model in v["models"].items():
        probs = softmax(model.forward(canvas))[0]                     # (10,)
        ax, bars = v["bars"][key]
        pred = int(probs.argmax())
        for k, (bar, p) in enumerate(zip(bars, probs)):
            bar.set_height(p)
            bar.set_color("tab:green" if k == label else
                          "tab:red" if k == pred else "tab:gray")
        verdict = "right" if pred == label else "WRONG"
        ax.set_title(f"{key}) {corner.MODELS[key].description}: predicts {pred} "
                     f"(p={probs[pred]:.2f}), {verdict}",
                     fontsize=10, color="black" if pred == label else "tab:red")
        out[key] = probs
    return out


def save_png(fig, path, dpi=80):
    """Save a figure as a 256-colour PNG (keeps the screenshot small)."""
    from PIL import Image  # ships with matplotlib
    fig.savefig(path, dpi=dpi)
    Image.open(path).convert("RGB").quantize(256).save(path, optimize=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--models", default="a,c,e", help="comma-separated corner-experiment "
                        f"models to show, of {','.join(corner.MODELS)} (default a,c,e; the maps are "
                        "the first one's)")
    parser.add_argument("--cache", metavar="DIR", help="weight cache (default ~/.cache/minicnn)")
    parser.add_argument("--retrain", action="store_true", help="ignore the cache, train again "
                        "(default off)")
    parser.add_argument("--quick", action="store_true", help="a smoke test: tiny "
                        "training, the models are not the experiment's (default off)")
    parser.add_argument("--save", metavar="FILE", help="save one frame as PNG and exit "
                        "(default: open a window)")
    parser.add_argument("--out", metavar="DIR", help="like --save DIR/explorer.png (default "
                        "none)")
    parser.add_argument("--row", type=int, default=0, help="initial digit row (default 0)")
    parser.add_argument("--col", type=int, default=0, help="initial digit column (default 0)")
    parser.add_argument("--digit", type=int, default=3, help="initial digit class (default 3)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1)")
    args = parser.parse_args(argv)
    keys = tuple(args.models.split(","))
    if not keys or set(keys) - set(corner.MODELS) or len(set(keys)) != len(keys):
        parser.error(f"--models must name some of {','.join(corner.MODELS)} once each, "
                     f"got {args.models!r}")
    save = args.save or (os.path.join(args.out, "explorer.png") if args.out else None)
    if save:
        plt.switch_backend("Agg")                                 # headless: no window
        os.makedirs(os.path.dirname(os.path.abspath(save)), exist_ok=True)
    from threadpoolctl import threadpool_limits  # comes with scikit-learn
    threadpool_limits(args.threads)

    X_tr, y_tr, X_te, y_te = load_digits(rng=args.seed)
    if args.quick:
        X_tr, y_tr, X_te, y_te = X_tr[:200], y_tr[:200], X_te[:100], y_te[:100]
    start = time.perf_counter()
    models, trained = load_or_train(X_tr, y_tr, args.seed, args.cache, args.quick, args.retrain,
                                    keys)
    print(f"{'trained' if trained else 'loaded cached weights'} in "
          f"{time.perf_counter() - start:.1f} s")
    h = X_te.shape[-1]
    positions = [(2, 2), (12, 12), (13, 13), (22, 22), (CANVAS - h,) * 2]
    acc = {pos: {key: accuracy(m, place_on_canvas(X_te, CANVAS, pos), y_te)
                 for key, m in models.items()} for pos in positions}
    print(f"\ntest accuracy ({len(y_te)} digits) by position of the digit's top-left corner; "
          f"trained at 0..{corner.CORNER}")
    print(f"{'position':>10}" + "".join(f"{k + ') ' + corner.MODELS[k].description:>26}"
                                        for k in keys))
    for pos, a in acc.items():
        print(f"{pos!s:>10}" + "".join(f"{a[k]:>26.3f}" for k in keys))

    result = {"trained": trained, "accuracy": acc, "probs": None, "saved": save, "shown": False}
    if not save and not can_open_window():
        print(f"\nno window can open here: matplotlib's backend is {matplotlib.get_backend()!r} "
              "(no display or GUI toolkit found). Save a frame instead:\n"
              f"  python demos/explore.py --save explorer.png --row {args.row} --col {args.col} "
              f"--digit {args.digit}")
        return result
    fig, controls = build_explorer(models, X_te, y_te, CANVAS, args.row, args.col, args.digit)
    result["probs"] = update(controls)
    if save:
        save_png(fig, save)
        print(f"saved {save}")
    else:
        result["shown"] = True
        plt.show()
    plt.close(fig)
    return result


if __name__ == "__main__":
    main()
