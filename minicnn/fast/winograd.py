"""Winograd F(2x2, 3x3): a 3x3 stride-1 convolution with 2.25x fewer multiplications.

Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks", CVPR 2016. In 1-D, two
outputs of a 3-tap correlation, y_i = d_i g_0 + d_{i+1} g_1 + d_{i+2} g_2 (i = 0, 1), read
4 inputs d and take 6 multiplications. Winograd's minimal filtering takes 4:

    y = A^T [(G g) * (B^T d)]          (* elementwise, all vectors of length 4)

        B^T = [1  0 -1  0]     G = [ 1    0    0 ]     A^T = [1  1  1  0]
              [0  1  1  0]         [1/2  1/2  1/2]           [0  1 -1 -1]
              [0 -1  1  0]         [1/2 -1/2  1/2]
              [0  1  0 -1]         [ 0    0    1 ]

Nesting it along both axes gives a 2x2 output tile from a 4x4 input tile with 16 instead of 36
multiplications: Y = A^T [(G g G^T) * (B^T d B)] A. Tiles start every 2 pixels, so neighbouring
input tiles overlap by 2. In a convolution layer the sum over input channels c happens inside
the brackets, so for each of the 16 positions (a, b) of a tile the work is one matrix product
    M[a, b] = U[a, b] @ V[a, b]:   (F, C) @ (C, N * tiles),  U = G w G^T,  V = B^T d B,
and the transforms are cheap additions. Backward: dM = A dY A^T, dU = dM V^T, dV = U^T dM, then
dw = G^T dU G and dx = the overlap-add of B dV B^T (the adjoints of the same matrices).

Same contract as minicnn/layers/conv.py:
`out, cache = conv2d_winograd(x, w, b, stride, pads, mode)` and
`dx, dw, db = conv2d_winograd_backward(dout, cache)`, for 3x3 kernels and stride 1 only.
Memory: V is 16 / 4 = 4 values per output pixel and channel (im2col keeps 9).
"""

import numpy as np

from ..layers.padding import pad2d, pad2d_backward

G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])   # (4, 3)
A_T = np.array([[1, 1, 1, 0], [0, 1, -1, -1]])                             # (2, 4)
# Both axes of a tile at once: AA[2i + j, 4a + b] = A^T[i, a] * A^T[j, b], so Y = AA @ M per
# tile (its 16 values M[a, b] in a column). The input transform B^T d B is done as additions
# of slices below instead: B^T holds only 0 and +-1, so a product would multiply by zeros.
AA = np.kron(A_T, A_T)                                                     # (4, 16)


def _input_transform_1d(z, axis, t):
    """B^T along `axis`: the 4 rows of every tile (starting every 2) -> 4 arrays of t tiles."""
    def rows(r):                                                 # row r of every tile
        index = [slice(None)] * z.ndim
        index[axis] = slice(r, r + 2 * t, 2)
        return z[tuple(index)]
    z0, z1, z2, z3 = (rows(r) for r in range(4))
    return z0 - z2, z1 + z2, z2 - z1, z1 - z3


def _input_transform_adjoint_1d(dv, axis, t, size):
    """B along `axis`: 4 arrays of t tiles -> their overlap-add onto `size` rows (the adjoint)."""
    dv0, dv1, dv2, dv3 = dv
    shape = list(dv0.shape)
    shape[axis] = size
    dz = np.zeros(shape, dtype=dv0.dtype)
    for r, part in enumerate((dv0, dv1 - dv2 + dv3, dv1 + dv2 - dv0, -dv3)):
        index = [slice(None)] * dz.ndim
        index[axis] = slice(r, r + 2 * t, 2)
        dz[tuple(index)] += part                                 # tiles overlap by 2 rows
    return dz


def _tiles(x, pads, mode):
    """Pad x (N, C, H, W) and lay it out channel-first for the products.

    Returns xt (C, N, 2*th + 2, 2*tw + 2) (zero rows/columns added so the tiles fit), the tile
    counts (th, tw) and the output size (Ho, Wo).
    """
    xp = pad2d(x, pads, mode)
    N, C, Hp, Wp = xp.shape
    Ho, Wo = Hp - 2, Wp - 2
    th, tw = (Ho + 1) // 2, (Wo + 1) // 2
    xt = np.zeros((C, N, 2 * th + 2, 2 * tw + 2), dtype=xp.dtype)
    xt[:, :, :Hp, :Wp] = xp.transpose(1, 0, 2, 3)               # (C, N, Hp, Wp), one copy
    return xt, (th, tw), (Ho, Wo)


