"""Exact profiled REML/ML for a linear mixed model with one grouping factor, p fixed and q random
columns (the general form of :mod:`multilevel.engine`).

The model is ``y = X beta + Z b + e`` with ``b_j ~ N(0, Sigma)`` for each group ``j`` and
``e ~ N(0, sigma^2 I)``. Notation follows lme4 (Bates et al. 2015, *J. Stat. Softw.* 67(1)):
``Sigma = sigma^2 Lambda Lambda'`` with ``Lambda`` lower triangular and block diagonal (one block
per random term), and ``theta`` its free entries, column by column within each block. ``beta`` and
``sigma`` are profiled out. With one grouping factor the random-effects design is block diagonal,
so the likelihood needs only per-group cross-products ``Z_j'Z_j``, ``Z_j'X_j``, ``Z_j'y_j`` and the
totals ``X'X``, ``X'y``, ``y'y``: each evaluation costs a few q x q operations per group, and the
deviance and its gradient are exact. Per group ``M_j = I + Lambda' Z_j'Z_j Lambda`` and

* ML deviance: ``sum_j log det M_j + n (1 + log(2 pi r2 / n))``,
* REML: ``... + log det(X' W X) + (n - p)(1 + log(2 pi r2 / (n - p)))``,

with ``W = sigma^2 V^{-1}`` and ``r2`` the penalised residual sum of squares, as lme4 reports.

Internally the columns are centred and scaled (the intercept's column left alone) so that data
such as timestamps near 1e8 or outcomes near 1e-300 lose no precision; every result is mapped
back exactly. A correlated block with an intercept has its other columns centred too, which
leaves that model unchanged; other blocks are only scaled.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(1)
>>> g = np.repeat(np.arange(8), 20)
>>> x = rng.uniform(0, 25, g.size)
>>> y = 50 + rng.normal(0, 8, 8)[g] + 1.5 * x + rng.normal(0, 5, g.size)
>>> X = np.column_stack([np.ones_like(x), x])
>>> res = fit_lmm(X, X[:, :1], y, g, blocks=((0,),))
>>> bool(res.re_cov[0, 0] > 0), res.beta.shape
(True, (2,))
"""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
import scipy.optimize
import threadpoolctl

__all__ = [
    "LmmEstimates",
    "Problem",
    "estimates",
    "evaluate",
    "fit_lmm",
    "lambda_matrix",
    "make_problem",
    "optimise",
    "original_deviance",
    "single_threaded",
]

_LOG_2PI = math.log(2.0 * math.pi)


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class Problem:
    """Per-group sums on the internal (centred, scaled) scale and the maps back."""

    p: int
    q: int
    n: int
    reml: bool
    xyxy: np.ndarray  # (p+1, p+1): [X y]'[X y]
    ztz: np.ndarray  # (G, q, q)
    ztxy: np.ndarray  # (G, q, p+1): Z_j'[X_j y_j]
    rows: np.ndarray  # theta entry -> row of Lambda
    cols: np.ndarray  # theta entry -> column of Lambda
    diagonal: np.ndarray  # bool per theta entry
    T: np.ndarray  # (p, p): beta = y_scale T beta_internal (+ y_shift on the intercept)
    B: np.ndarray  # (q, q): b = y_scale B b_internal
    log_x_scale: float  # sum of log column scales of X (the REML Jacobian)
    y_shift: float
    y_scale: float
    intercept: int | None  # column of X that is all ones

    @property
    def dof(self) -> int:
        return self.n - self.p if self.reml else self.n


def _spread(v: np.ndarray, *, centre: bool) -> float:
    """SD (``centre``) or root mean square of ``v``, without underflow for values near 1e-300;
    1.0 for a column of zeros."""
    size = float(np.max(np.abs(v))) if v.size else 0.0
    if size == 0.0:
        return 1.0
    w = v / size
    out = size * float(np.std(w) if centre else np.sqrt(np.mean(w * w)))
    return out or 1.0


def _column_maps(M: np.ndarray, blocks: tuple[tuple[int, ...], ...]) -> np.ndarray:
    """A map ``S`` with ``M S`` centred and scaled, block by block (see the module docstring)."""
    k = M.shape[1]
    S = np.eye(k)
    ones = np.all(M == 1.0, axis=0)
    for block in blocks:
        anchor = next((c for c in block if ones[c]), None)
        for c in block:
            if c == anchor:
                continue
            if anchor is not None:
                mean = float(M[:, c].mean())
                scale = _spread(M[:, c], centre=True)
                S[c, c] = 1.0 / scale
                S[anchor, c] = -mean / scale
            else:
                S[c, c] = 1.0 / _spread(M[:, c], centre=False)
    return S


