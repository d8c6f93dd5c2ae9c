"""Speed: the tuned implementations behind `impl="fast"` and `impl="winograd"`.

The lesson lives in `minicnn/layers/`: each file there reads as the maths, a loop version and a
plainly vectorised one. This package computes the same functions with the tricks that buy speed
and that would hide the maths if they sat beside it (like CS231n's `fast_layers.py`): working a
batch in cache-sized blocks, chunking big im2col buffers, writing gradients in place, and
Winograd's minimal filtering. Every function here keeps the lesson's contract,
`out, cache = f(x, ...)` and `f_backward(dout, cache)`, and a test compares it with the loop
version on random shapes, strides and paddings.

- `blocks`: BLOCK_BYTES and `batch_blocks`, the cache-sized slices of a batch.
- `conv`: `conv2d_fast` / `conv2d_fast_backward`, im2col with one matrix product per pass, or
  `winograd_blocked` where it pays (`uses_winograd`: 3x3, stride 1, 16+ channels, enough work).
- `winograd_blocked`: F(2x2, 3x3) channels last, a block of images at a time.
- `pool`: `maxpool2d_fast` / `maxpool2d_fast_backward`, strided slices with in-place masks.
- `winograd`: `conv2d_winograd` / `conv2d_winograd_backward`, F(2x2, 3x3) written to be read.
"""

from .conv import conv2d_fast, conv2d_fast_backward
from .pool import maxpool2d_fast, maxpool2d_fast_backward
from .winograd import conv2d_winograd, conv2d_winograd_backward

__all__ = ["conv2d_fast", "conv2d_fast_backward", "conv2d_winograd", "conv2d_winograd_backward",
           "maxpool2d_fast", "maxpool2d_fast_backward"]
