"""Winograd F(2x2, 3x3), tuned: channels last, a block of images at a time.

The same maths as `minicnn/fast/winograd.py` (read that first, with Lavin and Gray's paper):
    M[a, b] = U[a, b] @ V[a, b] for the 16 positions (a, b) of a 4x4 tile, Y = A^T M A.
What differs is the arrangement, chosen by measurement (docs/speed.md):
- Channels last. The transformed input V holds one row per tile and one column per channel,
  (16, tiles, C), so each of the 16 products is (tiles, C) @ (C, F): OpenBLAS runs this shape
  faster than (F, C) @ (C, tiles), and the transforms' slices read runs of C contiguous values.
- A block of images at a time. The transforms, the products and the output transform of one
  block run while the block is in cache, instead of writing 16 full-batch arrays to memory and
  reading them back; the NCHW <-> channels-last transposes happen block by block too.
- The cache keeps V for the weight gradient when it is small (MAX_V_BYTES); otherwise it keeps
  the padded input and backward transforms each block again. Both give the same bits.

`conv2d_fast` (minicnn/fast/conv.py) sends 3x3, stride-1 layers here when they have enough
channels and work to repay the extra NumPy calls (`uses_winograd`). The sums run in another
order than im2col's and through the transforms, so float32 results differ from the loops' in
the last bits.
"""

import numpy as np

from ..layers.padding import pad2d, pad2d_backward
from .blocks import BLOCK_BYTES, scratch
from .winograd import AA, G

MAX_V_BYTES = 64 * 2**20       # above this, backward recomputes V instead of keeping it


def _bt(z0, z1, z2, z3, out):
    """B^T d along one axis: four rows of every tile -> the four transformed rows, into out."""
    np.subtract(z0, z2, out=out[0])
    np.add(z1, z2, out=out[1])
    np.subtract(z2, z1, out=out[2])
    np.subtract(z1, z3, out=out[3])


def _b(dv, out, axis, t, tmp):
    """B dv along `axis`, the adjoint of `_bt`: overlap-add the 4 transformed rows of t tiles.

    Tile k starts at row 2k, so its rows 2 and 3 fall on the next tile's rows 0 and 1: even rows
    get dv0 (row 0) plus, one tile on, dv1 + dv2 - dv0 (row 2); odd rows get dv1 - dv2 + dv3
    (row 1) plus, one tile on, -dv3 (row 3). out has 2t + 2 rows along axis and is overwritten.
    """
    dv0, dv1, dv2, dv3 = dv

    def rows(a, start, stop, step=1):
        index = [slice(None)] * a.ndim
        index[axis] = slice(start, stop, step)
        return a[tuple(index)]

    even, odd = rows(out, 0, 2 * t + 2, 2), rows(out, 1, 2 * t + 2, 2)     # t + 1 rows each
    rows(even, 0, t)[...] = dv0
    rows(even, t, t + 1)[...] = 0
    np.subtract(dv1, dv2, out=tmp)
    np.add(tmp, dv3, out=rows(odd, 0, t))
    rows(odd, t, t + 1)[...] = 0
    np.add(dv1, dv2, out=tmp)
    tmp -= dv0
    rows(even, 1, t + 1)[...] += tmp
    rows(odd, 1, t + 1)[...] -= dv3


