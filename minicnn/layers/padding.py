"""Padding and its gradient.

Zero padding surrounds the image with a frame of zeros: near the border a kernel sees that frame,
which is how a zero-padded network can tell where it is. Circular padding wraps the image around
(the left edge continues on the right), so the image has no border at all and a convolution
commutes exactly with `np.roll`.

Pads are (top, bottom, left, right) so that "same" padding of an even kernel can be asymmetric.
"""

import numpy as np

PADDING_MODES = ("zeros", "circular")


def same_pads(kernel):
    """(top, bottom, left, right) that keep H and W for stride 1; the extra pixel goes last."""
    kh, kw = kernel
    return ((kh - 1) // 2, kh // 2, (kw - 1) // 2, kw // 2)


def pad2d(x, pads, mode):
    """Pad the last two axes of x (N, C, H, W) -> (N, C, H + top + bottom, W + left + right)."""
    top, bottom, left, right = pads
    if not any(pads):
        return x
    if mode == "circular":
        return np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), mode="wrap")
    N, C, H, W = x.shape
    xp = np.zeros((N, C, top + H + bottom, left + W + right), dtype=x.dtype)   # the zero frame
    xp[:, :, top:top + H, left:left + W] = x                     # np.pad gives the same array
    return xp


def pad2d_backward(dxp, pads, mode):
    """Gradient of pad2d: crop the padded gradient back to (N, C, H, W).

    With zeros the frame's gradient is simply dropped. With circular padding every padded pixel is
    a copy of a real one, so its gradient is added back onto the pixel it was copied from.
    """
    top, bottom, left, right = pads
    if not any(pads):
        return dxp
    H = dxp.shape[2] - top - bottom
    W = dxp.shape[3] - left - right
    if mode != "circular":
        return dxp[:, :, top:top + H, left:left + W].copy()
    # Fold rows first (over the full padded width), then columns; corners are handled by both.
    rows = dxp[:, :, top:top + H, :].copy()                      # (N, C, H, Wp)
    if top:
        rows[:, :, H - top:, :] += dxp[:, :, :top, :]
    if bottom:
        rows[:, :, :bottom, :] += dxp[:, :, top + H:, :]
    dx = rows[:, :, :, left:left + W].copy()                     # (N, C, H, W)
    if left:
        dx[:, :, :, W - left:] += rows[:, :, :, :left]
    if right:
        dx[:, :, :, :right] += rows[:, :, :, left + W:]
    return dx
