"""The corner experiment as a protocol: train with every digit in one corner, test it everywhere.

Every training digit sits in the top-left corner of a blank canvas (its top-left pixel at row
and column 0..CORNER). Then all test digits are placed at each position of a grid over the
canvas and scored there: the accuracy map. A flat map means the network reads a digit wherever
it is; high in the corner and low elsewhere means its answer depends on position.

Does my layer make the map flat? Any builder `build(canvas, rng) -> Sequential` for inputs
(N, 1, canvas, canvas) goes through the protocol in one call:

    result = corner.run(build, quick=True)     # train in the corner, test on the grid
    print(result)                              # the accuracy map and its summary

MODELS is the table of demos/corner.py's networks: one trunk (edit `trunk`; the heads read its
output shape), a head and a training recipe per row.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..data.augment import RandomShift
from ..data.digits import load_digits
from ..data.idx import download_mnist, load_mnist
from ..extensions.polyphase import CircularMaxPool2D, PolyphaseDownsample2D
from ..layers import Conv2D, Flatten, GlobalAvgPool2D, GlobalMaxPool2D, Linear, MaxPool2D, ReLU
from ..layers.base import Layer, as_rng, check_choice, check_int
from ..model import Sequential
from ..optim import SGD, Adam
from ..train import fit
from .consistency import consistency, one_pixel_fragility
from .positions import accuracy_map, grid_offsets, place_in_region, summarize_map

CORNER = 4      # training positions: rows and columns 0..CORNER of the canvas
EVAL_BATCH = 32  # test canvases per forward pass: small batches stay in the CPU's caches


# ---- the architecture: one trunk, three heads ------------------------------------------------
def trunk(padding_mode="zeros", rng=None):
    """The convolutional trunk of every model: (N, 1, S, S) -> (N, 64, S/4, S/4), as a list.

    padding_mode: "zeros" or "circular", for every convolution.
    """
    return [Conv2D(1, 16, 3, padding=1, padding_mode=padding_mode, rng=rng), ReLU(),
            MaxPool2D(2),
            Conv2D(16, 32, 3, padding=1, padding_mode=padding_mode, rng=rng), ReLU(),
            MaxPool2D(2),
            Conv2D(32, 64, 3, padding=1, padding_mode=padding_mode, rng=rng), ReLU()]


def polyphase_trunk(padding_mode="circular", rng=None):
    """`trunk` with every MaxPool2D(2) made shift-friendly: CircularMaxPool2D(2) (stride 1,
    windows wrap around) + PolyphaseDownsample2D(2) (keeps the pixel phase of largest norm).

    With circular padding, ANY circular shift of the input (not only multiples of 4) circularly
    shifts the output, so a global pool after it is exactly invariant.
    """
    layers = []
    for layer in trunk(padding_mode, rng):                # the same weights as trunk's
        aps = [CircularMaxPool2D(2), PolyphaseDownsample2D(2)]
        layers += aps if isinstance(layer, MaxPool2D) else [layer]
    return layers


def feature_shape(layers, canvas):
    """(C, h, w): what `layers` make of a (1, 1, canvas, canvas) input (nothing is computed)."""
    shape = (1, 1, canvas, canvas)
    for layer in layers:
        shape = layer.output_shape(shape)
    return tuple(shape[1:])


def flatten_head(features, rng=None, classes=10):
    """Flatten + Linear: its own weights for every class, channel AND position of (C, h, w)."""
    C, h, w = features
    return [Flatten(), Linear(C * h * w, classes, rng=rng)]


def global_avg_head(features, rng=None, classes=10):
    """Global average pooling + Linear: each channel's mean over all positions is classified."""
    return [GlobalAvgPool2D(), Linear(features[0], classes, rng=rng)]


def global_max_head(features, rng=None, classes=10):
    """Global max pooling + Linear: each channel's maximum over all positions is classified."""
    return [GlobalMaxPool2D(), Linear(features[0], classes, rng=rng)]


