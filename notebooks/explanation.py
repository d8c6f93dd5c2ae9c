# %% [markdown]
# # How a convolutional network sees position: the explanation as a notebook
#
# Four claims, each shown by a small, fast experiment on scikit-learn's 8x8 digits:
#
# 1. Convolution is translation-**equivariant** (shift the input, the feature maps shift), and
#    reusing one kernel at every position is why it needs so few weights.
# 2. Flatten + Linear adds **no** invariance: trained on digits in one corner, it fails elsewhere.
# 3. Deep features are fuzzy: a small shift changes them a little, a large shift a lot.
# 4. Augmentation and a global pooling head are the remedies, each with its limits.
#
# This file is a plain Python script in the "percent" format: `# %%` starts a code cell,
# `# %% [markdown]` a text cell. Run it with `python notebooks/explanation.py`, or open it as a
# notebook: VS Code runs the cells directly, and Jupyter does with
# `jupytext --to notebook notebooks/explanation.py` (jupytext is not a dependency of minicnn).
# In a notebook the figures appear inline. As a plain script no window opens: each figure is
# saved as a PNG in the folder named by the environment variable `MINICNN_FIGURES` (default
# `figures/`). Every number below is computed when the cells run; the text only says what to
# look for. The full-size experiments are the demos in `demos/` (see the README). Two more
# environment variables: `MINICNN_SEED` picks the seed, and `MINICNN_QUICK=1` halves the
# epochs, for a quicker run in class (the tests run it so).

# %%
import os
import pathlib
import sys
import time

import matplotlib.pyplot as plt
import numpy as np

import minicnn as mc
from minicnn.data.augment import RandomShift
from minicnn.measure import corner
from minicnn.measure.equivariance import (
    border_free_mask,
    conv_as_dense_matrix,
    equivariance_error,
    equivariance_error_map,
    layer_outputs,
    representation_similarity,
    shift_image,
)
from minicnn.measure.positions import accuracy_map, linear_weight_map, summarize_map

SEED = int(os.environ.get("MINICNN_SEED", "0"))     # change it here or in the environment
QUICK = os.environ.get("MINICNN_QUICK") == "1"      # half the epochs
IN_NOTEBOOK = "ipykernel" in sys.modules            # Jupyter and VS Code both run a kernel
FIGURES = os.environ.get("MINICNN_FIGURES", "" if IN_NOTEBOOK else "figures")
if not IN_NOTEBOOK:
    plt.switch_backend("Agg")                          # a plain script never opens a window
try:  # one BLAS thread: faster for the many small products (threadpoolctl: scikit-learn's)
    from threadpoolctl import threadpool_limits
    threadpool_limits(1)
except ImportError:
    pass
T_START = time.perf_counter()
SAVED = []


def show(fig, name):
    """Show `fig` inline in a notebook; save it as FIGURES/notebook_<name>.png if FIGURES."""
    if FIGURES:
        path = pathlib.Path(FIGURES) / f"notebook_{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=90, bbox_inches="tight")
        SAVED.append(path)
        print(f"figure: {path}")
    if IN_NOTEBOOK:
        plt.show()
    else:
        plt.close(fig)


X_tr, y_tr, X_te, y_te = mc.load_digits(rng=SEED)           # (N, 1, 8, 8) in [0, 1]

# %% [markdown]
# ## 1. Convolution is equivariant, and that is weight sharing
#
# A kernel has no (i, j) index: the same few weights are applied at every position, so moving
# the input moves the output, f(S x) = S f(x). With circular padding there is no border and this
# holds everywhere. With zero padding, pixels near the border see the padding, which does not
# move with the content: there the two sides differ. We test a random two-layer convolution
# stack on mosaics of 16 digits that fill the whole frame, so the border matters.

# %%
SHIFT = (4, 6)                                               # (dy, dx) pixels
mosaics = X_te[:64, 0].reshape(4, 4, 4, 8, 8)                # (mosaic, row, col, 8, 8)
mosaics = mosaics.transpose(0, 1, 3, 2, 4)                   # (mosaic, row, 8, col, 8)
mosaics = mosaics.reshape(4, 1, 32, 32)                      # (4, 1, 32, 32)


def conv_stack(padding_mode):
    """Conv-ReLU-conv with 3x3 kernels; the same random weights for either padding."""
    rng = np.random.default_rng(SEED)
    return mc.Sequential([mc.Conv2D(1, 4, 3, padding=1, padding_mode=padding_mode, rng=rng),
                          mc.ReLU(),
                          mc.Conv2D(4, 4, 3, padding=1, padding_mode=padding_mode, rng=rng)])


