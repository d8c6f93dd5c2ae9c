"""Shift a photo and the feature maps shift with it: convolution is translation-equivariant.

    Sobel:  Conv2D(1, 2, 3, padding=1)  with hand-set horizontal / vertical edge kernels
    stack:  Conv2D(1, 8, 3, p=1) ReLU Conv2D(8, 8, 3, p=1) ReLU Conv2D(8, 8, 3, p=1)  (random)

For each map f we measure the normalised equivariance error ||f(S x) - S f(x)|| / ||f(x)||:
- circular padding: zero up to float32 rounding (the image has no border at all);
- zero padding: zero except within the receptive radius (3 pixels here) of a border;
- stride 2 (strided conv, 2x2 max pooling): zero for even shifts only; two pools: multiples of 4;
- flatten + fully connected: large for every shift, the matrix has no shift structure at all.
A global average pool over the circular stack is then INVARIANT (its output does not move).

Run: python demos/equivariance.py [--shift 10 20] [--size 128] [--out figures]
"""

import matplotlib
from common import finish, parser, save_figure

matplotlib.rcParams["image.interpolation"] = "nearest"   # crisp pixels, small PNGs
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import cbook

from minicnn import Conv2D, Flatten, GlobalAvgPool2D, Linear, MaxPool2D, ReLU, Sequential
from minicnn.measure.equivariance import (
    border_free_mask,
    equivariance_error,
    equivariance_error_map,
    invariance_error,
    shift_circular,
    shift_zero,
)

