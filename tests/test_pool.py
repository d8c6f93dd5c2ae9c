"""minicnn.layers.pool: output sizes and shape checks, average pooling by hand, and max pooling's
gradient between windows (the arithmetic: test_naive_vs_fast.py, test_references.py and
test_gradients.py)."""

import numpy as np
import pytest
from conftest import rand
from hypothesis import given, settings
from strategies import pool_configs

import minicnn as mc
from minicnn import AvgPool2D, rel_error
from minicnn.layers import pool as pool_module
from minicnn.layers.pool import AVGPOOL_IMPLS, avgpool2d_naive, avgpool2d_naive_backward


def test_maxpool_backward_gives_zero_between_windows_whatever_the_memory_held():
    """Kernel 2, stride 3: the pixels between windows belong to none and get gradient 0."""
    x = rand(1, 1, 6, 6)
    out, cache = pool_module.maxpool2d_fast(x, (2, 2), (3, 3))
    want = pool_module.maxpool2d_naive_backward(np.ones_like(out),
                                                pool_module.maxpool2d_naive(x, (2, 2), (3, 3))[1])
    junk = np.full(x.shape, 7.0)
    del junk                           # numpy's small-block cache hands this memory out next
    np.testing.assert_array_equal(pool_module.maxpool2d_fast_backward(np.ones_like(out), cache),
                                  want)


def test_pool_shape_checks_and_output_sizes():
    pool = mc.MaxPool2D((2, 3), stride=(1, 2))
    assert pool.output_shape((1, 2, 4, 7)) == (1, 2, 3, 3)
    assert pool.output_shape((1, 2, 2, 3)) == (1, 2, 1, 1)
    assert mc.AvgPool2D((2, 3), stride=2).output_shape((1, 2, 5, 8)) == (1, 2, 2, 3)
    for shape in ((1, 2, 1, 3), (1, 2, 2, 2)):
        with pytest.raises(mc.ShapeError, match="larger than the input"):
            pool.output_shape(shape)
    with pytest.raises(mc.ShapeError, match="4-d input"):
        mc.GlobalMaxPool2D().output_shape((2, 3))
    assert mc.GlobalAvgPool2D().output_shape((2, 3, 4, 5)) == (2, 3)


def test_avg_pool_averages_each_window_and_shares_the_gradient():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    pool = mc.AvgPool2D((2, 1), stride=(2, 1))
    np.testing.assert_array_equal(pool.forward(x)[0, 0], [[2, 3, 4, 5], [10, 11, 12, 13]])
    np.testing.assert_array_equal(pool.backward(np.ones((1, 1, 2, 4))), np.full((1, 1, 4, 4), 0.5))
    g = mc.GlobalAvgPool2D()
    assert g.forward(x)[0, 0] == 7.5
    np.testing.assert_array_equal(g.backward(np.array([[32.0]])), np.full((1, 1, 4, 4), 2.0))
    assert mc.AvgPool2D(2).forward(x.astype(np.float32)).dtype == np.float32


# --- AvgPool2D: the loop version and the vectorised one agree (random shapes, kernels, strides)
EXAMPLES = settings(max_examples=100, deadline=None, derandomize=True)


@EXAMPLES
@given(cfg=pool_configs())
def test_avgpool2d_functions_agree_with_the_loops(cfg):
    rng = np.random.default_rng(cfg["seed"])
    x = rng.standard_normal(cfg["shape"])
    pool = AvgPool2D(cfg["kernel"], cfg["stride"])                  # for its resolved pairs
    out_naive, cache = avgpool2d_naive(x, pool.kernel_size, pool.stride)
    assert out_naive.shape == pool.output_shape(x.shape)
    dout = rng.standard_normal(out_naive.shape)
    dx_naive = avgpool2d_naive_backward(dout, cache)
    for impl, (forward, backward) in AVGPOOL_IMPLS.items():
        out, cache = forward(x, pool.kernel_size, pool.stride)
        dx = backward(dout, cache)
        assert rel_error(out, out_naive) <= 1e-12, impl
        assert dx.shape == x.shape and rel_error(dx, dx_naive) <= 1e-12, impl


@EXAMPLES
@given(cfg=pool_configs())
def test_avgpool2d_layer_naive_and_fast_agree(cfg):
    rng = np.random.default_rng(cfg["seed"])
    x = rng.standard_normal(cfg["shape"])
    layers = {impl: AvgPool2D(cfg["kernel"], cfg["stride"], impl=impl) for impl in AVGPOOL_IMPLS}
    dout = rng.standard_normal(layers["fast"].output_shape(x.shape))
    results = {impl: (layer.forward(x), layer.backward(dout)) for impl, layer in layers.items()}
    for impl in ("vectorised", "fast"):
        for got, want in zip(results[impl], results["naive"]):
            assert rel_error(got, want) <= 1e-12, impl


def test_avgpool2d_gradient_spreads_evenly():
    """A 2x2 window that overlaps nothing gives each of its pixels a quarter of dout."""
    out, cache = avgpool2d_naive(np.zeros((1, 1, 4, 4)), (2, 2), (2, 2))
    dx = avgpool2d_naive_backward(np.ones_like(out), cache)
    np.testing.assert_array_equal(dx, np.full((1, 1, 4, 4), 0.25))
