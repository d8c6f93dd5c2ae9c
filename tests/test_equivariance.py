"""minicnn.measure.equivariance: every helper on a case whose answer is known in advance."""

import numpy as np
import pytest

from minicnn import Conv2D, Flatten, GlobalAvgPool2D, Linear, MaxPool2D, ReLU, Sequential
from minicnn.measure.equivariance import (
    border_free_mask,
    conv_as_dense_matrix,
    dense_weight_ties,
    equivariance_error,
    equivariance_error_map,
    interior_mask,
    invariance_error,
    layer_outputs,
    output_shifts,
    representation_similarity,
    shift_circular,
    shift_image,
    shift_zero,
    sum_tied_gradients,
)


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# --- shifts ---------------------------------------------------------------------------------
def test_shift_circular_moves_one_pixel_and_wraps():
    x = np.zeros((1, 1, 4, 5))
    x[0, 0, 3, 4] = 1.0
    y = shift_circular(x, (1, 2))
    assert y[0, 0, 0, 1] == 1.0 and y.sum() == 1.0          # wrapped round both axes


def test_shift_zero_moves_content_and_fills_with_zeros():
    x = np.arange(1, 13, dtype=float).reshape(3, 4)
    y = shift_zero(x, (1, -1))
    expected = np.array([[0, 0, 0, 0], [2, 3, 4, 0], [6, 7, 8, 0]], dtype=float)
    np.testing.assert_array_equal(y, expected)
    assert shift_zero(x, (3, 0)).sum() == 0                  # shifted out entirely


def test_shifts_undo_and_dispatch():
    x = rand(2, 3, 6, 7)
    np.testing.assert_array_equal(shift_circular(shift_circular(x, (2, -3)), (-2, 3)), x)
    np.testing.assert_array_equal(shift_image(x, (1, 1), "zeros"), shift_zero(x, (1, 1)))
    with pytest.raises(ValueError, match="mode"):
        shift_image(x, (1, 1), "reflect")


def test_interior_mask_and_output_shifts():
    m = interior_mask((6, 5), 2)
    assert m.sum() == 2 * 1 and m[2, 2] and not m[1, 2]
    b = border_free_mask((6, 6), (1, 0), 1)                  # rows 1..4 and rows 2..5 -> 2..4
    assert b.sum() == 3 * 4 and b[2:5, 1:5].all()
    assert output_shifts((4, 2), 2) == [(2, 1)]
    assert output_shifts((3, 0), 2) == [(1, 0), (2, 0)]


# --- errors ---------------------------------------------------------------------------------
def test_identity_and_roll_have_known_errors():
    x = rand(2, 1, 8, 8)
    assert equivariance_error(lambda v: v, x, (3, -2)) == 0.0
    assert invariance_error(lambda v: v.sum(axis=(2, 3)), x, (3, -2)) < 1e-12
    # f = a fixed roll by one row commutes with every roll: equivariant, not invariant.
    assert equivariance_error(lambda v: np.roll(v, 1, axis=2), x, (2, 5)) == 0.0
    assert invariance_error(lambda v: v, x, (0, 1)) > 0.5


def test_error_of_a_position_dependent_map_is_exactly_computable():
    x = np.zeros((1, 1, 1, 4))
    x[..., 0] = 1.0
    weights = np.array([1.0, 2.0, 3.0, 4.0])                 # a different weight per position

    def f(v):
        return v * weights

    # f(x) = [1,0,0,0]; f(S x) = [0,2,0,0]; S f(x) = [0,1,0,0]: error = |2-1| / 1 = 1.
    assert equivariance_error(f, x, (0, 1)) == pytest.approx(1.0)


def test_circular_conv_is_equivariant_and_zero_padding_only_in_the_interior():
    x = rand(2, 2, 12, 12).astype(np.float64)
    circ = Conv2D(2, 3, 3, padding=1, padding_mode="circular", rng=1).astype(np.float64)
    zero = Conv2D(2, 3, 3, padding=1, rng=1).astype(np.float64)
    assert equivariance_error(circ.forward, x, (3, -5)) < 1e-12
    assert equivariance_error(zero.forward, x, (2, 1), mode="zeros") > 1e-3
    inner = interior_mask((12, 12), 1)                       # one 3x3 kernel: radius 1
    assert equivariance_error(zero.forward, x, (2, 1), mode="zeros", mask=inner) > 1e-3
    safe = border_free_mask((12, 12), (2, 1), 1)             # ...and away from the filled edge
    assert equivariance_error(zero.forward, x, (2, 1), mode="zeros", mask=safe) < 1e-12