SOBEL = np.array([[[[-1, -2, -1], [0, 0, 0], [1, 2, 1]]],          # horizontal edges (d/dy)
                  [[[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]]], np.float32)  # vertical edges (d/dx)


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


def main(argv=None):
    p = parser(__doc__, defaults={"shift": (10, 20), "size": 128},
               quick={"shift": (3, 5), "size": 32})
    p.add_argument("--shift", type=int, nargs=2, metavar=("DY", "DX"), help="the shift")
    p.add_argument("--size", type=int, help="photo side (divides 512)")
    args = p.parse(argv)
    size, shift = args.size, tuple(args.shift)

    x = load_photo(size)
    sobel = Conv2D(1, 2, 3, padding=1, padding_mode="circular")
    sobel.params["W"][...] = SOBEL
    circ, zero = conv_stack("circular", args.seed), conv_stack("zeros", args.seed)
    zero.load_state_dict(circ.state_dict())                # same weights, other padding
    radius = 3                                             # three 3x3 convs: 1 + 1 + 1

    # 1. The main shift: circular padding is exact, zero padding fails only near borders.
    safe = border_free_mask((size, size), shift, radius)
    emap = equivariance_error_map(zero.forward, x, shift, mode="zeros")
    big = emap > 1e-5 * emap.max()                         # pixels with a real (not rounding) error
    main_rows = {
        "Sobel, circular padding": equivariance_error(sobel.forward, x, shift),
        "conv stack, circular padding": equivariance_error(circ.forward, x, shift),
        "conv stack, zero padding (whole image)":
            equivariance_error(zero.forward, x, shift, mode="zeros"),
        f"conv stack, zero padding (> {radius} px from borders*)":
            equivariance_error(zero.forward, x, shift, mode="zeros", mask=safe),
    }
    error_pixels_outside_band = int((big & safe).sum())

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
    stride_rows = {
        "Conv2D stride 2 (circular)": [equivariance_error(strided.forward, x, (s, s), 2)
                                       for s in shifts],
        "conv stack + MaxPool2D(2)": [equivariance_error(pool_after.forward, x, (s, s), 2)
                                      for s in shifts],
        "conv stack with two 2x2 pools": [equivariance_error(two_pools.forward, x, (s, s), 4)
                                          for s in shifts],
        f"Flatten + Linear({side * side}->{side * side})":
            [equivariance_error(dense_as_image, xs, (s, s)) for s in shifts],
    }

    # 3. Invariance: a global average pool forgets where; flatten + linear does not.
    gap = Sequential([*circ.layers, GlobalAvgPool2D()])
    head = Sequential([Flatten(), Linear(size * size, 10, rng=args.seed)])
    invariance_rows = {"conv stack (circular) + GlobalAvgPool2D": invariance_error(gap, x, shift),
                       "Flatten + Linear(-> 10)": invariance_error(head, x, shift)}

    # ---- tables ---------------------------------------------------------------------------
    print(f"photo {size}x{size}, shift (dy, dx) = {shift}")
    print(f"\n{'map f':52s} ||f(Sx) - S f(x)|| / ||f(x)||")
    for name, err in main_rows.items():
        print(f"{name:52s} {err:.2e}")
    print(f"* borders: the image frame and the photo's shifted edge. Pixels with an error "
          f"farther than {radius} px from them: {error_pixels_outside_band}")
    print(f"\n{'map f (shift (s, s), output moves by s / stride)':52s}"
          + "".join(f"  s={s:<6d}" for s in shifts))
    for name, errs in stride_rows.items():
        print(f"{name:52s}" + "".join(f"  {e:.2e}" for e in errs))
    print(f"\n{'invariance: map f':52s} ||f(Sx) - f(x)|| / ||f(x)||")
    for name, err in invariance_rows.items():
        print(f"{name:52s} {err:.2e}")

    # ---- figures --------------------------------------------------------------------------
    sx = shift_circular(x, shift)
    panels = [("Sobel d/dx (circular)", lambda v: sobel.forward(v)[:, 1:2]),
              ("conv stack ch 0 (circular)", lambda v: circ.forward(v)[:, 0:1])]
    fig, axes = plt.subplots(3, 3, figsize=(9, 9.3))
    axes[0, 0].imshow(x[0, 0], cmap="gray")
    axes[0, 0].set_title("input x")
    axes[1, 0].imshow(sx[0, 0], cmap="gray")
    axes[1, 0].set_title(f"shifted input S x, shift {shift}")
    axes[2, 0].axis("off")
    axes[2, 0].text(0, 0.5, "bottom row:\nS$^{-1}$ f(S x) - f(x)\n(same colour scale\n"
                    "as the maps above;\nwhite = 0)", fontsize=11, va="center")
    for col, (title, f) in enumerate(panels, start=1):
        fx, fsx = f(x)[0, 0], f(sx)[0, 0]
        diff = shift_circular(fsx, (-shift[0], -shift[1])) - fx
        lim = np.abs(fx).max()
        for row, img, t in [(0, fx, f"f(x): {title}"), (1, fsx, "f(S x)"),
                            (2, diff, f"shifted back - f(x)\nmax |diff| = {np.abs(diff).max():.1e}")]:
            axes[row, col].imshow(img, cmap="RdBu_r", vmin=-lim, vmax=lim)
            axes[row, col].set_title(t, fontsize=10)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("Convolution is equivariant: shift the input, the feature map shifts with it")
    fig.tight_layout()
    save_figure(fig, args, "equivariance.png", palette=True)

    fig, axes = plt.subplots(1, 3, figsize=(12, 4.9))
    szx = shift_zero(x, shift)
    axes[0].imshow(zero.forward(x)[0, 0], cmap="RdBu_r")
    axes[0].set_title("f(x), zero padding (channel 0)")
    axes[1].imshow(zero.forward(szx)[0, 0], cmap="RdBu_r")
    axes[1].set_title(f"f(S x), zero-fill shift {shift}")
    floor = 1e-6 * emap.max()                              # log scale: rounding shows as black
    im = axes[2].imshow(np.maximum(emap, floor), cmap="magma",
                        norm=matplotlib.colors.LogNorm(vmin=floor, vmax=emap.max()))
    axes[2].contour(safe, levels=[0.5], colors="cyan", linewidths=1, linestyles="--")
    axes[2].set_title(f"per-pixel error |f(Sx) - S f(x)| (log scale): zero\ninside the cyan "
                      f"box, i.e. > {radius} px from the frame\nand from the photo's shifted edge",
                      fontsize=10)
    fig.colorbar(im, ax=axes[2], fraction=0.046)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("Zero padding: equivariance fails only where a kernel sees the border")
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    save_figure(fig, args, "equivariance_border.png", palette=True)

    fig, ax = plt.subplots(figsize=(8, 4.2))
    width = 0.8 / len(stride_rows)
    for k, (name, errs) in enumerate(stride_rows.items()):
        pos = np.arange(len(shifts)) + (k - (len(stride_rows) - 1) / 2) * width
        ax.bar(pos, errs, width, label=name)
        for p_, e in zip(pos, errs):
            if e < 1e-5:
                ax.text(p_, 0.02, "0", ha="center", fontsize=9)
    ax.set_xticks(range(len(shifts)), [f"shift ({s}, {s})" for s in shifts])
    ax.set_ylabel("||f(Sx) - S' f(x)|| / ||f(x)||")
    ax.set_ylim(0, 1.25 * max(max(e) for e in stride_rows.values()))
    ax.set_title("Strides and pooling: equivariant only to multiples of the stride\n"
                 "(S' = the shift divided by the stride; '0' = zero up to rounding)", fontsize=10)
    ax.legend(fontsize=8, ncol=2, loc="upper center")
    fig.tight_layout()
    save_figure(fig, args, "equivariance_stride.png", palette=True)

    finish(args)
    return {"shift": shift, "size": size, "radius": radius, "main": main_rows,
            "error_pixels_outside_band": error_pixels_outside_band,
            "error_map": emap, "border_free_mask": safe, "shifts": shifts,
            "stride": stride_rows, "invariance": invariance_rows, "figures": args.figures}


if __name__ == "__main__":
    main()