def make_problem(
    X: np.ndarray,
    Z: np.ndarray,
    y: np.ndarray,
    codes: np.ndarray,
    n_groups: int,
    blocks: tuple[tuple[int, ...], ...],
    *,
    reml: bool = True,
) -> Problem:
    """Sufficient statistics for one model (see :class:`Problem`)."""
    n, p = X.shape
    q = Z.shape[1]
    T = _column_maps(X, (tuple(range(p)),))
    ones = np.flatnonzero(np.all(X == 1.0, axis=0))
    intercept = int(ones[0]) if ones.size else None
    Xs = X @ T
    if intercept is not None:
        y_shift, y_scale = float(y.mean()), _spread(y, centre=True)
    else:
        y_shift, y_scale = 0.0, _spread(y, centre=False)
    ys = (y - y_shift) / y_scale
    B = _column_maps(Z, blocks)
    Zs = Z @ B
    XY = np.column_stack([Xs, ys])
    ztz = np.empty((n_groups, q, q))
    ztxy = np.empty((n_groups, q, p + 1))
    for a in range(q):
        for b in range(a, q):
            ztz[:, a, b] = ztz[:, b, a] = np.bincount(codes, Zs[:, a] * Zs[:, b], n_groups)
        for c in range(p + 1):
            ztxy[:, a, c] = np.bincount(codes, Zs[:, a] * XY[:, c], n_groups)
    rows, cols = [], []
    for block in blocks:
        for j, c in enumerate(block):
            for r in block[j:]:
                rows.append(r)
                cols.append(c)
    rows_a, cols_a = np.array(rows, dtype=np.intp), np.array(cols, dtype=np.intp)
    return Problem(
        p=p,
        q=q,
        n=n,
        reml=bool(reml),
        xyxy=XY.T @ XY,
        ztz=ztz,
        ztxy=ztxy,
        rows=rows_a,
        cols=cols_a,
        diagonal=rows_a == cols_a,
        T=T,
        B=B,
        log_x_scale=float(-np.log(np.abs(np.diag(T))).sum()),
        y_shift=y_shift,
        y_scale=y_scale,
        intercept=intercept,
    )


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class Point:
    """Profiled deviance and estimates at one theta (internal scale)."""

    dev: float
    grad: np.ndarray | None
    beta: np.ndarray
    xtwx_inv: np.ndarray
    r2: float
    R: np.ndarray  # (G, q, q): Lambda M^-1 Lambda'
    resid_z: np.ndarray  # (G, q): Z_j'(y_j - X_j beta)
    logdet_m: float
    logdet_x: float


def lambda_matrix(theta: np.ndarray, pb: Problem) -> np.ndarray:
    """The relative Cholesky factor ``Lambda`` (q x q) from ``theta``."""
    lam = np.zeros((pb.q, pb.q))
    lam[pb.rows, pb.cols] = theta
    return lam


def _group_blocks(lam: np.ndarray, ztz: np.ndarray) -> tuple[float, np.ndarray]:
    """``sum_j log det M_j`` and ``R_j = Lambda M_j^-1 Lambda'`` for every group.

    1x1 and 2x2 blocks are written out (determinant and inverse in closed form): np.linalg's
    per-call overhead on tiny matrices would otherwise be most of an evaluation.
    """
    q = lam.shape[0]
    if q == 1:
        t2 = lam[0, 0] ** 2
        m = 1.0 + t2 * ztz[:, 0, 0]
        return float(np.log(m).sum()), (t2 / m)[:, None, None]
    m = lam.T @ ztz @ lam
    if q == 2:
        m11, m12, m22 = 1.0 + m[:, 0, 0], m[:, 0, 1], 1.0 + m[:, 1, 1]
        det = m11 * m22 - m12 * m12
        m_inv = np.empty_like(m)
        m_inv[:, 0, 0], m_inv[:, 1, 1] = m22 / det, m11 / det
        m_inv[:, 0, 1] = m_inv[:, 1, 0] = -m12 / det
        return float(np.log(det).sum()), lam @ m_inv @ lam.T
    m[:, np.arange(q), np.arange(q)] += 1.0
    chol = np.linalg.cholesky(m)
    logdet = 2.0 * float(np.log(chol[:, np.arange(q), np.arange(q)]).sum())
    return logdet, lam @ np.linalg.inv(m) @ lam.T


