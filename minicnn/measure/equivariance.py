"""Measuring what a network does with a shifted input.

A map f is translation-EQUIVARIANT when shifting the input shifts the output the same way,
f(S x) = S f(x); it is INVARIANT when the output does not move at all, f(S x) = f(x). These
helpers put a number on both, show where in the image the equivariance fails (a per-pixel map),
compare representations by cosine similarity, and unroll a convolution into the dense matrix
that does the same job, so that its tied weights can be seen and counted.

Shifts are (dy, dx) pixels on the last two axes; positive moves the content down and right.
"""

import math

import numpy as np

from ..layers.base import ShapeError, as_pair
from ..layers.conv import conv2d_fast


def _is_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def as_shift(shift, where):
    """(dy, dx) as ints. A shift is a vector: a lone int could mean (s, s) or (0, s), so it is
    refused rather than guessed."""
    if not (isinstance(shift, (tuple, list, np.ndarray)) and len(shift) == 2
            and all(_is_int(v) for v in shift)):
        hint = (f"; for {shift} pixel(s) to the right write ({0}, {shift}), diagonally "
                f"({shift}, {shift})" if _is_int(shift) else "")
        raise TypeError(f"{where}: shift must be a pair of ints (dy, dx), positive down and "
                        f"right, got {shift!r}{hint}")
    return int(shift[0]), int(shift[1])


def check_maps(out, what, where):
    """`out` must have a pixel grid on its last two axes: (N, C, H, W) feature maps."""
    if np.ndim(out) < 3:
        raise ShapeError(f"{where}: {what} has shape {np.shape(out)}, but equivariance compares "
                         "feature maps (N, C, H, W) shifted on their last two axes; a "
                         "classifier's (N, K) logits have no pixel grid: measure the "
                         "convolutional layers (e.g. Sequential(model.layers[:k])), or use "
                         "invariance_error for the logits")


# --------------------------------------------------------------------------------------------
# Shifting images.
# --------------------------------------------------------------------------------------------
def shift_circular(x, shift):
    """Roll the last two axes by shift = (dy, dx): what leaves one side comes back on the other."""
    return np.roll(x, shift=as_shift(shift, "shift_circular"), axis=(-2, -1))


def shift_zero(x, shift):
    """Move the content of the last two axes by (dy, dx); what leaves is lost, zeros come in."""
    dy, dx = as_shift(shift, "shift_zero")
    H, W = x.shape[-2:]
    out = np.zeros_like(x)
    if abs(dy) >= H or abs(dx) >= W:
        return out
    src_r, dst_r = slice(max(0, -dy), H - max(0, dy)), slice(max(0, dy), H - max(0, -dy))
    src_c, dst_c = slice(max(0, -dx), W - max(0, dx)), slice(max(0, dx), W - max(0, -dx))
    out[..., dst_r, dst_c] = x[..., src_r, src_c]
    return out


SHIFTS = {"circular": shift_circular, "zeros": shift_zero}


def shift_image(x, shift, mode="circular"):
    """Shift with `mode` "circular" (np.roll) or "zeros" (zero fill)."""
    if mode not in SHIFTS:
        raise ValueError(f"shift_image: mode must be one of {tuple(SHIFTS)}, got {mode!r}")
    return SHIFTS[mode](x, shift)


def interior_mask(hw, margin):
    """Boolean (H, W): True on pixels at least `margin` pixels from every border."""
    H, W = hw
    mask = np.zeros((H, W), dtype=bool)
    mask[margin:H - margin, margin:W - margin] = True
    return mask


def border_free_mask(hw, shift, margin):
    """Boolean (H, W): pixels whose `margin`-neighbourhood avoids the border both before and
    after a shift by (dy, dx), i.e. interior in the shifted frame and in the original one.

    With zero padding and a zero-fill shift, a stack of stride-1 convolutions of receptive
    radius `margin` (sum of the kernel radii) satisfies f(S x) = S f(x) exactly on these pixels:
    there the kernels see neither the padding frame nor the zeros that the shift let in.
    """
    inner = interior_mask(hw, margin)
    return inner & shift_zero(inner, shift)


