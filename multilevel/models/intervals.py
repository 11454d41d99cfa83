"""Confidence intervals for a :class:`multilevel.models.lmm.FormulaFit`: Wald, profile, bootstrap.

One table, a row per parameter in lme4's order and naming (``confint(oldNames = FALSE)``,
with ``Intercept`` for ``(Intercept)``): the group SDs and correlations block by block
(``sd_Intercept|g``, ``cor_x.Intercept|g``, ``sd_x|g``), then ``sigma`` (the residual SD),
then the fixed effects; columns ``lower`` and ``upper``.

* ``"wald"``: estimate +- z SE for the fixed effects; NaN for the variance parameters, as lme4
  (their sampling distributions are far from normal).
* ``"profile"``: where the likelihood-ratio statistic crosses its chi-squared(1) quantile, each
  parameter fixed in turn and all others re-optimised, by maximum likelihood (as lme4's
  ``profile``, which refits a REML model by ML). Fixed effects are profiled on the exact engine
  (only ``theta`` is optimised); variance parameters by optimising the others in the scale of
  SDs and correlations.
* ``"bootstrap"``: parametric bootstrap (lme4's ``bootMer``): simulate new outcomes from the
  fitted model, refit, and take percentile intervals.

Examples
--------
>>> from simdata import faculty_salaries
>>> from .lmm import fit_formula
>>> data = faculty_salaries(n_departments=8, faculty_per_department=20, seed=1).data
>>> res = fit_formula("salary ~ experience + (1 | department)", data)
>>> list(confint(res, method="wald").index)
['sd_Intercept|department', 'sigma', 'Intercept', 'experience']
"""

from __future__ import annotations

import dataclasses
import math
import sys
from typing import Any

import numpy as np
import pandas as pd
import scipy.linalg
import scipy.optimize
import scipy.stats

from simdata import as_generator

from . import lmm_engine
from .result import ModelError

__all__ = ["confint", "crossing", "parameter_names"]

_METHODS = ("profile", "wald", "bootstrap")


def parameter_names(fit: Any) -> list[str]:
    """Names of the parameters, in lme4's order (see the module docstring)."""
    design = fit._internals.design
    names, group = design.random_names, design.parsed.group
    out = []
    for block in design.blocks:
        for j, c in enumerate(block):
            out.append(f"sd_{names[c]}|{group}")
            out += [f"cor_{names[r]}.{names[c]}|{group}" for r in block[j + 1 :]]
    return out + ["sigma", *design.fixed_names]


def _variance_vector(blocks, re_sd: np.ndarray, re_corr: np.ndarray, sigma: float) -> np.ndarray:
    """SDs and correlations block by block (lme4's order), then sigma."""
    out = []
    for block in blocks:
        for j, c in enumerate(block):
            out.append(re_sd[c])
            out += [re_corr[r, c] for r in block[j + 1 :]]
    return np.array([*out, sigma])


def _variance_values(fit: Any) -> np.ndarray:
    """Current SDs, correlations (lme4's order) and sigma."""
    est = fit._internals.estimates
    return _variance_vector(fit._internals.design.blocks, est.re_sd, est.re_corr, est.sigma)


