"""Exact REML/ML for a straight-line mixed model with one grouping factor.

The model is ``y = b0 + b1 x + (random part for the observation's group) + noise`` with the random
part one of ``(1 | g)``, ``(0 + x | g)``, ``(1 + x | g)`` or ``(1 + x || g)``. With one grouping
factor the random-effects design is block diagonal, so everything the likelihood needs is a
handful of per-group sums (counts, sums and cross-products of ``1``, ``x`` and ``y``). Each
likelihood evaluation then costs a few small matrix operations per group instead of work on
``n`` observations, and the likelihood, its gradient, the fixed effects, the group deviations
(BLUPs) and their conditional variances are all exact.

Notation follows lme4 (Bates et al. 2015, *J. Stat. Softw.* 67(1)): the random effects of group
``j`` are ``b_j = Lambda u_j`` with ``u_j ~ N(0, sigma^2 I)``; ``theta`` holds the entries of the
lower-triangular relative Cholesky factor ``Lambda``; ``sigma^2`` and the fixed effects ``beta``
are profiled out, so the optimiser works on ``theta`` only (1 to 3 numbers). Per group,
``M_j = I + Lambda' Z_j' Z_j Lambda`` is 1x1 or 2x2 and

* ``log |V| / sigma^2`` = sum_j log det M_j (matrix determinant lemma),
* ``V^{-1} sigma^2 = I - Z Lambda M^{-1} Lambda' Z'`` (Woodbury), applied through the sums,
* deviance (-2 log-likelihood) under ML: ``sum log det M_j + n (1 + log(2 pi r2 / n))``,
* under REML: ``... + log det(X' V^{-1} X sigma^2) + (n - p)(1 + log(2 pi r2 / (n - p)))``,

exactly the criteria lme4 reports, with ``r2`` the penalised residual sum of squares.

The public entry point is :func:`fit_arrays`, a fast path for widgets that refit often:
numpy arrays and integer group codes in, an :class:`EngineFit` out, no DataFrames built.
``multilevel.fit`` wraps it with validation, notes and tidy tables; :func:`boundary_parts` is
the rule by which a fit counts as a boundary fit.

Examples
--------
>>> from simdata import faculty_arrays
>>> sample = faculty_arrays(raise_sd=0, seed=1)
>>> res = fit_arrays(sample.experience, sample.salary, sample.department, random="intercept")
>>> res.parts, bool(res.re_cov[0, 0] > 0)
(('intercept',), True)
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import scipy.optimize

from .likelihood import (
    RANDOM_PARTS,
    Point,
    Stats,
    evaluate_batch,
    make_stats,
    relative_factor,
    theta_index,
)

__all__ = ["BOUNDARY_TOL", "RANDOM_PARTS", "EngineFit", "boundary_parts", "fit_arrays"]

#: lme4's isSingular() tolerance on the relative Cholesky factor: an SD below this fraction of
#: the residual SD (for a slope: of the residual SD per SD of x) counts as zero.
BOUNDARY_TOL = 1e-4


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class EngineFit:
    """Everything the engine estimates, on the original scale of ``x`` and ``y``.

    Attributes
    ----------
    parts : tuple of str
        The varying parts, e.g. ``("intercept", "slope")``; empty for an ordinary regression.
    correlated : bool
        Whether the random intercept and slope may correlate.
    reml : bool
        REML (True) or maximum likelihood (False).
    beta : ndarray, shape (2,) or (1,)
        Fixed intercept (y units, at x = 0) and slope (y units per x unit); the intercept
        only for a model without predictor.
    beta_cov : ndarray, shape (2, 2) or (1, 1)
        Covariance matrix of ``beta``: ``sigma^2 (X' V^{-1} X)^{-1}``.
    sigma : float
        Residual SD (y units).
    re_cov : ndarray, shape (q, q)
        Covariance matrix of the random effects, ordered as ``parts``.
    blups : ndarray, shape (n_groups, q)
        Each group's predicted deviations from the fixed effects (BLUPs / conditional modes).
    blup_cov : ndarray, shape (n_groups, q, q)
        Conditional covariance of each group's deviations given the data (lme4's ``condVar``).
    loglik : float
        Log-likelihood (REML criterion under REML), as lme4's ``logLik`` reports it.
    theta : ndarray
        The optimum of the relative Cholesky factor, in the engine's internal scaling.
    rel_cov : ndarray, shape (q, q)
        ``re_cov / sigma^2``: scale-free, used to warm-start a later fit.
    converged : bool
        True when a second optimiser run from the answer found nothing better and the
        projected gradient is small.
    n_evals : int
        Likelihood evaluations used.
    """

    parts: tuple[str, ...]
    correlated: bool
    reml: bool
    beta: np.ndarray
    beta_cov: np.ndarray
    sigma: float
    re_cov: np.ndarray
    blups: np.ndarray
    blup_cov: np.ndarray
    loglik: float
    theta: np.ndarray
    rel_cov: np.ndarray
    converged: bool
    n_evals: int

    @property
    def n_params(self) -> int:
        """Number of estimated parameters (fixed effects, variance parameters, sigma)."""
        q = len(self.parts)
        return self.beta.size + 1 + (q * (q + 1) // 2 if self.correlated else q)


def boundary_parts(fit: EngineFit, tol: float = BOUNDARY_TOL) -> tuple[str, ...]:
    """The varying parts whose SD between groups is estimated as (practically) zero.

    The rule behind ``FitResult.boundary``: ``theta`` is relative to the residual SD (for a
    slope: per SD of x), so the judgement does not depend on the units of the data, unlike
    statsmodels' "variance below 0.01" warning.

    Parameters
    ----------
    fit : EngineFit
        A fit from :func:`fit_arrays`.
    tol : float
        An SD below ``tol`` times the residual SD (per SD of x for a slope) counts as zero;
        default lme4's ``isSingular`` tolerance, 1e-4.

    Returns
    -------
    tuple of str
        The parts at the boundary, in the order of ``fit.parts`` (empty when none is).

    Examples
    --------
    >>> import numpy as np
    >>> g = np.repeat(np.arange(6), 10)
    >>> x = np.tile(np.arange(10.0), 6)
    >>> y = 2.0 * x + np.sin(np.arange(60.0))  # no variation between groups
    >>> boundary_parts(fit_arrays(x, y, g, random="intercept"))
    ('intercept',)
    """
    q = len(fit.parts)
    lam = relative_factor(fit.theta, q, fit.correlated)
    rel_sd = np.sqrt(np.diag(lam @ lam.T))
    return tuple(fit.parts[i] for i in range(q) if rel_sd[i] < tol)


def _moment_start(st: Stats) -> np.ndarray:
    """A method-of-moments guess of the relative covariance Sigma / sigma^2 (internal scale).

    Pooled least squares gives each group's residual sums; a separate least-squares fit of
    those residuals on the group's own Z columns estimates its random effects, whose spread
    minus their sampling variance estimates Sigma (clipped to be positive definite). Newton
    started there needs a few steps instead of ten.
    """
    q, p = st.q, st.p
    if p == 1:
        beta0 = st.xty / st.xtx[0, 0]
    else:
        d = st.xtx[0, 0] * st.xtx[1, 1] - st.xtx[0, 1] ** 2
        beta0 = (
            np.array(
                [
                    st.xtx[1, 1] * st.xty[0] - st.xtx[0, 1] * st.xty[1],
                    st.xtx[0, 0] * st.xty[1] - st.xtx[0, 1] * st.xty[0],
                ]
            )
            / d
        )
    ee = st.yty - 2.0 * beta0 @ st.xty + beta0 @ st.xtx @ beta0
    ze = st.zy - np.einsum("abg,b->ag", st.zx, beta0)  # (q, G)
    if q == 1:
        ok = st.zz[0, 0] > 1e-12
        zz = np.where(ok, st.zz[0, 0], 1.0)
        b = ze[0] / zz
        explained = float((ze[0] * b)[ok].sum())
        zz_inv_mean = np.array([[float((1.0 / zz)[ok].mean())]]) if ok.any() else np.ones((1, 1))
        bb = np.array([[float((b[ok] ** 2).mean())]]) if ok.any() else np.zeros((1, 1))
        n_ok = int(ok.sum())
    else:
        a, c, e = st.zz[0, 0], st.zz[0, 1], st.zz[1, 1]
        det = a * e - c * c
        ok = det > 1e-10 * np.maximum(a * e, 1e-300)
        det = np.where(ok, det, 1.0)
        inv = np.array([[e, -c], [-c, a]]) / det  # (2, 2, G)
        b = np.einsum("abg,bg->ag", inv, ze)
        explained = float((ze * b).sum(0)[ok].sum())
        n_ok = int(ok.sum())
        if n_ok:
            zz_inv_mean = inv[:, :, ok].mean(-1)
            bb = np.einsum("ag,bg->ab", b[:, ok], b[:, ok]) / n_ok
        else:
            zz_inv_mean, bb = np.eye(2), np.zeros((2, 2))
    dof_within = max(st.dof + p - p - q * n_ok, 1)
    sigma2 = max((ee - explained) / dof_within, 1e-12 * max(ee, 1e-300))
    rel = bb / sigma2 - zz_inv_mean
    # Clip to a positive-definite matrix: the optimum is seldom exactly where moments say.
    eigval, eigvec = np.linalg.eigh(0.5 * (rel + rel.T))
    floor = 0.01 * max(1.0, float(eigval.max()))
    return (eigvec * np.maximum(eigval, floor)) @ eigvec.T


def _start_theta(
    st: Stats, q: int, correlated: bool, start_rel_cov: np.ndarray | None
) -> np.ndarray:
    n_theta = len(theta_index(q, correlated))
    default = np.array([1.0, 0.0, 1.0] if (q == 2 and correlated) else [1.0] * q)
    if start_rel_cov is None:
        internal = _moment_start(st)
    else:
        # rel_cov is in original x units; bring it to the internal scale: b_orig = B b_int.
        b_inv = np.linalg.inv(st.B)
        internal = b_inv @ np.asarray(start_rel_cov, float) @ b_inv.T
    if not correlated:
        internal = np.diag(np.diag(internal))
    try:
        lam = np.linalg.cholesky(internal + 1e-10 * np.eye(q))
    except np.linalg.LinAlgError:
        return default
    theta = np.array([lam[i, j] for i, j in theta_index(q, correlated)])
    return theta if theta.size == n_theta and np.all(np.isfinite(theta)) else default


#: Trial step lengths evaluated together in one batch by the Newton line search.
_STEPS = np.array([1.0, 0.5, 0.2, 0.05])
_FD_STEP = 1e-6
#: Values a diagonal entry of Lambda found at zero is checked at, to verify the boundary.
_SCAN = np.array([0.03, 0.1, 0.3, 1.0, 3.0])


def _newton(st: Stats, theta0: np.ndarray, diagonal: np.ndarray, max_iter: int = 60):
    """Projected Newton with a finite-difference Hessian of the exact gradient.

    With 1 to 3 parameters this converges in a handful of steps. Each iteration is one batched
    evaluation: every trial step length together with its finite-difference neighbours, so
    the Hessian at the accepted point comes for free. Diagonal entries of Lambda are kept >= 0.
    A step that would make one negative stops at zero, where it is held if the gradient points
    outwards, or, when the gradient is exactly zero there (the deviance is even in that entry),
    if the curvature says zero is a minimum along it. Zero with negative curvature is a maximum
    (the trap a plain gradient method can sit in): the entry is pushed off it, and from then on
    approaches zero only geometrically.
    """
    k = theta0.size
    eye = np.eye(k)

    def with_neighbours(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        h = _FD_STEP * np.maximum(1.0, np.abs(points))  # (S, k)
        rows = points[:, None, :] + h[:, :, None] * eye[None]  # (S, k, k)
        return np.concatenate([points[:, None, :], rows], 1).reshape(-1, k), h

    theta = np.where(diagonal, np.maximum(theta0, 0.0), theta0).astype(float)
    pts, h = with_neighbours(theta[None])
    point = evaluate_batch(pts, st)
    f, g = float(point.dev[0]), point.grad[0]
    hess_cols = (point.grad[1 : k + 1] - g) / h[0][:, None]  # row i: d grad / d theta_i
    nfev = pts.shape[0]
    geometric = np.zeros(k, dtype=bool)
    for _ in range(max_iter):
        at_zero = diagonal & (theta <= 0.0)
        push = at_zero & (g == 0.0) & (np.diag(hess_cols) < 0.0)
        if push.any():
            geometric |= push
            theta = np.where(push, 0.1, theta)
            pts, h = with_neighbours(theta[None])
            point = evaluate_batch(pts, st)
            nfev += pts.shape[0]
            f, g = float(point.dev[0]), point.grad[0]
            hess_cols = (point.grad[1 : k + 1] - g) / h[0][:, None]
            continue
        held = at_zero & (g >= 0.0)
        free = np.flatnonzero(~held)
        if free.size == 0 or np.max(np.abs(g[free])) < 1e-9 * (1.0 + abs(f)):
            break
        hm = hess_cols[np.ix_(free, free)]
        hm = 0.5 * (hm + hm.T)
        eig_min = float(np.linalg.eigvalsh(hm)[0]) if free.size > 1 else float(hm[0, 0])
        if eig_min <= 1e-8:
            hm = hm + (1e-8 - eig_min + 1e-3 * max(1.0, float(np.abs(hm).max()))) * np.eye(
                free.size
            )
        direction = np.zeros(k)
        direction[free] = -np.linalg.solve(hm, g[free])
        accepted = None
        steps = _STEPS
        for _ in range(4):
            trials = theta[None] + steps[:, None] * direction[None]
            # Crossing zero: stop at zero (judged by the curvature test above), or for an entry
            # pushed off zero before, go a tenth of the way there.
            trials = np.where(
                diagonal & (trials < 0.0), np.where(geometric, 0.1 * theta, 0.0), trials
            )
            pts, h = with_neighbours(trials)
            point = evaluate_batch(pts, st)
            nfev += pts.shape[0]
            devs = point.dev[:: k + 1]
            armijo = devs <= f + 1e-4 * ((trials - theta) @ g)
            if armijo.any():
                accepted = int(np.argmax(armijo))
                break
            steps = steps * 0.01
        if accepted is None:
            break
        base = accepted * (k + 1)
        trial = trials[accepted]
        f_new, g_new = float(point.dev[base]), point.grad[base]
        hess_cols = (point.grad[base + 1 : base + k + 1] - g_new) / h[accepted][:, None]
        done = f - f_new < 1e-13 * (1.0 + abs(f)) and np.max(np.abs(trial - theta)) < 1e-8
        theta, f, g = trial, f_new, g_new
        if done:
            break
    return scipy.optimize.OptimizeResult(x=theta, fun=f, jac=g, nfev=nfev)


def _optimise(
    st: Stats, q: int, correlated: bool, start_rel_cov: np.ndarray | None
) -> tuple[np.ndarray, Point, int, bool]:
    """The REML/ML optimum of theta, verified.

    Returns theta, the profiled estimates there, the likelihood evaluations used and whether
    the answer is confirmed (converged).
    """
    n_evals = 0
    converged = True
    if q:
        index = theta_index(q, correlated)
        if start_rel_cov is not None and np.shape(start_rel_cov) != (q, q):
            start_rel_cov = None
        theta0 = _start_theta(st, q, correlated, start_rel_cov)
        diagonal = np.array([i == j for i, j in index])
        runs = [_newton(st, theta0, diagonal)]
        # Verify rather than trust. theta_k = 0 on the diagonal is a stationary point (the
        # deviance is even in it), so a gradient method that lands there stays even when the
        # optimum is elsewhere: whenever a diagonal entry ends near zero, restart with such
        # entries moved away from zero and keep the better answer. An interior answer with a
        # tiny projected gradient needs no second run.
        near_zero = np.flatnonzero(diagonal & (runs[0].x < 1e-3))
        tol = 1e-7 * max(1.0, abs(runs[0].fun))
        if near_zero.size:
            # Scan each such entry away from zero (one batch): a better value anywhere on the
            # scan means another optimum, so Newton restarts from the best point found.
            scan = np.repeat(runs[0].x[None], near_zero.size * _SCAN.size, 0)
            for i, k in enumerate(near_zero):
                scan[i * _SCAN.size : (i + 1) * _SCAN.size, k] = _SCAN
            devs = evaluate_batch(scan, st).dev
            n_evals += scan.shape[0]
            if devs.min() < runs[0].fun - tol:
                runs.append(_newton(st, scan[int(np.argmin(devs))], diagonal))
        best = min(runs, key=lambda r: r.fun)
        n_evals += int(sum(r.nfev for r in runs))
        theta = best.x
        # A diagonal entry a hair above zero is a boundary optimum blurred by the optimiser.
        small = np.flatnonzero(diagonal & (theta > 0.0) & (theta < 1e-4))
        if small.size:
            # Try all of them at zero first, then each alone; keep the first that is no worse.
            trials = np.repeat(theta[None], small.size + 1, 0)
            trials[0, small] = 0.0
            for row, k in enumerate(small, start=1):
                trials[row, k] = 0.0
            devs = evaluate_batch(trials, st).dev
            n_evals += trials.shape[0]
            ok = np.flatnonzero(devs <= best.fun + 1e-10)
            if ok.size:
                theta = trials[ok[0]]
        point = evaluate_batch(theta[None], st)
        grad = point.grad[0]
        free = ~(diagonal & (theta == 0.0))
        converged = bool(np.all(np.abs(grad[free]) < 1e-3 * max(1.0, abs(best.fun))))
    else:
        theta = np.zeros(0)
        point = evaluate_batch(np.zeros((1, 0)), st)
    return theta, point, n_evals, converged


def fit_arrays(
    x: np.ndarray | None,
    y: np.ndarray,
    codes: np.ndarray,
    n_groups: int | None = None,
    *,
    random: str | None = "intercept",
    reml: bool = True,
    start_rel_cov: np.ndarray | None = None,
) -> EngineFit:
    """Fit ``y ~ 1 + x`` (or ``y ~ 1``) with one grouping factor from plain arrays (the fast path).

    No input checking beyond shapes: ``multilevel.fit`` validates data for students. Use this
    directly where speed matters (widgets refitting on every slider move).

    Parameters
    ----------
    x : ndarray, shape (n,), or None
        Predictor (float, no NaN), or None for a model without predictor (``y ~ 1``; then
        ``random`` must be ``"intercept"`` or None).
    y : ndarray, shape (n,)
        Outcome (float, no NaN). Its units carry to the results.
    codes : ndarray of int, shape (n,)
        Group of each observation as integers ``0 .. n_groups - 1``.
    n_groups : int, optional
        Number of groups (default ``codes.max() + 1``).
    random : {"intercept", "slope", "both", "both_uncorrelated", None}
        ``(1 | g)``, ``(0 + x | g)``, ``(1 + x | g)``, ``(1 + x || g)``, or no random part
        (ordinary least squares, still with lme4's REML/ML criterion).
    reml : bool
        REML (default) or maximum likelihood.
    start_rel_cov : ndarray, optional
        Warm start: the ``rel_cov`` of an earlier fit (any model; mismatched shapes are
        ignored).

    Returns
    -------
    EngineFit
        ``beta`` and ``beta_cov`` have one entry (the intercept) when ``x`` is None.

    Examples
    --------
    >>> from simdata import faculty_arrays
    >>> sample = faculty_arrays(n_departments=10, faculty_per_department=15, seed=0)
    >>> x, y, g = sample.experience, sample.salary, sample.department
    >>> res = fit_arrays(x, y, g, random="both", reml=False)
    >>> res.blups.shape, res.blup_cov.shape
    ((10, 2), (10, 2, 2))
    """
    if random not in RANDOM_PARTS:
        raise ValueError(f"random must be one of {list(RANDOM_PARTS)}, got {random!r}")
    if x is None and random not in ("intercept", None):
        raise ValueError(
            f"random={random!r} needs a predictor x; without one (x=None) only 'intercept' "
            f"or None can be fitted"
        )
    x = None if x is None else np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    codes = np.asarray(codes, dtype=np.intp)
    if n_groups is None:
        n_groups = int(codes.max()) + 1
    parts, correlated = RANDOM_PARTS[random]
    q = len(parts)
    st = make_stats(x, y, codes, n_groups, random, bool(reml))
    theta, point, n_evals, converged = _optimise(st, q, correlated, start_rel_cov)
    dev = float(point.dev[0])
    beta, xtwx_inv, r2 = point.beta[0], point.xtwx_inv[0], float(point.r2[0])
    dof = st.dof
    sigma2 = r2 / dof  # internal units
    # Back to the original scale: y = y_mean + y_scale * (b0 + b1 (x - x_mean) / x_scale).
    if st.p == 1:
        t = np.ones((1, 1))
        offset = np.array([st.y_mean])
    else:
        t = np.array([[1.0, -st.x_mean / st.x_scale], [0.0, 1.0 / st.x_scale]])
        offset = np.array([st.y_mean, 0.0])
    beta_o = st.y_scale * (t @ beta) + offset
    beta_cov = st.y_scale**2 * sigma2 * (t @ xtwx_inv @ t.T)
    sigma = st.y_scale * math.sqrt(sigma2)
    # The deviance on the internal scale differs by the Jacobians of the y and x scalings.
    dev_o = dev + 2.0 * dof * math.log(st.y_scale)
    if reml and st.p == 2:
        dev_o += 2.0 * math.log(st.x_scale)
    if q:
        lam = relative_factor(theta, q, correlated)
        rel_cov = st.B @ (lam @ lam.T) @ st.B.T
        re_cov = sigma**2 * rel_cov
        r = point.r[0]  # (q, q, G)
        blups_int = np.einsum("abg,bg->ga", r, point.ze[0])
        blups = st.y_scale * (blups_int @ st.B.T)
        blup_cov = sigma**2 * np.einsum("ab,bcg,dc->gad", st.B, r, st.B)
    else:
        rel_cov = re_cov = np.zeros((0, 0))
        blups = np.zeros((n_groups, 0))
        blup_cov = np.zeros((n_groups, 0, 0))
    return EngineFit(
        parts=parts,
        correlated=correlated,
        reml=bool(reml),
        beta=beta_o,
        beta_cov=beta_cov,
        sigma=sigma,
        re_cov=re_cov,
        blups=blups,
        blup_cov=blup_cov,
        loglik=-0.5 * dev_o,
        theta=theta,
        rel_cov=rel_cov,
        converged=converged,
        n_evals=n_evals,
    )