def evaluate(theta: np.ndarray, pb: Problem, *, gradient: bool = True) -> Point:
    """Profiled deviance (REML or ML as ``pb.reml``), its gradient and the estimates at ``theta``.

    The gradient is ``d dev / d Lambda = 2 Q Lambda`` with
    ``Q = sum_j [Z_j'W Z_j - (dof / r2) v_j v_j' - (REML) C_j (X'WX)^-1 C_j']``,
    ``v_j = Z_j'W(y_j - X_j beta)`` and ``C_j = Z_j'W X_j``, all from the per-group sums.
    """
    p = pb.p
    lam = lambda_matrix(np.asarray(theta, float), pb)
    logdet_m, R = _group_blocks(lam, pb.ztz)
    RP = R @ pb.ztxy
    S = pb.xyxy - np.tensordot(pb.ztxy, RP, axes=([0, 1], [0, 1]))
    xtwx = S[:p, :p]
    try:
        chol_x = np.linalg.cholesky(xtwx)
    except np.linalg.LinAlgError:
        chol_x = np.linalg.cholesky(xtwx + 1e-12 * np.trace(xtwx) * np.eye(p))
    logdet_x = 2.0 * float(np.log(np.diag(chol_x)).sum())
    xtwx_inv = np.linalg.inv(xtwx)
    beta = xtwx_inv @ S[:p, p]
    r2 = max(float(S[p, p] - beta @ S[:p, p]), 1e-300)
    dof = pb.dof
    dev = logdet_m + dof * (1.0 + _LOG_2PI + math.log(r2 / dof))
    if pb.reml:
        dev += logdet_x
    resid_z = pb.ztxy[:, :, p] - pb.ztxy[:, :, :p] @ beta
    grad = None
    if gradient:
        cw = pb.ztxy - pb.ztz @ RP  # Z'W[X y] per group
        c = cw[:, :, :p]
        v = cw[:, :, p] - c @ beta
        zrz = np.einsum("gab,gbc,gcd->ad", pb.ztz, R, pb.ztz)
        qmat = pb.ztz.sum(0) - zrz - (dof / r2) * (v.T @ v)
        if pb.reml:
            qmat -= np.einsum("gap,pr,gbr->ab", c, xtwx_inv, c)
        grad = (2.0 * qmat @ lam)[pb.rows, pb.cols]
    return Point(
        dev=dev,
        grad=grad,
        beta=beta,
        xtwx_inv=xtwx_inv,
        r2=r2,
        R=R,
        resid_z=resid_z,
        logdet_m=logdet_m,
        logdet_x=logdet_x,
    )


def _fun(theta: np.ndarray, pb: Problem) -> tuple[float, np.ndarray]:
    point = evaluate(theta, pb)
    return point.dev, point.grad


def _newton_polish(theta: np.ndarray, pb: Problem, steps: int = 8) -> tuple[np.ndarray, int]:
    """A few Newton steps on the entries not held at zero (finite-difference Hessian of the exact
    gradient), so that the answer is accurate well beyond quasi-Newton's stopping rule."""
    n_evals = 0
    point = evaluate(theta, pb)
    for _ in range(steps):
        free = np.flatnonzero(~(pb.diagonal & (theta <= 0.0)))
        g = point.grad[free]
        if free.size == 0 or np.max(np.abs(g)) < 1e-10:
            break
        h = 1e-6 * np.maximum(1.0, np.abs(theta[free]))
        hess = np.empty((free.size, free.size))
        for i, k in enumerate(free):
            shifted = theta.copy()
            shifted[k] += h[i]
            hess[i] = (evaluate(shifted, pb).grad[free] - g) / h[i]
        n_evals += free.size
        hess = 0.5 * (hess + hess.T)
        if np.linalg.eigvalsh(hess)[0] <= 0:
            break
        step = np.zeros_like(theta)
        step[free] = -np.linalg.solve(hess, g)
        trial = theta + step
        trial[pb.diagonal] = np.maximum(trial[pb.diagonal], 0.0)
        new = evaluate(trial, pb)
        n_evals += 1
        if new.dev > point.dev + 1e-12 * abs(point.dev):
            break
        theta, point = trial, new
    return theta, n_evals


#: Values a diagonal entry of Lambda found at zero is checked at, to verify the boundary.
_SCAN = (0.03, 0.1, 0.3, 1.0, 3.0)