circular, zeros = conv_stack("circular"), conv_stack("zeros")
# Pixels whose 2-pixel neighbourhood (two 3x3 kernels) avoids the border before and after the
# shift: what the kernels see there moves with the content.
away = border_free_mask((32, 32), SHIFT, margin=2)           # (32, 32) booleans
EQUIVARIANCE = {
    "circular padding, circular shift": equivariance_error(circular, mosaics, SHIFT),
    "zero padding, whole map": equivariance_error(zeros, mosaics, SHIFT, mode="zeros"),
    "zero padding, away from the border": equivariance_error(zeros, mosaics, SHIFT, mode="zeros",
                                                             mask=away),
}
print(f"equivariance error ||f(Sx) - S f(x)|| / ||S f(x)|| for a shift of {SHIFT} pixels:")
for name, err in EQUIVARIANCE.items():
    print(f"  {name:<40}{err:.1e}")

# %%
x, Sx = mosaics[:1], shift_image(mosaics[:1], SHIFT, "zeros")     # each (1, 1, 32, 32)
panels = {"input x": x, "shifted input S x": Sx, "f(S x), channel 0": zeros(Sx),
          "S f(x), channel 0": shift_image(zeros(x), SHIFT, "zeros")}
emap = equivariance_error_map(zeros, mosaics, SHIFT, mode="zeros")          # (32, 32)
fig, axes = plt.subplots(1, 5, figsize=(18, 3.8), layout="constrained")
vmax = max(np.abs(panels[k][0, 0]).max() for k in list(panels)[2:])
for ax, (title, img) in zip(axes, panels.items()):
    is_map = title.startswith(("f(", "S f("))
    im = ax.imshow(img[0, 0], cmap="RdBu_r" if is_map else "gray",
                   vmin=-vmax if is_map else 0, vmax=vmax if is_map else 1)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("column (pixels)")
    if title == "shifted input S x":
        fig.colorbar(im, ax=list(axes[:2]), shrink=0.8, label="pixel value")
fig.colorbar(im, ax=list(axes[2:4]), shrink=0.8, label="feature value (0 = white)")
em = axes[4].imshow(emap, cmap="magma", vmin=0)
axes[4].set_title("where they differ (4 mosaics):\n|f(S x) - S f(x)| per pixel", fontsize=10)
axes[4].set_xlabel("column (pixels)")
fig.colorbar(em, ax=axes[4], shrink=0.8, label="share of ||S f(x)||")
axes[0].set_ylabel("row (pixels)")
fig.suptitle(f"Zero-padded conv stack: the maps shift with the input by {SHIFT}; they differ "
             "only near the border", fontsize=11)
show(fig, "equivariance")

# %% [markdown]
# The dense matrix that does a convolution's job shows the weight sharing: column k is the
# layer's output for an image with a single 1 at pixel k. Every row holds the same kernel
# weights (cut short at the border), moved along; a fully connected layer would have a free
# weight in every entry.

# %%
small = mc.Conv2D(1, 1, 3, padding=1, rng=SEED)
M = conv_as_dense_matrix(small, (1, 8, 8))                   # (64 out pixels, 64 in pixels)
digit = X_te[:1]                                             # (1, 1, 8, 8)
dense_out = M @ digit.ravel() + np.repeat(small.params["b"], 64)
DENSE_MAX_DIFF = float(np.abs(dense_out - small.forward(digit).ravel()).max())
DISTINCT_WEIGHTS = len(np.unique(M[M != 0]))
PARAMS = {}                                                  # layer: (conv, same-size dense)
for layer, shape in ((small, (1, 8, 8)), (zeros[0], (1, 32, 32))):
    n_out, n_in = conv_as_dense_matrix(layer, shape).shape
    PARAMS[repr(layer) + f" on {shape[1]}x{shape[2]}"] = (
        sum(p.size for p in layer.params.values()), n_out * n_in + n_out)
print(f"dense matrix {M.shape} vs Conv2D: largest output difference {DENSE_MAX_DIFF:.1e}; "
      f"its nonzero entries take {DISTINCT_WEIGHTS} distinct values")
for name, (conv_n, dense_n) in PARAMS.items():
    print(f"  {name}: {conv_n:,} parameters; a dense layer of the same size: {dense_n:,} "
          f"({dense_n / conv_n:,.0f}x)")

fig, axes = plt.subplots(1, 2, figsize=(10, 4.4), gridspec_kw={"width_ratios": [1, 3]},
                         layout="constrained")