def output_shifts(shift, stride=1):
    """Candidate output shifts for an input shift through a layer of output stride `stride`.

    A shift that is a multiple of the stride gives one exact candidate, shift / stride. Any
    other shift falls between two output pixels: both neighbours (floor and ceil) are returned,
    so an error measured as the best over candidates cannot blame a bad choice of rounding.
    """
    sy, sx = as_pair("stride", stride, "output_shifts")
    shift = as_shift(shift, "output_shifts")
    ys = sorted({math.floor(shift[0] / sy), math.ceil(shift[0] / sy)})
    xs = sorted({math.floor(shift[1] / sx), math.ceil(shift[1] / sx)})
    return [(a, b) for a in ys for b in xs]


# --------------------------------------------------------------------------------------------
# Equivariance and invariance errors.
# --------------------------------------------------------------------------------------------
def _diffs(f, x, shift, stride, mode, where="equivariance_error"):
    """Yield (output shift, f(S x) - S' f(x), S' f(x)) for every candidate output shift S'."""
    shift, stride = as_shift(shift, where), as_pair("stride", stride, where)
    check_maps(x, "x", where)
    fx = f(x)
    check_maps(fx, "f(x)", where)
    fsx = f(shift_image(x, shift, mode))                      # both (N, C, Ho, Wo)
    for out_shift in output_shifts(shift, stride):
        target = shift_image(fx, out_shift, mode)
        yield out_shift, fsx - target, target


def equivariance_error(f, x, shift, stride=1, mode="circular", mask=None):
    """||m (f(S x) - S' f(x))|| / ||m S' f(x)||: 0 for an exactly equivariant f.

    f: a function (N, C, H, W) -> (N, F, Ho, Wo), e.g. a layer's forward or a Sequential;
    shift: input shift (dy, dx); stride: the map's total output stride, so the output is expected
    to move by S' = shift / stride (the best of floor and ceil if that is not an integer);
    mode: "circular" or "zeros" (how both input and output are shifted);
    mask: optional boolean (Ho, Wo), True on output pixels that count (e.g. `interior_mask` to
    leave out a zero-padded border). Returns a float.
    """
    m = 1.0 if mask is None else np.asarray(mask, dtype=bool)
    errors = []
    for _, diff, target in _diffs(f, x, shift, stride, mode):
        if mask is not None and m.shape != diff.shape[-2:]:
            raise ShapeError(f"equivariance_error: mask has shape {m.shape}, expected the "
                             f"output's (Ho, Wo) = {diff.shape[-2:]}")
        errors.append(np.linalg.norm((diff * m).ravel()) / np.linalg.norm((target * m).ravel()))
    return float(min(errors))


def equivariance_error_map(f, x, shift, stride=1, mode="circular"):
    """Where equivariance fails: a (Ho, Wo) map, one value per output pixel.

    map[i, j] = ||f(S x)[:, :, i, j] - S' f(x)[:, :, i, j]|| / ||S' f(x)|| (norm over batch and
    channels), so that sqrt(sum(map**2)) equals `equivariance_error` without a mask. For a
    non-integer output shift the candidate with the smaller total error is used.
    """
    best = None
    for _, diff, target in _diffs(f, x, shift, stride, mode, "equivariance_error_map"):
        per_pixel = np.sqrt((diff.astype(np.float64) ** 2).sum(axis=(0, 1)))   # (Ho, Wo)
        emap = per_pixel / np.linalg.norm(target.ravel())
        if best is None or (emap ** 2).sum() < (best ** 2).sum():
            best = emap
    return best


def invariance_error(f, x, shift, mode="circular"):
    """||f(S x) - f(x)|| / ||f(x)||: 0 for a map whose output ignores the shift.

    x: (N, C, H, W); f may return anything of a fixed shape, e.g. (N, K) logits."""
    check_maps(x, "x", "invariance_error")
    fx, fsx = f(x), f(shift_image(x, shift, mode))
    return float(np.linalg.norm((fsx - fx).ravel()) / np.linalg.norm(fx.ravel()))


