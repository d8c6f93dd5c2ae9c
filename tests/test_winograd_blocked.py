"""The tuned Winograd behind conv2d_fast computes the same convolution as the naive loops.

conv2d_fast sends 3x3 stride-1 layers with at least MIN_WINOGRAD_CHANNELS input channels and
MIN_WINOGRAD_WORK multiply-adds per tap to minicnn/fast/winograd_blocked.py. The work bound is
lifted here (fixture), so that small cases take that path through conv2d_fast. Here: float64
outputs and gradients against the loops to 1e-10 on odd and even sizes, asymmetric and wide
pads, circular padding, batches that span several blocks; float32 against the float64
reference to 1e-4; keeping V and recomputing it in backward give the same bits; stale scratch
never reaches a result; and conv2d_fast picks Winograd exactly where it says it does.
"""

import numpy as np
import pytest

import minicnn.fast.blocks
import minicnn.fast.conv
import minicnn.fast.winograd_blocked as wb
from minicnn import rel_error
from minicnn.fast.conv import (
    MIN_WINOGRAD_CHANNELS,
    MIN_WINOGRAD_WORK,
    conv2d_fast,
    conv2d_fast_backward,
    uses_winograd,
)
from minicnn.layers.conv import conv2d_naive, conv2d_naive_backward

C0 = MIN_WINOGRAD_CHANNELS


@pytest.fixture(autouse=True)
def any_work_is_enough(monkeypatch):
    monkeypatch.setattr(minicnn.fast.conv, "MIN_WINOGRAD_WORK", 0)
# (N, C, H, W, F, pads, mode): even and odd output sizes (odd ones crop the last tile), no
# padding, padding wider than the kernel's reach, asymmetric pads, circular padding.
CASES = [(3, C0, 6, 6, 4, (1, 1, 1, 1), "zeros"), (2, C0, 5, 7, 3, (0, 0, 0, 0), "zeros"),
         (2, C0 + 3, 5, 5, 2, (1, 1, 2, 0), "circular"), (2, C0, 3, 3, 2, (2, 2, 2, 2), "zeros"),
         (3, C0, 4, 9, 5, (0, 1, 1, 0), "zeros"), (1, 2 * C0, 3, 4, 2, (2, 2, 1, 1), "circular")]


def both(x, w, b, pads, mode, dout, forward=conv2d_fast, backward=conv2d_fast_backward):
    out, cache = forward(x, w, b, (1, 1), pads, mode)
    return (out, *backward(dout, cache))


def data(case, dtype=np.float64, seed=0):
    N, C, H, W, F, pads, mode = case
    rng = np.random.default_rng(seed)
    x, w, b = (rng.standard_normal(s) for s in ((N, C, H, W), (F, C, 3, 3), F))
    dout = rng.standard_normal(conv2d_naive(x, w, b, (1, 1), pads, mode)[0].shape)
    return [a.astype(dtype) for a in (x, w, b)] + [pads, mode, dout.astype(dtype)]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("blocks", ["default", "one image each"])
def test_winograd_blocked_matches_naive_float64(case, blocks, monkeypatch):
    if blocks == "one image each":
        monkeypatch.setattr(wb, "BLOCK_BYTES", 1)
    x, w, b, pads, mode, dout = data(case)
    assert uses_winograd(x.shape, w, (1, 1), pads)
    got = both(x, w, b, pads, mode, dout)
    want = both(x, w, b, pads, mode, dout, conv2d_naive, conv2d_naive_backward)
    for what, g, ref in zip(("out", "dx", "dw", "db"), got, want):
        assert g.shape == ref.shape and g.dtype == ref.dtype, what
        assert rel_error(g, ref) <= 1e-10, f"{what}: {rel_error(g, ref):.3g}"


def test_winograd_blocked_float32_close_to_float64_reference():
    case = (5, 2 * C0, 10, 10, 6, (1, 1, 1, 1), "zeros")
    ref = both(*data(case), conv2d_naive, conv2d_naive_backward)
    got = both(*data(case, np.float32))
    for what, g, want in zip(("out", "dx", "dw", "db"), got, ref):
        assert g.dtype == np.float32, what
        assert rel_error(g.astype(np.float64), want) <= 1e-4, f"{what}: {rel_error(g, want):.3g}"


def test_recomputing_V_in_backward_gives_the_same_bits(monkeypatch):
    """Above MAX_V_BYTES the cache keeps the padded input, not V; the results do not change."""
    x, w, b, pads, mode, dout = data((4, C0, 7, 6, 3, (1, 1, 1, 1), "zeros"), np.float32)
    monkeypatch.setattr(wb, "BLOCK_BYTES", 1)
    kept = both(x, w, b, pads, mode, dout)
    monkeypatch.setattr(wb, "MAX_V_BYTES", 0)
    out, cache = conv2d_fast(x, w, b, (1, 1), pads, mode)
    assert cache["winograd"]["V"] is None and cache["winograd"]["xp"] is not None
    recomputed = (out, *conv2d_fast_backward(dout, cache))
    for what, a, c in zip(("out", "dx", "dw", "db"), kept, recomputed):
        np.testing.assert_array_equal(a, c, err_msg=what)