lim = np.abs(M).max()
axes[0].imshow(small.params["W"][0, 0], cmap="RdBu_r", vmin=-lim, vmax=lim)
axes[0].set_title("the 3x3 kernel", fontsize=10)
axes[0].set_xlabel("kernel column")
axes[0].set_ylabel("kernel row")
im = axes[1].imshow(M, cmap="RdBu_r", vmin=-lim, vmax=lim)
axes[1].set_title("the same map as a 64x64 dense matrix", fontsize=10)
axes[1].set_xlabel("input pixel (row-major index)")
axes[1].set_ylabel("output pixel")
fig.colorbar(im, ax=list(axes), shrink=0.8, label="weight (0 = white)")
fig.suptitle("Conv2D(1, 1, 3, padding=1) on an 8x8 image: one kernel, copied along the "
             "diagonals", fontsize=11)
show(fig, "weight_sharing")

# %% [markdown]
# ## 2. Flatten + Linear adds no invariance: the corner experiment
#
# Every training digit sits in the top-left corner of a blank 24x24 canvas (top-left pixel at
# rows and columns 0..4). Then all test digits are placed at each position of a grid and scored:
# an accuracy map. The convolutional trunk is equivariant, so a moved digit's features move with
# it; but after Flatten, each feature-map position has its own weights in the Linear layer, and
# weights at positions the digits never reached get almost no training. Look at the far
# quadrant. The protocol is library code, `minicnn.measure.corner` (the full-size version is
# `demos/corner.py`); here it runs on a smaller trunk and canvas.

# %%
EPOCHS = 4 if QUICK else 8                                   # SGD with momentum, batches of 32
SETUP = corner.prepare((X_tr, y_tr, X_te[:200], y_te[:200]), canvas=24, copies=2, stride=4,
                       rng=SEED)                             # corner digits, grid every 4 px
S, CORNER, GRID = SETUP.canvas, corner.CORNER, SETUP.grid    # 24, 4, [0, 4, 8, 12, 16]
X_test, y_test = SETUP.X_test, SETUP.y_test                  # (200, 1, 8, 8), (200,)


def small_trunk(padding_mode="zeros", rng=None):
    """corner.trunk with half its channels: (N, 1, S, S) -> (N, 32, S/4, S/4)."""
    return [mc.Conv2D(1, 8, 3, padding=1, padding_mode=padding_mode, rng=rng), mc.ReLU(),
            mc.MaxPool2D(2),
            mc.Conv2D(8, 16, 3, padding=1, padding_mode=padding_mode, rng=rng), mc.ReLU(),
            mc.MaxPool2D(2),
            mc.Conv2D(16, 32, 3, padding=1, padding_mode=padding_mode, rng=rng), mc.ReLU()]


def spec(description, head=corner.flatten_head, **recipe):
    """A row of the corner model table with the small trunk; the head reads its output shape."""
    return corner.CornerModel(description, head=head, trunk=small_trunk,
                              **{"epochs": EPOCHS} | recipe)


MODELS, MAPS, CORNER_RESULTS, SECONDS = {}, {}, {}, {}


def record(key, net, acc, seconds):
    """Keep a trained network, its accuracy map (G, G), the map's summary and the time."""
    MODELS[key], MAPS[key], SECONDS[key] = net, acc, seconds
    CORNER_RESULTS[key] = summarize_map(acc, GRID, SETUP.trained, SETUP.far)


def run(key, model):
    """corner.run: train with the digits in the corner, test on the grid."""
    result = corner.run(model, SETUP, rng=SEED)
    record(key, result.model, result.map, result.seconds)


def print_table(keys):
    print(f"accuracy (%) of {len(X_test)} test digits; trained region = positions 0..{CORNER}, "
          f"far quadrant = {S // 2}..{S - 8}; chance = 10%; seconds: training and testing")
    print(f"{'model':<32}{'trained':>8}{'far':>7}{'min':>7}{'max-min':>9}{'seconds':>9}")
    for k in keys:
        r = CORNER_RESULTS[k]
        print(f"{k:<32}{100 * r['trained']:8.1f}{100 * r['far']:7.1f}{100 * r['min']:7.1f}"
              f"{100 * r['spread']:9.1f}{SECONDS[k]:9.1f}")


FLAT = "a: flatten + linear"
run(FLAT, spec("flatten + linear"))
print_table([FLAT])

# %%
weights = linear_weight_map(MODELS[FLAT][-1].params["W"], (32, S // 4, S // 4))   # (6, 6)
fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), layout="constrained")
im = axes[0].imshow(100 * MAPS[FLAT], cmap="viridis", vmin=0, vmax=100,
                    extent=(GRID[0] - 2, GRID[-1] + 2, GRID[-1] + 2, GRID[0] - 2))
