"""A convolution is a fully connected layer whose weights are tied: the same 9 numbers, reused.

    conv:   Conv2D(1, 2, kernel_size=3, padding=1) on 8x8 images  -> (2, 8, 8) output
    dense:  the (2*8*8) x (8*8) = 128 x 64 matrix M with conv(x).ravel() = M @ x.ravel() + b

We build M by pushing each of the 64 basis images through the convolution, check that it gives
the same outputs, plot it (each kernel weight appears once per output position, so M is made of
repeated diagonal bands and zeros), count parameters against a free fully connected layer of the
same input and output size, and check that the kernel gradient is the SUM of the gradients of
all the matrix entries that hold a copy of that weight.

Run: python demos/weight_sharing.py [--size 8] [--out-channels 2] [--padding-mode zeros]
"""

import matplotlib.pyplot as plt
import numpy as np
from common import finish, parser, save_figure

from minicnn import Conv2D, Linear, load_digits
from minicnn.measure.equivariance import (
    conv_as_dense_matrix,
    dense_weight_ties,
    sum_tied_gradients,
)

ROUNDING = 1e-12     # float64: relative differences below this are rounding


def same(diff, scale):
    """How to read a difference: exactly equal, equal up to rounding, or different."""
    if diff == 0:
        return "identical"
    return ("equal up to float64 rounding" if diff < ROUNDING * max(scale, 1.0)
            else "DIFFERENT beyond rounding")


def readings(output_diff, out_scale, grad_diff, grad_scale, conv, M, copies, nonzero, fc_params):
    """The interpretation, each sentence chosen by the measured numbers."""
    W, b = conv.params["W"], conv.params["b"]
    conv_params = W.size + b.size
    return [
        (f"Outputs: the {M.shape[0]}x{M.shape[1]} matrix and the convolution are "
         f"{same(output_diff, out_scale)} (max difference {output_diff:.1e})."),
        (f"Gradients: the kernel gradient and the sum of dL/dM over each weight's copies are "
         f"{same(grad_diff, grad_scale)} (max difference {grad_diff:.1e})."),
        (f"Parameters: {W.size} kernel weights + {b.size} biases = {conv_params}; a free fully "
         f"connected layer of the same size has {fc_params:,}, {fc_params / conv_params:.0f}x "
         "more."),
        (f"Of the matrix's {M.size:,} entries {nonzero:,} ({nonzero / M.size:.0%}) are copies of "
         f"the {W.size} kernel weights, "
         + (f"{copies.min()}" if copies.min() == copies.max() else
            f"{copies.min()} to {copies.max()}") + " copies each"
         + ("" if copies.min() == copies.max() else
            " (fewer for weights whose copies would fall on the zero padding)")
         + f"; the other {M.size - nonzero:,} are structurally zero."),
    ]


def main(argv=None):
    p = parser(__doc__, defaults={"size": 8, "out_channels": 2, "padding_mode": "zeros"},
               quick={"size": 6})
    p.add_argument("--size", type=int, help="image side (the digits are 8x8)")
    p.add_argument("--out-channels", type=int, help="output channels of the convolution")
    p.add_argument("--padding-mode", choices=("zeros", "circular"), help="how the conv pads")
    args = p.parse(argv)
    size = args.size
    rng = np.random.default_rng(args.seed)

    # float64 throughout: this demo compares two computations, so rounding should not blur it.
    conv = Conv2D(1, args.out_channels, 3, padding=1, padding_mode=args.padding_mode, rng=rng,
                  dtype=np.float64)
    conv.params["b"][:] = rng.standard_normal(args.out_channels)
    digits = load_digits(dtype=np.float64)[0][:16, :, :size, :size]   # (16, 1, size, size)
    N, F, P = len(digits), args.out_channels, size * size

    # 1. The same map, two ways.
    M = conv_as_dense_matrix(conv, (1, size, size))          # (F*P, P)
    out_conv = conv.forward(digits)                          # (N, F, size, size)
    out_dense = digits.reshape(N, P) @ M.T + np.repeat(conv.params["b"], P)   # (N, F*P)
    output_diff = float(np.abs(out_dense - out_conv.reshape(N, F * P)).max())

    # 2. Parameters: tied kernel vs free matrix of the same shape.
    fc = Linear(P, F * P, rng=args.seed)
    conv_params = sum(p.size for p in conv.params.values())
    fc_params = sum(p.size for p in fc.params.values())
    ties = dense_weight_ties(conv, (1, size, size))          # which kernel weight each entry is
    nonzero_entries = int((ties >= 0).sum())

    # 3. Gradients: dL/dW[k] = sum of dL/dM over every entry of M that is a copy of W[k].
    dout = rng.standard_normal(out_conv.shape)               # any upstream gradient
    conv.backward(dout)
    dM = dout.reshape(N, F * P).T @ digits.reshape(N, P)     # (F*P, N) @ (N, P): dL/dM of M x
    dW_from_dense = sum_tied_gradients(dM, ties, conv.params["W"].shape)
    grad_diff = float(np.abs(dW_from_dense - conv.grads["W"]).max())
    grad_scale = float(np.abs(conv.grads["W"]).max())
    out_scale = float(np.abs(out_conv).max())
    copies = np.bincount(ties[ties >= 0], minlength=conv.params["W"].size)

    print(f"{conv!r} on {size}x{size} images, as a {M.shape[0]} x {M.shape[1]} dense matrix")
    print(f"\n{'check':48s} value")
    print(f"{'max |dense output - conv output|':48s} {output_diff:.2e}  (|output| up to "
          f"{out_scale:.2f})")
    print(f"{'max |sum of tied dM - conv dW|':48s} {grad_diff:.2e}  (|dW| up to {grad_scale:.2f})")
    print(f"\n{'layer':48s} parameters")
    print(f"{'Conv2D (kernel + bias)':48s} {conv_params:,}")
    print(f"{f'Linear({P} -> {F * P}), same input/output size':48s} {fc_params:,}")
    print(f"{'ratio':48s} {fc_params / conv_params:.0f}x")
    print(f"\nWhat the numbers say (float64; a difference below {ROUNDING:.0e} x the values' "
          "size counts as rounding):")
    for sentence in readings(output_diff, out_scale, grad_diff, grad_scale, conv, M, copies,
                             nonzero_entries, fc_params):
        print(f"- {sentence}")

    save_figure(plot(conv, M, ties, fc, dW_from_dense, grad_diff, conv_params, fc_params), args,
                "weight_sharing.png")
    finish(args)
    return {"dense_shape": M.shape, "output_max_abs_diff": output_diff,
            "grad_max_abs_diff": grad_diff, "grad_scale": grad_scale,
            "conv_params": conv_params, "fc_params": fc_params,
            "nonzero_entries": nonzero_entries, "copies_per_weight": copies,
            "figures": args.figures}


