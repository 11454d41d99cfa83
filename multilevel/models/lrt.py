"""Likelihood-ratio tests of nested models, with the boundary correction for added variances."""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.stats

from multilevel import specs

from . import engine
from .result import FitResult, ModelError

__all__ = ["LikelihoodRatioTest", "likelihood_ratio_test"]


@dataclasses.dataclass(frozen=True, slots=True)
class LikelihoodRatioTest:
    """A likelihood-ratio comparison of two nested models (both fitted by maximum likelihood).

    Attributes
    ----------
    smaller, larger : str
        The two models.
    loglik_smaller, loglik_larger : float
        Their ML log-likelihoods.
    statistic : float
        ``2 (loglik_larger - loglik_smaller)``.
    df : int
        Extra parameters in the larger model.
    p_value : float
        Naive p-value from chi-squared with ``df`` degrees of freedom.
    p_value_boundary : float
        p-value that accounts for testing a variance at its boundary of zero (a 50:50 mixture
        of chi-squared with ``df - 1`` and ``df`` degrees of freedom; Self & Liang 1987,
        Stram & Lee 1994); equal to ``p_value`` when no variance is tested.
    note : str
        A plain-English sentence explaining the two p-values.
    """

    smaller: str
    larger: str
    loglik_smaller: float
    loglik_larger: float
    statistic: float
    df: int
    p_value: float
    p_value_boundary: float
    note: str


def likelihood_ratio_test(smaller: FitResult, larger: FitResult) -> LikelihoodRatioTest:
    """Compare two nested models fitted to the same data by a likelihood-ratio test.

    REML fits are refitted with maximum likelihood first (as lme4's ``anova`` does). Besides
    the naive chi-squared p-value, gives the boundary-corrected one: when the larger model
    adds a variance, "no variation" sits on the edge of what a variance can be (zero), the
    naive test is too conservative, and half the chi-squared probability is the better guide.

    Parameters
    ----------
    smaller, larger : FitResult or FormulaFit
        Fits of the same data (same y, x, group, centring) from ``multilevel.fit``; the smaller
        model's varying parts must be part of the larger one's. ``no_pooling`` is not allowed.
        Two formula fits go to :func:`multilevel.models.lmm.likelihood_ratio_test`, which
        refits by ML when the fixed effects differ (and says so).

    Returns
    -------
    LikelihoodRatioTest

    Examples
    --------
    >>> import multilevel as ml
    >>> from simdata import faculty_salaries
    >>> sim = faculty_salaries(seed=5)
    >>> lrt = ml.likelihood_ratio_test(ml.fit(sim, model="varying_intercepts"),
    ...                                ml.fit(sim, model="varying_both"))
    >>> lrt.df
    2
    """
    if not isinstance(smaller, FitResult) and not isinstance(larger, FitResult):
        from .lmm import FormulaFit
        from .lmm import likelihood_ratio_test as formula_test

        if isinstance(smaller, FormulaFit) or isinstance(larger, FormulaFit):
            return formula_test(smaller, larger)
    for result, role in ((smaller, "smaller"), (larger, "larger")):
        if not isinstance(result, FitResult) or result.arrays is None:
            raise ModelError(
                f"{role} must be a FitResult from multilevel.fit, got {type(result).__name__}"
            )
        if result.model == "no_pooling":
            raise ModelError(
                f"{role} is a no_pooling fit; the likelihood-ratio test here compares "
                f"complete pooling and the mixed models"
            )
    same = (smaller.y, smaller.x, smaller.group, smaller.n_obs, smaller.center) == (
        larger.y,
        larger.x,
        larger.group,
        larger.n_obs,
        larger.center,
    ) and np.array_equal(smaller.arrays.y, larger.arrays.y)
    if not same:
        raise ModelError("smaller and larger must be fitted to the same data (y, x, group, center)")
    small, large = specs.MODELS[smaller.model], specs.MODELS[larger.model]
    ps, cs = small.varying_parts, small.correlated
    pl, cl = large.varying_parts, large.correlated
    df = larger.arrays.engine_fit.n_params - smaller.arrays.engine_fit.n_params
    if not set(ps) <= set(pl) or (cs and not cl) or df <= 0:
        raise ModelError(
            f"{smaller.model!r} is not nested in {larger.model!r}; pass the simpler model as "
            f"smaller (e.g. varying_intercepts inside varying_both)"
        )

    ll_s, ll_l = _ml_loglik(smaller), _ml_loglik(larger)
    stat = max(2.0 * (ll_l - ll_s), 0.0)
    p = float(scipy.stats.chi2.sf(stat, df))
    added_variances = len(set(pl) - set(ps))
    refit = " (both refitted by maximum likelihood)" if smaller.reml or larger.reml else ""
    p_b, note = _boundary_p_value(stat, df, p, added_variances, refit)
    return LikelihoodRatioTest(
        smaller=smaller.model,
        larger=larger.model,
        loglik_smaller=ll_s,
        loglik_larger=ll_l,
        statistic=stat,
        df=df,
        p_value=p,
        p_value_boundary=float(p_b),
        note=note,
    )


def one_variance_p_value(stat: float, df: int, p: float, refit: str = "") -> tuple[float, str]:
    """The p-value when the larger model adds one variance, and the sentence that explains it.

    The variance's "no variation" value, zero, is at the boundary of what it can be, so the
    statistic follows a 50:50 mixture of chi-squared(df - 1) and chi-squared(df) (Self & Liang
    1987), not chi-squared(df) (whose p-value ``p`` is too large). ``refit`` ends the sentence.

    Examples
    --------
    >>> p_b, note = one_variance_p_value(3.0, 2, 0.2231)
    >>> round(p_b, 4)
    0.1532
    """
    lower = float(scipy.stats.chi2.sf(stat, df - 1)) if df > 1 else float(stat <= 0)
    p_b = 0.5 * lower + 0.5 * p
    note = (
        f"The larger model adds a variance, whose 'no variation' value (zero) is at the edge "
        f"of what a variance can be, so the usual chi-squared({df}) p-value {p:.3g} is too "
        f"large; the boundary-corrected p-value, a 50:50 mixture of chi-squared({df - 1}) "
        f"and chi-squared({df}) (Self & Liang 1987; Stram & Lee 1994), is {p_b:.3g}{refit}."
    )
    return float(p_b), note


def _boundary_p_value(
    stat: float, df: int, p: float, added_variances: int, refit: str
) -> tuple[float, str]:
    """The boundary-corrected p-value and the sentence that explains it."""
    if added_variances == 1:
        return one_variance_p_value(stat, df, p, refit)
    if added_variances == 0:
        p_b = p
        note = (
            f"The larger model adds only a correlation, which is not at a boundary, so the "
            f"chi-squared({df}) p-value {p:.3g} needs no correction{refit}."
        )
    else:
        p_b = p
        note = (
            f"The larger model adds {added_variances} variances at once; there is no simple "
            f"boundary correction, and the chi-squared({df}) p-value {p:.3g} is conservative "
            f"(the true p-value is smaller){refit}."
        )
    return float(p_b), note


def _ml_loglik(result: FitResult) -> float:
    """The maximum-likelihood log-likelihood of a fit (refitted when it used REML)."""
    if not result.reml:
        return result.loglik
    arrays = result.arrays
    refit = engine.fit_arrays(
        arrays.x,
        arrays.y,
        arrays.codes,
        len(arrays.groups),
        random=specs.MODELS[result.model].random,
        reml=False,
        start_rel_cov=None if arrays.engine_fit is None else arrays.engine_fit.rel_cov,
    )
    return refit.loglik