axes[0].add_patch(plt.Rectangle((-0.5, -0.5), CORNER + 1, CORNER + 1, fill=False,
                                edgecolor="red", linewidth=1.5))
axes[0].set_title("test accuracy with every digit at\n(row, col); red: training positions",
                  fontsize=10)
axes[0].set_xticks(GRID)
axes[0].set_yticks(GRID)
axes[0].set_xlabel("digit column (pixels)")
axes[0].set_ylabel("digit row (pixels)")
fig.colorbar(im, ax=axes[0], shrink=0.8, label="test accuracy (%)")
wm = axes[1].imshow(weights, cmap="magma", vmin=0)
axes[1].set_title("norm of the Linear weights\nat each feature-map position", fontsize=10)
axes[1].set_xlabel("feature-map column")
axes[1].set_ylabel("feature-map row")
fig.colorbar(wm, ax=axes[1], shrink=0.8, label="weight norm")
fig.suptitle("Flatten + Linear, trained with digits only in the top-left corner", fontsize=11)
show(fig, "corner")
r, half = CORNER_RESULTS[FLAT], S // 8                      # half the feature-map side
WEIGHT_NORMS = {"top-left": float(weights[:half, :half].mean()),
                "bottom-right": float(weights[half:, half:].mean())}
print(f"{FLAT}: {100 * r['trained']:.1f}% where it was trained, {100 * r['far']:.1f}% in the "
      f"far quadrant; mean Linear weight norm {WEIGHT_NORMS['top-left']:.2f} over the top-left "
      f"quarter of the feature-map positions, {WEIGHT_NORMS['bottom-right']:.2f} over the "
      "bottom-right quarter")

# %% [markdown]
# ## 3. Deep features are fuzzy
#
# Place each test digit at one position, then shift it k pixels to the right, and compare each
# layer's output for the two (cosine similarity of the whole representation, not realigned).
# Pooling makes the deep maps coarse: a shift smaller than one cell moves a feature only
# partly, a large shift moves it to other cells entirely.

# %%
START, SHIFTS = 2, [0, 1, 2, 3, 4, 6, 8]
PROBES = {"conv 1 + ReLU": 1, "pool 1 (stride 2)": 2,     # name: index into the layers
          "pool 2 (stride 4)": 5, "conv 3 + ReLU": 7}
outs0 = layer_outputs(MODELS[FLAT], mc.place_on_canvas(X_test, S, (START, START)))
SIMILARITY = {name: [] for name in PROBES}
for k in SHIFTS:
    outs_k = layer_outputs(MODELS[FLAT], mc.place_on_canvas(X_test, S, (START, START + k)))
    for name, i in PROBES.items():
        SIMILARITY[name].append(representation_similarity(outs0[i], outs_k[i])[1])
print(f"cosine similarity to the unshifted digit (mean over {len(X_test)} digits), model a")
print(f"{'layer':<20}" + "".join(f"{f'k={k}':>7}" for k in SHIFTS))
for name, sims in SIMILARITY.items():
    print(f"{name:<20}" + "".join(f"{s:7.2f}" for s in sims))

deep, first = SIMILARITY["conv 3 + ReLU"], SIMILARITY["conv 1 + ReLU"]
print(f"cosine similarity after a 2-pixel shift: conv 1 {first[2]:.2f}, conv 3 "
      f"{deep[2]:.2f}; after {SHIFTS[-1]} pixels: conv 1 {first[-1]:.2f}, conv 3 {deep[-1]:.2f}")
fig, ax = plt.subplots(figsize=(6.5, 4.2), layout="constrained")
for name, sims in SIMILARITY.items():
    ax.plot(SHIFTS, sims, "o-", label=name)
ax.set_ylim(0, 1.02)
ax.set_xlabel("shift k of the test digit (pixels)")
ax.set_ylabel("cosine similarity to the unshifted digit")
ax.set_title("How much each layer's output changes when the digit moves", fontsize=11)
ax.legend(fontsize=9)
show(fig, "fuzzy")

# %% [markdown]
# ## 4. The remedies, and their limits
#
# **Augmentation**: the same flatten network, shown each training digit at a fresh random shift
# in every batch (`RandomShift` as `fit`'s transform). It learns the positions it is shown, and
# only those: once with shifts anywhere on the canvas, once with shifts of at most 4 pixels.
# **Global max pooling**: the head keeps only the strongest response of each channel, wherever it
# is. With zero padding the border still tells the trunk where it is; circular padding removes
# the border, but the two stride-2 pools still make the trunk equivariant only to shifts by
# multiples of 4, so 1-3 pixel moves can change the answer.