def plot(conv, M, ties, fc, dW_from_dense, grad_diff, conv_params, fc_params):
    """Kernels, the same conv as a dense matrix (one colour scale), a free layer, gradients."""
    fig, axes = plt.subplots(1, 4, figsize=(17.5, 6.2), layout="constrained",
                             gridspec_kw={"width_ratios": [0.55, 1, 1, 1]})
    W, b = conv.params["W"], conv.params["b"]
    F = W.shape[0]
    kernels = W[:, 0]                                        # (F, 3, 3)
    lim = np.abs(kernels).max()
    mosaic = np.concatenate([np.pad(k, ((0, 1), (0, 0)), constant_values=np.nan)
                             for k in kernels])[:-1]         # (4F - 1, 3): a blank row between
    axes[0].imshow(mosaic, cmap="RdBu_r", vmin=-lim, vmax=lim)
    for (i, j), v in np.ndenumerate(mosaic):
        if not np.isnan(v) and F <= 4:
            axes[0].text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=8)
    axes[0].set_yticks([4 * f + 1 for f in range(F)],
                       [f"kernel {f}\n(out ch {f})\nbias {b[f]:.2f}" for f in range(F)],
                       fontsize=8)
    axes[0].set_xticks(range(3))
    axes[0].set_xlabel("kernel column")
    axes[0].set_title(f"{F} kernels: {W.size} weights\n+ {b.size} biases = {conv_params} "
                      "parameters", fontsize=10)
    masked = np.where(ties >= 0, M, np.nan)                  # white = structurally zero
    im = axes[1].imshow(masked, cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
    fig.colorbar(im, ax=axes[:2], shrink=0.7, label="weight (kernels and matrix; white: 0)")
    axes[1].set_title(f"the same conv as a {M.shape[0]}x{M.shape[1]} matrix: each kernel\n"
                      "weight repeated along a diagonal band (white: structural 0)", fontsize=10)
    axes[1].set_xlabel("input pixel (row-major)")
    axes[1].set_ylabel("output (channel, pixel), row-major")
    W_fc = fc.params["W"]
    im = axes[2].imshow(W_fc, cmap="RdBu_r", vmin=-np.abs(W_fc).max(), vmax=np.abs(W_fc).max(),
                        aspect="auto")
    fig.colorbar(im, ax=axes[2], shrink=0.7, label="weight (random init)")
    axes[2].set_title(f"a fully connected layer of the same size:\n{fc_params:,} free "
                      "parameters", fontsize=10)
    axes[2].set_xlabel("input pixel (row-major)")
    axes[2].set_ylabel("output")
    g = 1.1 * np.abs(conv.grads["W"]).max()
    axes[3].scatter(conv.grads["W"].ravel(), dW_from_dense.ravel(), s=30)
    axes[3].plot([-g, g], [-g, g], "k--", lw=0.8, label="y = x")
    axes[3].legend(fontsize=8)
    axes[3].set_ylabel("dW through the matrix: the sum of dL/dM over\nthe entries of M that copy "
                       "the weight")
    axes[3].set_title(f"a shared weight's gradient = the sum\nover its copies: one point per "
                      f"weight ({W.size}),\nmax difference {grad_diff:.1e}", fontsize=10)
    axes[3].set_xlabel("dW from the conv's own backward\n\n"
                       "Backprop through the matrix M (second panel)\ngives dL/dM for every entry. "
                       "Each kernel weight\nis copied into many entries; adding up their\n"
                       "dL/dM gives that weight's gradient. On the line\ny = x, the conv's dW "
                       "equals this sum.", fontsize=9)
    axes[3].set_aspect("equal")
    fig.suptitle("A convolution is a fully connected layer with tied weights: "
                 f"{conv_params} parameters against {fc_params:,}")
    return fig


if __name__ == "__main__":
    main()
