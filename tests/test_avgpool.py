"""AvgPool2D: the loop version and the vectorised one agree on outputs and gradients.

Random shapes, kernels and strides (overlapping windows, dropped border rows included), float64;
and the layer gives the same numbers whichever `impl` it picks.
"""

import numpy as np
from hypothesis import given, settings
from strategies import pool_configs

from minicnn import AvgPool2D, rel_error
from minicnn.layers.pool import AVGPOOL_IMPLS, avgpool2d_naive, avgpool2d_naive_backward

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