def test_block_size_does_not_change_out_or_dx(monkeypatch):
    """Images never mix inside a block, so out and dx are the same bits whatever the blocks."""
    x, w, b, pads, mode, dout = data((6, C0, 8, 8, 4, (1, 1, 1, 1), "circular"), np.float32)
    whole = both(x, w, b, pads, mode, dout)
    monkeypatch.setattr(wb, "BLOCK_BYTES", 1)
    split = both(x, w, b, pads, mode, dout)
    np.testing.assert_array_equal(whole[0], split[0])
    np.testing.assert_array_equal(whole[1], split[1])


@pytest.mark.parametrize("shape, stride, expected", [
    ((4, C0, 3, 3), (1, 1), True), ((4, C0 - 1, 3, 3), (1, 1), False),
    ((4, C0, 3, 3), (2, 2), False), ((4, C0, 5, 5), (1, 1), False), ((4, C0, 3, 1), (1, 1), False)])
def test_conv2d_fast_uses_winograd_only_for_3x3_stride_1_channel_rich_layers(shape, stride,
                                                                              expected):
    w = np.zeros(shape, dtype=np.float32)
    x = np.zeros((1, shape[1], 6, 6), dtype=np.float32)
    assert uses_winograd(x.shape, w, stride, (1, 1, 1, 1)) is expected
    _, cache = conv2d_fast(x, w, np.zeros(shape[0], np.float32), stride, (1, 1, 1, 1))
    assert ("winograd" in cache) is expected


def test_conv2d_fast_uses_winograd_only_from_the_work_bound_up(monkeypatch):
    """N * Ho * Wo * C * F multiply-adds per tap, from MIN_WINOGRAD_WORK up; padding counts."""
    monkeypatch.setattr(minicnn.fast.conv, "MIN_WINOGRAD_WORK", MIN_WINOGRAD_WORK)
    F, C = 32, C0
    w = np.zeros((F, C, 3, 3), dtype=np.float32)
    pixels = MIN_WINOGRAD_WORK // (C * F)                     # N * Ho * Wo at the bound
    side = 8
    N = pixels // (side * side)
    assert N * side * side * C * F == MIN_WINOGRAD_WORK
    assert uses_winograd((N, C, side, side), w, (1, 1), (1, 1, 1, 1))
    assert not uses_winograd((N - 1, C, side, side), w, (1, 1), (1, 1, 1, 1))
    assert not uses_winograd((N, C, side, side), w, (1, 1), (0, 0, 0, 0))   # Ho = side - 2


def test_blocks_module_constant_is_the_one_used():
    """winograd_blocked sizes its blocks with the package's one BLOCK_BYTES."""
    assert wb.BLOCK_BYTES == minicnn.fast.blocks.BLOCK_BYTES


def test_stale_scratch_never_reaches_the_results(monkeypatch):
    """Scratch arrays are reused from call to call: poison them with NaN between two calls of
    a layer whose last tiles overhang the input (odd sizes), and the results stay the same."""
    monkeypatch.setattr(wb, "BLOCK_BYTES", 1)                       # several blocks, and reuse
    x, w, b, pads, mode, dout = data((3, C0, 5, 7, 4, (1, 1, 1, 1), "zeros"), np.float32)
    clean = both(x, w, b, pads, mode, dout)
    for buffer in minicnn.fast.blocks.scratch.buffers.values():
        buffer.fill(np.nan)
    poisoned = both(x, w, b, pads, mode, dout)
    for what, a, c in zip(("out", "dx", "dw", "db"), clean, poisoned):
        assert np.isfinite(c).all(), what
        np.testing.assert_array_equal(a, c, err_msg=what)


def test_scratch_reuses_one_buffer_per_role_and_dtype_per_thread(monkeypatch):
    import threading

    from minicnn.fast.blocks import Scratch
    s = Scratch()
    a = s.take("M", (2, 3), np.float32)
    assert a.shape == (2, 3) and a.dtype == np.float32 and a.flags["C_CONTIGUOUS"]
    b = s.take("M", (3, 2), np.float32)                      # same role: the same memory
    assert np.shares_memory(a, b)
    assert not np.shares_memory(a, s.take("V", (2, 3), np.float32))       # another role
    assert not np.shares_memory(a, s.take("M", (2, 3), np.float64))       # another dtype
    big = s.take("M", (4, 5), np.float32)                    # grows: a new, larger buffer
    assert big.shape == (4, 5) and s.buffers[("M", np.dtype(np.float32))].size == 20
    assert np.shares_memory(big, s.take("M", (2, 2), np.float32))
    monkeypatch.setattr(minicnn.fast.blocks, "SCRATCH_MAX_BYTES", 8 * 4)
    huge = s.take("M", (3, 3), np.float32)                   # above the bound: not kept
    assert huge.shape == (3, 3) and not np.shares_memory(huge, big)
    assert s.buffers[("M", np.dtype(np.float32))].size == 20
    s.take("K", (2, 4), np.float32)                          # exactly at the bound: kept
    assert ("K", np.dtype(np.float32)) in s.buffers
    seen = []
    thread = threading.Thread(target=lambda: seen.append(s.take("M", (2, 2), np.float32)))
    thread.start()
    thread.join()
    assert not np.shares_memory(seen[0], big)                # each thread its own buffers