def conv2d_winograd(x, w, b, stride=(1, 1), pads=(0, 0, 0, 0), mode="zeros"):
    """Winograd forward, same arguments and result as `conv2d_naive` (3x3, stride 1 only)."""
    if w.shape[2:] != (3, 3) or tuple(stride) != (1, 1):
        raise ValueError(f"conv2d_winograd: needs a 3x3 kernel and stride 1, got kernel "
                         f"{w.shape[2:]} and stride {stride}")
    F, C = w.shape[:2]
    N = x.shape[0]
    xt, (th, tw), (Ho, Wo) = _tiles(x, pads, mode)
    V = np.empty((4, 4, C, N, th, tw), dtype=xt.dtype)
    for a, rows in enumerate(_input_transform_1d(xt, 2, th)):   # each (C, N, th, 2*tw + 2)
        for bb, v in enumerate(_input_transform_1d(rows, 3, tw)):
            V[a, bb] = v                                         # (C, N, th, tw)
    U = np.einsum("ap,fcpq,bq->abfc", G, w, G).astype(w.dtype)  # (4, 4, F, C)
    M = U.reshape(16, F, C) @ V.reshape(16, C, N * th * tw)    # (16, F, N*th*tw)
    M[5] += b.reshape(F, 1)        # bias on M[1, 1]: A^T[i, 1] = 1 puts it in all 4 outputs
    Y = AA.astype(M.dtype) @ M.reshape(16, -1)                 # A^T M A, one product
    Y = Y.reshape(2, 2, F, N, th, tw)                          # Y[i, j]: output (2ti+i, 2tj+j)
    out = np.empty((N, F, th, 2, tw, 2), dtype=M.dtype)
    for i in range(2):
        for j in range(2):
            out[:, :, :, i, :, j] = Y[i, j].transpose(1, 0, 2, 3)   # (F, N, ..) -> (N, F, ..)
    out = out.reshape(N, F, 2 * th, 2 * tw)[:, :, :Ho, :Wo]
    if out.shape[2:] != (2 * th, 2 * tw):
        out = np.ascontiguousarray(out)                          # odd Ho or Wo: crop
    return out, {"V": V, "U": U, "w": w, "x_shape": x.shape, "pads": pads, "mode": mode}


def conv2d_winograd_backward(dout, cache):
    """Winograd backward. Returns dx (N, C, H, W), dw (F, C, 3, 3), db (F,)."""
    V, U, w, pads, mode = cache["V"], cache["U"], cache["w"], cache["pads"], cache["mode"]
    N, F, Ho, Wo = dout.shape
    C, th, tw = V.shape[2], V.shape[4], V.shape[5]
    dy = np.zeros((F, N, th, 2, tw, 2), dtype=dout.dtype)    # dY tiles, channel-first
    dy.reshape(F, N, 2 * th, 2 * tw)[:, :, :Ho, :Wo] = dout.transpose(1, 0, 2, 3)
    dY = dy.transpose(3, 5, 0, 1, 2, 4).reshape(4, -1)          # (4 = (i, j), F*N*th*tw), a copy
    dM = (AA.T.astype(dY.dtype) @ dY).reshape(16, F, N * th * tw)   # A dY A^T, one product
    dU = dM @ V.reshape(16, C, -1).transpose(0, 2, 1)           # (16, F, C)
    dw = np.einsum("ap,abfc,bq->fcpq", G, dU.reshape(4, 4, F, C), G).astype(w.dtype)
    dV = (U.reshape(16, F, C).transpose(0, 2, 1) @ dM).reshape(4, 4, C, N, th, tw)
    rows = [_input_transform_adjoint_1d(dV[a], 3, tw, 2 * tw + 2) for a in range(4)]
    dxt = _input_transform_adjoint_1d(rows, 2, th, 2 * th + 2)  # (C, N, 2*th + 2, 2*tw + 2)
    Hp, Wp = Ho + 2, Wo + 2
    dxp = dxt[:, :, :Hp, :Wp].transpose(1, 0, 2, 3)             # (N, C, Hp, Wp), a view
    dx = pad2d_backward(dxp, pads, mode)
    return np.ascontiguousarray(dx), dw, dout.sum(axis=(0, 2, 3))