@functools.cache
def _blas() -> threadpoolctl.ThreadpoolController:
    return threadpoolctl.ThreadpoolController()


def single_threaded():
    """A context in which BLAS uses one thread: the matrices here are tiny, and on a busy
    machine OpenBLAS threads waiting for each other made L-BFGS-B's small steps 10x slower."""
    return _blas().limit(limits=1, user_api="blas")


def _lbfgs(pb: Problem, theta0: np.ndarray) -> tuple[np.ndarray, float, int]:
    bounds = [(0.0, None) if d else (None, None) for d in pb.diagonal]
    res = scipy.optimize.minimize(
        _fun,
        theta0,
        args=(pb,),
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        # Loose: Newton steps polish the answer afterwards (see _newton_polish).
        options={"ftol": 1e-12, "gtol": 1e-6, "maxiter": 2000, "maxcor": 20},
    )
    return res.x, float(res.fun), int(res.nfev)


def optimise(pb: Problem, theta0: np.ndarray | None = None) -> tuple[np.ndarray, bool, int]:
    """Minimise the profiled deviance over theta: ``(theta, converged, evaluations)``.

    See :func:`_optimise`; runs with single-threaded BLAS.
    """
    with single_threaded():
        return _optimise(pb, theta0)


def _optimise(pb: Problem, theta0: np.ndarray | None = None) -> tuple[np.ndarray, bool, int]:
    """Minimise the profiled deviance over theta: ``(theta, converged, evaluations)``.

    L-BFGS-B with the exact gradient (diagonal entries of Lambda bounded below by 0), then
    entries that ended a hair above zero are tried at zero (a boundary optimum blurred by the
    optimiser), then Newton steps polish the answer; converged means the projected gradient is
    small and every entry held at zero has a gradient pointing out of the parameter space.
    """
    k = pb.rows.size
    if theta0 is None:
        theta0 = pb.diagonal.astype(float)
    theta, best, n_evals = _lbfgs(pb, np.asarray(theta0, float))
    # theta_k = 0 on the diagonal is a stationary point (the deviance is even in it), so a
    # gradient method that lands there stays even when the optimum is elsewhere: scan each such
    # entry away from zero and restart from the best point when that is better.
    for _ in range(3):
        near_zero = np.flatnonzero(pb.diagonal & (theta < 1e-3))
        if near_zero.size == 0:
            break
        trials = []
        for i in near_zero:
            for value in _SCAN:
                trial = theta.copy()
                trial[i] = value
                trials.append(trial)
        devs = [evaluate(t, pb, gradient=False).dev for t in trials]
        n_evals += len(trials)
        if min(devs) >= best - 1e-9 * max(1.0, abs(best)):
            break
        theta, best, extra = _lbfgs(pb, trials[int(np.argmin(devs))])
        n_evals += extra
    small = np.flatnonzero(pb.diagonal & (theta > 0.0) & (theta < 1e-3))
    for candidate in ([small] if small.size else []) + [[i] for i in small]:
        trial = theta.copy()
        trial[candidate] = 0.0
        dev = evaluate(trial, pb, gradient=False).dev
        n_evals += 1
        if dev <= best + 1e-10:
            theta, best = trial, dev
            break
    theta, extra = _newton_polish(theta, pb)
    point = evaluate(theta, pb)
    held = pb.diagonal & (theta <= 0.0)
    free_ok = np.all(np.abs(point.grad[~held]) < 1e-4 * max(1.0, abs(point.dev) / k))
    held_ok = np.all(point.grad[held] >= -1e-4)
    return theta, bool(free_ok and held_ok), n_evals + extra + 1


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class LmmEstimates:
    """Everything estimated, on the original scale of the data.

    Attributes
    ----------
    beta, beta_cov, beta_se : ndarray
        Fixed effects, their covariance (lme4's ``vcov``) and standard errors.
    sigma : float
        Residual SD.
    re_cov, re_sd, re_corr : ndarray
        Covariance matrix of the random effects, their SDs and correlations (NaN where an SD
        is 0). The SDs are computed without squaring, so they survive outcomes near 1e-300
        whose variances underflow.
    blups, blup_cov, blup_se : ndarray, shapes (G, q), (G, q, q), (G, q)
        Conditional modes of each group's random effects, their conditional covariance
        (lme4's ``ranef(condVar = TRUE)``) and conditional SDs.
    deviance : float
        ``-2 loglik`` (the REML criterion under REML), as lme4 reports.
    theta : ndarray
        The optimum on the internal scale (for warm starts and profiling).
    converged : bool
    n_evals : int
    """

    beta: np.ndarray
    beta_cov: np.ndarray
    beta_se: np.ndarray
    sigma: float
    re_cov: np.ndarray
    re_sd: np.ndarray
    re_corr: np.ndarray
    blups: np.ndarray
    blup_cov: np.ndarray
    blup_se: np.ndarray
    deviance: float
    theta: np.ndarray
    converged: bool
    n_evals: int


