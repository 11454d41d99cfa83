"""The profiled likelihood of a straight-line mixed model with one grouping factor.

The algebra behind :mod:`multilevel.models.engine` (notation as there, after lme4): per-group
sums of the data (:class:`Stats`), and at any relative Cholesky factor ``theta`` the profiled
deviance, its exact gradient and the estimates that go with it (:func:`evaluate_batch`). The
engine's optimiser calls these; tests check the gradient against finite differences.

Examples
--------
>>> import numpy as np
>>> g = np.repeat(np.arange(5), 4)
>>> x = np.tile(np.arange(4.0), 5)
>>> y = x + np.arange(5.0)[g] + np.sin(np.arange(20.0))
>>> st = make_stats(x, y, g, 5, "intercept")
>>> bool(evaluate(np.array([0.5]), st)[0] < evaluate(np.array([0.0]), st)[0])
True
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from multilevel import specs

__all__ = [
    "RANDOM_PARTS",
    "Point",
    "Stats",
    "evaluate",
    "evaluate_batch",
    "make_stats",
    "relative_factor",
    "theta_index",
]

#: Random-effect specifications: the engine's code -> (varying parts, correlated), from the
#: models' table (:data:`multilevel.specs.MODELS`); None is no random part.
RANDOM_PARTS: dict[str | None, tuple[tuple[str, ...], bool]] = {
    None: ((), False),
    **{
        spec.random: (spec.varying_parts, spec.correlated)
        for spec in specs.MODELS.values()
        if spec.random is not None
    },
}

_LOG_2PI = math.log(2.0 * math.pi)


def _pairs(k: int) -> list[tuple[int, int]]:
    """Upper-triangle index pairs of a symmetric k x k matrix."""
    return [(i, j) for i in range(k) for j in range(i, k)]


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class Stats:
    """Per-group sums on the internal (centred and scaled) scale, and the maps back.

    Fixed columns ``X = [1, xs]`` (``p = 2``) or ``[1]`` (``p = 1``, no predictor); random
    columns ``Z = X K`` (``q`` of them). Arrays with a trailing group axis ``G``.
    """

    p: int
    q: int
    correlated: bool
    reml: bool
    dof: int
    xtx: np.ndarray  # (p, p): X'X summed over groups
    xty: np.ndarray  # (p,)
    yty: float
    zx: np.ndarray  # (q, p, G): Z'X per group
    zz: np.ndarray  # (q, q, G): Z'Z per group
    zy: np.ndarray  # (q, G): Z'y per group
    zz_sum: np.ndarray  # (q, q)
    lin: np.ndarray  # (q(q+1)/2 * G, m): per-group products, see _linear_products
    K: np.ndarray  # (p, q)
    B: np.ndarray  # (q, q): internal random effects -> original x units (before y scaling)
    x_mean: float
    x_scale: float
    y_mean: float
    y_scale: float


def relative_factor(theta: np.ndarray, q: int, correlated: bool) -> np.ndarray:
    if q == 1:
        return np.array([[theta[0]]])
    if correlated:
        return np.array([[theta[0], 0.0], [theta[1], theta[2]]])
    return np.array([[theta[0], 0.0], [0.0, theta[1]]])


def theta_index(q: int, correlated: bool) -> list[tuple[int, int]]:
    """Position in Lambda of each theta entry (lme4's column-major lower triangle)."""
    if q == 1:
        return [(0, 0)]
    if correlated:
        return [(0, 0), (1, 0), (1, 1)]
    return [(0, 0), (1, 1)]


def _linear_products(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Column such that ``R_stacked @ column = sum_g u_g' R_g v_g`` for symmetric per-group R.

    ``u``, ``v`` have shape (q, G); ``R_stacked`` concatenates the upper-triangle entries of R
    group by group: ``[R11 (G), R12 (G), R22 (G)]`` for q = 2.
    """
    if u.shape[0] == 1:
        return u[0] * v[0]
    return np.concatenate([u[0] * v[0], u[0] * v[1] + u[1] * v[0], u[1] * v[1]])


def make_stats(
    x: np.ndarray | None,
    y: np.ndarray,
    codes: np.ndarray,
    n_groups: int,
    random: str | None,
    reml: bool = True,
) -> Stats:
    parts, correlated = RANDOM_PARTS[random]
    p = 1 if x is None else 2
    y_mean = float(y.mean())
    y_scale = float(y.std()) or 1.0
    ys = (y - y_mean) / y_scale
    n_j = np.bincount(codes, minlength=n_groups).astype(float)
    sy = np.bincount(codes, ys, minlength=n_groups)
    if x is None:
        x_mean, x_scale = 0.0, 1.0
        xtx_g = n_j[None, None, :]  # (p, p, G)
        xty_g = sy[None, :]  # (p, G)
    else:
        x_mean = float(x.mean())
        x_scale = float(x.std()) or 1.0
        xs = (x - x_mean) / x_scale
        sx = np.bincount(codes, xs, minlength=n_groups)
        sxx = np.bincount(codes, xs * xs, minlength=n_groups)
        sxy = np.bincount(codes, xs * ys, minlength=n_groups)
        xtx_g = np.array([[n_j, sx], [sx, sxx]])
        xty_g = np.array([sy, sxy])
    # The fixed part is always centred (it changes nothing but the conditioning). The random
    # part may only be centred where that leaves the model unchanged: correlated intercept and
    # slope. (0 + x | g) and (1 + x || g) are about x itself, so there x is only scaled.
    shift = x_mean / x_scale
    if random is None:
        K, B = np.zeros((p, 0)), np.zeros((0, 0))
    elif random == "intercept":
        K, B = np.eye(p)[:, :1], np.array([[1.0]])
    elif random == "slope":
        K, B = np.array([[shift], [1.0]]), np.array([[1.0 / x_scale]])
    elif correlated:
        K, B = np.eye(2), np.array([[1.0, -shift], [0.0, 1.0 / x_scale]])
    else:
        K, B = np.array([[1.0, shift], [0.0, 1.0]]), np.diag([1.0, 1.0 / x_scale])
    q = K.shape[1]
    zx = np.einsum("aq,abg->qbg", K, xtx_g)
    zz = np.einsum("qbg,br->qrg", zx, K)
    zy = np.einsum("aq,ag->qg", K, xty_g)
    if q:
        cols = [_linear_products(zx[:, a], zx[:, b]) for a, b in _pairs(p)]
        cols += [_linear_products(zx[:, a], zy) for a in range(p)]
        cols += [_linear_products(zy, zy)]
        cols += [_linear_products(zz[:, a], zz[:, b]) for a, b in _pairs(q)]
        lin = np.stack(cols, axis=1)
    else:
        lin = np.zeros((0, 0))
    n = int(y.size)
    return Stats(
        p=p,
        q=q,
        correlated=correlated,
        reml=reml,
        dof=n - p if reml else n,
        xtx=xtx_g.sum(-1),
        xty=xty_g.sum(-1),
        yty=float(ys @ ys),
        zx=zx,
        zz=zz,
        zy=zy,
        zz_sum=zz.sum(-1),
        lin=lin,
        K=K,
        B=B,
        x_mean=x_mean,
        x_scale=x_scale,
        y_mean=y_mean,
        y_scale=y_scale,
    )


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class Point:
    """The profiled estimates at one or more values of theta (leading axis T)."""

    dev: np.ndarray  # (T,)
    grad: np.ndarray  # (T, n_theta)
    beta: np.ndarray  # (T, p)
    xtwx_inv: np.ndarray  # (T, p, p): (X' V^-1 X)^-1 sigma^2
    r2: np.ndarray  # (T,): penalised residual sum of squares
    r: np.ndarray  # (T, q, q, G): Lambda M^-1 Lambda' per group
    ze: np.ndarray  # (T, q, G): Z'(y - X beta) per group


def _random_blocks(
    thetas: np.ndarray, st: Stats
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Per-group ``M = I + Lambda' Z'Z Lambda`` and ``R = Lambda M^-1 Lambda'`` at each theta.

    Returns ``log det M`` summed over groups (T,), the sums linear in R (T, n_lin), R itself
    (T, q, q, G) and, for q = 1, M (T, G) for the gradient.
    """
    n_t = thetas.shape[0]
    if st.q == 1:
        t2 = thetas[:, :1] ** 2
        m = 1.0 + t2 * st.zz[0, 0]  # (T, G): M = 1 + theta^2 Z'Z
        r1 = t2 / m
        return np.log(m).sum(1), r1 @ st.lin, r1[:, None, None, :], m
    if st.q == 2:
        l11 = thetas[:, 0:1]
        l21 = thetas[:, 1:2] if st.correlated else 0.0
        l22 = thetas[:, 2:3] if st.correlated else thetas[:, 1:2]
        a, b, c = st.zz[0, 0], st.zz[0, 1], st.zz[1, 1]
        # M = I + Lambda' Z'Z Lambda, symmetric 2x2 per group.
        t11, t21 = a * l11 + b * l21, b * l11 + c * l21
        m11 = 1.0 + l11 * t11 + l21 * t21
        m12 = l22 * (l11 * b + l21 * c)
        m22 = 1.0 + l22 * l22 * c
        det = m11 * m22 - m12 * m12
        i11, i12, i22 = m22 / det, -m12 / det, m11 / det
        # R = Lambda M^-1 Lambda'.
        u = l21 * i11 + l22 * i12
        r11 = l11 * l11 * i11
        r12 = l11 * u
        r22 = l21 * u + l22 * (l21 * i12 + l22 * i22)
        sums = np.concatenate([r11, r12, r22], axis=1) @ st.lin
        r = np.stack([np.stack([r11, r12], 1), np.stack([r12, r22], 1)], 1)
        return np.log(det).sum(1), sums, r, None
    return np.zeros(n_t), np.zeros((n_t, 0)), np.zeros((n_t, 0, 0, st.zy.shape[-1])), None


def _gradient(
    thetas: np.ndarray,
    st: Stats,
    zrz: np.ndarray,
    r: np.ndarray,
    m: np.ndarray | None,
    ze: np.ndarray,
    r2: np.ndarray,
    xtwx_inv: np.ndarray,
) -> np.ndarray:
    """Gradient of the profiled deviance in theta (T, n_theta).

    d dev = tr(Q dSigma) with Sigma = Lambda Lambda', so d dev / d Lambda = 2 Q Lambda,
    Q = sum_g [Z'WZ - (dof / r2) v v' - (REML) C (X'WX)^-1 C'], W = V^-1 sigma^2,
    v = Z'W(y - X beta), C = Z'WX; with S = Z'Z R: Z'WZ = Z'Z - S Z'Z, v = (I - S) ze,
    C = (I - S) Z'X.
    """
    if st.q == 1:
        inv_m = 1.0 / m
        v = (ze[:, 0] * inv_m)[:, None]
        c_mat = st.zx[None, 0] * inv_m[:, None, :]  # (T, p, G)
        c_mat = c_mat[:, None]
    else:
        s = np.einsum("abg,tbcg->tacg", st.zz, r)
        v = ze - np.einsum("tabg,tbg->tag", s, ze)
        c_mat = st.zx[None] - np.einsum("tabg,tbcg->tacg", s, st.zx[None])
    qmat = st.zz_sum - zrz
    qmat -= (st.dof / r2)[:, None, None] * np.einsum("tag,tbg->tab", v, v)
    if st.reml:
        cx = np.einsum("tacg,tcd->tadg", c_mat, xtwx_inv)
        qmat -= np.einsum("tadg,tbdg->tab", cx, c_mat)
    grad = np.zeros((thetas.shape[0], len(theta_index(st.q, st.correlated))))
    if st.q == 1:
        grad[:, 0] = 2.0 * qmat[:, 0, 0] * thetas[:, 0]
    elif st.correlated:
        l11, l21, l22 = thetas[:, 0], thetas[:, 1], thetas[:, 2]
        grad[:, 0] = 2.0 * (qmat[:, 0, 0] * l11 + qmat[:, 0, 1] * l21)
        grad[:, 1] = 2.0 * (qmat[:, 1, 0] * l11 + qmat[:, 1, 1] * l21)
        grad[:, 2] = 2.0 * qmat[:, 1, 1] * l22
    else:
        grad[:, 0] = 2.0 * qmat[:, 0, 0] * thetas[:, 0]
        grad[:, 1] = 2.0 * qmat[:, 1, 1] * thetas[:, 1]
    return grad


def evaluate_batch(thetas: np.ndarray, st: Stats) -> Point:
    """Profiled deviance, gradient and estimates at each row of ``thetas`` (shape (T, k)).

    Batched so that the optimiser pays numpy's per-call overhead once for the current point,
    its finite-difference neighbours and several trial steps. Every per-group 2x2 block is
    written out in closed form (determinant, inverse) instead of calling np.linalg on tiny
    matrices.
    """
    q, p = st.q, st.p
    n_t = thetas.shape[0]
    logdet_m, sums, r, m = _random_blocks(thetas, st)
    # Sums over groups that are linear in R: X'V^-1 X, X'V^-1 y, y'V^-1 y (all times sigma^2)
    # and sum_g Z'Z R Z'Z.
    xtwx = np.empty((n_t, p, p))
    k = 0
    for i, j in _pairs(p):
        xtwx[:, i, j] = xtwx[:, j, i] = st.xtx[i, j] - (sums[:, k] if q else 0.0)
        k += 1
    xtwy = st.xty - sums[:, k : k + p] if q else np.broadcast_to(st.xty, (n_t, p))
    k += p
    ytwy = st.yty - sums[:, k] if q else np.full(n_t, st.yty)
    k += 1
    if p == 1:
        det_x = xtwx[:, 0, 0]
        xtwx_inv = 1.0 / xtwx
    else:
        det_x = xtwx[:, 0, 0] * xtwx[:, 1, 1] - xtwx[:, 0, 1] ** 2
        xtwx_inv = np.empty_like(xtwx)
        xtwx_inv[:, 0, 0] = xtwx[:, 1, 1] / det_x
        xtwx_inv[:, 1, 1] = xtwx[:, 0, 0] / det_x
        xtwx_inv[:, 0, 1] = xtwx_inv[:, 1, 0] = -xtwx[:, 0, 1] / det_x
    beta = np.einsum("tab,tb->ta", xtwx_inv, xtwy)
    r2 = np.maximum(ytwy - (beta * xtwy).sum(1), 1e-300)
    dof = st.dof
    dev = logdet_m + dof * (1.0 + _LOG_2PI + np.log(r2 / dof))
    if st.reml:
        dev = dev + np.log(det_x)
    ze = st.zy[None] - np.einsum("abg,tb->tag", st.zx, beta)
    if q:
        zrz = np.empty((n_t, q, q))
        for i, j in _pairs(q):
            zrz[:, i, j] = zrz[:, j, i] = sums[:, k]
            k += 1
        grad = _gradient(thetas, st, zrz, r, m, ze, r2, xtwx_inv)
    else:
        grad = np.zeros((n_t, 0))
    return Point(dev=dev, grad=grad, beta=beta, xtwx_inv=xtwx_inv, r2=r2, r=r, ze=ze)


def evaluate(theta: np.ndarray, st: Stats) -> tuple[float, np.ndarray]:
    """Profiled deviance and its gradient at one ``theta``."""
    point = evaluate_batch(np.asarray(theta, float)[None, :], st)
    return float(point.dev[0]), point.grad[0]
