"""Shift a photo and the feature maps shift with it: convolution is translation-equivariant.

    Sobel:  Conv2D(1, 2, 3, padding=1)  with hand-set horizontal / vertical edge kernels
    stack:  Conv2D(1, 8, 3, p=1) ReLU Conv2D(8, 8, 3, p=1) ReLU Conv2D(8, 8, 3, p=1)  (random)

For each map f we measure the normalised equivariance error ||f(S x) - S f(x)|| / ||f(x)||: with
circular padding; with zero padding, on the whole image and away from the borders (the band is
the stack's receptive radius, and we also measure how wide the band of real errors is); through
strided convolutions and pools (the output should move by the shift divided by the stride); and
for flatten + fully connected. Then the invariance error ||f(S x) - f(x)|| / ||f(x)|| of a global
average pool and of a flatten + linear head. The sentences printed after the tables are decided
by these numbers: an error below ROUNDING (relative) counts as float32 rounding.

Run: python demos/equivariance.py [--shift 10 20] [--size 128] [--seed 0] [--out figures]
"""

import matplotlib
from common import finish, parser, save_figure

matplotlib.rcParams["image.interpolation"] = "nearest"   # crisp pixels, small PNGs
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import cbook

from minicnn import Conv2D, Flatten, GlobalAvgPool2D, Linear, MaxPool2D, ReLU, Sequential
from minicnn.measure import receptive_field as rf
from minicnn.measure.equivariance import (
    border_free_mask,
    equivariance_error,
    equivariance_error_map,
    invariance_error,
    representation_similarity,
    shift_circular,
    shift_zero,
)

