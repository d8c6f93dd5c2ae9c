"""What a unit looks at: theoretical and effective receptive fields, and top-activating patches.

theoretical(layers): for every layer, the square of input pixels that can reach one output unit,
from kernel sizes, strides and paddings alone. effective(layers, k, X): how strongly each input
pixel does reach the central unit of layer k (Luo et al., NeurIPS 2016): |d unit / d input| by
minicnn's own backward passes, averaged over inputs. top_patches(layers, k, X, channels): the
input crops that excite a channel most (Zeiler and Fergus, ECCV 2014, simplest form).
"""

from dataclasses import dataclass

import numpy as np

from ..layers import AvgPool2D, Conv2D, MaxPool2D, ReLU
from ..layers.base import ShapeError, check_int

GRID_KEEPERS = (ReLU,)           # element-wise layers: the field passes through unchanged
WINDOWED = (Conv2D, MaxPool2D, AvgPool2D)


@dataclass(frozen=True)
class Field:
    """The receptive field of one layer's units, along rows (columns are given separately).

    size: input pixels one unit sees; jump: input pixels between neighbouring units;
    start: first input pixel of unit 0 (negative: it begins in the padding). Unit i sees input
    pixels start + i * jump ... start + i * jump + size - 1.
    """

    size: int
    jump: int
    start: int

    def span(self, i):
        """(first, last + 1) input pixels of unit i, not clipped to the input."""
        first = self.start + i * self.jump
        return first, first + self.size


def _pads(layer):
    """(top, left) padding of a windowed layer."""
    return (layer.pads[0], layer.pads[2]) if isinstance(layer, Conv2D) else (0, 0)


def theoretical(layers):
    """The theoretical receptive field after every layer, as a list of (rows, cols) Fields.

    layers: a Sequential or a list of layers; Conv2D, MaxPool2D, AvgPool2D and ReLU are
    understood. Any other layer (Flatten, Linear, global pools, ...) raises a TypeError naming it.
    """
    rows, cols = Field(1, 1, 0), Field(1, 1, 0)             # the input: each pixel sees itself
    out = []
    for i, layer in enumerate(layers):
        if isinstance(layer, WINDOWED):
            fields = []
            for field, k, s, p in zip((rows, cols), layer.kernel_size, layer.stride,
                                      _pads(layer)):
                fields.append(Field(field.size + (k - 1) * field.jump, field.jump * s,
                                    field.start - p * field.jump))
            rows, cols = fields
        elif not isinstance(layer, GRID_KEEPERS):
            raise TypeError(f"receptive_field.theoretical: layer {i} {layer!r} does not keep a "
                            f"pixel grid (only Conv2D, MaxPool2D, AvgPool2D, ReLU are understood)")
        out.append((rows, cols))
    return out


def layer_index(layers, k, where):
    """k as an index from 0 into `layers`; a negative k counts from the end, as in Python
    (-1: the last layer)."""
    n = len(layers)
    k = check_int(k, "k", where)
    if not -n <= k < n:
        raise IndexError(f"{where}: k={k} is not a layer of this {n}-layer network (k must be "
                         f"in 0..{n - 1}, or -{n}..-1 counting from the end)")
    return k % n


def forward_to(layers, k, x):
    """The output of layers[k] for input x (N, C, H, W), every layer's cache kept for backward.
    k may be negative, counting from the end."""
    layers = list(layers)
    for layer in layers[:layer_index(layers, k, "forward_to") + 1]:
        x = layer.forward(x)
    return x


