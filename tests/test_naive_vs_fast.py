"""The naive loop versions are the reference: the fast ones must agree with them.

Outputs and every gradient (dx, dW, db) agree to 1e-10 in float64 over random configurations
(the strategies of tests/strategies.py), through the layers and through the functions' shared
contract `out, cache = f(x, w, b, ...)`, `dx, dw, db = f_backward(dout, cache)` (Winograd
included where it applies: 3x3, stride 1; more cases in tests/test_winograd.py); and the chunked
im2col pass (used when the buffer would be too big) gives the same numbers as the one-pass one,
and working through a batch in blocks of images (max pooling, col2im) gives the same bits.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import conv_configs, make_conv, pool_configs

import minicnn.fast.blocks
import minicnn.fast.conv
from minicnn import Conv2D, MaxPool2D, rel_error
from minicnn.fast.blocks import batch_blocks
from minicnn.layers.base import as_pair
from minicnn.layers.conv import CONV_IMPLS
from minicnn.layers.pool import (
    MAXPOOL_IMPLS,
    maxpool2d_fast,
    maxpool2d_fast_backward,
    maxpool2d_naive,
    maxpool2d_naive_backward,
)

TOL = 1e-10
EXAMPLES = settings(max_examples=100, deadline=None, derandomize=True)


def run(layer, x, dout):
    """Forward then backward: (out, dx, {key: grad})."""
    out = layer.forward(x)
    dx = layer.backward(dout)
    return out, dx, {k: g.copy() for k, g in layer.grads.items()}


def assert_same(a, b, what):
    assert a.shape == b.shape, f"{what}: shapes {a.shape} vs {b.shape}"
    assert rel_error(a, b) <= TOL, f"{what}: relative error {rel_error(a, b):.3g}"


@EXAMPLES
@given(cfg=conv_configs(max_hw=6))
def test_conv2d_naive_and_fast_agree(cfg):
    rng = np.random.default_rng(cfg["seed"])
    x = rng.standard_normal(cfg["shape"])
    naive, fast = make_conv(cfg, "naive"), make_conv(cfg, "fast")
    out_shape = fast.output_shape(x.shape)
    dout = rng.standard_normal(out_shape)
    out_n, dx_n, g_n = run(naive, x, dout)
    out_f, dx_f, g_f = run(fast, x, dout)
    assert out_f.shape == out_shape
    assert_same(out_f, out_n, "out")
    assert_same(dx_f, dx_n, "dx")
    assert_same(g_f["W"], g_n["W"], "dW")
    assert_same(g_f["b"], g_n["b"], "db")


@EXAMPLES
@given(cfg=conv_configs(max_hw=6))
def test_conv2d_functions_share_one_contract(cfg):
    """The same call runs either implementation; out, dx, dw and db agree."""
    rng = np.random.default_rng(cfg["seed"])
    x = rng.standard_normal(cfg["shape"])
    layer = make_conv(cfg)                       # only for its resolved stride, pads and weights
    args = (x, layer.params["W"], layer.params["b"], layer.stride, layer.pads,
            layer.padding_mode)
    results = {}
    for impl, (forward, backward) in CONV_IMPLS.items():
        if impl == "winograd" and (layer.kernel_size, layer.stride) != ((3, 3), (1, 1)):
            continue                             # Winograd F(2x2, 3x3) is 3x3 stride 1 only
        out, cache = forward(*args)
        dout = np.random.default_rng(1).standard_normal(out.shape)
        results[impl] = (out, *backward(dout, cache))
    for impl in set(results) - {"naive"}:
        for what, got, naive in zip(("out", "dx", "dw", "db"), results[impl], results["naive"]):
            assert_same(got, naive, f"{impl} {what}")


@EXAMPLES
@given(cfg=pool_configs())
def test_maxpool2d_functions_share_one_contract(cfg):
    rng = np.random.default_rng(cfg["seed"])
    x = rng.integers(0, 3, size=cfg["shape"]).astype(np.float64)     # many ties
    pool = MaxPool2D(cfg["kernel"], cfg["stride"])          # for its resolved pairs
    results = {}
    for impl, (forward, backward) in MAXPOOL_IMPLS.items():
        out, cache = forward(x, pool.kernel_size, pool.stride)
        dout = np.random.default_rng(1).standard_normal(out.shape)
        results[impl] = (out, backward(dout, cache))
    for what, fast, naive in zip(("out", "dx"), results["fast"], results["naive"]):
        assert_same(fast, naive, what)


@EXAMPLES
@given(cfg=pool_configs(), ties=st.booleans())
def test_maxpool2d_naive_and_fast_agree(cfg, ties):
    """Also with many ties (small integer values): both send the gradient to the same pixel."""
    rng = np.random.default_rng(cfg["seed"])
    if ties:
        x = rng.integers(0, 3, size=cfg["shape"]).astype(np.float64)
    else:
        x = rng.standard_normal(cfg["shape"])
    naive = MaxPool2D(cfg["kernel"], cfg["stride"], impl="naive")
    fast = MaxPool2D(cfg["kernel"], cfg["stride"], impl="fast")
    dout = rng.standard_normal(fast.output_shape(x.shape))
    out_n, dx_n, _ = run(naive, x, dout)
    out_f, dx_f, _ = run(fast, x, dout)
    assert_same(out_f, out_n, "out")
    assert_same(dx_f, dx_n, "dx")


@pytest.mark.parametrize("kwargs", [
    {"kernel_size": 3, "padding": 1},
    {"kernel_size": (2, 3), "stride": (2, 1), "padding": (1, 2), "padding_mode": "circular"},
    {"kernel_size": 3, "stride": 2, "padding": "valid"},
])
def test_conv2d_in_chunks_matches_one_pass(monkeypatch, kwargs):
    """A tiny im2col budget forces one image per chunk; outputs and gradients do not change."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 2, 7, 6))
    results = {}
    for name, budget in (("one_pass", minicnn.fast.conv.MAX_COLS_BYTES), ("chunked", 1)):
        monkeypatch.setattr(minicnn.fast.conv, "MAX_COLS_BYTES", budget)
        layer = Conv2D(2, 3, **kwargs, rng=1, dtype=np.float64)
        layer.params["b"] = np.arange(3.0)
        if name == "one_pass":
            dout = rng.standard_normal(layer.output_shape(x.shape))
        results[name] = run(layer, x, dout)
        assert layer.cache.get("chunk") == (1 if name == "chunked" else None)   # path taken
    (out_1, dx_1, g_1), (out_c, dx_c, g_c) = results["one_pass"], results["chunked"]
    assert_same(out_c, out_1, "out")
    assert_same(dx_c, dx_1, "dx")
    assert_same(g_c["W"], g_1["W"], "dW")
    assert_same(g_c["b"], g_1["b"], "db")


