"""Logistic mixed models with a random intercept, by maximum likelihood (lme4's ``glmer``).

``fit_glmm("admitted ~ gpa + volunteer + (1 | school)", data, nAGQ=1)`` maximises the marginal
likelihood, in which each group's random intercept is integrated out. With one random intercept
that integral is one-dimensional per group, so adaptive Gauss-Hermite quadrature is cheap:
centre the nodes at the group's conditional mode, scale them by its curvature, and sum
(``nAGQ = 1`` is the Laplace approximation, lme4's default; ``nAGQ = 25`` is close to exact).

Notation as lme4: ``eta = X beta + theta u_j`` with ``u_j ~ N(0, 1)``, so ``theta`` is the SD of
the random intercepts on the log-odds scale. For group ``j`` with mode ``u_j`` and curvature
``h_j = 1 + theta^2 sum mu (1 - mu)``, the deviance contribution is
``-2 log sum_k w_k exp(l_j(u_j + z_k / sqrt(h_j)) - (u_j + z_k / sqrt(h_j))^2 / 2 + z_k^2 / 2)
+ log h_j`` for Gauss-Hermite nodes ``z_k`` and weights ``w_k`` of the standard normal. The
standard errors are lme4's: twice the inverse of the deviance's Hessian in ``(theta, beta)``.

Examples
--------
>>> from simdata import school_admissions
>>> sim = school_admissions(seed=1)
>>> res = fit_glmm("admitted ~ gpa + volunteer + (1 | school)", sim.data)
>>> list(res.fixed_effects.index)
['Intercept', 'gpa', 'volunteer']
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import scipy.optimize
import scipy.sparse
import scipy.special
import scipy.stats

from .formula import Design, build_design, new_data_matrix, parse_formula
from .lmm_engine import single_threaded
from .result import ModelError, information_criteria

__all__ = ["GlmmFit", "fit_glmm"]

_Z95 = float(scipy.stats.norm.ppf(0.975))


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class GlmmFit:
    """A logistic mixed model with a random intercept (log-odds scale).

    Attributes
    ----------
    formula : str
    nAGQ : int
        Quadrature points per group (1 = Laplace).
    n_obs, n_groups : int
    fixed_effects : pandas.DataFrame
        Log-odds coefficients; columns ``estimate, std_error, ci_lower, ci_upper`` (95% Wald).
    vcov : pandas.DataFrame
    group_sd : pandas.Series
        SD of the groups' intercepts on the log-odds scale (index ``Intercept``).
    correlation : None
    loglik, aic, bic : float
        As glmer reports them (the approximation chosen by ``nAGQ``).
    random_effects : pandas.DataFrame
        Each group's intercept deviation (conditional mode).
    group_lines : pandas.DataFrame
        ``n``, each fixed term's coefficient per group, and ``Intercept_se`` (conditional SD).
    boundary, converged : bool
    notes : tuple of str
    """

    formula: str
    nAGQ: int
    n_obs: int
    n_groups: int
    fixed_effects: pd.DataFrame
    vcov: pd.DataFrame
    group_sd: pd.Series
    correlation: None
    loglik: float
    aic: float
    bic: float
    random_effects: pd.DataFrame
    group_lines: pd.DataFrame
    boundary: bool
    converged: bool
    notes: tuple[str, ...]
    _design: Design | None = dataclasses.field(default=None, repr=False)
    _state: _Data | None = dataclasses.field(default=None, repr=False)
    _params: np.ndarray | None = dataclasses.field(default=None, repr=False)

    def predict(self, new_data: pd.DataFrame, *, random: bool = True) -> np.ndarray:
        """Predicted probabilities; known groups get their own intercept when ``random``."""
        X = new_data_matrix(self._design.fixed_spec, new_data, "fixed effects")
        eta = X @ self.fixed_effects["estimate"].to_numpy()
        if random:
            where = self.random_effects.index.get_indexer(new_data[self._design.parsed.group])
            known = where >= 0
            eta[known] += self.random_effects["Intercept"].to_numpy()[where[known]]
        return scipy.special.expit(eta)

    def confint(self, method: str = "wald", level: float = 0.95) -> pd.DataFrame:
        """Intervals for the intercept SD and the fixed effects (log-odds scale).

        ``"wald"``: estimate +- z SE for the fixed effects, NaN for the SD (as lme4);
        ``"profile"``: where the likelihood-ratio statistic crosses its chi-squared(1) quantile,
        each parameter fixed in turn and the others re-optimised (lme4's profile).
        """
        if method not in ("wald", "profile"):
            raise ModelError(
                f"for the logistic model method must be 'wald' or 'profile', got {method!r}"
            )
        if not (isinstance(level, float | int) and 0.0 < float(level) < 1.0):
            raise ModelError(f"level must be a number between 0 and 1, got {level!r}")
        z = float(scipy.stats.norm.ppf(0.5 + float(level) / 2.0))
        est = self.fixed_effects["estimate"]
        se = self.fixed_effects["std_error"]
        names = [f"sd_Intercept|{self._design.parsed.group}", *est.index]
        if method == "profile":
            with single_threaded():
                rows = _profile(self._state, self._params, se.to_numpy(), z)
            return pd.DataFrame(
                rows, columns=["lower", "upper"], index=pd.Index(names, name="parameter")
            )
        return pd.DataFrame(
            {"lower": [np.nan, *(est - z * se)], "upper": [np.nan, *(est + z * se)]},
            index=pd.Index(names, name="parameter"),
        )

    def summary(self) -> str:
        """The fit in plain English."""
        method = "Laplace" if self.nAGQ == 1 else f"{self.nAGQ}-point adaptive quadrature"
        return "\n".join(
            [
                f"Logistic mixed model {self.formula}, maximum likelihood ({method})",
                f"{self.n_obs} observations in {self.n_groups} groups.",
                "Fixed effects (log-odds):",
                self.fixed_effects.to_string(float_format="{:.6g}".format),
                f"SD of group intercepts (log-odds): {self.group_sd.iloc[0]:.6g}",
                f"loglik {self.loglik:.6g}, AIC {self.aic:.6g}, BIC {self.bic:.6g}",
                *self.notes,
            ]
        )


@dataclasses.dataclass(eq=False)
class _Data:
    X: np.ndarray
    y: np.ndarray
    codes: np.ndarray
    n_groups: int
    nodes: np.ndarray
    log_weights: np.ndarray
    modes: np.ndarray  # warm start for the next evaluation
    indicator: scipy.sparse.csr_matrix  # (n, G): sums over each group's rows by one product


def _group_objective(u: np.ndarray, theta: float, eta0: np.ndarray, d: _Data) -> np.ndarray:
    """Each group's log-likelihood plus log-prior of u, up to a constant (to be maximised)."""
    eta = eta0 + theta * u[d.codes]
    return np.bincount(d.codes, d.y * eta - np.logaddexp(0.0, eta), d.n_groups) - 0.5 * u * u


def _modes(theta: float, eta0: np.ndarray, d: _Data) -> tuple[np.ndarray, np.ndarray]:
    """Each group's conditional mode of u and the curvature there.

    Newton's method for all groups at once, each group's step halved until its objective does
    not get worse: plain Newton from a far-away warm start can overshoot and oscillate.
    """
    u = d.modes.copy()
    f = _group_objective(u, theta, eta0, d)
    for _ in range(100):
        mu = scipy.special.expit(eta0 + theta * u[d.codes])
        grad = theta * np.bincount(d.codes, d.y - mu, d.n_groups) - u
        h = 1.0 + theta**2 * np.bincount(d.codes, mu * (1.0 - mu), d.n_groups)
        step = grad / h
        if np.max(np.abs(step)) < 1e-11:
            break
        t = np.ones_like(u)
        for _ in range(40):
            new = u + t * step
            f_new = _group_objective(new, theta, eta0, d)
            worse = f_new < f - 1e-13 * np.abs(f)
            if not worse.any():
                break
            t = np.where(worse, 0.5 * t, t)
        u, f = new, f_new
    mu = scipy.special.expit(eta0 + theta * u[d.codes])
    h = 1.0 + theta**2 * np.bincount(d.codes, mu * (1.0 - mu), d.n_groups)
    d.modes = u
    return u, h


def _deviance(params: np.ndarray, d: _Data) -> float:
    theta, beta = abs(float(params[0])), params[1:]
    eta0 = d.X @ beta
    u, h = _modes(theta, eta0, d)
    # All nodes at once: row k holds every group's u at node k (K x G), then K x n.
    uk = u[None, :] + d.nodes[:, None] / np.sqrt(h)[None, :]
    eta = eta0[None, :] + theta * uk[:, d.codes]
    loglik = (d.y[None, :] * eta - np.logaddexp(0.0, eta)) @ d.indicator
    terms = (d.log_weights + 0.5 * d.nodes**2)[:, None] + loglik - 0.5 * uk**2
    if terms.shape[0] == 1:
        total = terms.sum()
    else:
        top = terms.max(axis=0)
        total = (top + np.log(np.exp(terms - top).sum(axis=0))).sum()
    return float(-2.0 * total + np.log(h).sum())


def _value_and_forward_gradient(params: np.ndarray, d: _Data) -> tuple[float, np.ndarray]:
    """Deviance and a forward-difference gradient (half the cost of central differences: the
    optimiser only needs a direction; the Newton polish uses central differences)."""
    f0 = _deviance(params, d)
    grad = np.empty_like(params)
    for i in range(params.size):
        h = 1e-7 * max(1.0, abs(params[i]))
        shifted = params.copy()
        shifted[i] += h
        grad[i] = (_deviance(shifted, d) - f0) / h
    return f0, grad


def _gradient(params: np.ndarray, d: _Data) -> np.ndarray:
    out = np.empty_like(params)
    for i in range(params.size):
        h = 1e-6 * max(1.0, abs(params[i]))
        up, down = params.copy(), params.copy()
        up[i] += h
        down[i] -= h
        out[i] = (_deviance(up, d) - _deviance(down, d)) / (2.0 * h)
    return out


def _hessian(params: np.ndarray, d: _Data, delta: float = 1e-4) -> np.ndarray:
    """Central second differences of the deviance (lme4's ``deriv12`` with its step)."""
    k = params.size
    f0 = _deviance(params, d)
    hess = np.empty((k, k))
    for i in range(k):
        for j in range(i, k):
            if i == j:
                up, down = params.copy(), params.copy()
                up[i] += delta
                down[i] -= delta
                hess[i, i] = (_deviance(up, d) - 2.0 * f0 + _deviance(down, d)) / delta**2
            else:
                vals = []
                for si, sj in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                    p = params.copy()
                    p[i] += si * delta
                    p[j] += sj * delta
                    vals.append(_deviance(p, d))
                hess[i, j] = hess[j, i] = (vals[0] - vals[1] - vals[2] + vals[3]) / (4 * delta**2)
    return hess


def _profile(d: _Data, params: np.ndarray, se: np.ndarray, z: float) -> list[tuple]:
    """Profile limits for theta and each fixed effect (see GlmmFit.confint)."""
    from .intervals import crossing

    base = _deviance(params, d)
    rows = []
    for k in range(params.size):
        others = np.array([i for i in range(params.size) if i != k])
        bounds = [(0.0, None) if i == 0 else (None, None) for i in others]
        start = {"x": params[others].copy()}

        def zeta(value: float, k=k, others=others, bounds=bounds, start=start) -> float:
            def objective(rest: np.ndarray) -> tuple[float, np.ndarray]:
                full = params.copy()
                full[others], full[k] = rest, value
                f0, grad = _value_and_forward_gradient(full, d)
                return f0, grad[others]

            res = scipy.optimize.minimize(
                objective, start["x"], jac=True, method="L-BFGS-B", bounds=bounds,
                options={"ftol": 1e-12, "gtol": 1e-6},
            )  # fmt: skip
            start["x"] = res.x
            return math.copysign(math.sqrt(max(res.fun - base, 0.0)), value - params[k])

        step = z * (se[k - 1] if k else max(0.5 * params[0], 0.05))
        low = 0.0 if k == 0 else -math.inf
        lower = crossing(zeta, params[k], step, low, z)
        start["x"] = params[others].copy()
        upper = crossing(zeta, params[k], step, math.inf, z)
        rows.append((lower, upper))
    return rows


def _glm_start(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Ordinary logistic regression by iteratively reweighted least squares (the start)."""
    beta = np.zeros(X.shape[1])
    for _ in range(30):
        mu = scipy.special.expit(X @ beta)
        w = np.maximum(mu * (1.0 - mu), 1e-10)
        step = np.linalg.solve(X.T @ (w[:, None] * X), X.T @ (y - mu))
        beta += step
        if np.max(np.abs(step)) < 1e-10:
            break
    return beta


def _optimise(d: _Data, start: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """Minimise the deviance: ``(params, Hessian there, converged)``."""
    bounds = [(0.0, None)] + [(None, None)] * (start.size - 1)
    res = scipy.optimize.minimize(
        _value_and_forward_gradient, start, args=(d,), jac=True, method="L-BFGS-B",
        bounds=bounds, options={"ftol": 1e-13, "gtol": 1e-6, "maxiter": 500},
    )  # fmt: skip
    params = res.x
    hess = _hessian(params, d)
    # A Newton step with the Hessian the standard errors need anyway polishes the answer
    # beyond quasi-Newton's stopping rule; the Hessian is redone only after a real move.
    grad = _gradient(params, d)
    free = np.arange(params.size) if params[0] > 0 else np.arange(1, params.size)
    trial = params.copy()
    trial[free] -= np.linalg.solve(hess[np.ix_(free, free)], grad[free])
    trial[0] = max(trial[0], 0.0)
    if _deviance(trial, d) < _deviance(params, d):
        moved = np.max(np.abs(trial - params) / np.maximum(1.0, np.abs(params)))
        params = trial
        if moved > 1e-6:
            hess = _hessian(params, d)
        grad = _gradient(params, d)
    converged = bool(np.all(np.abs(grad[1:]) < 1e-4) and (params[0] == 0 or abs(grad[0]) < 1e-4))
    return params, hess, converged


def _laplace_start(d: _Data, start: np.ndarray) -> np.ndarray:
    """For many quadrature points, start from the Laplace optimum (cheap, and close)."""
    laplace = dataclasses.replace(d, nodes=np.zeros(1), log_weights=np.zeros(1))
    bounds = [(0.0, None)] + [(None, None)] * (start.size - 1)
    res = scipy.optimize.minimize(
        _value_and_forward_gradient, start, args=(laplace,), jac=True, method="L-BFGS-B",
        bounds=bounds, options={"ftol": 1e-12, "gtol": 1e-5},
    )  # fmt: skip
    d.modes = laplace.modes
    return res.x


def fit_glmm(formula: str, data: pd.DataFrame, *, nAGQ: int = 1) -> GlmmFit:  # noqa: N803
    """Fit a logistic mixed model with a random intercept by maximum likelihood.

    Parameters
    ----------
    formula : str
        ``"y ~ fixed part + (1 | group)"`` with a 0/1 (or True/False) response.
    data : pandas.DataFrame
    nAGQ : int
        Adaptive Gauss-Hermite points per group: 1 (Laplace, lme4's default) to 50.

    Returns
    -------
    GlmmFit

    Raises
    ------
    ModelError
        A response that is not 0/1, a random part other than ``(1 | g)``, a bad ``nAGQ``.
    """
    if not isinstance(nAGQ, int) or isinstance(nAGQ, bool) or not 1 <= nAGQ <= 50:
        raise ModelError(f"nAGQ must be an integer from 1 (Laplace) to 50, got {nAGQ!r}")
    design = build_design(parse_formula(formula), data)
    if design.random_names != ("Intercept",):
        raise ModelError(
            f"the logistic model fits a random intercept only, (1 | {design.parsed.group}); "
            f"got varying terms {list(design.random_names)}"
        )
    y = design.y
    if not np.all((y == 0) | (y == 1)):
        raise ModelError(
            f"the response {design.parsed.response!r} must be 0/1 for a logistic model"
        )
    nodes, weights = np.polynomial.hermite_e.hermegauss(nAGQ)
    d = _Data(
        X=design.X, y=y, codes=design.codes, n_groups=len(design.groups), nodes=nodes,
        log_weights=np.log(weights / math.sqrt(2.0 * math.pi)), modes=np.zeros(len(design.groups)),
        indicator=scipy.sparse.csr_matrix(
            (np.ones(y.size), (np.arange(y.size), design.codes)), shape=(y.size, len(design.groups))
        ),
    )  # fmt: skip
    with single_threaded():
        start = np.concatenate([[1.0], _glm_start(design.X, y)])
        if nAGQ > 1:
            start = _laplace_start(d, start)
        params, hess, converged = _optimise(d, start)
        dev = _deviance(params, d)
        u, h = _modes(params[0], design.X @ params[1:], d)
    fit = _result(design, nAGQ, params, dev, hess, u, h, converged)
    return dataclasses.replace(fit, _state=d, _params=params)


def _result(design, nagq, params, dev, hess, u, h, converged) -> GlmmFit:
    theta, beta = params[0], params[1:]
    names = list(design.fixed_names)
    try:
        cov = 2.0 * np.linalg.inv(hess)[1:, 1:]
    except np.linalg.LinAlgError:
        cov = np.full((beta.size, beta.size), np.nan)
    if theta == 0:
        # theta on its bound: lme4 then inverts the Hessian of beta alone.
        cov = 2.0 * np.linalg.inv(hess[1:, 1:])
    se = np.sqrt(np.diag(cov))
    fixed = pd.DataFrame(
        {"estimate": beta, "std_error": se, "ci_lower": beta - _Z95 * se,
         "ci_upper": beta + _Z95 * se},
        index=pd.Index(names, name="term"),
    )  # fmt: skip
    groups = design.groups
    effects = pd.DataFrame({"Intercept": theta * u}, index=groups)
    lines = pd.DataFrame(index=groups)
    lines["n"] = np.bincount(design.codes, minlength=len(groups))
    for i, name in enumerate(names):
        lines[name] = beta[i]
    lines["Intercept"] = lines.get("Intercept", 0.0) + theta * u
    lines["Intercept_se"] = theta / np.sqrt(h)
    k = beta.size + 1
    boundary = bool(theta < 1e-4)
    notes = []
    if design.n_dropped:
        notes.append(f"{design.n_dropped} rows with a missing value were left out.")
    if boundary:
        notes.append(
            "The SD of the group intercepts is estimated as (practically) 0: the groups do not "
            "differ beyond what the predictors explain (a singular fit)."
        )
    if not converged:
        notes.append("The optimiser did not verify its answer; treat the estimates with caution.")
    loglik = -0.5 * dev
    return GlmmFit(
        formula=design.parsed.formula,
        nAGQ=nagq,
        n_obs=design.y.size,
        n_groups=len(groups),
        fixed_effects=fixed,
        vcov=pd.DataFrame(cov, index=names, columns=names),
        group_sd=pd.Series({"Intercept": theta}, name="group_sd"),
        correlation=None,
        loglik=loglik,
        **information_criteria(loglik, k, design.y.size),
        random_effects=effects,
        group_lines=lines,
        boundary=boundary,
        converged=converged,
        notes=tuple(notes),
        _design=design,
    )
