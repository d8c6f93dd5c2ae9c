"""Working through a batch in cache-sized blocks of images.

An array bigger than the CPU's caches is fetched from memory again by every pass over it. Code
that makes several passes over a batch (one per window offset, in pooling and col2im) can make
them block by block instead, so each block of images is still in cache for the next pass. Each
element sees the same operations in the same order: the result is the same, bit for bit.
"""

BLOCK_BYTES = 2**20       # about a CPU's L2 cache: a block and its outputs stay in it


def batch_blocks(x):
    """Slices of x's batch axis, each holding about BLOCK_BYTES of x (at least one image)."""
    step = max(1, BLOCK_BYTES // max(x[:1].nbytes, 1))
    return [slice(i, i + step) for i in range(0, x.shape[0], step)]