# --------------------------------------------------------------------------------------------
# Comparing representations.
# --------------------------------------------------------------------------------------------
def representation_similarity(a, b):
    """Cosine similarity of two batches of representations, example by example.

    a, b: arrays of the same shape (N, ...); each example is flattened to a vector.
    Returns (per_example (N,), mean). Two all-zero vectors count as identical (1), one all-zero
    vector against a non-zero one as unrelated (0).
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"representation_similarity: shapes differ, {a.shape} vs {b.shape}")
    a, b = a.reshape(len(a), -1), b.reshape(len(b), -1)      # (N, D)
    na, nb = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
    dot = (a * b).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        sim = dot / (na * nb)
    sim = np.where((na == 0) & (nb == 0), 1.0, np.where((na == 0) | (nb == 0), 0.0, sim))
    return sim, float(sim.mean())


def layer_outputs(model, x):
    """Run a Sequential layer by layer; returns [output of layer 0, output of layer 1, ...]."""
    outs = []
    for layer in model.layers:
        x = layer.forward(x)
        outs.append(x)
    return outs


# --------------------------------------------------------------------------------------------
# A convolution as a dense matrix.
# --------------------------------------------------------------------------------------------
def _check_conv(layer, input_shape, where):
    """A Conv2D and the (C, H, W) shape of one image (no batch axis) that it takes."""
    if not all(hasattr(layer, a) for a in ("stride", "pads", "padding_mode")) \
            or "W" not in getattr(layer, "params", {}):
        raise TypeError(f"{where}: layer must be a Conv2D, got {layer!r}")
    shape = tuple(input_shape)
    if len(shape) != 3 or shape[0] != layer.params["W"].shape[1]:
        hint = " (leave out the batch axis)" if len(shape) == 4 else ""
        raise ShapeError(f"{where}: input_shape must be (C, H, W) of one image with C = "
                         f"{layer.params['W'].shape[1]} for {layer!r}, got {shape}{hint}")
    return shape


def _dense_from_kernel(w, stride, pads, mode, input_shape):
    """Push every basis image e_k through the convolution (no bias): column k of the matrix."""
    C, H, W = input_shape
    D = C * H * W
    basis = np.eye(D, dtype=w.dtype).reshape(D, C, H, W)     # (D, C, H, W): one 1 per image
    out, _ = conv2d_fast(basis, w, np.zeros(w.shape[0], w.dtype), stride, pads, mode)
    return out.reshape(D, -1).T                               # (F*Ho*Wo, D), column k = conv(e_k)


def conv_as_dense_matrix(layer, input_shape):
    """The (out_size, in_size) matrix M with conv(x).ravel() = M @ x.ravel() + bias.

    layer: a Conv2D; input_shape: (C, H, W) of one image. Built by pushing each of the C*H*W
    basis images through the layer's own convolution, so it is exactly the same linear map.
    The bias vector is np.repeat(layer.params["b"], Ho*Wo). Returns M.
    """
    input_shape = _check_conv(layer, input_shape, "conv_as_dense_matrix")
    return _dense_from_kernel(layer.params["W"], layer.stride, layer.pads, layer.padding_mode,
                              input_shape)


def dense_weight_ties(layer, input_shape):
    """Which kernel weight each entry of `conv_as_dense_matrix` is a copy of.

    Returns an int array of the matrix's shape holding the flat index into layer.params["W"]
    (as in W.ravel()), or -1 where the matrix is structurally zero. Built by pushing basis
    vectors through a convolution whose kernel is a single 1 at index k.
    """
    input_shape = _check_conv(layer, input_shape, "dense_weight_ties")
    w = layer.params["W"]
    ties = None
    for k in range(w.size):
        e_k = np.zeros(w.size, dtype=np.float64)
        e_k[k] = 1.0
        M_k = _dense_from_kernel(e_k.reshape(w.shape), layer.stride, layer.pads,
                                 layer.padding_mode, tuple(input_shape))
        if ties is None:
            ties = np.full(M_k.shape, -1, dtype=np.int64)
        if np.any(ties[M_k != 0] >= 0):
            raise ValueError(f"dense_weight_ties: {layer!r} reuses one matrix entry for two "
                             f"kernel weights (circular padding wraps an input smaller than "
                             f"the kernel, {input_shape})")
        ties[M_k != 0] = k
    return ties


def sum_tied_gradients(dM, ties, w_shape):
    """Kernel gradient from a dense-matrix gradient: add up dM over every entry tied to w[k].

    dM: gradient with respect to the dense matrix (out_size, in_size); ties: from
    `dense_weight_ties`. Returns an array of shape w_shape.
    """
    used = ties >= 0
    flat = np.bincount(ties[used], weights=dM[used], minlength=int(np.prod(w_shape)))
    return flat.reshape(w_shape)