def effective(layers, k, X):
    """The effective receptive field of the central unit of layer k: (H, W) mean |gradient|.

    k: a layer index (negative counts from the end: -1 is the last layer); X: inputs
    (N, C, H, W). The gradient of the sum over channels of the central unit
    (h // 2, w // 2) of layers[k]'s output, with respect to the input, by each layer's backward;
    its absolute value is summed over input channels and averaged over the N inputs.
    Returns (erf (H, W), (row, col) of the central unit).
    """
    layers = list(layers)
    k = layer_index(layers, k, "effective")
    out = forward_to(layers, k, X.astype(np.float64, copy=False))
    if out.ndim != 4:
        raise ShapeError(f"effective: layer {k} ({layers[k]!r}) gives output of shape "
                         f"{out.shape}, not feature maps (N, C, h, w) with a central unit")
    h, w = out.shape[-2:]
    centre = (h // 2, w // 2)
    dout = np.zeros_like(out)
    dout[:, :, centre[0], centre[1]] = 1.0                      # one-hot at the centre
    for layer in reversed(layers[:k + 1]):
        dout = layer.backward(dout)
    return np.abs(dout).sum(axis=1).mean(axis=0), centre       # (H, W)


def effective_size(erf, rows, cols, centre):
    """The side of the uniform square whose spread matches the gradient's: sqrt(12) * std.

    erf (H, W); rows, cols: the layer's Fields; centre: (row, col) of the unit. std is the
    root-mean-square distance of the |gradient| mass from the centre of the unit's theoretical
    field, averaged over rows and columns. A flat field gives its theoretical size; a gradient
    piled up in the middle (Gaussian-like, Luo et al.) gives less. Returns a float (pixels).
    """
    total = erf.sum()
    if total == 0:
        return 0.0
    (r0, r1), (c0, c1) = rows.span(centre[0]), cols.span(centre[1])
    mid_r, mid_c = (r0 + r1 - 1) / 2, (c0 + c1 - 1) / 2
    H, W = erf.shape
    var_r = (erf.sum(axis=1) * (np.arange(H) - mid_r) ** 2).sum() / total
    var_c = (erf.sum(axis=0) * (np.arange(W) - mid_c) ** 2).sum() / total
    return float(np.sqrt(12 * (var_r + var_c) / 2))


def crop(image, rows, cols, i, j, fill=np.nan):
    """The input pixels unit (i, j) sees: image (C, H, W) -> (C, rows.size, cols.size).

    Pixels of the field outside the image (the padding) are `fill`.
    """
    C, H, W = image.shape
    (r0, r1), (c0, c1) = rows.span(i), cols.span(j)
    patch = np.full((C, rows.size, cols.size), fill, dtype=np.float64)
    rr, cc = slice(max(r0, 0), min(r1, H)), slice(max(c0, 0), min(c1, W))
    patch[:, rr.start - r0:rr.stop - r0, cc.start - c0:cc.stop - c0] = image[:, rr, cc]
    return patch


def check_channels(channels, out, layer):
    """Channel indices as a list of ints in range for `out` (N, F, h, w); negatives count from
    the end."""
    if out.ndim != 4:
        raise ShapeError(f"top_patches: {layer!r} gives output of shape {out.shape}, not "
                         "feature maps (N, C, h, w) whose channels have patches")
    F = out.shape[1]
    channels = [channels] if isinstance(channels, (int, np.integer)) else list(channels)
    bad = [c for c in channels
           if not isinstance(c, (int, np.integer)) or isinstance(c, bool) or not -F <= c < F]
    if bad or not channels:
        raise IndexError(f"top_patches: channels must be ints in 0..{F - 1} ({layer!r} has {F} "
                         f"output channels), got {bad or 'none'}")
    return [int(c) % F for c in channels]


def top_patches(layers, k, X, channels, n_top=9, batch_size=256):
    """The input patches that activate each chosen channel of layers[k] most.

    k: a layer index (negative counts from the end); X: inputs (N, C, H, W); channels: channel
    indices of layers[k]'s output (negative ones count from the end). Each input counts
    once, at its most active unit. Returns a dict: "value" (len(channels), n_top) activations,
    "image" (len(channels), n_top) indices into X, "unit" (len(channels), n_top, 2) the unit's
    (row, col), "patch" (len(channels), n_top, C, size, size) crops of the theoretical field
    (NaN outside the input), best first.
    """
    n_top = check_int(n_top, "n_top", "top_patches", minimum=1)
    layers = list(layers)
    k = layer_index(layers, k, "top_patches")
    rows, cols = theoretical(layers[:k + 1])[k]
    channels = check_channels(channels, forward_to(layers, k, X[:1]), layers[k])
    acts = np.concatenate([forward_to(layers, k, X[s:s + batch_size])[:, channels]
                           for s in range(0, len(X), batch_size)])          # (N, K, h, w)
    N, K, h, w = acts.shape
    flat = acts.reshape(N, K, h * w)                                           # (N, K, h*w)
    best_unit = flat.argmax(axis=2)                                            # (N, K)
    best_value = np.take_along_axis(flat, best_unit[..., None], axis=2)[..., 0]
    order = np.argsort(-best_value, axis=0, kind="stable")[:n_top].T           # (K, n_top)
    value = np.take_along_axis(best_value.T, order, axis=1)
    unit = np.stack(np.divmod(np.take_along_axis(best_unit.T, order, axis=1), w), axis=-1)
    patch = np.array([[crop(X[n], rows, cols, *unit[c, t]) for t, n in enumerate(order[c])]
                      for c in range(K)])
    return {"value": value, "image": order, "unit": unit, "patch": patch}
