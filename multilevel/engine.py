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
``multilevel.fit`` wraps it with validation, notes and tidy tables.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(1)
>>> g = np.repeat(np.arange(8), 20)
>>> x = rng.uniform(0, 25, g.size)
>>> y = 60_000 + rng.normal(0, 8_000, 8)[g] + 1_500 * x + rng.normal(0, 5_000, g.size)
>>> res = fit_arrays(x, y, g, random="intercept")
>>> res.parts, bool(res.re_cov[0, 0] > 0)
(('intercept',), True)
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import scipy.optimize

__all__ = ["RANDOM_PARTS", "EngineFit", "fit_arrays", "profiled_deviance"]

#: Random-effect specifications: name -> (varying parts, correlated).
RANDOM_PARTS: dict[str | None, tuple[tuple[str, ...], bool]] = {
    None: ((), False),
    "intercept": (("intercept",), False),
    "slope": (("slope",), False),
    "both": (("intercept", "slope"), True),
    "both_uncorrelated": (("intercept", "slope"), False),
}

_LOG_2PI = math.log(2.0 * math.pi)


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
    beta : ndarray, shape (2,)
        Fixed intercept (y units, at x = 0) and slope (y units per x unit).
    beta_cov : ndarray, shape (2, 2)
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
        return 2 + 1 + (q * (q + 1) // 2 if self.correlated else q)


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class _Stats:
    """Per-group sums on the internal (centred and scaled) scale, and the maps back."""

    xtx: np.ndarray  # (G, 2, 2): sums of [1, xs] [1, xs]'
    xty: np.ndarray  # (G, 2): sums of [1, xs] ys
    yty: float
    n: int
    K: np.ndarray  # (2, q): Z columns = X columns @ K
    zx: np.ndarray  # (G, q, 2): Z'X per group
    zz: np.ndarray  # (G, q, q): Z'Z per group
    zy: np.ndarray  # (G, q): Z'y per group
    B: np.ndarray  # (q, q): internal random effects -> original x units (before y scaling)
    x_mean: float
    x_scale: float
    y_mean: float
    y_scale: float


def _lambda(theta: np.ndarray, q: int, correlated: bool) -> np.ndarray:
    if q == 1:
        return np.array([[theta[0]]])
    if correlated:
        return np.array([[theta[0], 0.0], [theta[1], theta[2]]])
    return np.array([[theta[0], 0.0], [0.0, theta[1]]])


def _theta_index(q: int, correlated: bool) -> list[tuple[int, int]]:
    """Position in Lambda of each theta entry (lme4's column-major lower triangle)."""
    if q == 1:
        return [(0, 0)]
    if correlated:
        return [(0, 0), (1, 0), (1, 1)]
    return [(0, 0), (1, 1)]


def _make_stats(
    x: np.ndarray, y: np.ndarray, codes: np.ndarray, n_groups: int, random: str | None
) -> _Stats:
    parts, correlated = RANDOM_PARTS[random]
    x_mean = float(x.mean())
    x_scale = float(x.std()) or 1.0
    y_mean = float(y.mean())
    y_scale = float(y.std()) or 1.0
    xs = (x - x_mean) / x_scale
    ys = (y - y_mean) / y_scale
    n_j = np.bincount(codes, minlength=n_groups).astype(float)
    sx = np.bincount(codes, xs, minlength=n_groups)
    sxx = np.bincount(codes, xs * xs, minlength=n_groups)
    sy = np.bincount(codes, ys, minlength=n_groups)
    sxy = np.bincount(codes, xs * ys, minlength=n_groups)
    xtx = np.stack([np.stack([n_j, sx], -1), np.stack([sx, sxx], -1)], -2)
    xty = np.stack([sy, sxy], -1)
    # The fixed part is always centred (it changes nothing but the conditioning). The random
    # part may only be centred where that leaves the model unchanged: correlated intercept and
    # slope. (0 + x | g) and (1 + x || g) are about x itself, so there x is only scaled.
    shift = x_mean / x_scale
    if random is None:
        K, B = np.zeros((2, 0)), np.zeros((0, 0))
    elif random == "intercept":
        K, B = np.array([[1.0], [0.0]]), np.array([[1.0]])
    elif random == "slope":
        K, B = np.array([[shift], [1.0]]), np.array([[1.0 / x_scale]])
    elif correlated:
        K, B = np.eye(2), np.array([[1.0, -shift], [0.0, 1.0 / x_scale]])
    else:
        K, B = np.array([[1.0, shift], [0.0, 1.0]]), np.diag([1.0, 1.0 / x_scale])
    del parts
    zx = K.T @ xtx
    zz = zx @ K
    zy = xty @ K
    return _Stats(
        xtx, xty, float(ys @ ys), int(x.size), K, zx, zz, zy, B, x_mean, x_scale, y_mean, y_scale
    )


def _evaluate(theta: np.ndarray, st: _Stats, correlated: bool, reml: bool, full: bool = False):
    """Profiled deviance and its gradient at ``theta`` (and the estimates when ``full``)."""
    q = st.K.shape[1]
    xtx_sum = st.xtx.sum(0)
    xty_sum = st.xty.sum(0)
    n_fix = 2
    dof = st.n - n_fix if reml else st.n
    if q == 1:
        return _evaluate_one(float(theta[0]), st, reml, dof, full)
    if q:
        lam = _lambda(theta, q, correlated)
        zx, zz, zy = st.zx, st.zz, st.zy
        m = np.eye(q) + lam.T @ zz @ lam
        if q == 1:
            det = m[:, 0, 0]
            m_inv = 1.0 / m
        else:
            det = m[:, 0, 0] * m[:, 1, 1] - m[:, 0, 1] * m[:, 1, 0]
            m_inv = np.empty_like(m)
            m_inv[:, 0, 0] = m[:, 1, 1] / det
            m_inv[:, 1, 1] = m[:, 0, 0] / det
            m_inv[:, 0, 1] = -m[:, 0, 1] / det
            m_inv[:, 1, 0] = -m[:, 1, 0] / det
        r = lam @ m_inv @ lam.T  # (G, q, q): Lambda M^-1 Lambda'
        r_zx = r @ zx  # (G, q, 2)
        r_zy = np.einsum("gab,gb->ga", r, zy)
        xtwx = xtx_sum - np.einsum("gqa,gqb->ab", zx, r_zx)
        xtwy = xty_sum - np.einsum("gqa,gq->a", zx, r_zy)
        ytwy = st.yty - np.einsum("gq,gq->", zy, r_zy)
        logdet_m = float(np.log(det).sum())
    else:
        xtwx, xtwy, ytwy, logdet_m = xtx_sum, xty_sum, st.yty, 0.0
    xtwx_inv = np.linalg.inv(xtwx)
    beta = xtwx_inv @ xtwy
    r2 = max(float(ytwy - beta @ xtwy), 1e-300)
    dev = logdet_m + dof * (1.0 + _LOG_2PI + math.log(r2 / dof))
    if reml:
        dev += math.log(np.linalg.det(xtwx))
    grad = np.zeros(len(theta))
    if q:
        # d dev = tr(Q dSigma), Sigma = Lambda Lambda'; see the module docstring.
        zz_r = zz @ r
        h = zz - zz_r @ zz  # Z'WZ per group
        ze = zy - zx @ beta  # Z'(y - X beta)
        v = ze - np.einsum("gab,gb->ga", zz_r, ze)  # Z'W(y - X beta)
        qmat = h.sum(0) - (dof / r2) * np.einsum("ga,gb->ab", v, v)
        if reml:
            c = zx - zz_r @ zx  # Z'WX per group
            qmat -= np.einsum("gqa,ab,grb->qr", c, xtwx_inv, c)
        ql = 2.0 * qmat @ lam
        grad = np.array([ql[i, j] for i, j in _theta_index(q, correlated)])
    if not full:
        return dev, grad
    blups = np.einsum("gab,gb->ga", r, ze) if q else None
    return dev, grad, beta, xtwx_inv, r2, dof, blups, (r if q else None)


def _evaluate_one(t: float, st: _Stats, reml: bool, dof: int, full: bool):
    """``_evaluate`` for one random effect: the same formulas with 1x1 blocks as plain arrays."""
    zx, zz, zy = st.zx[:, 0, :], st.zz[:, 0, 0], st.zy[:, 0]
    m = 1.0 + t * t * zz
    r = t * t / m  # Lambda M^-1 Lambda'
    rzx = zx * r[:, None]
    xtwx = st.xtx.sum(0) - rzx.T @ zx
    xtwy = st.xty.sum(0) - rzx.T @ zy
    ytwy = st.yty - float(r @ (zy * zy))
    xtwx_inv = np.linalg.inv(xtwx)
    beta = xtwx_inv @ xtwy
    r2 = max(float(ytwy - beta @ xtwy), 1e-300)
    dev = float(np.log(m).sum()) + dof * (1.0 + _LOG_2PI + math.log(r2 / dof))
    ze = zy - zx @ beta
    v = ze / m
    qval = float((zz / m).sum()) - (dof / r2) * float(v @ v)
    if reml:
        dev += math.log(np.linalg.det(xtwx))
        c = zx / m[:, None]
        qval -= float(np.einsum("ga,ab,gb->", c, xtwx_inv, c))
    grad = np.array([2.0 * qval * t])
    if not full:
        return dev, grad
    return dev, grad, beta, xtwx_inv, r2, dof, (r * ze)[:, None], r[:, None, None]


def profiled_deviance(
    theta: np.ndarray | list[float],
    x: np.ndarray,
    y: np.ndarray,
    codes: np.ndarray,
    *,
    random: str = "intercept",
    reml: bool = True,
) -> float:
    """The profiled deviance (-2 log-likelihood) at a given ``theta``, on the internal scale.

    Useful to draw the likelihood surface for a curious student. ``theta`` is the relative
    Cholesky factor for the centred-and-scaled data the engine works with, so the value
    differs from the reported ``-2 * loglik`` by a constant that depends only on the scales.

    Examples
    --------
    >>> import numpy as np
    >>> g = np.repeat(np.arange(5), 4)
    >>> x = np.tile(np.arange(4.0), 5)
    >>> y = x + np.arange(5.0)[g] + np.sin(np.arange(20.0))
    >>> bool(profiled_deviance([0.5], x, y, g) < profiled_deviance([0.0], x, y, g))
    True
    """
    codes = np.asarray(codes)
    st = _make_stats(
        np.asarray(x, float), np.asarray(y, float), codes, int(codes.max()) + 1, random
    )
    _, correlated = RANDOM_PARTS[random]
    return float(_evaluate(np.asarray(theta, float), st, correlated, reml)[0])


def _start_theta(
    st: _Stats, q: int, correlated: bool, start_rel_cov: np.ndarray | None
) -> np.ndarray:
    n_theta = len(_theta_index(q, correlated))
    default = np.array([1.0, 0.0, 1.0] if (q == 2 and correlated) else [1.0] * q)
    if start_rel_cov is None:
        return default
    # rel_cov is in original x units; bring it to the internal scale: b_orig = B b_int.
    b_inv = np.linalg.inv(st.B)
    internal = b_inv @ np.asarray(start_rel_cov, float) @ b_inv.T
    if not correlated:
        internal = np.diag(np.diag(internal))
    try:
        lam = np.linalg.cholesky(internal + 1e-10 * np.eye(q))
    except np.linalg.LinAlgError:
        return default
    theta = np.array([lam[i, j] for i, j in _theta_index(q, correlated)])
    return theta if theta.size == n_theta and np.all(np.isfinite(theta)) else default


def _newton(fun, theta0: np.ndarray, diagonal: np.ndarray, max_iter: int = 100):
    """Projected Newton with a finite-difference Hessian of the exact gradient.

    With 1 to 3 parameters this converges in a handful of steps; scipy's L-BFGS-B needs more,
    and each of its iterations costs milliseconds of overhead, which matters for widgets.
    Diagonal entries of Lambda are kept >= 0; one at zero with a positive gradient is held there.
    """
    theta = np.where(diagonal, np.maximum(theta0, 0.0), theta0).astype(float)
    f, g = fun(theta)
    nfev = 1
    for _ in range(max_iter):
        held = diagonal & (theta <= 0.0) & (g >= 0.0)
        free = np.flatnonzero(~held)
        if free.size == 0 or np.max(np.abs(g[free])) < 1e-9 * (1.0 + abs(f)):
            break
        h = np.empty((free.size, free.size))
        for col, k in enumerate(free):
            step = 1e-6 * max(1.0, abs(theta[k]))
            shifted = theta.copy()
            shifted[k] += step
            h[:, col] = (fun(shifted)[1][free] - g[free]) / step
            nfev += 1
        h = 0.5 * (h + h.T)
        eig_min = float(np.linalg.eigvalsh(h)[0])
        if eig_min <= 1e-8:
            h += (1e-8 - eig_min + 1e-3 * max(1.0, float(np.abs(h).max()))) * np.eye(free.size)
        direction = np.zeros_like(theta)
        direction[free] = -np.linalg.solve(h, g[free])
        t = 1.0
        for _ in range(40):
            trial = theta + t * direction
            # Crossing zero: go a tenth of the way there instead. Landing exactly on zero
            # would stall (zero is a stationary point); a boundary optimum is approached
            # geometrically and snapped to zero by the caller.
            trial = np.where(diagonal & (trial < 0.0), 0.1 * theta, trial)
            f_new, g_new = fun(trial)
            nfev += 1
            if f_new <= f + 1e-4 * float(g @ (trial - theta)):
                break
            t *= 0.5
        else:
            break
        done = f - f_new < 1e-13 * (1.0 + abs(f)) and np.max(np.abs(trial - theta)) < 1e-8
        theta, f, g = trial, f_new, g_new
        if done:
            break
    return scipy.optimize.OptimizeResult(x=theta, fun=f, jac=g, nfev=nfev)


def fit_arrays(
    x: np.ndarray,
    y: np.ndarray,
    codes: np.ndarray,
    n_groups: int | None = None,
    *,
    random: str | None = "intercept",
    reml: bool = True,
    start_rel_cov: np.ndarray | None = None,
) -> EngineFit:
    """Fit ``y ~ 1 + x`` with one grouping factor from plain arrays (the fast path).

    No input checking beyond shapes: ``multilevel.fit`` validates data for students. Use this
    directly where speed matters (widgets refitting on every slider move).

    Parameters
    ----------
    x, y : ndarray, shape (n,)
        Predictor and outcome (float, no NaN). The outcome's units carry to the results.
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

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> g = np.repeat(np.arange(10), 15)
    >>> x = rng.uniform(0, 25, g.size)
    >>> a, b = rng.normal(0, 8_000, 10), rng.normal(0, 300, 10)
    >>> y = 60_000 + a[g] + (1_500 + b[g]) * x + rng.normal(0, 5_000, g.size)
    >>> res = fit_arrays(x, y, g, random="both", reml=False)
    >>> res.blups.shape, res.blup_cov.shape
    ((10, 2), (10, 2, 2))
    """
    if random not in RANDOM_PARTS:
        raise ValueError(f"random must be one of {list(RANDOM_PARTS)}, got {random!r}")
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    codes = np.asarray(codes, dtype=np.intp)
    if n_groups is None:
        n_groups = int(codes.max()) + 1
    parts, correlated = RANDOM_PARTS[random]
    q = len(parts)
    st = _make_stats(x, y, codes, n_groups, random)
    n_evals = 0
    converged = True
    if q:
        index = _theta_index(q, correlated)
        if start_rel_cov is not None and np.shape(start_rel_cov) != (q, q):
            start_rel_cov = None
        theta0 = _start_theta(st, q, correlated, start_rel_cov)

        def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
            return _evaluate(theta, st, correlated, reml)

        diagonal_mask = np.array([i == j for i, j in index])

        def run(theta_start: np.ndarray) -> scipy.optimize.OptimizeResult:
            return _newton(objective, theta_start, diagonal_mask)

        diagonal = diagonal_mask
        runs = [run(theta0)]
        # Verify rather than trust. theta_k = 0 on the diagonal is always a stationary point
        # (the deviance is even in it), so a gradient method that lands there stays even when
        # the optimum is elsewhere: restart with such entries moved away from zero.
        restart = runs[0].x.copy()
        restart[diagonal & (restart < 1e-3)] = 0.5
        runs.append(run(restart))
        tol = 1e-7 * max(1.0, abs(runs[0].fun))
        if abs(runs[0].fun - runs[1].fun) > tol:
            runs.append(run(min(runs, key=lambda r: r.fun).x))
        best = min(runs, key=lambda r: r.fun)
        converged_runs = sorted(r.fun for r in runs)[:2]
        n_evals = int(sum(r.nfev for r in runs))
        theta = best.x
        # A diagonal entry a hair above zero is a boundary optimum blurred by the optimiser.
        for k, is_diag in enumerate(diagonal):
            if is_diag and 0.0 < theta[k] < 1e-4:
                trial = theta.copy()
                trial[k] = 0.0
                if objective(trial)[0] <= best.fun + 1e-10:
                    theta = trial
        _, grad = objective(theta)
        free = ~(diagonal & (theta == 0.0))
        agree = converged_runs[1] - converged_runs[0] <= tol
        converged = bool(agree and np.all(np.abs(grad[free]) < 1e-3 * max(1.0, abs(best.fun))))
    else:
        theta = np.zeros(0)
    dev, _, beta, xtwx_inv, r2, dof, blups_int, r = _evaluate(
        theta, st, correlated, reml, full=True
    )
    sigma2 = r2 / dof  # internal units
    # Back to the original scale: y = y_mean + y_scale * (b0 + b1 (x - x_mean) / x_scale).
    t = np.array([[1.0, -st.x_mean / st.x_scale], [0.0, 1.0 / st.x_scale]])
    beta_o = st.y_scale * (t @ beta) + np.array([st.y_mean, 0.0])
    beta_cov = st.y_scale**2 * sigma2 * (t @ xtwx_inv @ t.T)
    sigma = st.y_scale * math.sqrt(sigma2)
    # The deviance on the internal scale differs by the Jacobians of the y and x scalings.
    dev_o = dev + 2.0 * dof * math.log(st.y_scale) + (2.0 * math.log(st.x_scale) if reml else 0.0)
    if q:
        lam = _lambda(theta, q, correlated)
        rel_int = lam @ lam.T
        rel_cov = st.B @ rel_int @ st.B.T
        re_cov = sigma**2 * rel_cov
        blups = st.y_scale * (blups_int @ st.B.T)
        blup_cov = sigma**2 * (st.B @ r @ st.B.T)
    else:
        rel_cov = re_cov = np.zeros((0, 0))
        blups = np.zeros((n_groups, 0))
        blup_cov = np.zeros((n_groups, 0, 0))
    return EngineFit(
        parts=parts,
        correlated=correlated,
        reml=reml,
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
