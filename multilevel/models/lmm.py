"""Linear mixed models from lme4-style formulas: :func:`fit_formula` and :class:`FormulaFit`.

``fit_formula("y ~ x1 * x2 + C(c) + (1 + x1 | g)", data)`` fits any number of fixed effects
(numeric and categorical predictors, interactions, transformations, through formulaic) and a
random intercept and/or slopes for one grouping factor, by REML or maximum likelihood, with the
exact sufficient-statistics engine of :mod:`multilevel.models.lmm_engine`. The numbers are lme4's.

Examples
--------
>>> from simdata import faculty_salaries
>>> data = faculty_salaries(n_departments=8, faculty_per_department=20, seed=1).data
>>> res = fit_formula("salary ~ experience + (1 + experience | department)", data)
>>> list(res.fixed_effects.index), list(res.group_sd.index)
(['Intercept', 'experience'], ['Intercept', 'experience'])
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np
import pandas as pd
import scipy.stats

from . import intervals, lmm_engine
from .formula import Design, build_design, new_data_matrix, parse_formula
from .lrt import LikelihoodRatioTest, one_variance_p_value
from .result import ModelError, information_criteria

__all__ = ["FormulaFit", "fit_formula", "likelihood_ratio_test"]

_Z95 = float(scipy.stats.norm.ppf(0.975))
#: lme4's isSingular() tolerance on the relative Cholesky factor (here on the engine's scale).
_SINGULAR_TOL = 1e-4


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class _Internals:
    design: Design
    problem: lmm_engine.Problem
    estimates: lmm_engine.LmmEstimates
    data: pd.DataFrame


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class FormulaFit:
    """A linear mixed model fitted from a formula, on the scale of the data.

    Attributes
    ----------
    formula : str
        The formula as given.
    reml : bool
        REML (True) or maximum likelihood.
    response, group : str
        The response expression and the grouping column.
    n_obs, n_groups : int
        Observations and groups used.
    fixed_effects : pandas.DataFrame
        Indexed by term as formulaic names it (``Intercept``, ``x``, ``c[T.b]``, ``x:z``);
        columns ``estimate, std_error, ci_lower, ci_upper`` (95% Wald).
    vcov : pandas.DataFrame
        Covariance matrix of the fixed effects (lme4's ``vcov``).
    group_sd : pandas.Series
        SD between groups of each varying term (index: the varying terms).
    group_cov : pandas.DataFrame
        Covariance matrix of the varying terms between groups.
    correlation : float, pandas.DataFrame or None
        Correlation of two varying terms (a float), a correlation table for more, None when no
        correlation is estimated (one varying term, or ``||``).
    residual_sd, loglik, aic, bic : float
        As lme4 reports them (``loglik`` is the REML criterion over -2 under REML).
    random_effects : pandas.DataFrame
        Each group's deviations (conditional modes, BLUPs), one column per varying term.
    group_lines : pandas.DataFrame
        Per group: ``n``, every fixed term's coefficient for that group (fixed + deviation, lme4's
        ``coef()``), and ``<term>_se``, the conditional SD of each varying term's deviation.
    boundary, converged : bool
        A group SD at zero or a correlation at +-1 (lme4's ``isSingular``); optimum verified.
    notes : tuple of str
        Plain-English sentences about the fit.
    """

    formula: str
    reml: bool
    response: str
    group: str
    n_obs: int
    n_groups: int
    fixed_effects: pd.DataFrame
    vcov: pd.DataFrame
    group_sd: pd.Series
    group_cov: pd.DataFrame
    correlation: float | pd.DataFrame | None
    residual_sd: float
    loglik: float
    aic: float
    bic: float
    random_effects: pd.DataFrame
    group_lines: pd.DataFrame
    boundary: bool
    converged: bool
    notes: tuple[str, ...]
    _internals: _Internals | None = dataclasses.field(default=None, repr=False)
    _cache: dict = dataclasses.field(default_factory=dict, repr=False)

    @property
    def statsmodels(self) -> Any:
        """The same model fitted by statsmodels' ``smf.mixedlm`` (computed on first access).

        The first random term becomes ``re_formula``, each further independent column a
        variance component (``vc_formula``), which is how statsmodels writes ``(1 + x || g)``
        and ``(1 | g) + (0 + x | g)``; statsmodels has no form for two correlated blocks.

        Examples
        --------
        >>> from simdata import faculty_salaries
        >>> data = faculty_salaries(n_departments=8, faculty_per_department=20, seed=1).data
        >>> res = fit_formula("salary ~ experience + (1 | department)", data)
        >>> print(res.statsmodels.summary())  # doctest: +SKIP
        """
        if "statsmodels" not in self._cache:
            self._cache["statsmodels"] = _fit_statsmodels(self)
        return self._cache["statsmodels"]

    @property
    def n_params(self) -> int:
        """Estimated parameters: fixed effects, variance parameters and the residual SD."""
        return len(self.fixed_effects) + int(self._internals.problem.rows.size) + 1

    def predict(self, new_data: pd.DataFrame, *, random: bool = True) -> np.ndarray:
        """Predicted outcome for each row of ``new_data``.

        A row whose group was in the fitted data gets that group's deviations added
        (``random=True``); a new group, or ``random=False``, gets the population prediction.

        Examples
        --------
        >>> from simdata import faculty_salaries
        >>> data = faculty_salaries(n_departments=6, faculty_per_department=15, seed=2).data
        >>> res = fit_formula("salary ~ experience + (1 | department)", data)
        >>> res.predict(data.head(3)).shape
        (3,)
        """
        design = self._internals.design
        X = new_data_matrix(design.fixed_spec, new_data, "fixed effects")
        out = X @ self.fixed_effects["estimate"].to_numpy()
        if random:
            if design.parsed.group not in new_data:
                raise ModelError(f"new_data needs the grouping column {design.parsed.group!r}")
            Z = np.hstack(
                [new_data_matrix(s, new_data, "random effects") for s in design.random_specs]
            )
            where = self.random_effects.index.get_indexer(new_data[design.parsed.group])
            known = where >= 0
            b = self.random_effects.to_numpy()[where[known]]
            out[known] += np.einsum("ij,ij->i", Z[known], b)
        return out

    def summary(self) -> str:
        """The fit in plain English, with lme4-style tables."""
        lines = [
            f"Linear mixed model {self.formula} fitted by {'REML' if self.reml else 'ML'}",
            f"{self.n_obs} observations in {self.n_groups} groups ({self.group}).",
            "",
            "Fixed effects:",
            self.fixed_effects.to_string(float_format="{:.6g}".format),
            "",
            "Variation between groups (SD): "
            + ", ".join(f"{k} {v:.6g}" for k, v in self.group_sd.items()),
            f"Residual SD: {self.residual_sd:.6g}",
        ]
        if isinstance(self.correlation, float):
            lines.append(
                f"Correlation of {' and '.join(self.group_sd.index)}: {self.correlation:.3f}"
            )
        elif isinstance(self.correlation, pd.DataFrame):
            lines += ["Correlations:", self.correlation.to_string(float_format="{:.3f}".format)]
        lines += [
            f"{'REML criterion' if self.reml else 'Log-likelihood'}: loglik {self.loglik:.6g}, "
            f"AIC {self.aic:.6g}, BIC {self.bic:.6g}",
            *self.notes,
        ]
        return "\n".join(lines)

    #: Confidence intervals for the group SDs, correlations, residual SD and fixed effects:
    #: :func:`multilevel.models.intervals.confint` itself, as a method (``method`` is
    #: ``"profile"``, ``"wald"`` or ``"bootstrap"``).
    confint = intervals.confint


def _fit_statsmodels(fit: FormulaFit) -> Any:
    """``smf.mixedlm`` for a formula fit (see FormulaFit.statsmodels)."""
    import statsmodels.formula.api as smf
    from statsmodels.regression.mixed_linear_model import MixedLMParams

    design = fit._internals.design
    parsed = design.parsed
    names, blocks = design.random_names, design.blocks
    first, rest = blocks[0], blocks[1:]
    if any(len(block) > 1 for block in rest):
        raise ModelError(
            f"statsmodels' mixedlm cannot write {parsed.formula!r}: only the first random term "
            f"may have correlated columns"
        )
    re_terms = [("1" if names[c] == "Intercept" else names[c]) for c in first]
    re_formula = " + ".join(re_terms if "1" in re_terms else ["0", *re_terms])
    vc = {names[c]: ("1" if names[c] == "Intercept" else f"0 + {names[c]}") for (c,) in rest}
    # Started at this fit's answer (relative covariances), as statsmodels' own start often
    # stops short for random slopes.
    rel = fit.group_cov.to_numpy() / fit.residual_sd**2
    idx = list(first)
    start = MixedLMParams.from_components(
        fit.fixed_effects["estimate"].to_numpy(),
        cov_re=rel[np.ix_(idx, idx)] + 1e-9 * np.eye(len(idx)),
        vcomp=np.array([rel[c, c] for (c,) in rest]) if rest else None,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            model = smf.mixedlm(
                f"{parsed.response} ~ {parsed.fixed}", fit._internals.data, groups=parsed.group,
                re_formula=re_formula, vc_formula=vc or None, missing="drop",
            )  # fmt: skip
            return model.fit(reml=fit.reml, start_params=start, method=["lbfgs"])
        except Exception as error:  # statsmodels/patsy errors: say which call failed
            raise ModelError(f"statsmodels could not fit {parsed.formula!r}: {error}") from None


def _correlation(corr: np.ndarray, names: tuple[str, ...], blocks) -> float | pd.DataFrame | None:
    if all(len(block) == 1 for block in blocks):
        return None
    corr = np.clip(corr, -1.0, 1.0)
    if len(names) == 2:
        return float(corr[0, 1])
    return pd.DataFrame(corr, index=list(names), columns=list(names))


def _boundary_notes(pb, theta, names: tuple[str, ...]) -> tuple[bool, list[str]]:
    """lme4's isSingular (a diagonal entry of Lambda near 0), in words: which SDs are 0, or
    that the varying terms are perfectly correlated."""
    singular = bool(np.any(theta[pb.diagonal] < _SINGULAR_TOL))
    if not singular:
        return False, []
    lam = lmm_engine.lambda_matrix(theta, pb)
    relative_sd = np.sqrt(np.diag(lam @ lam.T))  # per SD of noise, on the engine's scale
    zero = [name for name, value in zip(names, relative_sd, strict=True) if value < _SINGULAR_TOL]
    notes = [
        "The fit is at a boundary of what a variance can be (lme4 calls it singular): "
        + (
            f"the SD between groups of {' and '.join(zero)} "
            f"{'is' if len(zero) == 1 else 'are'} estimated as (practically) 0"
            if zero
            else "the varying terms are estimated as perfectly correlated (a correlation of +-1)"
        )
        + ". The data cannot tell these parts apart from noise; a simpler random part may fit "
        "as well."
    ]
    return True, notes


def _fixed_table(names, beta: np.ndarray, se: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "estimate": beta,
            "std_error": se,
            "ci_lower": beta - _Z95 * se,
            "ci_upper": beta + _Z95 * se,
        },
        index=pd.Index(names, name="term"),
    )


def _group_tables(design: Design, est) -> tuple[pd.DataFrame, pd.DataFrame]:
    groups = design.groups
    random_effects = pd.DataFrame(est.blups, index=groups, columns=list(design.random_names))
    lines = pd.DataFrame(index=groups)
    lines["n"] = np.bincount(design.codes, minlength=len(groups))
    for i, name in enumerate(design.fixed_names):
        lines[name] = est.beta[i]
    for j, name in enumerate(design.random_names):
        if name in lines:
            lines[name] = lines[name] + est.blups[:, j]
        else:
            lines[name] = est.blups[:, j]
    for j, name in enumerate(design.random_names):
        lines[f"{name}_se"] = est.blup_se[:, j]
    return random_effects, lines


def result_from(
    design: Design, pb: lmm_engine.Problem, est: lmm_engine.LmmEstimates, data: pd.DataFrame
) -> FormulaFit:
    """Tidy tables and notes for an engine fit (used by :func:`fit_formula` and refits)."""
    names = design.random_names
    sd = pd.Series(est.re_sd, index=list(names), name="group_sd")
    corr = _correlation(est.re_corr, names, design.blocks)
    boundary, notes = _boundary_notes(pb, est.theta, names)
    if design.n_dropped:
        notes.insert(0, f"{design.n_dropped} rows with a missing value were left out.")
    if not est.converged:
        notes.append(
            "The optimiser did not verify its answer (the gradient is not small there); "
            "treat the estimates with caution or simplify the random part."
        )
    n_params = design.X.shape[1] + pb.rows.size + 1
    loglik = -0.5 * est.deviance
    random_effects, lines = _group_tables(design, est)
    return FormulaFit(
        formula=design.parsed.formula,
        reml=pb.reml,
        response=design.parsed.response,
        group=str(design.parsed.group),
        n_obs=pb.n,
        n_groups=len(design.groups),
        fixed_effects=_fixed_table(design.fixed_names, est.beta, est.beta_se),
        vcov=pd.DataFrame(est.beta_cov, index=design.fixed_names, columns=design.fixed_names),
        group_sd=sd,
        group_cov=pd.DataFrame(est.re_cov, index=list(names), columns=list(names)),
        correlation=corr,
        residual_sd=est.sigma,
        loglik=loglik,
        **information_criteria(loglik, n_params, pb.n),
        random_effects=random_effects,
        group_lines=lines,
        boundary=boundary,
        converged=est.converged,
        notes=tuple(notes),
        _internals=_Internals(design=design, problem=pb, estimates=est, data=data),
    )


def fit_formula(
    formula: str,
    data: pd.DataFrame,
    *,
    reml: bool = True,
    family: str = "gaussian",
    nAGQ: int = 1,  # noqa: N803 (lme4's name)
    start: FormulaFit | None = None,
) -> FormulaFit | Any:
    """Fit a linear (or, with ``family="binomial"``, logistic) mixed model from an lme4 formula.

    Parameters
    ----------
    formula : str
        ``"response ~ fixed part + (random part | group)"``, e.g.
        ``"mathach ~ meanses * cses + sector + (1 + cses | school)"``. The fixed part takes
        numeric and categorical predictors (treatment coding), interactions, ``C()`` and
        transformations; the random part one grouping factor with ``(1 | g)``, ``(0 + x | g)``,
        ``(1 + x | g)``, ``(1 + x || g)`` or several such terms.
    data : pandas.DataFrame
        One row per observation. Rows with a missing value in a used column are left out.
    reml : bool
        REML (default, as lme4) or maximum likelihood (for comparing fixed effects).
    family : {"gaussian", "binomial"}
        ``"binomial"``: a logistic model with a random intercept, fitted by
        :func:`multilevel.models.glmm.fit_glmm` (maximum likelihood, ``reml`` does not apply).
    nAGQ : int
        Quadrature points per group for ``family="binomial"`` (1 = Laplace, as glmer).
    start : FormulaFit, optional
        An earlier fit of the same random part (e.g. before a slider moved): a warm start.
        Only the starting point changes, never the answer.

    Returns
    -------
    FormulaFit, or GlmmFit for ``family="binomial"``

    Raises
    ------
    ModelError
        For a formula or data that cannot be fitted; the message says what is supported.

    Examples
    --------
    >>> from multilevel.datasets import radon
    >>> res = fit_formula("log_radon ~ floor + log_uranium + (1 | county)", radon())
    >>> round(float(res.fixed_effects.loc["log_uranium", "estimate"]), 2)
    0.72
    """
    if family == "binomial":
        from .glmm import fit_glmm

        return fit_glmm(formula, data, nAGQ=nAGQ)
    if family != "gaussian":
        raise ModelError(f"family must be 'gaussian' or 'binomial', got {family!r}")
    design = build_design(parse_formula(formula), data)
    y = design.y
    if float(np.ptp(y)) == 0.0:
        raise ModelError(f"the response {design.parsed.response!r} is constant: nothing to model")
    pb = lmm_engine.make_problem(
        design.X, design.Z, y, design.codes, len(design.groups), design.blocks, reml=reml
    )
    theta0 = None
    if isinstance(start, FormulaFit) and start._internals.design.blocks == design.blocks:
        theta0 = start._internals.estimates.theta
    theta, converged, n_evals = lmm_engine.optimise(pb, theta0)
    est = lmm_engine.estimates(pb, theta, converged, n_evals)
    # Relative to the outcome's own spread, so y in units of 1e-300 is fine.
    if est.sigma < 1e-7 * pb.y_scale:
        raise ModelError(
            f"{design.parsed.response!r} is (almost) exactly a function of the predictors and "
            f"groups: no noise is left around the lines, so a mixed model cannot separate "
            f"group variation from noise (residual SD {est.sigma:.3g} against an outcome SD of "
            f"{pb.y_scale:.3g})"
        )
    return result_from(design, pb, est, data)


def likelihood_ratio_test(smaller: FormulaFit, larger: FormulaFit) -> LikelihoodRatioTest:
    """Compare two nested formula fits of the same data by a likelihood-ratio test.

    When the fixed effects differ, REML criteria are not comparable, so REML fits are refitted
    by maximum likelihood (and the note says so); with the same fixed effects the REML fits are
    compared as they are. The boundary-corrected p-value (a 50:50 chi-squared mixture, Self &
    Liang 1987) applies when the larger model adds one variance.

    Parameters
    ----------
    smaller, larger : FormulaFit
        Fits from :func:`fit_formula` of the same data; ``smaller`` has fewer parameters.

    Returns
    -------
    LikelihoodRatioTest

    Examples
    --------
    >>> from simdata import faculty_salaries
    >>> data = faculty_salaries(n_departments=8, faculty_per_department=20, seed=3).data
    >>> small = fit_formula("salary ~ experience + (1 | department)", data)
    >>> large = fit_formula("salary ~ experience + (1 + experience | department)", data)
    >>> likelihood_ratio_test(small, large).df
    2
    """
    for fit, role in ((smaller, "smaller"), (larger, "larger")):
        if not isinstance(fit, FormulaFit):
            raise ModelError(f"{role} must be a FormulaFit, got {type(fit).__name__}")
    same_data = smaller.n_obs == larger.n_obs and np.array_equal(
        smaller._internals.design.y, larger._internals.design.y
    )
    if not same_data:
        raise ModelError("smaller and larger must be fitted to the same observations")
    df = larger.n_params - smaller.n_params
    extra_fixed = set(smaller.fixed_effects.index) - set(larger.fixed_effects.index)
    extra_random = set(smaller.group_sd.index) - set(larger.group_sd.index)
    if df <= 0 or extra_fixed or extra_random:
        raise ModelError(
            f"{smaller.formula!r} is not nested in {larger.formula!r}; pass the simpler model "
            f"as smaller"
        )
    fixed_differ = list(smaller.fixed_effects.index) != list(larger.fixed_effects.index)
    refit = fixed_differ and (smaller.reml or larger.reml)
    if refit:
        smaller, larger = (
            fit_formula(f.formula, f._internals.data, reml=False) if f.reml else f
            for f in (smaller, larger)
        )
    elif smaller.reml != larger.reml:
        raise ModelError("fit both models by REML or both by ML (reml=...) to compare them")
    stat = max(2.0 * (larger.loglik - smaller.loglik), 0.0)
    p = float(scipy.stats.chi2.sf(stat, df))
    added = len(set(larger.group_sd.index) - set(smaller.group_sd.index))
    how = (
        " Both models were refitted by maximum likelihood, because REML likelihoods of models "
        "with different fixed effects cannot be compared."
        if refit
        else ""
    )
    if added == 1:
        p_b, note = one_variance_p_value(stat, df, p)
    else:
        p_b = p
        note = f"The chi-squared({df}) p-value is {p:.3g}."
    return LikelihoodRatioTest(
        smaller=smaller.formula,
        larger=larger.formula,
        loglik_smaller=smaller.loglik,
        loglik_larger=larger.loglik,
        statistic=stat,
        df=df,
        p_value=p,
        p_value_boundary=float(p_b),
        note=note + how,
    )