@dataclass(frozen=True)
class CornerModel:
    """One row of the model table: a network and how the corner experiment trains it."""

    description: str                # how tables and figures name it
    padding_mode: str = "zeros"     # of every convolution in the trunk
    head: Callable = flatten_head   # head(features (C, h, w), rng) -> the layers after the
                                    # trunk; also given classes= when classes is not 10
    augment: bool = False           # every batch shifted anywhere on the canvas, freshly at random
    lr: float = 0.03                # SGD learning rate (momentum 0.9)
    epochs: int = 6                 # a full run; quick runs train half as many
    trunk: Callable = trunk         # trunk(padding_mode, rng) -> layers
    builder: Callable = None        # build(canvas, rng) -> Sequential, instead of trunk + head
    classes: int = 10               # outputs of the head's Linear (2 for faces / not faces)
    optimizer: str = "sgd"          # "sgd" (momentum 0.9) or "adam", at the rate `lr`

    def build(self, canvas, rng=None):
        """The untrained network for inputs (N, 1, canvas, canvas)."""
        rng = as_rng(rng)
        if self.builder is not None:
            return self.builder(canvas, rng)
        layers = self.trunk(self.padding_mode, rng)
        features = feature_shape(layers, canvas)
        # A head of your own written for the digits takes (features, rng): only another number
        # of classes needs the keyword.
        head = (self.head(features, rng) if self.classes == 10
                else self.head(features, rng, classes=self.classes))
        return Sequential(layers + head)


# b's average over the S/4 x S/4 positions divides every gradient reaching the trunk by 64: it
# gets a larger step. d has to learn every position, so it also trains twice as long.
MODELS = {
    "a": CornerModel("flatten + linear", padding_mode="zeros", head=flatten_head),
    "b": CornerModel("global avg pool", padding_mode="zeros", head=global_avg_head, lr=0.1),
    "c": CornerModel("global max pool", padding_mode="zeros", head=global_max_head),
    "d": CornerModel("flatten + shift aug", padding_mode="zeros", head=flatten_head,
                     augment=True, lr=0.05, epochs=12),
    "e": CornerModel("global max, circular", padding_mode="circular", head=global_max_head),
    "f": CornerModel("global max, circ. + APS", padding_mode="circular", head=global_max_head,
                     trunk=polyphase_trunk),
}


def as_model(model, where="corner.as_model"):
    """A CornerModel from a key of MODELS, a CornerModel, or a builder build(canvas, rng)."""
    if isinstance(model, CornerModel):
        return model
    if isinstance(model, str):
        return MODELS[check_choice(model, "model", where, list(MODELS))]
    if isinstance(model, (Sequential, Layer)):      # callable too, but built for one input size
        raise TypeError(
            f"{where}: model is a built {type(model).__name__}, but the protocol builds a fresh "
            f"network for each canvas and seed, so it needs the function that builds it. Wrap "
            f"your layers in a builder: `def build(canvas, rng): return Sequential([...])`, then "
            f"{where}(build)")
    if callable(model):
        return CornerModel(getattr(model, "__name__", "model"), builder=model)
    raise TypeError(f"{where}: model must be a key of MODELS, a CornerModel or a function "
                    f"build(canvas, rng) -> Sequential, got {model!r}")


def as_seed(rng, where="corner"):
    """An int seed from `rng` (an int, a numpy Generator or None): the data split, the corner
    positions and the test positions each start from it, so one run draws them all alike."""
    if isinstance(rng, np.random.Generator) or rng is None:
        return int(as_rng(rng).integers(2**31))                       # a Generator: one draw
    if isinstance(rng, (bool, np.bool_)) or not isinstance(rng, (int, np.integer)) or rng < 0:
        raise TypeError(f"{where}: rng must be an int seed >= 0, a numpy Generator or None, "
                        f"got {rng!r}")
    return int(rng)