SOBEL = np.array([[[[-1, -2, -1], [0, 0, 0], [1, 2, 1]]],          # horizontal edges (d/dy)
                  [[[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]]], np.float32)  # vertical edges (d/dx)
ROUNDING = 1e-6      # relative errors below this are float32 rounding (float32 eps is 1.2e-7)


def conv_stack(mode, seed, pool=False):
    """Three random 3x3 convolutions (receptive radius 3); `pool` adds two 2x2 max pools."""
    rng = np.random.default_rng(seed)
    layers = [Conv2D(1, 8, 3, padding=1, padding_mode=mode, rng=rng), ReLU(),
              *([MaxPool2D(2)] if pool else []),
              Conv2D(8, 8, 3, padding=1, padding_mode=mode, rng=rng), ReLU(),
              *([MaxPool2D(2)] if pool else []),
              Conv2D(8, 8, 3, padding=1, padding_mode=mode, rng=rng)]
    return Sequential(layers)


def load_photo(size):
    """The portrait matplotlib ships, greyscale, block-averaged to (size, size), standardised."""
    img = plt.imread(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    grey = img[20:532, :512].astype(np.float32).mean(axis=2)       # (512, 512), face centred
    k = 512 // size
    small = grey.reshape(size, k, size, k).mean(axis=(1, 3))        # (size, size) block means
    return ((small - small.mean()) / small.std())[None, None]      # (1, 1, size, size)


def verdict(err):
    """How to read one error: exactly zero, float32 rounding, or a real error."""
    if err == 0:
        return "exactly 0 (bit-identical)"
    return "zero up to float32 rounding" if err < ROUNDING else "a real error"


def measured_band(big, shift):
    """Smallest margin r (px) such that no pixel with a real error is farther than r from a
    border (the frame, or the edge where the zero-fill shift let zeros in)."""
    for r in range(max(big.shape)):
        if not (big & border_free_mask(big.shape, shift, r)).any():
            return r
    return max(big.shape)


def readings(main_rows, stride_rows, strides, shifts, inv, radius, band, dense_geometry):
    """The interpretation, one sentence per claim, each chosen by the measured numbers."""
    names = list(main_rows)
    out = [f"{name}: {main_rows[name]:.1e}, {verdict(main_rows[name])}." for name in names]
    out.append(f"Pixels with a real error (> {ROUNDING:.0e} x the largest) lie within {band} px "
               f"of a border; the stack's receptive radius is {radius} px"
               + (", the same." if band == radius else f", {'more' if band > radius else 'less'}."
                  ))
    for name, errs in stride_rows.items():
        exact = [s for s, e in zip(shifts, errs) if e < ROUNDING]
        multiples = [s for s in shifts if s % strides[name] == 0]
        tail = ("the multiples of its stride, as predicted" if exact == multiples
                else f"a convolution of this output stride would be equivariant to {multiples}")
        out.append(f"{name} (output stride {strides[name]}): equivariant (error < "
                   f"{ROUNDING:.0e}) for shifts {exact or 'none'} of {shifts}; {tail}.")
    cos, ratio, err, D = dense_geometry
    noise = 3 / np.sqrt(D)                    # |cos| of two random D-vectors stays below this
    out.append(f"Flatten + Linear: cosine(f(Sx), S f(x)) = {cos:+.2f}, "
               + (f"no larger than for two unrelated random vectors of this size (3/sqrt({D}) = "
                  f"{noise:.2f})" if abs(cos) < noise else
                  f"larger than unrelated random vectors give (3/sqrt({D}) = {noise:.2f})")
               + f"; with norm ratio r = {ratio:.2f} the error sqrt(1 + r^2 - 2 r cos) = "
               f"{err:.2f} (sqrt(2) = 1.41 for cos 0 and r 1).")
    out += [f"invariance of {name}: {e:.1e}, {verdict(e)}." for name, e in inv.items()]
    return out


def main(argv=None):
    p = parser(__doc__, defaults={"shift": (10, 20), "size": 128},
               quick={"shift": (3, 5), "size": 32})
    p.add_argument("--shift", type=int, nargs=2, metavar=("DY", "DX"), help="the shift, pixels")
    p.add_argument("--size", type=int, help="photo side in pixels (divides 512)")
    args = p.parse(argv)
    size, shift = args.size, tuple(args.shift)

    x = load_photo(size)
    sobel = Conv2D(1, 2, 3, padding=1, padding_mode="circular")
    sobel.params["W"][...] = SOBEL
    circ, zero = conv_stack("circular", args.seed), conv_stack("zeros", args.seed)
    zero.load_state_dict(circ.state_dict())                # same weights, other padding
    radius = (rf.theoretical(circ.layers)[-1][0].size - 1) // 2   # 7x7 field: radius 3

    # 1. The main shift: circular padding is exact, zero padding fails only near borders.
    safe = border_free_mask((size, size), shift, radius)
    emap = equivariance_error_map(zero.forward, x, shift, mode="zeros")
    big = emap > ROUNDING * emap.max()                     # pixels with a real (not rounding) error
    main_rows = {
        "Sobel, circular padding": equivariance_error(sobel.forward, x, shift),
        "conv stack, circular padding": equivariance_error(circ.forward, x, shift),
        "conv stack, zero padding (whole image)":
            equivariance_error(zero.forward, x, shift, mode="zeros"),
        f"conv stack, zero padding (> {radius} px from borders*)":
            equivariance_error(zero.forward, x, shift, mode="zeros", mask=safe),
    }
    band = measured_band(big, shift)

    # 2. Strides: equivariant only to multiples of the output stride. Flatten + Linear: never.
    strided = Conv2D(1, 8, 3, stride=2, padding=1, padding_mode="circular", rng=args.seed)
    pool_after = Sequential([*circ.layers, MaxPool2D(2)])
    two_pools = conv_stack("circular", args.seed, pool=True)
    xs = x.reshape(1, 1, size // 4, 4, size // 4, 4).mean(axis=(3, 5))   # (1, 1, size/4, size/4)
    side = size // 4
    dense = Sequential([Flatten(), Linear(side * side, side * side, rng=args.seed)])

    def dense_as_image(v):
        return dense.forward(v).reshape(v.shape)           # (N, side*side) -> (N, 1, side, side)

    shifts = [1, 2, 3, 4]
    maps = {"Conv2D stride 2 (circular)": (strided.forward, 2, x),       # (map, stride, input)
            "conv stack + MaxPool2D(2)": (pool_after.forward, 2, x),
            "conv stack with two 2x2 pools": (two_pools.forward, 4, x),
            f"Flatten + Linear({side * side}->{side * side})": (dense_as_image, 1, xs)}
    stride_rows = {name: [equivariance_error(f, v, (s, s), k) for s in shifts]
                   for name, (f, k, v) in maps.items()}
    strides = {name: k for name, (_, k, _) in maps.items()}
    a, b = dense_as_image(shift_circular(xs, (1, 1))), shift_circular(dense_as_image(xs), (1, 1))
    cos = representation_similarity(a, b)[1]
    ratio = float(np.linalg.norm(a) / np.linalg.norm(b))
    dense_geometry = (cos, ratio, float(np.sqrt(1 + ratio ** 2 - 2 * ratio * cos)), a.size)

    # 3. Invariance: a global average pool forgets where; flatten + linear does not.
    gap = Sequential([*circ.layers, GlobalAvgPool2D()])
    head = Sequential([Flatten(), Linear(size * size, 10, rng=args.seed)])
    invariance_rows = {"conv stack (circular) + GlobalAvgPool2D": invariance_error(gap, x, shift),
                       "Flatten + Linear(-> 10)": invariance_error(head, x, shift)}

    # ---- tables and what they say -----------------------------------------------------------
    print(f"photo {size}x{size}, shift (dy, dx) = {shift}, seed {args.seed}")
    print(f"\n{'map f':52s} ||f(Sx) - S f(x)|| / ||f(x)||")
    for name, err in main_rows.items():
        print(f"{name:52s} {err:.2e}")
    print(f"* borders: the image frame and the photo's shifted edge. Pixels with an error "
          f"farther than {radius} px from them: {int((big & safe).sum())}")
    print(f"\n{'map f (shift (s, s), output moves by s / stride)':52s}"
          + "".join(f"  s={s:<6d}" for s in shifts))
    for name, errs in stride_rows.items():
        print(f"{name:52s}" + "".join(f"  {e:.2e}" for e in errs))
    print(f"\n{'invariance: map f':52s} ||f(Sx) - f(x)|| / ||f(x)||")
    for name, err in invariance_rows.items():
        print(f"{name:52s} {err:.2e}")
    print(f"\nWhat the numbers say (relative errors below {ROUNDING:.0e} count as float32 "
          f"rounding; float32 eps = {np.finfo(np.float32).eps:.1e}):")
    for sentence in readings(main_rows, stride_rows, strides, shifts, invariance_rows, radius,
                             band, dense_geometry):
        print(f"- {sentence}")

    # ---- figures --------------------------------------------------------------------------
    save_figure(plot_shift(x, shift, sobel, circ), args, "equivariance.png", palette=True)
    save_figure(plot_border(x, shift, zero, emap, safe, radius, band), args,
                "equivariance_border.png", palette=True)
    save_figure(plot_strides(stride_rows, shifts), args, "equivariance_stride.png", palette=True)
    finish(args)
    return {"shift": shift, "size": size, "radius": radius, "measured_band": band,
            "main": main_rows, "error_pixels_outside_band": int((big & safe).sum()),
            "error_map": emap, "border_free_mask": safe, "shifts": shifts,
            "stride": stride_rows, "dense_geometry": dense_geometry,
            "invariance": invariance_rows, "figures": args.figures}


# ---- figures (called at the end of main) -------------------------------------------------------
def plot_shift(x, shift, sobel, circ):
    """Input and circularly shifted input, two feature maps of each, and f shifted back - f(x)."""
    dy, dx = shift
    sx = shift_circular(x, shift)
    panels = [("Sobel d/dx", lambda v: sobel.forward(v)[:, 1:2]),
              ("conv stack, channel 0", lambda v: circ.forward(v)[:, 0:1])]
    fig, axes = plt.subplots(3, 3, figsize=(11, 10.5), layout="constrained")
    axes[0, 0].imshow(x[0, 0], cmap="gray")
    axes[0, 0].set_title("input x")
    axes[1, 0].imshow(sx[0, 0], cmap="gray")
    axes[1, 0].set_title(f"S x: x shifted circularly by {shift}")
    for ax in axes[1]:                                     # the seam of the circular shift
        ax.axhline(dy - 0.5, color="gold", ls="--", lw=1)
        ax.axvline(dx - 0.5, color="gold", ls="--", lw=1)
    axes[2, 0].axis("off")
    axes[2, 0].text(0, 0.5, f"circular shift: the last {dy} rows and\n{dx} columns of x come "
                    "back at the\ntop and left; the gold dashed\nlines mark that seam.\n\n"
                    "bottom row: f(S x) shifted back\nby -S, minus f(x); its colour\nscale is "
                    "its own largest |value|\n(or the maps' scale if that is 0)",
                    fontsize=10, va="center")
    for col, (title, f) in enumerate(panels, start=1):
        fx, fsx = f(x)[0, 0], f(sx)[0, 0]
        diff = shift_circular(fsx, (-dy, -dx)) - fx
        lim, d = float(np.abs(fx).max()), float(np.abs(diff).max())
        for row, img, t in [(0, fx, f"f(x), f = {title}"), (1, fsx, "f(S x)")]:
            im = axes[row, col].imshow(img, cmap="RdBu_r", vmin=-lim, vmax=lim)
            axes[row, col].set_title(t)
        fig.colorbar(im, ax=axes[:2, col], shrink=0.6, label="feature value (white = 0)")
        scale = d if d > 0 else lim
        im = axes[2, col].imshow(diff, cmap="RdBu_r", vmin=-scale, vmax=scale)
        fig.colorbar(im, ax=axes[2, col], shrink=0.8, label="difference (white = 0)")
        axes[2, col].set_title(f"S$^{{-1}}$ f(S x) - f(x): max |diff| {d:.1e}\n"
                               + ("every pixel exactly 0" if d == 0 else
                                  f"= {d / lim:.1e} x max |f(x)|"), fontsize=10)
        if d == 0:                                         # an empty panel, and why
            axes[2, col].text(diff.shape[1] / 2, diff.shape[0] / 2,
                              f"0 at all {diff.size:,} pixels", ha="center", va="center")
    for ax in axes.flat:
        ax.set_xlabel("column (px)", fontsize=8)
        ax.set_ylabel("row (px)", fontsize=8)
    fig.suptitle("Circular padding: shift the input and the feature maps shift with it "
                 "(top: f(x); middle: f of the shifted input)")
    return fig


def plot_border(x, shift, zero, emap, safe, radius, band):
    """Zero padding: f(x), f(S x) on one scale, and the per-pixel error map with a legend."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    fx, fsx = zero.forward(x)[0, 0], zero.forward(shift_zero(x, shift))[0, 0]
    lim = float(max(np.abs(fx).max(), np.abs(fsx).max()))
    fig, axes = plt.subplots(1, 3, figsize=(14, 5.6), layout="constrained")
    for ax, img, t in [(axes[0], fx, "f(x), zero padding (channel 0)"),
                       (axes[1], fsx, f"f(S x): x moved by {shift}, zeros fill in")]:
        im = ax.imshow(img, cmap="RdBu_r", vmin=-lim, vmax=lim)
        ax.set_title(t, fontsize=10)
    fig.colorbar(im, ax=axes[:2], shrink=0.7, label="feature value (both panels)")
    filled = shift_zero(np.ones(emap.shape), shift) == 0   # the shift brought no photo here
    floor = ROUNDING * emap.max()
    cmap = plt.get_cmap("magma").with_extremes(under="black", bad="0.75")
    shown = np.ma.masked_where(filled, np.maximum(emap, 0.5 * floor))   # zeros -> "under"
    im = axes[2].imshow(shown, cmap=cmap,
                        norm=matplotlib.colors.LogNorm(vmin=floor, vmax=emap.max()))
    axes[2].contour(safe, levels=[0.5], colors="cyan", linewidths=1, linestyles="--")
    fig.colorbar(im, ax=axes[2], shrink=0.7, extend="min",
                 label="|f(Sx) - S f(x)| per pixel / ||S f(x)|| (log)")
    axes[2].set_title(f"per-pixel error: real errors lie within {band} px\nof a border "
                      f"(receptive radius {radius} px)", fontsize=10)
    axes[2].legend(handles=[
        Patch(color="0.75", label="not compared: the shift brought no photo here"),
        Patch(color="black", label=f"error < {ROUNDING:.0e} x max: zero up to rounding"),
        Line2D([], [], color="cyan", ls="--", label=f"pixels > {radius} px from every border")],
        loc="upper center", bbox_to_anchor=(0.5, -0.1), fontsize=8)
    for ax in axes:
        ax.set_xlabel("column (px)")
        ax.set_ylabel("row (px)")
    fig.suptitle("Zero padding: f(S x) against S f(x), the same random conv stack")
    return fig


def plot_strides(stride_rows, shifts):
    """Bars of the equivariance error per shift, each labelled with its value."""
    fig, ax = plt.subplots(figsize=(10, 4.6), layout="constrained")
    width = 0.8 / len(stride_rows)
    for k, (name, errs) in enumerate(stride_rows.items()):
        pos = np.arange(len(shifts)) + (k - (len(stride_rows) - 1) / 2) * width
        bars = ax.bar(pos, errs, width, label=name)
        ax.bar_label(bars, [("0" if e == 0 else f"{e:.0e}") if e < ROUNDING else f"{e:.2f}"
                            for e in errs], fontsize=7)
    ax.axhline(np.sqrt(2), color="k", ls=":", lw=1, label="sqrt(2): two unrelated outputs")
    ax.set_xticks(range(len(shifts)), [f"input shift ({s}, {s}) px" for s in shifts])
    ax.set_ylabel("||f(Sx) - S' f(x)|| / ||f(x)||")
    ax.set_ylim(0, 1.15 * max(max(e) for e in stride_rows.values()))
    ax.set_title("Equivariance error through strides and pools (S' = the shift divided by the "
                 f"output stride;\nbars labelled with their value; below {ROUNDING:.0e}: float32 "
                 "rounding, '0': exactly 0)", fontsize=10)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    return fig


if __name__ == "__main__":
    main()
