"""What a fit returns: :class:`FitResult`, its arrays (:class:`FitArrays`) and :class:`ModelError`.

Also the small pieces every fitting path shares: the fixed-effects table (:func:`fixed_table`)
and plural group nouns for the plain-English notes (:func:`plural`).
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.stats

from multilevel import specs, units

if TYPE_CHECKING:
    from .engine import EngineFit

__all__ = ["FitArrays", "FitResult", "ModelError", "fixed_table", "information_criteria", "plural"]

#: The normal quantile of a 95% Wald interval.
Z95 = float(scipy.stats.norm.ppf(0.975))

# Shared, immutable index objects: building a pandas Index costs more than the arithmetic.
_FE_COLUMNS = pd.Index(["estimate", "std_error", "ci_lower", "ci_upper"])
_TERMS = {1: pd.Index(["intercept"]), 2: pd.Index(["intercept", "slope"])}


class ModelError(ValueError):
    """Raised when the data or options cannot be fitted; the message says why in plain English."""


def plural(word: str) -> str:
    """``"department"`` -> ``"departments"``, ``"county"`` -> ``"counties"``.

    Examples
    --------
    >>> plural("county"), plural("department"), plural("class")
    ('counties', 'departments', 'class')
    """
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    return word if word.endswith("s") else word + "s"


def information_criteria(loglik: float, n_params: int, n_obs: int) -> dict[str, float]:
    """AIC and BIC as lme4 reports them: ``-2 loglik + 2 k`` and ``-2 loglik + k log(n)``.

    Parameters
    ----------
    loglik : float
        The criterion maximised (the REML criterion for a REML fit, as in lme4).
    n_params : int
        ``k``: the fixed effects plus the variance parameters (the residual SD included).
    n_obs : int
        ``n``: the rows fitted.

    Returns
    -------
    dict
        ``{"aic": ..., "bic": ...}``, to pass on as keywords.

    Examples
    --------
    >>> information_criteria(-100.0, 3, 50)["aic"]
    206.0
    """
    return {
        "aic": -2 * loglik + 2 * n_params,
        "bic": -2 * loglik + n_params * math.log(n_obs),
    }


def fixed_table(est: np.ndarray, se: np.ndarray) -> pd.DataFrame:
    """The fixed-effects table: estimates, standard errors and 95% Wald intervals.

    Examples
    --------
    >>> fixed_table(np.array([10.0, 2.0]), np.array([1.0, 0.5])).columns.tolist()
    ['estimate', 'std_error', 'ci_lower', 'ci_upper']
    """
    est, se = np.asarray(est, float), np.asarray(se, float)
    table = np.column_stack([est, se, est - Z95 * se, est + Z95 * se])
    return pd.DataFrame(table, index=_TERMS[est.size].copy(), columns=_FE_COLUMNS.copy())


def _warn_near_misses(unknown: np.ndarray, known: pd.Index, group: str) -> None:
    """Warn when a group that is not in the fit looks like a mistyped one that is.

    An unknown group gets the population line (the right guess for a new group), so a typo
    ("chemistry" for "Chemistry") would otherwise give a plausible wrong number in silence.
    """
    names = [str(k) for k in known]
    for label in dict.fromkeys(str(u) for u in unknown):
        same_letters = [n for n in names if n.casefold().strip() == label.casefold().strip()]
        close = same_letters or difflib.get_close_matches(label, names, n=1, cutoff=0.8)
        if close:
            warnings.warn(
                f"{label!r} is not a {group} of this fit, so its prediction uses the population "
                f"line (as for a new {group}); did you mean {close[0]!r}?",
                UserWarning,
                stacklevel=3,
            )


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class FitArrays:
    """The data a fit was computed from, as arrays: for refits and for the pooling tables.

    Attributes
    ----------
    rows : pandas.DataFrame
        The rows used (rows with a missing value dropped), with their original columns.
    x : ndarray or None
        The predictor minus ``center``; None without predictor.
    y : ndarray
        The outcome.
    codes : ndarray of int
        Each row's group as ``0 .. n_groups - 1``, positions in ``groups``.
    groups : pandas.Index
        The group labels (index name = the group column).
    varying : str or None
        For ``no_pooling``: which part is separate per group; None otherwise.
    engine_fit : EngineFit or None
        The exact engine's answer (None for ``no_pooling``).
    """

    rows: pd.DataFrame
    x: np.ndarray | None
    y: np.ndarray
    codes: np.ndarray
    groups: pd.Index
    varying: str | None
    engine_fit: EngineFit | None


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class FitResult:
    """A fitted model, on the original scale of the data.

    Attributes
    ----------
    model : str
        One of :data:`MODELS`.
    y, x, group : str
        Column names of the outcome, the predictor and the grouping variable; ``x`` is None
        for a model without predictor (``y ~ 1``).
    reml : bool
        True for REML (the default), False for maximum likelihood.
    center : float
        The value subtracted from ``x`` before fitting (0.0 when not centred): the intercepts
        are the predicted outcome at ``x = center``.
    n_obs, n_groups : int
        Observations and groups used.
    fixed_effects : pandas.DataFrame
        Index ``["intercept", "slope"]`` (``["intercept"]`` without predictor); columns
        ``estimate, std_error, ci_lower, ci_upper`` (95% Wald interval). For ``no_pooling`` the
        separate parts are the average of the group estimates.
    group_sd : pandas.Series
        SDs of the varying parts between groups (index ``"intercept"``, ``"slope"``); empty for
        the pooling models.
    correlation : float or None
        Correlation between group intercepts and slopes (``varying_both`` only; NaN when one
        SD is zero).
    residual_sd : float
        SD of the observations around their group's line (outcome units).
    loglik : float
        Log-likelihood, the REML criterion under REML, exactly as lme4's ``logLik`` reports it.
    aic, bic : float
        ``-2 loglik + 2k`` and ``-2 loglik + k log(n_obs)``, k = parameters (as lme4).
    icc : float or None
        Intraclass correlation (share of the variance between groups), varying-intercepts only.
    group_lines : pandas.DataFrame
        Indexed by group (index name = ``group``); columns ``n, intercept, slope,
        intercept_se, slope_se``: the line drawn for each group and the conditional SDs of
        the group's deviations (lme4's ``condVar``; for ``no_pooling`` the standard errors of
        the separate estimates); NaN where not defined. Without predictor every line is flat:
        ``slope`` is 0 and ``slope_se`` NaN.
    random_effects : pandas.DataFrame
        The groups' deviations from the fixed effects (BLUPs), one column per varying part.
    boundary : bool
        True when a group SD is estimated as (practically) zero or the correlation as +-1.
    converged : bool
        True when the optimiser's answer was verified by a second run.
    notes : tuple of str
        Plain-English sentences about the fit (dropped rows, boundary, convergence).
    varying : str or None
        For ``no_pooling``: which part is separate per group (``"intercepts"``, ``"slopes"``
        or ``"both"``); None otherwise.
    arrays : FitArrays or None
        The data the fit was computed from (None for a FitResult not made by ``fit``).
    """

    model: str
    y: str
    x: str | None
    group: str
    reml: bool
    center: float
    n_obs: int
    n_groups: int
    fixed_effects: pd.DataFrame
    group_sd: pd.Series
    correlation: float | None
    residual_sd: float
    loglik: float
    aic: float
    bic: float
    icc: float | None
    group_lines: pd.DataFrame
    random_effects: pd.DataFrame
    boundary: bool
    converged: bool
    notes: tuple[str, ...]
    varying: str | None = None
    arrays: FitArrays | None = dataclasses.field(default=None, repr=False)
    _cache: dict[str, Any] = dataclasses.field(default_factory=dict, repr=False)

    @property
    def statsmodels(self) -> Any:
        """The same model fitted by statsmodels (``smf.mixedlm`` or ``smf.ols``).

        Computed on first access, started from this fit's estimates so both agree.

        Examples
        --------
        >>> import multilevel as ml
        >>> from simdata import faculty_salaries
        >>> res = ml.fit(faculty_salaries(seed=2), model="varying_intercepts")
        >>> print(res.statsmodels.summary())  # doctest: +SKIP
        """
        if self.arrays is None:
            raise ModelError("this FitResult was not made by multilevel.fit, so it has no data")
        if "statsmodels" not in self._cache:
            from .statsmodels_fit import fit_statsmodels  # statsmodels loads on first use

            self._cache["statsmodels"] = fit_statsmodels(self)
        return self._cache["statsmodels"]

    def confint(
        self, method: str = "profile", level: float = 0.95, **bootstrap: Any
    ) -> pd.DataFrame:
        """Confidence intervals for the group SDs, the correlation, the residual SD and the fixed effects.

        The same model is refitted as its lme4 formula
        (:func:`~multilevel.models.formula.keyword_formula`, e.g.
        ``salary ~ experience + (1 | department)``) on the same rows, with the same REML or ML
        and the predictor minus the same ``center``, and its
        :meth:`~multilevel.models.lmm.FormulaFit.confint` answers: ``"profile"`` (lme4's
        profile likelihood, the default), ``"wald"`` (fixed effects only) or ``"bootstrap"``.

        Parameters
        ----------
        method : {"profile", "wald", "bootstrap"}
        level : float
            Coverage, in (0, 1).
        **bootstrap
            ``n_boot``, ``seed``, ``progress`` for ``method="bootstrap"``, with the defaults
            of :func:`multilevel.models.intervals.confint` (keyword-only).

        Returns
        -------
        pandas.DataFrame
            Columns ``lower``, ``upper``; one row per parameter in lme4's order and names
            (``confint(fit, oldNames = FALSE)``): ``sd_Intercept|<group>``,
            ``cor_<x>.Intercept|<group>``, ``sd_<x>|<group>``, ``sigma`` (residual SD), then the
            fixed effects ``Intercept`` and ``<x>``. SDs are in the units of ``y``.

        Raises
        ------
        ModelError
            For ``complete_pooling`` and ``no_pooling``, which have no group SD.

        Examples
        --------
        >>> import multilevel as ml
        >>> from simdata import faculty_salaries
        >>> res = ml.fit(faculty_salaries(seed=2), model="varying_intercepts")
        >>> res.confint().index.tolist()  # doctest: +SKIP
        ['sd_Intercept|department', 'sigma', 'Intercept', 'experience']
        """
        key = "formula_fit"
        if key not in self._cache:
            self._cache[key] = self._formula_fit()
        return self._cache[key].confint(method, level, **bootstrap)

    def _formula_fit(self) -> Any:
        """This model as ``ml.fit(formula, data)``: what :meth:`confint` delegates to."""
        if not specs.MODELS[self.model].mixed:
            raise ModelError(
                f"confint needs a multilevel model (a group SD to give an interval for); "
                f"{self.model!r} has none: its fixed_effects already hold 95% intervals"
            )
        if self.arrays is None:
            raise ModelError("this FitResult was not made by multilevel.fit, so it has no data")
        from .formula import keyword_formula  # formulaic loads only when intervals are asked for
        from .lmm import fit_formula

        rows = self.arrays.rows
        if self.x is not None and self.center != 0.0:
            # The intercepts of a centred fit are at x = center: refit on x - center to match.
            rows = rows.assign(**{self.x: rows[self.x].astype(float) - self.center})
        formula = keyword_formula(self.y, self.x, self.group, self.model)
        return fit_formula(formula, rows, reml=self.reml)

    def predict(self, x: Any, group: Any = None) -> np.ndarray:
        """Predicted outcome at ``x`` (original units, not centred).

        Parameters
        ----------
        x : float or array-like (or None for a model without predictor)
            Predictor values; ignored (only its length counts) when the model has no
            predictor.
        group : label, array-like of labels, or None
            A group present in the fit uses its own line; ``None`` or an unknown group uses the
            population line (the fixed effects), the best guess for a new group.

        Returns
        -------
        ndarray
            Predictions in outcome units, same length as ``x`` (or ``group``).

        Examples
        --------
        >>> import multilevel as ml
        >>> from simdata import faculty_salaries
        >>> res = ml.fit(faculty_salaries(seed=3), model="varying_both")
        >>> res.predict([0, 10]).shape
        (2,)
        """
        if self.x is None:
            xv = np.zeros(1 if x is None else np.atleast_1d(np.asarray(x)).shape[0])
        else:
            xv = np.atleast_1d(np.asarray(x, dtype=float)) - self.center
        a = float(self.fixed_effects.at["intercept", "estimate"])
        b = float(self.fixed_effects.at["slope", "estimate"]) if self.x is not None else 0.0
        if group is None:
            return a + b * xv
        labels = np.atleast_1d(np.asarray(group, dtype=object))
        if self.x is None and (x is None or xv.size == 1):
            xv = np.zeros(labels.size)
        lines = self.group_lines
        lookup = {label: i for i, label in enumerate(lines.index)}
        pos = np.array([lookup.get(label, -1) for label in labels], dtype=np.intp)
        _warn_near_misses(labels[pos < 0], lines.index, self.group)
        intercepts = np.where(pos >= 0, lines["intercept"].to_numpy()[pos], a)
        slopes = np.where(pos >= 0, lines["slope"].to_numpy()[pos], b)
        intercepts = np.where(np.isnan(intercepts), a, intercepts)
        slopes = np.where(np.isnan(slopes), b, slopes)
        return intercepts + slopes * xv

    def summary(self, *, y_unit: str | None = None) -> str:
        """The fit in plain English.

        Parameters
        ----------
        y_unit : str, optional
            Prefix for outcome amounts, e.g. ``"$"``. Default: ``"$"`` when the outcome is
            in dollars (:func:`multilevel.units.money_prefix`: ``salary``, ``income``, ...),
            otherwise none.

        Returns
        -------
        str

        Examples
        --------
        >>> import multilevel as ml
        >>> from simdata import faculty_salaries
        >>> print(ml.fit(faculty_salaries(seed=4)).summary())  # doctest: +SKIP
        """
        unit = units.money_prefix(self.y) if y_unit is None else y_unit

        def money(v: float) -> str:
            return units.format_amount(v, prefix=unit)

        spec = specs.MODELS[self.model]
        groups_word = plural(self.group)
        fe = self.fixed_effects
        a = fe.at["intercept", "estimate"]
        b = fe.at["slope", "estimate"] if self.x is not None else 0.0
        at = f"{self.x} = {units.format_number(self.center) if self.center else 0}"
        on = f"on {self.x}" if self.x is not None else "without predictor"
        title = spec.heading(self.group, self.varying)
        method = (", REML" if self.reml else ", maximum likelihood") if spec.mixed else ""
        lines = [
            f"{title}: {self.y} {on}, {self.n_obs} observations in {self.n_groups} {groups_word}{method}.",
        ]
        if self.x is None:
            lines.append(
                f"Average {self.y}: {money(a)} (95% interval "
                f"{money(fe.at['intercept', 'ci_lower'])} to "
                f"{money(fe.at['intercept', 'ci_upper'])})."
            )
        else:
            lines.append(
                f"Average line: {self.y} = {money(a)} at {at}, changing by {money(b)} "
                f"{units.per_unit_of(self.x)} (95% interval {money(fe.at['slope', 'ci_lower'])} to "
                f"{money(fe.at['slope', 'ci_upper'])})."
            )
        cap = groups_word[:1].upper() + groups_word[1:]
        what = "intercepts" if self.x is not None else f"mean {self.y}"
        if "intercept" in self.group_sd.index:
            lines.append(f"{cap}' {what} vary with SD {money(self.group_sd['intercept'])}.")
        if "slope" in self.group_sd.index:
            lines.append(
                f"{cap}' slopes vary with SD {money(self.group_sd['slope'])} "
                f"{units.per_unit_of(self.x)}."
            )
        if self.correlation is not None and not math.isnan(self.correlation):
            lines.append(f"Intercepts and slopes correlate at {self.correlation:.2f}.")
        lines.append(
            f"Within {groups_word}, {self.y} varies around the "
            f"{'lines' if self.x is not None else 'means'} with SD {money(self.residual_sd)}."
        )
        if self.icc is not None:
            explained = f"not explained by {self.x} " if self.x is not None else ""
            lines.append(
                f"ICC {self.icc:.2f}: {self.icc:.0%} of the variation {explained}lies between {groups_word}."
            )
        lines.extend(self.notes)
        return "\n".join(lines)
