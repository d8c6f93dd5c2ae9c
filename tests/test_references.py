"""Independent references: SciPy computes the same forward passes by a different route.

Conv2D is a sum over input channels of 2-D cross-correlations (scipy.signal.correlate, "valid"
on the padded input, sampled at the stride); circular padding is np.pad(mode="wrap"). MaxPool2D
and AvgPool2D are a maximum / uniform filter (scipy.ndimage) sampled at the stride, with the
filter's origin moved so that every window starts at its top-left pixel.
"""

import numpy as np
from hypothesis import given, settings
from scipy import ndimage
from strategies import conv_configs, make_conv, pool_configs

from minicnn import AvgPool2D, MaxPool2D, rel_error

EXAMPLES = settings(max_examples=100, deadline=None, derandomize=True)


def conv_reference(x, w, b, stride, pads, mode):
    """out[n, f] = b[f] + sum_c correlate(xp[n, c], w[f, c], "valid")[::sh, ::sw]."""
    from scipy import signal  # here, not at the top: only one test process pays its 1.6 s import
    top, bottom, left, right = pads
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)),
                mode="wrap" if mode == "circular" else "constant")
    sh, sw = stride
    N, F = x.shape[0], w.shape[0]
    rows = []
    for n in range(N):
        maps = []
        for f in range(F):
            full = sum(signal.correlate(xp[n, c], w[f, c], mode="valid")
                       for c in range(x.shape[1]))                # (Hp-KH+1, Wp-KW+1)
            maps.append(full[::sh, ::sw] + b[f])
        rows.append(maps)
    return np.array(rows)                                         # (N, F, Ho, Wo)


def window_filter_reference(filt, x, kernel, stride):
    """Apply a size-(KH, KW) scipy.ndimage filter and keep every stride-th window.

    ndimage centres a size-K window on pixel i (it covers i - K//2 ... i - K//2 + K - 1);
    origin = -(K//2) moves it to cover i ... i + K - 1, the window that starts at i.
    """
    (KH, KW), (sh, sw) = kernel, stride
    Ho, Wo = (x.shape[2] - KH) // sh + 1, (x.shape[3] - KW) // sw + 1
    full = filt(x, size=(1, 1, KH, KW), origin=(0, 0, -(KH // 2), -(KW // 2)), mode="nearest")
    return full[:, :, :Ho * sh:sh, :Wo * sw:sw]                   # (N, C, Ho, Wo)


@EXAMPLES
@given(cfg=conv_configs())
def test_conv2d_matches_scipy_correlate(cfg):
    x = np.random.default_rng(cfg["seed"]).standard_normal(cfg["shape"])
    for impl in ("fast", "naive"):
        layer = make_conv(cfg, impl)
        out = layer.forward(x)
        expected = conv_reference(x, layer.params["W"], layer.params["b"], layer.stride,
                                  layer.pads, layer.padding_mode)
        assert out.shape == expected.shape
        assert rel_error(out, expected) <= 1e-12


@EXAMPLES
@given(cfg=pool_configs())
def test_maxpool2d_matches_scipy_maximum_filter(cfg):
    x = np.random.default_rng(cfg["seed"]).standard_normal(cfg["shape"])
    for impl in ("fast", "naive"):
        layer = MaxPool2D(cfg["kernel"], cfg["stride"], impl=impl)
        expected = window_filter_reference(ndimage.maximum_filter, x, layer.kernel_size,
                                           layer.stride)
        np.testing.assert_array_equal(layer.forward(x), expected)


@EXAMPLES
@given(cfg=pool_configs())
def test_avgpool2d_matches_scipy_uniform_filter(cfg):
    x = np.random.default_rng(cfg["seed"]).standard_normal(cfg["shape"])
    layer = AvgPool2D(cfg["kernel"], cfg["stride"])
    expected = window_filter_reference(ndimage.uniform_filter, x, layer.kernel_size,
                                       layer.stride)
    assert rel_error(layer.forward(x), expected) <= 1e-12
