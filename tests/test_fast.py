"""minicnn/fast: the tuned implementations compute what the lesson's loops compute.

The conv functions (every impl of CONV_IMPLS) are compared with the loops in
tests/test_naive_vs_fast.py; here: conv2d_fast's two layouts (per image, batch innermost) and
its chunked pass, each against the loops on random shapes, strides and paddings; max pooling's
three versions agree on ties and on NaN (a window holding NaN sends its gradient to its first
NaN in all of them, as np.argmax finds it); and Conv2D's impls give the same layer.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import conv_configs, make_conv, pool_configs

from minicnn import Conv2D, MaxPool2D, rel_error
from minicnn.fast import conv as fast_conv
from minicnn.layers.conv import conv2d_naive, conv2d_naive_backward
from minicnn.layers.pool import MAXPOOL_IMPLS

EXAMPLES = settings(max_examples=100, deadline=None, derandomize=True)


def pool_results(x, kernel, stride, dout_seed=1):
    """{impl: (out, dx)} of every max-pool implementation on x, with one random dout."""
    pool = MaxPool2D(kernel, stride)                                 # for its resolved pairs
    results = {}
    for impl, (forward, backward) in MAXPOOL_IMPLS.items():
        out, cache = forward(x, pool.kernel_size, pool.stride)
        dout = np.random.default_rng(dout_seed).standard_normal(out.shape)
        results[impl] = (out, backward(dout, cache))
    return results


@EXAMPLES
@given(cfg=pool_configs())
def test_maxpool2d_three_versions_agree_with_ties_and_nan(cfg):
    rng = np.random.default_rng(cfg["seed"])
    x = rng.integers(0, 3, size=cfg["shape"]).astype(np.float64)    # many ties
    x[rng.random(x.shape) < 0.1] = np.nan                            # and some NaN
    results = pool_results(x, cfg["kernel"], cfg["stride"])
    for impl in ("vectorised", "fast"):
        for got, want in zip(results[impl], results["naive"]):
            np.testing.assert_array_equal(got, want, err_msg=impl)   # NaN where naive has NaN


@pytest.mark.parametrize("impl", list(MAXPOOL_IMPLS))
def test_a_nan_window_sends_its_gradient_to_its_first_nan(impl):
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    x[0, 0, 1, 0] = x[0, 0, 1, 1] = np.nan                          # window (0, 0): (1, 0) first
    layer = MaxPool2D(2, impl=impl)
    out = layer.forward(x)
    assert np.isnan(out[0, 0, 0, 0]) and not np.isnan(out[0, 0, 1, 1])
    dx = layer.backward(np.full(out.shape, 3.0))
    assert dx[0, 0, 1, 0] == 3.0 and dx[0, 0, 1, 1] == 0.0
    assert dx.sum() == 3.0 * out.size                                # no gradient is lost


@pytest.mark.parametrize("kwargs", [{"kernel_size": 3, "padding": 1},
                                    {"kernel_size": (2, 3), "stride": (2, 1), "padding": (1, 2),
                                     "padding_mode": "circular"}])
def test_conv2d_impls_give_the_same_layer(kwargs):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 2, 7, 6))
    results = {}
    for impl in ("naive", "vectorised", "fast"):
        layer = Conv2D(2, 4, **kwargs, impl=impl, rng=1, dtype=np.float64)
        out = layer.forward(x)
        dout = np.random.default_rng(2).standard_normal(out.shape)
        results[impl] = (out, layer.backward(dout), layer.grads["W"], layer.grads["b"])
    for impl in ("vectorised", "fast"):
        for got, want in zip(results[impl], results["naive"]):
            assert rel_error(got, want) <= 1e-10, impl


@EXAMPLES
@given(cfg=conv_configs(max_hw=6), batch_inner=st.booleans(), chunked=st.booleans())
def test_conv2d_fast_both_layouts_and_chunks_agree_with_the_loops(cfg, batch_inner, chunked):
    """conv2d_fast lays the columns out per image or with the batch innermost (chosen by the
    weights' shape), in one pass or in chunks: every path computes the loops' numbers."""
    rng = np.random.default_rng(cfg["seed"])
    x = rng.standard_normal(cfg["shape"])
    layer = make_conv(cfg)                            # for its resolved stride, pads and weights
    args = (x, layer.params["W"], layer.params["b"], layer.stride, layer.pads,
            layer.padding_mode)
    out_naive, cache_naive = conv2d_naive(*args)
    dout = rng.standard_normal(out_naive.shape)
    want = (out_naive, *conv2d_naive_backward(dout, cache_naive))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fast_conv, "MIN_ROWS_BATCH_INNER", 0 if batch_inner else 10**9)
        patch.setattr(fast_conv, "MAX_COLS_BYTES", 1 if chunked else fast_conv.MAX_COLS_BYTES)
        out, cache = fast_conv.conv2d_fast(*args)
        got = (out, *fast_conv.conv2d_fast_backward(dout, cache))
    assert ("chunk" in cache) == (chunked and x.shape[0] > 1)          # the path taken
    for what, g, w in zip(("out", "dx", "dw", "db"), got, want):
        assert g.shape == w.shape and rel_error(g, w) <= 1e-10, what


def test_conv2d_fast_picks_the_layout_by_the_weights_shape():
    rows = fast_conv.MIN_ROWS_BATCH_INNER
    thin = np.zeros((4, 1, 3, 3))                     # a single-channel input: 9 rows
    wide = np.zeros((4, -(-rows // 9), 3, 3))         # enough channels for rows >= the limit
    assert fast_conv._passes(thin)[1] is fast_conv._per_image_forward
    assert fast_conv._passes(wide)[1] is fast_conv._batch_inner_forward