# ---- the data: digits in the corner, a grid of test positions ---------------------------------
@dataclass(frozen=True, eq=False)
class Setup:
    """The data of one run: training canvases with the digits in the corner, the test grid."""

    X: np.ndarray          # (M, 1, S, S) training canvases, every digit at rows, cols 0..CORNER
    y: np.ndarray          # (M,) labels
    X_test: np.ndarray     # (N, 1, s, s) test digits, placed at every grid position in turn
    y_test: np.ndarray     # (N,)
    grid: np.ndarray       # offsets of the test positions, for rows and columns alike

    canvas = property(lambda self: self.X.shape[-1])           # S
    image = property(lambda self: self.X_test.shape[-1])       # s

    @property
    def trained(self):
        """((row_lo, row_hi), (col_lo, col_hi)) of the training positions."""
        return (0, CORNER), (0, CORNER)

    @property
    def far(self):
        """The positions where the digit lies wholly in the bottom-right quadrant."""
        return ((self.canvas // 2, self.canvas - self.image),) * 2


def default_canvas(image, quick=False):
    """2 * image + 16 (2 * image + 8 with quick), rounded up to a multiple of 4: 32 for 8x8."""
    return -(-(2 * image + (8 if quick else 16)) // 4) * 4


def place_in_corner(images, labels, canvas, copies=1, rng=0):
    """`copies` copies of every image (N, 1, s, s), each at a random position in the corner."""
    return place_in_region(images, labels, canvas, (0, CORNER), (0, CORNER), copies=copies,
                           rng=rng)                                   # (copies*N, 1, S, S)


def prepare(data=None, *, quick=False, canvas=None, copies=None, stride=None, rng=0):
    """The data of a run, from (X_train, y_train, X_test, y_test) of square images (N, 1, s, s).

    data: default scikit-learn's 8x8 digits, split with the seed `rng` (an int or a Generator);
    canvas: default default_canvas(s, quick); copies of every training digit (default 2, quick
    1), each at a random corner position drawn with `rng`; stride: the grid step (default 4,
    quick 8).
    """
    rng = as_seed(rng, "corner.prepare")
    X_tr, y_tr, X_te, y_te = load_digits(rng=rng) if data is None else data
    image = X_tr.shape[-1]
    S = default_canvas(image, quick) if canvas is None else check_int(canvas, "canvas", "prepare")
    if S % 4 or S < 2 * image:
        raise ValueError(f"corner.prepare: canvas must be a multiple of 4 and >= {2 * image} "
                         f"(twice the image side), got {S}")
    copies = (1 if quick else 2) if copies is None else copies
    stride = (8 if quick else 4) if stride is None else stride
    X, y = place_in_corner(X_tr, y_tr, S, copies, rng)
    return Setup(X, y, X_te, y_te, grid_offsets(S, image, stride))


def load_data(name="digits", data_dir=None, *, downsample=2, train_size=None, test_size=None,
              download=False, rng=0):
    """Square images (N, 1, s, s) in [0, 1] and labels 0..9: X_train, y_train, X_test, y_test.

    "digits": scikit-learn's 8x8 digits, split with the seed `rng` (an int or a Generator). "mnist", "fashion": the
    IDX files in `data_dir` (downloaded there first if `download`), averaged over downsample x
    downsample blocks, and random subsets of train_size / test_size images (None: all).
    """
    check_choice(name, "name", "corner.load_data", ["digits", "mnist", "fashion"])
    rng = as_seed(rng, "corner.load_data")
    if name == "digits":
        return load_digits(rng=rng)
    if download:
        download_mnist(data_dir, kind=name)
    data = load_mnist(data_dir, kind=name)
    side = data[0].shape[-1]
    if data[0].shape[-2] != side or data[2].shape[-2:] != (side, side):
        raise ValueError(f"corner.load_data: {name}: expected square images of one size, got "
                         f"train {data[0].shape[-2:]} and test {data[2].shape[-2:]}")
    if downsample < 1 or side % downsample:
        raise ValueError(f"corner.load_data: downsample must be >= 1 and divide the image side "
                         f"{side}, got {downsample}")
    rng, s = as_rng(rng), side // downsample
    out = []
    for X, y, n in ((data[0], data[1], train_size), (data[2], data[3], test_size)):
        keep = rng.permutation(len(X))[:n]                             # n=None keeps them all
        X = X[keep].reshape(len(keep), 1, s, downsample, s, downsample).mean(axis=(3, 5))
        out += [X.astype(np.float32), y[keep]]                        # (n, 1, s, s), (n,)
    return tuple(out)


# ---- the protocol: train in the corner, test on the grid ---------------------------------------
def train(model, X, y, *, quick=False, epochs=None, lr=None, batch_size=32, rng=0):
    """Build `model` (see as_model) and train it the corner experiment's way on X (M, 1, S, S).

    SGD with momentum 0.9 (or Adam, if the model says so) at the model's rate (or `lr`) for its
    epochs (half with quick, or `epochs`); an augmented model sees every canvas shifted anywhere
    the digit fits, freshly at random in every batch. Returns the trained Sequential.
    """
    spec, rng = as_model(model, "corner.train"), as_seed(rng, "corner.train")
    S = X.shape[-1]
    net = spec.build(S, np.random.default_rng(rng))
    epochs, lr = recipe(spec, quick, epochs, lr)
    check_choice(spec.optimizer, "optimizer", f"corner model {spec.description!r}",
                 ["sgd", "adam"])
    optimizer = Adam(lr) if spec.optimizer == "adam" else SGD(lr, momentum=0.9)
    fit(net, X, y, epochs=epochs, batch_size=batch_size, rng=rng, progress=False,
        optimizer=optimizer, transform=RandomShift(S, keep_inside=True) if spec.augment else None)
    return net


def recipe(model, quick=False, epochs=None, lr=None):
    """(epochs, learning rate) that `train` uses: the given ones, else the model's own."""
    spec = as_model(model)
    if epochs is None:
        epochs = spec.epochs // 2 if quick else spec.epochs
    return epochs, spec.lr if lr is None else lr


@dataclass(eq=False)
class Result:
    """What run() returns; print it for the map and its summary."""

    description: str
    map: np.ndarray        # (G, G): accuracy with every test digit at (grid[i], grid[j])
    summary: dict          # "trained", "far": mean accuracy there; "mean", "min", "max", "spread";
                           # "consistency", "fragility" (see run); "epochs", "lr" it trained with
    model: Sequential      # the trained network
    setup: Setup
    seconds: float         # training and testing

    def __str__(self):
        grid = self.setup.grid
        lines = [(f"{self.description}: accuracy (%) with every test digit at (row, col); "
                  f"trained at rows and cols 0..{CORNER}"),
                 "row\\col" + "".join(f"{c:>6}" for c in grid)]
        lines += [f"{r:>7}" + "".join(f"{100 * a:6.1f}" for a in row)
                  for r, row in zip(grid, self.map)]
        return "\n".join(lines) + "\n\n" + table({self.description: self.summary}, self.setup)


def run(model, setup=None, *, quick=False, epochs=None, lr=None, batch_size=32, rng=0):
    """Train `model` with the digits in the corner, test it on the grid; returns a Result.

    model: a key of MODELS ("a".."f"), a CornerModel, or a builder build(canvas, rng) ->
    Sequential for inputs (N, 1, canvas, canvas), trained like model a (lr 0.03, 6 epochs).
    setup: from prepare() (default prepare(quick=quick, rng=rng): the 8x8 digits).
    rng: an int seed or a numpy Generator (one int seed is drawn from it for the whole run).
    Besides the map, the summary holds Zhang's consistency (the same class at two random canvas
    positions) and the one-pixel fragility (the class changes under a one-pixel move) over the
    test digits, at positions drawn with `rng`: the same positions for every model.
    """
    spec, rng = as_model(model, "corner.run"), as_seed(rng, "corner.run")
    setup = prepare(quick=quick, rng=rng) if setup is None else setup
    start = time.time()
    net = train(spec, setup.X, setup.y, quick=quick, epochs=epochs, lr=lr,
                batch_size=batch_size, rng=rng)
    X, S, b = setup.X_test, setup.canvas, EVAL_BATCH
    acc = accuracy_map(net, X, setup.y_test, S, setup.grid, batch_size=b)          # (G, G)
    summary = summarize_map(acc, setup.grid, setup.trained, setup.far)
    summary.update(consistency=consistency(net, X, S, rng=rng, batch_size=b),
                   fragility=one_pixel_fragility(net, X, S, rng=rng, batch_size=b))
    summary.update(zip(("epochs", "lr"), recipe(spec, quick, epochs, lr)))
    return Result(spec.description, acc, summary, net, setup, time.time() - start)


def table(summaries, setup, noun="digits"):
    """The results table, accuracies in %: one row per {label: summary} (see Result.summary).

    noun: what the test images are called in the header and footnote.
    """
    S, s = setup.canvas, setup.image
    chance = 100 / len(np.unique(setup.y_test))
    lines = [(f"accuracy (%) on the test {noun}; trained region = positions 0..{CORNER}, far "
              f"quadrant = positions {S // 2}..{S - s} (chance = {chance:.0f}%)"),
             (f"{'model':<26}{'trained':>8}{'far':>8}{'mean':>8}{'min':>8}{'max-min':>9}"
              f"{'consist.':>9}{'1px chg':>8}{'epochs':>7}{'lr':>6}")]
    for label, r in summaries.items():
        line = "".join(f"{100 * r[k]:{w}.1f}" for k, w in (("trained", 8), ("far", 8),
                       ("mean", 8), ("min", 8), ("spread", 9), ("consistency", 9),
                       ("fragility", 8)) if k in r)
        extra = f"{r['epochs']:7d}{r['lr']:6.2g}" if "epochs" in r else ""
        lines.append(f"{label:<26}{line}{extra}")
    lines.append(f"consist. = % of test {noun} given the same class at two random canvas "
                 f"positions;\n1px chg = % of test {noun} whose class changes when moved by one "
                 "pixel")
    return "\n".join(lines)