def confint(
    fit: Any,
    method: str = "profile",
    level: float = 0.95,
    *,
    n_boot: int = 500,
    seed: Any = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Confidence intervals for every parameter of a formula fit.

    Parameters
    ----------
    fit : FormulaFit
        From :func:`multilevel.models.lmm.fit_formula`.
    method : {"profile", "wald", "bootstrap"}
        See the module docstring.
    level : float
        Coverage, in (0, 1).
    n_boot : int
        Bootstrap replicates (``method="bootstrap"``).
    seed : int, numpy.random.Generator or None
        Randomness of the bootstrap (via ``simdata.as_generator``).
    progress : bool
        Print a progress bar to standard error while bootstrapping.

    Returns
    -------
    pandas.DataFrame
        Index: the parameters (``parameter_names``); columns ``lower``, ``upper``.
    """
    if method not in _METHODS:
        raise ModelError(f"method must be one of {list(_METHODS)}, got {method!r}")
    if not (isinstance(level, float | int) and 0.0 < float(level) < 1.0):
        raise ModelError(f"level must be a number between 0 and 1, got {level!r}")
    if method == "bootstrap" and (not isinstance(n_boot, int) or n_boot < 10):
        raise ModelError(f"n_boot must be an integer of at least 10, got {n_boot!r}")
    with lmm_engine.single_threaded():
        if method == "wald":
            table = _wald(fit, float(level))
        elif method == "profile":
            table = _profile(fit, float(level))
        else:
            table = _bootstrap(fit, float(level), n_boot, as_generator(seed), progress)
    table.index.name = "parameter"
    return table


def _wald(fit: Any, level: float) -> pd.DataFrame:
    z = float(scipy.stats.norm.ppf(0.5 + level / 2.0))
    names = parameter_names(fit)
    lower = np.full(len(names), np.nan)
    upper = np.full(len(names), np.nan)
    p = len(fit.fixed_effects)
    beta = fit.fixed_effects["estimate"].to_numpy()
    se = fit.fixed_effects["std_error"].to_numpy()
    lower[-p:], upper[-p:] = beta - z * se, beta + z * se
    return pd.DataFrame({"lower": lower, "upper": upper}, index=names)


# ----------------------------------------------------------------------------- profile


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class _Profiler:
    """The ML deviance as a function of SDs, correlations and sigma (original units)."""

    pb: lmm_engine.Problem
    blocks: tuple[tuple[int, ...], ...]
    b_inv: np.ndarray
    kinds: tuple[str, ...]  # "sd", "cor" or "sigma" per variance parameter
    where: tuple[tuple[int, int], ...]  # (row, col) in the covariance matrix

    def deviance(self, psi: np.ndarray) -> float:
        """Full ML deviance (beta profiled) on the internal scale, + a constant."""
        pb = self.pb
        q = pb.q
        sigma_int = psi[-1] / pb.y_scale
        sd = np.zeros(q)
        corr = np.eye(q)
        for value, kind, (r, c) in zip(psi[:-1], self.kinds, self.where, strict=True):
            if kind == "sd":
                sd[r] = value
            else:
                corr[r, c] = corr[c, r] = value
        cov = corr * np.outer(sd, sd) / pb.y_scale**2
        rel = self.b_inv @ cov @ self.b_inv.T / sigma_int**2
        lam = np.zeros((q, q))
        for block in self.blocks:
            lam[np.ix_(block, block)] = _cholesky_psd(rel[np.ix_(block, block)])
        point = lmm_engine.evaluate(lam[pb.rows, pb.cols], pb, gradient=False)
        return (
            point.logdet_m + pb.n * math.log(2.0 * math.pi * sigma_int**2) + point.r2 / sigma_int**2
        )


def _cholesky_psd(a: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor of a positive semi-definite matrix (zero pivots allowed)."""
    k = a.shape[0]
    lam = np.zeros_like(a)
    for j in range(k):
        d = a[j, j] - lam[j, :j] @ lam[j, :j]
        lam[j, j] = math.sqrt(d) if d > 0 else 0.0
        for i in range(j + 1, k):
            if lam[j, j] > 0:
                lam[i, j] = (a[i, j] - lam[i, :j] @ lam[j, :j]) / lam[j, j]
    return lam


def _ml_fit(fit: Any) -> Any:
    if not fit.reml:
        return fit
    from .lmm import fit_formula

    return fit_formula(fit.formula, fit._internals.data, reml=False)


def _profiler(fit: Any) -> _Profiler:
    design, pb = fit._internals.design, fit._internals.problem
    kinds, where = [], []
    for block in design.blocks:
        for j, c in enumerate(block):
            kinds.append("sd")
            where.append((c, c))
            for r in block[j + 1 :]:
                kinds.append("cor")
                where.append((r, c))
    return _Profiler(
        pb=pb,
        blocks=design.blocks,
        b_inv=np.linalg.inv(pb.B),
        kinds=tuple(kinds),
        where=tuple(where),
    )


def crossing(zeta, estimate: float, step: float, bound: float, target: float) -> float:
    """Where ``zeta`` reaches ``target`` walking from ``estimate`` towards ``bound``.

    zeta is close to linear in the parameter, so secant steps from the estimate (where it is 0)
    find a bracket in two or three evaluations, and Brent's method closes it.
    """
    direction = 1.0 if bound > estimate else -1.0
    inner, z_inner = estimate, 0.0
    outer = estimate + direction * step
    for _ in range(40):
        if direction * (outer - bound) >= 0:
            outer = bound
        z_outer = direction * zeta(outer)
        if z_outer >= target:
            return scipy.optimize.brentq(
                lambda v: direction * zeta(v) - target, inner, outer,
                xtol=1e-7 * max(abs(step), abs(outer)), rtol=1e-8,
            )  # fmt: skip
        if outer == bound:
            return bound
        slope = (z_outer - z_inner) / (outer - inner)
        reach = (target - z_outer) / slope * 1.1 if slope * direction > 0 else math.inf
        largest = 4.0 * abs(outer - estimate)
        inner, z_inner = outer, z_outer
        outer = outer + direction * min(abs(reach), largest)
    return math.nan


def _profile_variance(prof: _Profiler, psi_hat: np.ndarray, k: int, base: float, z: float):
    """Lower and upper limits for variance parameter ``k`` (an SD, a correlation, sigma)."""
    others = np.array([i for i in range(psi_hat.size) if i != k])
    kinds = (*prof.kinds, "sigma")
    floor = 1e-6 * psi_hat[-1]
    bounds = [
        (-1.0, 1.0) if kinds[i] == "cor" else (floor if kinds[i] == "sigma" else 0.0, None)
        for i in others
    ]
    start = {"x": psi_hat[others].copy()}
    # The inner optimiser works on parameters scaled to about 1 (SDs in dollars next to a
    # correlation leave L-BFGS-B stopping short), and restarts from the estimate when that
    # does better than the previous point: otherwise zeta depends on the path taken and the
    # bracket search and Brent's method see different values.
    scale = np.array(
        [1.0 if kinds[i] == "cor" else max(abs(psi_hat[i]), 0.05 * psi_hat[-1]) for i in others]
    )
    scaled_bounds = [
        (lo / s if lo is not None else None, hi / s if hi is not None else None)
        for (lo, hi), s in zip(bounds, scale, strict=True)
    ]

    def zeta(value: float) -> float:
        def objective(scaled):
            psi = psi_hat.copy()
            psi[others] = scaled * scale
            psi[k] = value
            return prof.deviance(psi)

        if others.size:
            best = None
            for x0 in (start["x"], psi_hat[others]):
                res = scipy.optimize.minimize(
                    objective, x0 / scale, method="L-BFGS-B", bounds=scaled_bounds,
                    options={"ftol": 1e-12, "gtol": 1e-8},
                )  # fmt: skip
                if best is None or res.fun < best.fun:
                    best = res
            start["x"], dev = best.x * scale, best.fun
        else:
            dev = objective(np.zeros(0))
        return math.copysign(math.sqrt(max(dev - base, 0.0)), value - psi_hat[k])

    estimate = psi_hat[k]
    if kinds[k] == "cor":
        step, low_bound, high_bound = 0.1 * (1 - abs(estimate)) + 1e-3, -1.0, 1.0
    else:
        low_bound = 1e-6 * psi_hat[-1] if kinds[k] == "sigma" else 0.0
        step, high_bound = 0.25 * max(estimate, 1e-3 * psi_hat[-1]), math.inf
    lower = crossing(zeta, estimate, step, low_bound, z)
    start["x"] = psi_hat[others].copy()
    upper = crossing(zeta, estimate, step, high_bound, z)
    return lower, upper


def _profile_fixed(fit: Any, j: int, base: float, z: float) -> tuple[float, float]:
    """Profile fixed effect ``j``: fix it, optimise theta with the rest profiled exactly."""
    pb = fit._internals.problem
    est = fit._internals.estimates
    a = pb.T[j] * pb.y_scale  # beta_j = a' beta_internal (+ y_shift at the intercept)
    shift = pb.y_shift if j == pb.intercept else 0.0
    null = scipy.linalg.null_space(a[None, :])
    state = {"theta": est.theta}

    def zeta(value: float) -> float:
        c = (value - shift) / (a @ a)
        mix = np.zeros((pb.p + 1, pb.p))
        mix[: pb.p, : pb.p - 1] = null
        mix[: pb.p, pb.p - 1] = -c * a
        mix[pb.p, pb.p - 1] = 1.0
        reduced = dataclasses.replace(
            pb, p=pb.p - 1, xyxy=mix.T @ pb.xyxy @ mix, ztxy=pb.ztxy @ mix, reml=False
        )
        theta, _, _ = lmm_engine.optimise(reduced, state["theta"])
        state["theta"] = theta
        dev = lmm_engine.evaluate(theta, reduced, gradient=False).dev
        return math.copysign(math.sqrt(max(dev - base, 0.0)), value - est.beta[j])

    se = float(np.sqrt(est.beta_cov[j, j]))
    lower = crossing(zeta, est.beta[j], z * se, -math.inf, z)
    state["theta"] = est.theta
    upper = crossing(zeta, est.beta[j], z * se, math.inf, z)
    return lower, upper


def _profile(fit: Any, level: float) -> pd.DataFrame:
    ml = _ml_fit(fit)
    z = float(scipy.stats.norm.ppf(0.5 + level / 2.0))
    prof = _profiler(ml)
    psi_hat = _variance_values(ml)
    base = prof.deviance(psi_hat)
    rows = [_profile_variance(prof, psi_hat, k, base, z) for k in range(psi_hat.size)]
    base_theta = lmm_engine.evaluate(ml._internals.estimates.theta, ml._internals.problem).dev
    rows += [_profile_fixed(ml, j, base_theta, z) for j in range(len(ml.fixed_effects))]
    return pd.DataFrame(rows, columns=["lower", "upper"], index=parameter_names(fit))


# ----------------------------------------------------------------------------- bootstrap


def _bootstrap(
    fit: Any, level: float, n_boot: int, rng: np.random.Generator, progress: bool
) -> pd.DataFrame:
    """Parametric bootstrap with percentile intervals (lme4's ``bootMer`` + ``confint``)."""
    design, pb, est = fit._internals.design, fit._internals.problem, fit._internals.estimates
    n_groups = len(design.groups)
    mean = design.X @ est.beta
    chol = _cholesky_psd(est.re_cov)
    q = pb.q
    Zs = design.Z @ pb.B
    Xs = design.X @ pb.T
    draws = np.empty((n_boot, len(parameter_names(fit))))
    for i in range(n_boot):
        b = rng.standard_normal((n_groups, q)) @ chol.T
        y = mean + np.einsum("ij,ij->i", design.Z, b[design.codes])
        y = y + est.sigma * rng.standard_normal(y.size)
        draws[i] = _refit_values(pb, Xs, Zs, y, design, est.theta)
        if progress:
            _progress_bar(i + 1, n_boot)
    if progress:
        sys.stderr.write("\n")
    alpha = (1.0 - level) / 2.0
    lower, upper = np.nanquantile(draws, [alpha, 1.0 - alpha], axis=0)
    return pd.DataFrame({"lower": lower, "upper": upper}, index=parameter_names(fit))


def _refit_values(pb, Xs, Zs, y, design, theta0) -> np.ndarray:
    """Refit to a simulated outcome reusing the fitted scalings (only the y sums change)."""
    ys = (y - pb.y_shift) / pb.y_scale
    XY = np.column_stack([Xs, ys])
    ztxy = pb.ztxy.copy()
    for a in range(pb.q):
        ztxy[:, a, pb.p] = np.bincount(design.codes, Zs[:, a] * ys, ztxy.shape[0])
    xyxy = pb.xyxy.copy()
    xyxy[:, pb.p] = xyxy[pb.p, :] = XY.T @ ys
    new = dataclasses.replace(pb, xyxy=xyxy, ztxy=ztxy)
    theta, converged, n_evals = lmm_engine.optimise(new, theta0)
    est = lmm_engine.estimates(new, theta, converged, n_evals)
    variances = _variance_vector(design.blocks, est.re_sd, est.re_corr, est.sigma)
    return np.concatenate([variances, est.beta])


def _progress_bar(done: int, total: int, width: int = 40) -> None:
    filled = int(width * done / total)
    sys.stderr.write(f"\rbootstrap [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    sys.stderr.flush()
