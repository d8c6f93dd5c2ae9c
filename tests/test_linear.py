"""minicnn.layers.linear: Flatten, Linear and ReLU (their gradients: test_gradients.py)."""

import numpy as np
import pytest
from conftest import rand

import minicnn as mc


def test_relu_gradient_is_zero_at_exactly_zero():
    relu = mc.ReLU()
    np.testing.assert_array_equal(relu.forward(np.array([[-1.0, 0.0, 2.0]])), [[0, 0, 2]])
    np.testing.assert_array_equal(relu.backward(np.array([[5.0, 5.0, 5.0]])), [[0, 0, 5]])


def test_linear_and_flatten_shape_checks():
    with pytest.raises(mc.ShapeError, match=r"\(add Flatten\(\) before it\?\)"):
        mc.Linear(4, 2).forward(rand(2, 1, 2, 2))
    with pytest.raises(mc.ShapeError, match=r"expected input of shape \(N, 4\), got \(2, 3\)$"):
        mc.Linear(4, 2).forward(rand(2, 3))
    with pytest.raises(mc.ShapeError, match="at least a 2-d input"):
        mc.Flatten().output_shape((5,))
    assert mc.Flatten().output_shape((5, 2, 3)) == (5, 6)
    assert mc.Flatten().output_shape((5, 6)) == (5, 6)
    with pytest.raises(mc.ShapeError, match=r"\(add Flatten\(\) before it\?\)"):
        mc.Linear(4, 2).forward(rand(2, 2, 2))
    with pytest.raises(mc.ShapeError, match=r"\(add Flatten\(\) before it\?\)"):
        mc.Linear(4, 2).forward(rand(2, 4, 1, 1))               # 4 features, but 4-d