class _Plan:
    """Sizes of one layer's tiling, shared by forward and backward."""

    def __init__(self, xp_shape, F, dtype):
        N, C, Hp, Wp = xp_shape
        self.N, self.C, self.F, self.Hp, self.Wp = N, C, F, Hp, Wp
        self.Ho, self.Wo = Hp - 2, Wp - 2
        self.th, self.tw = (self.Ho + 1) // 2, (self.Wo + 1) // 2        # tiles per axis
        self.Hq, self.Wq = 2 * self.th + 2, 2 * self.tw + 2             # input the tiles cover
        self.P = self.th * self.tw                                      # tiles per image
        self.dtype = np.dtype(dtype)
        # V of a block is 4x its input: a block of images whose V fits in BLOCK_BYTES.
        per_image = 4 * self.Hq * self.Wq * C * self.dtype.itemsize
        self.step = max(1, BLOCK_BYTES // per_image)

    def blocks(self):
        """(first image, number of images) of each block."""
        return [(i, min(self.N, i + self.step) - i) for i in range(0, self.N, self.step)]

    def take(self, role, *shape):
        return scratch.take(role, shape, self.dtype)

    def input_transform(self, xp, i, n, V):
        """V (16, n*P, C) of images i..i+n of xp (N, C, Hp, Wp), channels last, written into V."""
        th, tw, C = self.th, self.tw, self.C
        block = self.take("tiles", n, self.Hq, self.Wq, C)
        block[:, :self.Hp, :self.Wp] = xp[i:i + n].transpose(0, 2, 3, 1)   # NCHW -> NHWC
        block[:, self.Hp:] = 0                                          # the last tiles' margin
        block[:, :, self.Wp:] = 0
        rows = self.take("rows", 4, n, th, self.Wq, C)
        _bt(*(block[:, k:k + 2 * th:2] for k in range(4)), rows)        # along the rows
        V6 = V.reshape(4, 4, n, th, tw, C)
        for a in range(4):                                              # along the columns
            _bt(*(rows[a][:, :, k:k + 2 * tw:2] for k in range(4)), V6[a])
        return V


# Both sides of U = G w G^T at once: U[(a, b)] = sum over (p, q) of GG[(a, b), (p, q)] w[p, q],
# GG = G (x) G, so all F*C kernels transform in one (16, 9) @ (9, F*C) product (an einsum over
# the six indices took longer than a small layer's whole forward pass).
GG = np.kron(G, G)                                                         # (16, 9)


def _transformed_weights(w):
    """U = G w G^T for every (f, c), laid out (16, C, F) for the products (tiles, C) @ (C, F)."""
    F, C = w.shape[:2]
    U = GG.astype(w.dtype) @ w.reshape(F * C, 9).T                        # (16, F*C)
    return np.ascontiguousarray(U.reshape(16, F, C).transpose(0, 2, 1))


def _weight_gradient(dU, w):
    """dw = G^T dU G for every (f, c), the adjoint of `_transformed_weights`: dU (16, C, F)."""
    F, C = w.shape[:2]
    dw = GG.T.astype(dU.dtype) @ dU.reshape(16, C * F)                     # (9, C*F)
    return np.ascontiguousarray(dw.reshape(3, 3, C, F).transpose(3, 2, 0, 1), dtype=w.dtype)


def conv2d_winograd_blocked(x, w, b, pads=(0, 0, 0, 0), mode="zeros"):
    """x (N, C, H, W), w (F, C, 3, 3), b (F,) -> out (N, F, Ho, Wo), cache (stride 1)."""
    xp = pad2d(x, pads, mode)
    plan = _Plan(xp.shape, w.shape[0], np.result_type(x, w))
    N, C, F, P = plan.N, plan.C, plan.F, plan.P
    U = _transformed_weights(w).astype(plan.dtype, copy=False)
    AA_ = AA.astype(plan.dtype)
    keep_V = 16 * N * P * C * plan.dtype.itemsize <= MAX_V_BYTES
    V_all = np.empty((16, N, P, C), dtype=plan.dtype) if keep_V else None
    out = np.empty((N, F, plan.th, 2, plan.tw, 2), dtype=plan.dtype)
    for i, n in plan.blocks():
        V = (V_all[:, i:i + n].reshape(16, n * P, C) if keep_V
             else plan.take("V", 16, n * P, C))
        plan.input_transform(xp, i, n, V)
        M = plan.take("M", 16, n * P, F)
        np.matmul(V, U, out=M)                                        # (16, n*P, C) @ (16, C, F)
        M[5] += b           # the bias on M[1, 1]: A^T[i, 1] = 1 puts it in all four outputs
        Y = plan.take("Y", 2, 2, n, plan.th, plan.tw, F)
        np.matmul(AA_, M.reshape(16, -1), out=Y.reshape(4, -1))       # A^T M A, one product
        for a in range(2):
            for c in range(2):                                        # output (2ti + a, 2tj + c)
                out[i:i + n, :, :, a, :, c] = Y[a, c].transpose(0, 3, 1, 2)
    out = out.reshape(N, F, 2 * plan.th, 2 * plan.tw)
    if (2 * plan.th, 2 * plan.tw) != (plan.Ho, plan.Wo):
        out = np.ascontiguousarray(out[:, :, :plan.Ho, :plan.Wo])      # odd Ho or Wo: crop
    cache = {"plan": plan, "U": U, "w": w, "pads": pads, "mode": mode,
             "V": V_all, "xp": None if keep_V else xp}
    return out, cache


def conv2d_winograd_blocked_backward(dout, cache):
    """dx (N, C, H, W), dw (F, C, 3, 3), db (F,) of `conv2d_winograd_blocked`.

    Per block: dM = A dY A^T, dU += V^T dM (dw = G^T dU G at the end), dV = dM U^T, and dx is
    the overlap-add of B dV B^T, transposed back to NCHW.
    """
    plan, U, w = cache["plan"], cache["U"], cache["w"]
    N, C, F, P, th, tw = plan.N, plan.C, plan.F, plan.P, plan.th, plan.tw
    AAT = np.ascontiguousarray(AA.T.astype(plan.dtype))
    UT = np.ascontiguousarray(U.transpose(0, 2, 1))                   # (16, F, C)
    dU = np.zeros((16, C, F), dtype=plan.dtype)
    dxp = np.empty((N, C, plan.Hp, plan.Wp), dtype=plan.dtype)
    for i, n in plan.blocks():
        dY = plan.take("dY", 2, 2, n, th, tw, F)
        for a in range(2):
            for c in range(2):
                s = dout[i:i + n, :, a::2, c::2].transpose(0, 2, 3, 1)  # (n, <=th, <=tw, F)
                dY[a, c, :, :s.shape[1], :s.shape[2]] = s
                dY[a, c, :, s.shape[1]:] = 0                          # odd Ho or Wo: the margin
                dY[a, c, :, :, s.shape[2]:] = 0
        dM = plan.take("dM", 16, n * P, F)
        np.matmul(AAT, dY.reshape(4, -1), out=dM.reshape(16, -1))     # A dY A^T
        if cache["V"] is None:                                        # recompute this block's V
            V = plan.input_transform(cache["xp"], i, n, plan.take("V", 16, n * P, C))
        else:
            V = cache["V"][:, i:i + n].reshape(16, n * P, C)
        dU += V.transpose(0, 2, 1) @ dM                               # (16, C, n*P) @ (16, n*P, F)
        dV = plan.take("dV", 4, 4, n, th, tw, C)
        np.matmul(dM, UT, out=dV.reshape(16, n * P, C))               # (16, n*P, F) @ (16, F, C)
        rows = plan.take("rows", 4, n, th, plan.Wq, C)
        tmp = plan.take("tmp", n, th, plan.Wq, C)
        for a in range(4):
            _b(dV[a], rows[a], 2, tw, tmp[:, :, :tw])                 # along the columns
        dxq = plan.take("tiles", n, plan.Hq, plan.Wq, C)
        _b(rows, dxq, 1, th, tmp)                                     # along the rows
        dxp[i:i + n] = dxq[:, :plan.Hp, :plan.Wp].transpose(0, 3, 1, 2)   # NHWC -> NCHW
    dw = _weight_gradient(dU, w)
    dx = pad2d_backward(dxp, cache["pads"], cache["mode"])
    return np.ascontiguousarray(dx), dw, dout.sum(axis=(0, 2, 3))