def original_deviance(dev: float, pb: Problem) -> float:
    """The internal-scale deviance on the scale of the data (adds the scalings' Jacobians)."""
    out = dev + 2.0 * pb.dof * math.log(pb.y_scale)
    return out + 2.0 * pb.log_x_scale if pb.reml else out


def estimates(pb: Problem, theta: np.ndarray, converged: bool, n_evals: int) -> LmmEstimates:
    """Map the optimum back to the data's scale."""
    point = evaluate(theta, pb, gradient=False)
    sigma2 = point.r2 / pb.dof
    beta = pb.y_scale * (pb.T @ point.beta)
    if pb.intercept is not None:
        beta[pb.intercept] += pb.y_shift
    lam = lambda_matrix(theta, pb)
    blups_internal = np.einsum("gab,gb->ga", point.R, point.resid_z)
    # Covariances in units of y_scale^2 first; SDs then scale by y_scale without squaring it.
    beta_cov_unit = sigma2 * pb.T @ point.xtwx_inv @ pb.T.T
    re_cov_unit = sigma2 * pb.B @ lam @ lam.T @ pb.B.T
    blup_cov_unit = sigma2 * pb.B[None] @ point.R @ pb.B.T[None]
    re_sd_unit = np.sqrt(np.diag(re_cov_unit))
    with np.errstate(invalid="ignore", divide="ignore"):
        re_corr = re_cov_unit / np.outer(re_sd_unit, re_sd_unit)
    diag = np.arange(pb.q)
    return LmmEstimates(
        beta=beta,
        beta_cov=pb.y_scale**2 * beta_cov_unit,
        beta_se=pb.y_scale * np.sqrt(np.diag(beta_cov_unit)),
        sigma=pb.y_scale * math.sqrt(sigma2),
        re_cov=pb.y_scale**2 * re_cov_unit,
        re_sd=pb.y_scale * re_sd_unit,
        re_corr=re_corr,
        blups=pb.y_scale * blups_internal @ pb.B.T,
        blup_cov=pb.y_scale**2 * blup_cov_unit,
        blup_se=pb.y_scale * np.sqrt(np.maximum(blup_cov_unit[:, diag, diag], 0.0)),
        deviance=original_deviance(point.dev, pb),
        theta=theta,
        converged=converged,
        n_evals=n_evals,
    )


def fit_lmm(
    X: np.ndarray,
    Z: np.ndarray,
    y: np.ndarray,
    codes: np.ndarray,
    *,
    blocks: tuple[tuple[int, ...], ...],
    n_groups: int | None = None,
    reml: bool = True,
    theta0: np.ndarray | None = None,
) -> LmmEstimates:
    """Fit a linear mixed model from arrays (no input checking: see ``multilevel.models.lmm``).

    Parameters
    ----------
    X : ndarray, shape (n, p)
        Fixed-effects design (full column rank).
    Z : ndarray, shape (n, q)
        Random-effects design.
    y : ndarray, shape (n,)
        Outcome.
    codes : ndarray of int, shape (n,)
        Group of each row, ``0 .. n_groups - 1``.
    blocks : tuple of tuple of int
        Columns of ``Z`` in each covariance block (correlated within, independent between).
    n_groups : int, optional
        Default ``codes.max() + 1``.
    reml : bool
        REML (default) or maximum likelihood.
    theta0 : ndarray, optional
        Starting value on the internal scale (an earlier fit's ``theta``).

    Returns
    -------
    LmmEstimates
    """
    codes = np.asarray(codes, dtype=np.intp)
    if n_groups is None:
        n_groups = int(codes.max()) + 1
    pb = make_problem(
        np.asarray(X, float), np.asarray(Z, float), np.asarray(y, float), codes, n_groups, blocks,
        reml=reml,
    )  # fmt: skip
    theta, converged, n_evals = optimise(pb, theta0)
    return estimates(pb, theta, converged, n_evals)