@pytest.mark.parametrize("kernel, stride", [(2, 2), (3, 2), (2, 1), ((2, 3), (1, 2))])
def test_blocks_of_images_give_the_same_bits(monkeypatch, kernel, stride):
    """Max pooling and col2im work through a big batch a block of images at a time. A budget of
    one byte makes every image its own block: outputs and gradients are the same bits as in one
    block, and still the naive version's numbers."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 3, size=(5, 2, 7, 8)).astype(np.float64)   # many ties
    naive_out, naive_cache = maxpool2d_naive(x, as_pair("k", kernel), as_pair("s", stride))
    dout = rng.standard_normal(naive_out.shape)
    results = {}
    for name, budget in (("one block", minicnn.fast.blocks.BLOCK_BYTES), ("per image", 1)):
        monkeypatch.setattr(minicnn.fast.blocks, "BLOCK_BYTES", budget)
        assert len(batch_blocks(x)) == (1 if name == "one block" else 5)   # the path taken
        out, cache = maxpool2d_fast(x, as_pair("k", kernel), as_pair("s", stride))
        conv = Conv2D(2, 3, kernel, stride=stride, padding=1, rng=1, dtype=np.float64)
        conv_out = conv.forward(x)
        results[name] = (out, maxpool2d_fast_backward(dout, cache), conv.backward(conv_out))
    for what, one, per_image in zip(("pool out", "pool dx", "conv dx"), *results.values()):
        assert np.array_equal(one, per_image), what
    assert_same(results["per image"][0], naive_out, "pool out")
    assert_same(results["per image"][1], maxpool2d_naive_backward(dout, naive_cache), "pool dx")


def test_batch_blocks_hold_about_block_bytes(monkeypatch):
    monkeypatch.setattr(minicnn.fast.blocks, "BLOCK_BYTES", 2**20)
    x = np.zeros((10, 1, 256, 256), dtype=np.float32)                 # 256 KB an image
    assert batch_blocks(x) == [slice(0, 4), slice(4, 8), slice(8, 12)]
    assert batch_blocks(x[:3]) == [slice(0, 4)]
    assert batch_blocks(np.zeros((3, 1, 1024, 1024))) == [slice(0, 1), slice(1, 2), slice(2, 3)]
