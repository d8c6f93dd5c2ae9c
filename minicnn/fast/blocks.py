"""Working through a batch in cache-sized blocks of images.

An array bigger than the CPU's caches is fetched from memory again by every pass over it. Code
that makes several passes over a batch (one per window offset, in pooling and col2im) can make
them block by block instead, so each block of images is still in cache for the next pass. Each
element sees the same operations in the same order: the result is the same, bit for bit.

Per-block work needs scratch arrays, and a fresh NumPy array of a few MB is not free: the OS
hands its pages over one fault at a time, zeroed, and glibc returns them when the call ends. For
a small batch those faults cost more than the arithmetic (measured in docs/speed.md), so scratch
arrays are reused from call to call (`scratch`); they never leave the function that takes them.
"""

import threading

import numpy as np

BLOCK_BYTES = 2**20       # about a CPU's L2 cache: a block and its outputs stay in it
SCRATCH_MAX_BYTES = 16 * 2**20   # a bigger scratch array is allocated for the call, not kept


def batch_blocks(x):
    """Slices of x's batch axis, each holding about BLOCK_BYTES of x (at least one image)."""
    step = max(1, BLOCK_BYTES // max(x[:1].nbytes, 1))
    return [slice(i, i + step) for i in range(0, x.shape[0], step)]


class Scratch(threading.local):
    """Scratch arrays reused from call to call, one set per thread (threads never share one).

    `take(role, shape, dtype)` returns a C-contiguous array of that shape whose contents are
    undefined, a view of the role's buffer, which grows to the largest size asked for. The caller
    must be done with it before it takes the same role again, and must not return it.
    """

    def __init__(self):
        self.buffers = {}

    def take(self, role, shape, dtype):
        dtype = np.dtype(dtype)
        size = int(np.prod(shape))
        if size * dtype.itemsize > SCRATCH_MAX_BYTES:
            return np.empty(shape, dtype)
        buffer = self.buffers.get((role, dtype))
        if buffer is None or buffer.size < size:
            buffer = self.buffers[(role, dtype)] = np.empty(size, dtype)
        return buffer[:size].reshape(shape)


scratch = Scratch()
