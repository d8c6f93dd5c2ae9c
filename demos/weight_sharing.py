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
from minicnn.measure.equivariance import conv_as_dense_matrix, dense_weight_ties, sum_tied_gradients


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
    copies = np.bincount(ties[ties >= 0], minlength=conv.params["W"].size)

    print(f"{conv!r} on {size}x{size} images, as a {M.shape[0]} x {M.shape[1]} dense matrix")
    print(f"\n{'check':48s} value")
    print(f"{'max |dense output - conv output|':48s} {output_diff:.2e}")
    print(f"{'max |sum of tied dM - conv dW|':48s} {grad_diff:.2e}  (|dW| up to {grad_scale:.2f})")
    print(f"\n{'layer':48s} parameters")
    print(f"{'Conv2D (kernel + bias)':48s} {conv_params:,}")
    print(f"{f'Linear({P} -> {F * P}), same input/output size':48s} {fc_params:,}")
    print(f"{'ratio':48s} {fc_params / conv_params:.0f}x")
    print(f"\nthe dense matrix has {M.size:,} entries: {nonzero_entries:,} are copies of the "
          f"{conv.params['W'].size} kernel weights ({copies.min()} to {copies.max()} copies "
          f"each), the other {M.size - nonzero_entries:,} are structurally zero")

    # ---- figure ---------------------------------------------------------------------------
    fig, axes = plt.subplots(1, 4, figsize=(15, 5.2),
                             gridspec_kw={"width_ratios": [0.6, 1, 1, 1]})
    kernels = conv.params["W"][:, 0]                         # (F, 3, 3)
    lim = np.abs(kernels).max()
    mosaic = np.concatenate([np.pad(k, ((0, 1), (0, 0)), constant_values=np.nan)
                             for k in kernels])[:-1]         # kernels stacked, a blank row between
    axes[0].imshow(mosaic, cmap="RdBu_r", vmin=-lim, vmax=lim)
    axes[0].set_title(f"the {F} kernels (3x3):\n{conv_params} parameters")
    masked = np.where(ties >= 0, M, np.nan)                  # white = structurally zero
    axes[1].imshow(masked, cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto",
                   interpolation="nearest")
    axes[1].set_title(f"the same conv as a {M.shape[0]}x{M.shape[1]} matrix:\n"
                      "tied weights = repeated diagonal bands")
    axes[1].set_xlabel("input pixel")
    axes[1].set_ylabel("output (channel, pixel)")
    W_fc = fc.params["W"]
    axes[2].imshow(W_fc, cmap="RdBu_r", vmin=-np.abs(W_fc).max(), vmax=np.abs(W_fc).max(),
                   aspect="auto", interpolation="nearest")
    axes[2].set_title(f"a fully connected layer of the same size:\n{fc_params:,} free parameters")
    axes[2].set_xlabel("input pixel")
    axes[3].scatter(conv.grads["W"].ravel(), dW_from_dense.ravel(), s=30)
    g = grad_scale * 1.1
    axes[3].plot([-g, g], [-g, g], "k--", lw=0.8)
    axes[3].set_xlabel("conv kernel gradient dW (backward)")
    axes[3].set_ylabel("sum of dL/dM over each weight's copies")
    axes[3].set_title(f"gradients agree: max diff {grad_diff:.1e}")
    axes[3].set_aspect("equal")
    for ax in axes[:1]:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    save_figure(fig, args, "weight_sharing.png")
    finish(args)
    return {"dense_shape": M.shape, "output_max_abs_diff": output_diff,
            "grad_max_abs_diff": grad_diff, "grad_scale": grad_scale,
            "conv_params": conv_params, "fc_params": fc_params,
            "nonzero_entries": nonzero_entries, "copies_per_weight": copies,
            "figures": args.figures}


if __name__ == "__main__":
    main()