def test_stride_two_even_shifts_exact_odd_shifts_not():
    x = rand(1, 1, 16, 16)
    pool = MaxPool2D(2)
    assert equivariance_error(pool.forward, x, (2, 4), stride=2) == 0.0
    assert equivariance_error(pool.forward, x, (1, 0), stride=2) > 0.1


def test_error_map_is_zero_inside_and_squares_sum_to_the_error():
    x = rand(1, 1, 10, 10)
    zero = Conv2D(1, 2, 3, padding=1, rng=0).astype(np.float64)
    emap = equivariance_error_map(zero.forward, x, (1, 1), mode="zeros")
    assert emap.shape == (10, 10)
    assert np.abs(emap[interior_mask((10, 10), 1)]).max() < 1e-12
    assert emap[-1].max() > 0 and emap[:, -1].max() > 0      # content left through bottom/right
    total = equivariance_error(zero.forward, x, (1, 1), mode="zeros")
    assert np.sqrt((emap ** 2).sum()) == pytest.approx(total)


# --- similarity and layer outputs ------------------------------------------------------------
def test_representation_similarity_known_values():
    a = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0], [0.0, 0.0]])
    b = np.array([[0.0, 2.0], [2.0, 2.0], [0.0, 0.0], [3.0, 0.0]])
    sim, mean = representation_similarity(a, b)
    np.testing.assert_allclose(sim, [0.0, 1.0, 1.0, 0.0])
    assert mean == pytest.approx(0.5)
    assert representation_similarity(a, -a)[0][1] == pytest.approx(-1.0)
    with pytest.raises(ValueError, match="shapes differ"):
        representation_similarity(a, b[:, :1])


def test_layer_outputs_match_running_the_model():
    model = Sequential([Conv2D(1, 4, 3, padding=1, rng=0), ReLU(), MaxPool2D(2),
                        GlobalAvgPool2D(), Linear(4, 3, rng=0)])
    x = rand(2, 1, 8, 8).astype(np.float32)
    outs = layer_outputs(model, x)
    assert [o.shape for o in outs] == [(2, 4, 8, 8), (2, 4, 8, 8), (2, 4, 4, 4), (2, 4), (2, 3)]
    np.testing.assert_array_equal(outs[-1], model.forward(x))


# --- a convolution as a matrix ------------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [{"padding": 1}, {"padding": 1, "padding_mode": "circular"},
                                    {"stride": 2}, {"padding": 0}])
def test_dense_matrix_does_what_the_conv_does(kwargs):
    conv = Conv2D(2, 3, 3, rng=0, **kwargs).astype(np.float64)
    conv.params["b"][:] = [0.5, -1.0, 2.0]
    x = rand(3, 2, 6, 7)
    out = conv.forward(x)
    M = conv_as_dense_matrix(conv, (2, 6, 7))
    Ho_Wo = out.shape[2] * out.shape[3]
    dense = x.reshape(3, -1) @ M.T + np.repeat(conv.params["b"], Ho_Wo)   # (N, F*Ho*Wo)
    assert M.shape == (out[0].size, 2 * 6 * 7)
    np.testing.assert_allclose(dense, out.reshape(3, -1), atol=1e-12)


def test_weight_ties_point_at_the_kernel_and_gradients_add_up():
    conv = Conv2D(1, 2, 3, padding=1, rng=0).astype(np.float64)
    M = conv_as_dense_matrix(conv, (1, 5, 5))
    ties = dense_weight_ties(conv, (1, 5, 5))
    used = ties >= 0
    np.testing.assert_array_equal(M[used], conv.params["W"].ravel()[ties[used]])
    assert np.all(M[~used] == 0)
    # Interior output pixels see all 9 weights of their filter; the corner one sees 4.
    assert (ties[0 * 25 + 12] >= 0).sum() == 9 and (ties[0] >= 0).sum() == 4
    x, dout = rand(2, 1, 5, 5), rand(2, 2, 5, 5, seed=1)
    conv.forward(x)
    conv.backward(dout)
    dM = dout.reshape(2, -1).T @ x.reshape(2, -1)            # (50, N) @ (N, 25): dL/dM
    np.testing.assert_allclose(sum_tied_gradients(dM, ties, conv.params["W"].shape),
                               conv.grads["W"], atol=1e-12)


def test_flatten_linear_has_no_shift_structure():
    x = rand(2, 1, 6, 6)
    lin = Sequential([Flatten(), Linear(36, 36, rng=0).astype(np.float64)])

    def f(v):
        return lin.forward(v).reshape(v.shape)

    assert equivariance_error(f, x, (0, 1)) > 0.5
