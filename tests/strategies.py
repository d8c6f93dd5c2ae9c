"""Hypothesis strategies shared by the layer tests: random but valid layer configurations.

Shapes stay tiny (H, W <= 7; C, F <= 3) so loops and finite differences are cheap. Used by
test_gradients.py, test_naive_vs_fast.py and test_references.py.
"""

import numpy as np
from hypothesis import strategies as st

from minicnn import Conv2D
from minicnn.layers.padding import same_pads

small = st.integers


@st.composite
def strides(draw, max_stride=3):
    """An int or an (sh, sw) tuple."""
    return draw(st.one_of(small(1, max_stride),
                          st.tuples(small(1, max_stride), small(1, max_stride))))


def as_hw(value):
    return (value, value) if isinstance(value, int) else tuple(value)


@st.composite
def conv_configs(draw, max_n=2, max_c=3, max_hw=7):
    """A valid Conv2D configuration: {"shape": (N, C, H, W), "kwargs": Conv2D kwargs, "seed"}."""
    N, C, F = draw(small(1, max_n)), draw(small(1, max_c)), draw(small(1, max_c))
    kernel = draw(st.one_of(small(1, 3), st.tuples(small(1, 3), small(1, 3))))
    stride = draw(strides())
    mode = draw(st.sampled_from(["zeros", "circular"]))
    choices = [st.just("valid"), small(0, 2), st.tuples(small(0, 2), small(0, 2))]
    if as_hw(stride) == (1, 1):
        choices.append(st.just("same"))
    padding = draw(st.one_of(*choices))
    KH, KW = as_hw(kernel)
    if padding == "same":
        top, bottom, left, right = same_pads((KH, KW))
    else:
        ph, pw = as_hw(0 if padding == "valid" else padding)
        top, bottom, left, right = ph, ph, pw, pw
    # The kernel must fit the padded input; circular padding may wrap at most once.
    min_h = max(1, KH - top - bottom, max(top, bottom) if mode == "circular" else 1)
    min_w = max(1, KW - left - right, max(left, right) if mode == "circular" else 1)
    H, W = draw(small(min_h, max_hw)), draw(small(min_w, max_hw))
    kwargs = {"in_channels": C, "out_channels": F, "kernel_size": kernel, "stride": stride,
              "padding": padding, "padding_mode": mode}
    return {"shape": (N, C, H, W), "kwargs": kwargs, "seed": draw(small(0, 2**31))}


@st.composite
def pool_configs(draw, max_n=2, max_c=3, max_hw=7):
    """A valid pooling configuration: {"shape", "kernel", "stride" (None = kernel), "seed"}.

    Includes overlapping windows (stride < kernel) and windows that do not tile the input.
    """
    kernel = draw(st.one_of(small(1, 3), st.tuples(small(1, 3), small(1, 3))))
    stride = draw(st.one_of(st.none(), strides()))
    KH, KW = as_hw(kernel)
    shape = (draw(small(1, max_n)), draw(small(1, max_c)),
             draw(small(KH, max_hw)), draw(small(KW, max_hw)))
    return {"shape": shape, "kernel": kernel, "stride": stride, "seed": draw(small(0, 2**31))}


def make_conv(cfg, impl="fast"):
    """A float64 Conv2D for `cfg`, with random (not zero) biases."""
    layer = Conv2D(**cfg["kwargs"], impl=impl, rng=cfg["seed"], dtype=np.float64)
    layer.params["b"] = np.random.default_rng(cfg["seed"] + 1).standard_normal(
        layer.out_channels)
    return layer
