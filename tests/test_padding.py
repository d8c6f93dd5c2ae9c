"""minicnn.layers.padding: where "same" puts the extra pixel, what each mode fills in, and a
backward that is the exact adjoint of the padding."""

import numpy as np
import pytest
from conftest import rand

from minicnn.layers.padding import pad2d, pad2d_backward, same_pads


def test_same_pads_put_the_extra_pixel_last():
    assert same_pads((3, 3)) == (1, 1, 1, 1)
    assert same_pads((4, 1)) == (1, 2, 0, 0)
    assert same_pads((2, 5)) == (0, 1, 2, 2)


@pytest.mark.parametrize("mode", ["zeros", "circular"])
@pytest.mark.parametrize("pads", [(0, 0, 0, 0), (1, 0, 0, 0), (0, 2, 0, 0), (0, 0, 3, 0),
                                  (0, 0, 0, 1), (2, 1, 1, 3)])
def test_pad2d_backward_is_the_adjoint_of_pad2d(mode, pads):
    """<pad2d(x), g> == <x, pad2d_backward(g)> for every x and g: the gradient is exact."""
    x = rand(2, 2, 4, 5)
    xp = pad2d(x, pads, mode)
    assert xp.shape == (2, 2, 4 + pads[0] + pads[1], 5 + pads[2] + pads[3])
    g = rand(*xp.shape, seed=1)
    dx = pad2d_backward(g, pads, mode)
    assert dx.shape == x.shape
    assert np.sum(xp * g) == pytest.approx(np.sum(x * dx), rel=1e-12)


@pytest.mark.parametrize("mode", ["zeros", "circular"])
def test_no_padding_returns_the_array_itself_without_a_copy(mode):
    x = rand(2, 2, 4, 5)
    assert pad2d(x, (0, 0, 0, 0), mode) is x                 # padding=0 layers pay no copy
    assert pad2d_backward(x, (0, 0, 0, 0), mode) is x


def test_circular_padding_wraps_and_zero_padding_adds_zeros():
    x = np.arange(6.0).reshape(1, 1, 2, 3)
    np.testing.assert_array_equal(pad2d(x, (0, 0, 1, 1), "circular")[0, 0],
                                  [[2, 0, 1, 2, 0], [5, 3, 4, 5, 3]])
    np.testing.assert_array_equal(pad2d(x, (1, 0, 0, 0), "zeros")[0, 0],
                                  [[0, 0, 0], [0, 1, 2], [3, 4, 5]])