# %%
C, E = "c: global max pool", "e: global max pool, circular"
D4, D = "d4: flatten + shifts of <= 4 px", "d: flatten + shifts anywhere"
run(C, spec("global max pool", head=corner.global_max_head))
run(E, spec("global max, circular", head=corner.global_max_head, padding_mode="circular"))
# d4 by hand (corner.run's augmentation shifts anywhere): the same recipe, a narrower range.
t0, net = time.perf_counter(), spec("flatten").build(S, np.random.default_rng(SEED))
mc.fit(net, SETUP.X, SETUP.y, epochs=2 * EPOCHS, batch_size=32, rng=SEED, progress=False,
       optimizer=mc.SGD(0.05, momentum=0.9), transform=RandomShift(4, keep_inside=True))
record(D4, net, accuracy_map(net, X_test, y_test, S, GRID), time.perf_counter() - t0)
run(D, spec("flatten + shift aug", augment=True, lr=0.05, epochs=2 * EPOCHS))
print_table(list(MODELS))

# Every pixel position along the diagonal, not just the grid's multiples of 4.
DIAGONAL = np.arange(S - 8 + 1)
DIAGONAL_ACC = {k: np.array([mc.accuracy(m, mc.place_on_canvas(X_test, S, (p, p)), y_test)
                             for p in DIAGONAL]) for k, m in MODELS.items()}

# %%
fig, axes = plt.subplots(1, len(MAPS), figsize=(3.1 * len(MAPS) + 1, 3.6),
                         layout="constrained")
for ax, (key, acc) in zip(axes, MAPS.items()):
    im = ax.imshow(100 * acc, cmap="viridis", vmin=0, vmax=100,
                   extent=(GRID[0] - 2, GRID[-1] + 2, GRID[-1] + 2, GRID[0] - 2))
    ax.add_patch(plt.Rectangle((-0.5, -0.5), CORNER + 1, CORNER + 1, fill=False,
                               edgecolor="red", linewidth=1.5))
    ax.set_title(key.replace(": ", ":\n"), fontsize=9)
    ax.set_xticks(GRID)
    ax.set_yticks(GRID)
    ax.set_xlabel("digit column (pixels)")
axes[0].set_ylabel("digit row (pixels)")
fig.colorbar(im, ax=list(axes), shrink=0.8, label="test accuracy (%)")
fig.suptitle("Trained in the red corner: test accuracy on the grid (every 4 pixels)",
             fontsize=11)
show(fig, "remedies")

fig, ax = plt.subplots(figsize=(9.5, 4.2), layout="constrained")
for key, acc in DIAGONAL_ACC.items():
    ax.plot(DIAGONAL, 100 * acc, "o-", markersize=3, label=key)
ax.axvspan(0, CORNER, color="red", alpha=0.1, label="training positions")
ax.set_ylim(0, 100)
ax.set_xlabel("digit at (p, p): position p (pixels)")
ax.set_ylabel("test accuracy (%)")
ax.set_title("Every position along the diagonal, one pixel apart", fontsize=11)
ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
show(fig, "diagonal")

# %% [markdown]
# The limits in numbers: how far each remedy gets, what it costs, and where it still fails.

# %%
R = CORNER_RESULTS
c_worst = GRID[np.array(np.unravel_index(MAPS[C].argmin(), MAPS[C].shape))]
print(f"augmentation: d gets {100 * R[D]['far']:.1f}% in the far quadrant (a: "
      f"{100 * R[FLAT]['far']:.1f}%) with {2 * EPOCHS} epochs, {SECONDS[D]:.1f} s (a: "
      f"{EPOCHS} epochs, {SECONDS[FLAT]:.1f} s); d4, shown shifts of at most 4 px, "
      f"gets {100 * R[D4]['far']:.1f}%")
print(f"global max pooling, zero padding: c gets {100 * R[C]['far']:.1f}% in the far quadrant, "
      f"{100 * R[C]['min']:.1f}% at its worst grid position {tuple(int(v) for v in c_worst)}")
print(f"global max pooling, circular padding: e's spread is {100 * R[E]['spread']:.1f} points "
      f"on the grid (steps of 4 pixels); along the diagonal, one pixel apart, it ranges "
      f"{100 * DIAGONAL_ACC[E].min():.1f}-{100 * DIAGONAL_ACC[E].max():.1f}%")
RUN_SECONDS = time.perf_counter() - T_START
print(f"run time: {RUN_SECONDS:.1f} s")
