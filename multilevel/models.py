"""Fit the course's models with one call: pooling, varying intercepts, varying slopes, both.

``fit`` validates the data, fits with the exact engine (:mod:`multilevel.engine`, the same
numbers as R's lme4), and returns a :class:`FitResult` with tidy tables, a boundary flag and
plain-English notes instead of warnings. The matching statsmodels fit, the call students learn
to type, is on ``result.statsmodels`` (computed on first access).

Examples
--------
>>> import multilevel as ml
>>> from simdata import faculty_salaries
>>> res = ml.fit(faculty_salaries(seed=1), model="varying_intercepts")
>>> res.fixed_effects.columns.tolist()
['estimate', 'std_error', 'ci_lower', 'ci_upper']
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import warnings
from typing import Any

import numpy as np
import pandas as pd
import scipy.stats

from multilevel import engine

__all__ = [
    "MODELS",
    "FitResult",
    "LikelihoodRatioTest",
    "ModelError",
    "fit",
    "likelihood_ratio_test",
]

#: The models ``fit`` knows, with the lme4 notation of their random part.
MODELS: tuple[str, ...] = (
    "complete_pooling",
    "no_pooling",
    "varying_intercepts",
    "varying_slopes",
    "varying_both",
    "varying_both_uncorrelated",
)

_RANDOM = {
    "complete_pooling": None,
    "varying_intercepts": "intercept",
    "varying_slopes": "slope",
    "varying_both": "both",
    "varying_both_uncorrelated": "both_uncorrelated",
}
_VARYING = ("intercepts", "slopes", "both")
_Z95 = float(scipy.stats.norm.ppf(0.975))
# lme4's isSingular() tolerance on the relative Cholesky factor: an SD below this fraction of
# the residual SD (for a slope: of the residual SD per SD of x) counts as zero.
_BOUNDARY_TOL = 1e-4
_CORRELATION_TOL = 0.999


class ModelError(ValueError):
    """Raised when the data or options cannot be fitted; the message says why in plain English."""


class _Lazy:
    """A one-slot cache: frozen dataclasses with slots cannot use ``functools.cached_property``."""

    __slots__ = ("_make", "_value")

    def __init__(self, make: Any) -> None:
        self._make = make
        self._value: Any = None

    def get(self) -> Any:
        if self._value is None:
            self._value = self._make()
        return self._value


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class _Internals:
    data: pd.DataFrame  # the rows used (NaNs dropped), original columns
    x: np.ndarray | None  # x minus center; None without predictor
    y: np.ndarray
    codes: np.ndarray
    groups: pd.Index
    varying: str | None
    engine_fit: engine.EngineFit | None


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
    _internals: _Internals | None = dataclasses.field(default=None, repr=False)
    _statsmodels: _Lazy | None = dataclasses.field(default=None, repr=False)

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
        if self._statsmodels is None:
            raise ModelError("this FitResult was not made by multilevel.fit, so it has no data")
        return self._statsmodels.get()

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
        gi = np.where(pos >= 0, lines["intercept"].to_numpy()[pos], a)
        gs = np.where(pos >= 0, lines["slope"].to_numpy()[pos], b)
        gi = np.where(np.isnan(gi), a, gi)
        gs = np.where(np.isnan(gs), b, gs)
        return gi + gs * xv

    def summary(self, *, y_unit: str | None = None) -> str:
        """The fit in plain English.

        Parameters
        ----------
        y_unit : str, optional
            Prefix for outcome amounts, e.g. ``"$"``. Default: ``"$"`` when the outcome is
            called ``salary``, otherwise none.

        Returns
        -------
        str

        Examples
        --------
        >>> import multilevel as ml
        >>> from simdata import faculty_salaries
        >>> print(ml.fit(faculty_salaries(seed=4)).summary())  # doctest: +SKIP
        """
        unit = ("$" if self.y.lower() == "salary" else "") if y_unit is None else y_unit

        def money(v: float) -> str:
            return f"{unit}{_fmt(v)}" if v >= 0 else f"-{unit}{_fmt(-v)}"

        g = self.group
        gs = _plural(g)
        fe = self.fixed_effects
        a = fe.at["intercept", "estimate"]
        b = fe.at["slope", "estimate"] if self.x is not None else 0.0
        at = f"{self.x} = {_fmt(self.center)}" if self.center else f"{self.x} = 0"
        on = f"on {self.x}" if self.x is not None else "without predictor"
        title = {
            "complete_pooling": "Complete pooling (one line for everyone)",
            "no_pooling": f"No pooling (separate {self.varying} per {g})",
            "varying_intercepts": "Varying intercepts",
            "varying_slopes": "Varying slopes",
            "varying_both": "Varying intercepts and slopes (correlated)",
            "varying_both_uncorrelated": "Varying intercepts and slopes (uncorrelated)",
        }[self.model]
        method = (
            ""
            if self.model in ("complete_pooling", "no_pooling")
            else (", REML" if self.reml else ", maximum likelihood")
        )
        lines = [
            f"{title}: {self.y} {on}, {self.n_obs} observations in {self.n_groups} {gs}{method}.",
        ]
        if self.x is None:
            lines.append(
                f"Average {self.y}: {money(a)} (95% interval "
                f"{money(fe.at['intercept', 'ci_lower'])} to "
                f"{money(fe.at['intercept', 'ci_upper'])})."
            )
        else:
            lines.append(
                f"Average line: {self.y} = {money(a)} at {at}, changing by {money(b)} per unit "
                f"of {self.x} (95% interval {money(fe.at['slope', 'ci_lower'])} to "
                f"{money(fe.at['slope', 'ci_upper'])})."
            )
        cap = gs[:1].upper() + gs[1:]
        what = "intercepts" if self.x is not None else f"mean {self.y}"
        if "intercept" in self.group_sd.index:
            lines.append(f"{cap}' {what} vary with SD {money(self.group_sd['intercept'])}.")
        if "slope" in self.group_sd.index:
            lines.append(
                f"{cap}' slopes vary with SD {money(self.group_sd['slope'])} per unit of {self.x}."
            )
        if self.correlation is not None and not math.isnan(self.correlation):
            lines.append(f"Intercepts and slopes correlate at {self.correlation:.2f}.")
        lines.append(
            f"Within {gs}, {self.y} varies around the "
            f"{'lines' if self.x is not None else 'means'} with SD {money(self.residual_sd)}."
        )
        if self.icc is not None:
            explained = f"not explained by {self.x} " if self.x is not None else ""
            lines.append(
                f"ICC {self.icc:.2f}: {self.icc:.0%} of the variation {explained}lies between {gs}."
            )
        lines.extend(self.notes)
        return "\n".join(lines)


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


def _fmt(v: float) -> str:
    av = abs(v)
    if av >= 100:
        return f"{v:,.0f}"
    if av >= 1:
        return f"{v:,.2f}"
    return f"{v:.3g}"


def _plural(word: str) -> str:
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    return word if word.endswith("s") else word + "s"


def _check_column(data: pd.DataFrame, name: Any, role: str) -> str:
    if not isinstance(name, str):
        raise ModelError(f"{role} must be a column name (str), got {name!r}")
    if name not in data.columns:
        raise ModelError(
            f"{role}={name!r} is not a column of data; the columns are {list(data.columns)}"
        )
    return name


def _prepare(
    data: Any, y: str | None, x: str | None, group: str | None
) -> tuple[pd.DataFrame, str, str | None, str]:
    if hasattr(data, "data") and hasattr(data, "truth") and isinstance(data.data, pd.DataFrame):
        y = data.y if y is None else y
        x = data.x if x is None else x
        group = data.group if group is None else group
        data = data.data
    if not isinstance(data, pd.DataFrame):
        raise ModelError(
            f"data must be a pandas DataFrame or a simdata SimulatedData, got {type(data).__name__}"
        )
    for value, role in ((y, "y"), (group, "group")):
        if value is None:
            raise ModelError(f"{role} is required (a column name) when data is a DataFrame")
    y = _check_column(data, y, "y")
    x = None if x is None else _check_column(data, x, "x")
    group = _check_column(data, group, "group")
    names = [y, group] if x is None else [y, x, group]
    if len(set(names)) < len(names):
        what = "y and group must be two" if x is None else "y, x and group must be three"
        raise ModelError(f"{what} different columns, got y={y!r}, x={x!r}, group={group!r}")
    for name, role in ((y, "y"), (x, "x")):
        if name is None:
            continue
        dtype = data[name].dtype
        if not (pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)):
            raise ModelError(f"{role}={name!r} must be a numeric column, got dtype {dtype}")
    return data, y, x, group


_NEEDS_X = ("varying_slopes", "varying_both", "varying_both_uncorrelated")


def fit(
    data: Any,
    y: str | None = None,
    x: str | None = None,
    group: str | None = None,
    model: str = "varying_intercepts",
    *,
    varying: str = "both",
    reml: bool = True,
    center: bool | float = False,
    start: FitResult | None = None,
) -> FitResult:
    """Fit one of the course's models of ``y`` on ``x`` with groups ``group``.

    Parameters
    ----------
    data : pandas.DataFrame or simdata.SimulatedData
        Tidy data, one row per observation. With a ``SimulatedData``, ``y``, ``x`` and
        ``group`` default to its column names.
    y, x, group : str
        Column names: the numeric outcome (e.g. salary, $), the numeric predictor (e.g.
        experience, years) and the grouping variable (e.g. department). With a DataFrame,
        ``x=None`` fits a model without predictor (``y ~ 1``, lme4 ``y ~ 1 + (1 | g)``):
        ``complete_pooling`` (the grand mean), ``no_pooling`` (group means) or
        ``varying_intercepts``; models with varying slopes need ``x``. (With a
        ``SimulatedData``, ``x=None`` means its own predictor; pass ``sim.data`` to leave it
        out.)
    model : str
        One of :data:`MODELS`: ``"complete_pooling"`` (one least-squares line),
        ``"no_pooling"`` (separate least-squares estimates per group), ``"varying_intercepts"``
        ``(1 | g)``, ``"varying_slopes"`` ``(0 + x | g)``, ``"varying_both"`` ``(1 + x | g)``,
        ``"varying_both_uncorrelated"`` ``(1 + x || g)``.
    varying : {"intercepts", "slopes", "both"}
        For ``no_pooling`` only: which part is estimated separately per group.
    reml : bool
        REML (default, less biased SDs) or maximum likelihood (``False``; needed to compare
        models with different fixed effects).
    center : bool or float
        ``True`` subtracts the mean of ``x`` so intercepts are at the average ``x``; a number
        subtracts that value; ``False`` (default) keeps intercepts at ``x = 0``.
    start : FitResult, optional
        An earlier fit to start the optimiser from (faster when refitting similar data).

    Returns
    -------
    FitResult

    Raises
    ------
    ModelError
        For data that cannot be fitted, with the reason in plain English.

    Examples
    --------
    >>> import multilevel as ml
    >>> from simdata import faculty_salaries
    >>> sim = faculty_salaries(n_departments=8, seed=1)
    >>> res = ml.fit(sim.data, y="salary", x="experience", group="department",
    ...              model="varying_both")
    >>> res.group_sd.index.tolist()
    ['intercept', 'slope']
    """
    if model not in MODELS:
        raise ModelError(f"model must be one of {list(MODELS)}, got {model!r}")
    if varying not in _VARYING:
        raise ModelError(f"varying must be one of {list(_VARYING)}, got {varying!r}")
    if not isinstance(reml, bool | np.bool_):
        raise ModelError(f"reml must be True or False, got {reml!r}")
    if start is not None and not isinstance(start, FitResult):
        raise ModelError(f"start must be an earlier FitResult or None, got {type(start).__name__}")
    data, y, x, group = _prepare(data, y, x, group)
    if x is None and model in _NEEDS_X:
        raise ModelError(
            f"model={model!r} lets the slope on x vary by {group}, so it needs a predictor; "
            f"got x=None (without a predictor use 'varying_intercepts', 'complete_pooling' or "
            f"'no_pooling')"
        )
    if x is None and model == "no_pooling":
        if varying == "slopes":
            raise ModelError(
                "varying='slopes' needs a predictor; got x=None (without a predictor "
                "no_pooling estimates one mean per group: varying='intercepts')"
            )
        varying = "intercepts"
    notes: list[str] = []

    yv_all = data[y].to_numpy(dtype=float, na_value=np.nan)
    xv_all = None if x is None else data[x].to_numpy(dtype=float, na_value=np.nan)
    column = data[group]
    categorical = isinstance(column.dtype, pd.CategoricalDtype)
    cat_codes = np.asarray(column.array.codes) if categorical else None
    bad = (cat_codes < 0 if categorical else column.isna().to_numpy()) | ~np.isfinite(yv_all)
    if xv_all is not None:
        bad |= ~np.isfinite(xv_all)
    named = f"{y!r}, {x!r} or {group!r}" if x is not None else f"{y!r} or {group!r}"
    if bad.all():
        raise ModelError(f"every row has a missing value in {named}; nothing to fit")
    if bad.any():
        k = int(bad.sum())
        notes.append(
            f"{k} of {len(data)} rows had a missing value in {named.replace(chr(39), '')} and "
            f"were left out."
        )
        used = data.loc[~bad]
        xv = None if xv_all is None else xv_all[~bad]
        yv = yv_all[~bad]
        column = used[group]
        cat_codes = None if cat_codes is None else cat_codes[~bad]
    else:
        used = data
        xv, yv = xv_all, yv_all
    if cat_codes is not None:
        # Keep the categorical's order (and drop unused categories) for tables and plots.
        categories = column.dtype.categories
        used_codes = np.flatnonzero(np.bincount(cat_codes, minlength=len(categories)))
        if used_codes.size == len(categories):
            codes_raw, dtype = cat_codes, column.dtype
        else:
            remap = np.full(len(categories), -1, dtype=np.intp)
            remap[used_codes] = np.arange(used_codes.size)
            codes_raw = remap[cat_codes]
            dtype = pd.CategoricalDtype(categories[used_codes], ordered=column.dtype.ordered)
        groups = pd.CategoricalIndex(
            pd.Categorical.from_codes(np.arange(used_codes.size), dtype=dtype), name=group
        )
    else:
        codes_raw, uniques = pd.factorize(column, sort=True)
        groups = pd.Index(uniques, name=group)
    codes = np.asarray(codes_raw, dtype=np.intp)
    n_obs, n_groups = int(yv.size), len(groups)

    if xv is None:
        if center is not False:
            raise ModelError(f"center needs a predictor; got center={center!r} with x=None")
        center_value = 0.0
    elif isinstance(center, bool | np.bool_):
        center_value = float(xv.mean()) if center else 0.0
    elif isinstance(center, numbers.Real) and math.isfinite(center):
        center_value = float(center)
    else:
        raise ModelError(f"center must be True, False or a finite number, got {center!r}")
    xc = None if xv is None else xv - center_value

    _check_fittable(model, varying, xc, yv, codes, n_groups, x, y, group)

    if model == "no_pooling":
        result = _fit_no_pooling(xc, yv, codes, groups, varying)
        engine_fit = None
    else:
        start_cov = None
        if start is not None and start._internals is not None:
            ef = start._internals.engine_fit
            if ef is not None and ef.parts == engine.RANDOM_PARTS[_RANDOM[model]][0]:
                start_cov = ef.rel_cov
        engine_fit = engine.fit_arrays(
            xc,
            yv,
            codes,
            n_groups,
            random=_RANDOM[model],
            reml=bool(reml),
            start_rel_cov=start_cov,
        )
        result = _tables_from_engine(engine_fit, codes, groups)
    boundary, boundary_notes = _judge_boundary(model, result, engine_fit, x, group)
    notes.extend(boundary_notes)
    if not result["converged"]:
        notes.append(
            "The optimiser could not confirm the best fit (a second run from its answer "
            "disagreed); treat the SDs with caution and try center=True."
        )

    internals = _Internals(
        data=used,
        x=xc,
        y=yv,
        codes=codes,
        groups=groups,
        varying=varying if model == "no_pooling" else None,
        engine_fit=engine_fit,
    )
    spec = (model, y, x, group, bool(reml), center_value, varying)
    lazy = _Lazy(lambda: _fit_statsmodels(internals, spec))
    return FitResult(
        model=model,
        y=y,
        x=x,
        group=group,
        reml=bool(reml),
        center=center_value,
        n_obs=n_obs,
        n_groups=n_groups,
        fixed_effects=result["fixed_effects"],
        group_sd=result["group_sd"],
        correlation=result["correlation"],
        residual_sd=result["residual_sd"],
        loglik=result["loglik"],
        aic=-2 * result["loglik"] + 2 * result["k"],
        bic=-2 * result["loglik"] + result["k"] * math.log(n_obs),
        icc=result["icc"],
        group_lines=result["group_lines"],
        random_effects=result["random_effects"],
        boundary=boundary,
        converged=result["converged"],
        notes=tuple(notes),
        varying=internals.varying,
        _internals=internals,
        _statsmodels=lazy,
    )


def _check_fittable(
    model: str,
    varying: str,
    x: np.ndarray | None,
    y: np.ndarray,
    codes: np.ndarray,
    n_groups: int,
    xname: str | None,
    yname: str,
    gname: str,
) -> None:
    gs = _plural(gname)
    if x is not None and np.ptp(x) == 0:
        raise ModelError(
            f"x={xname!r} has the same value ({x[0] + 0:g}) in every row, so no slope can be "
            f"estimated; choose a predictor that varies"
        )
    if np.ptp(y) == 0:
        raise ModelError(f"y={yname!r} has the same value in every row; there is nothing to model")
    if model == "complete_pooling":
        return
    if n_groups < 2:
        raise ModelError(
            f"group={gname!r} has only one group; {model} needs at least two {gs} "
            f"(use model='complete_pooling' for a single line)"
        )
    if model == "no_pooling":
        parts = {"intercepts": ("intercept",), "slopes": ("slope",)}.get(
            varying, ("intercept", "slope")
        )
    else:
        parts = engine.RANDOM_PARTS[_RANDOM[model]][0]
    n_j = np.bincount(codes, minlength=n_groups)
    if model != "no_pooling" and y.size <= len(parts) * n_groups:
        raise ModelError(
            f"{model} needs more observations ({y.size}) than group-level effects "
            f"({len(parts)} per group x {n_groups} {gs} = {len(parts) * n_groups}): with "
            f"{'one observation' if n_j.max() == 1 else 'so few observations'} per {gname} "
            f"the {gname} variation cannot be told apart from the noise; add observations or "
            f"fit a model with fewer varying parts"
        )
    if "slope" in parts and x is not None:
        sx = np.bincount(codes, x, minlength=n_groups)
        sxx = np.bincount(codes, x * x, minlength=n_groups)
        within = sxx - sx**2 / np.maximum(n_j, 1)
        if not np.any(within > 1e-12 * max(1.0, float(np.max(x * x)))):
            raise ModelError(
                f"{xname!r} never varies within a {gname} (each {gname} has one observation "
                f"or one value of {xname}), so slopes per {gname} cannot be estimated; "
                f"use model='varying_intercepts'"
            )
    # Zero noise: the matching least-squares fit with separate parts per group is exact.
    sep = {"intercept": "intercepts", "slope": "slopes"}
    sep_varying = "both" if len(parts) == 2 else sep[parts[0]]
    rss, tss = (
        _no_pooling_rss(x, y, codes, n_groups, sep_varying),
        float(((y - y.mean()) ** 2).sum()),
    )
    if rss <= 1e-16 * tss and y.size > (2 * n_groups if sep_varying == "both" else n_groups + 1):
        pattern = f"an exact straight-line function of {xname!r}" if x is not None else "constant"
        raise ModelError(
            f"{yname!r} is {pattern} within every {gname} (no noise left), so the residual SD "
            f"is zero and the model is not defined; real or simulated data need noise "
            f"(e.g. noise_sd > 0)"
        )


def _group_sums(
    x: np.ndarray | None, y: np.ndarray, codes: np.ndarray, g: int
) -> tuple[np.ndarray, ...]:
    if x is None:
        zeros = np.zeros(g)
        return (
            np.bincount(codes, minlength=g).astype(float),
            zeros,
            zeros,
            np.bincount(codes, y, minlength=g),
            zeros,
            np.bincount(codes, y * y, minlength=g),
        )
    return (
        np.bincount(codes, minlength=g).astype(float),
        np.bincount(codes, x, minlength=g),
        np.bincount(codes, x * x, minlength=g),
        np.bincount(codes, y, minlength=g),
        np.bincount(codes, x * y, minlength=g),
        np.bincount(codes, y * y, minlength=g),
    )


def _no_pooling_estimates(
    x: np.ndarray | None, y: np.ndarray, codes: np.ndarray, g: int, varying: str
) -> dict[str, Any]:
    """Least squares with separate intercepts, slopes or both per group, from group sums.

    Without predictor (``x`` None) these are the group means, with flat lines (slope 0).
    """
    n, sx, sxx, sy, sxy, syy = _group_sums(x, y, codes, g)
    with np.errstate(divide="ignore", invalid="ignore"):
        if x is None:
            inter = sy / n
            slope = np.zeros(g)
            ok = np.ones(g, bool)
            dof = y.size - g
            var_i, var_s, cov_is = 1.0 / n, np.full(g, np.nan), np.full(g, np.nan)
            common = None
        elif varying == "both":
            sxx_c = sxx - sx**2 / n
            ok = sxx_c > 1e-12 * np.maximum(1.0, sxx)
            slope = np.where(ok, (sxy - sx * sy / n) / sxx_c, np.nan)
            inter = np.where(ok, (sy - slope * sx) / n, np.nan)
            dof = x.size - 2 * int(ok.sum()) - int((~ok).sum())
            var_i, var_s = (sxx / n) / sxx_c, 1.0 / sxx_c
            cov_is = -(sx / n) / sxx_c
            common = None
        elif varying == "intercepts":
            sxx_w = float((sxx - sx**2 / n).sum())
            b = float((sxy - sx * sy / n).sum()) / sxx_w
            inter = (sy - b * sx) / n
            slope = np.full(g, b)
            dof = x.size - g - 1
            ok = np.ones(g, bool)
            xbar = sx / n
            var_i, var_s, cov_is = 1.0 / n + xbar**2 / sxx_w, np.full(g, 1.0 / sxx_w), -xbar / sxx_w
            common = ("slope", b, 1.0 / sxx_w)
        else:  # slopes: common intercept, separate slopes (arrowhead normal equations)
            ok = sxx > 0
            ratio = np.where(ok, sx / sxx, 0.0)
            s = float(x.size - (sx * ratio).sum())
            a = float(sy.sum() - (sxy * ratio).sum()) / s
            slope = np.where(ok, (sxy - a * sx) / sxx, np.nan)
            inter = np.full(g, a)
            dof = x.size - 1 - int(ok.sum())
            var_i = np.full(g, 1.0 / s)
            var_s = np.where(ok, 1.0 / sxx + ratio**2 / s, np.nan)
            cov_is = -ratio / s
            common = ("intercept", a, 1.0 / s)
    # Residuals directly (sums of squares from group sums lose digits to cancellation).
    with np.errstate(invalid="ignore", divide="ignore"):
        group_mean = (sy / n)[codes]
    xv = 0.0 if x is None else x
    fitted = np.where(ok[codes], inter[codes] + slope[codes] * xv, group_mean)
    rss = float(((y - fitted) ** 2).sum())
    return {
        "intercept": inter,
        "slope": slope,
        "ok": ok,
        "rss": rss,
        "dof": dof,
        "var_i": var_i,
        "var_s": var_s,
        "cov_is": cov_is,
        "common": common,
        "n": n,
    }


def _no_pooling_rss(
    x: np.ndarray | None, y: np.ndarray, codes: np.ndarray, g: int, varying: str
) -> float:
    return _no_pooling_estimates(x, y, codes, g, varying)["rss"]


# Shared, immutable index objects: building a pandas Index costs more than the arithmetic.
_FE_COLUMNS = pd.Index(["estimate", "std_error", "ci_lower", "ci_upper"])
_TERMS = {1: pd.Index(["intercept"]), 2: pd.Index(["intercept", "slope"])}
_PARTS = {
    (): pd.Index([], dtype=object),
    ("intercept",): pd.Index(["intercept"]),
    ("slope",): pd.Index(["slope"]),
    ("intercept", "slope"): pd.Index(["intercept", "slope"]),
}


def _fixed_table(est: np.ndarray, se: np.ndarray) -> pd.DataFrame:
    est, se = np.asarray(est, float), np.asarray(se, float)
    table = np.column_stack([est, se, est - _Z95 * se, est + _Z95 * se])
    return pd.DataFrame(table, index=_TERMS[est.size].copy(), columns=_FE_COLUMNS.copy())


def _fit_no_pooling(
    x: np.ndarray | None, y: np.ndarray, codes: np.ndarray, groups: pd.Index, varying: str
) -> dict[str, Any]:
    g = len(groups)
    est = _no_pooling_estimates(x, y, codes, g, varying)
    dof = max(est["dof"], 1)
    sigma2 = est["rss"] / dof
    ok = est["ok"]
    inter, slope = est["intercept"], est["slope"]
    # Population line: the average of the estimable group lines; SE from their independence
    # (a common part has its own least-squares SE).
    k_ok = max(int(ok.sum()), 1)
    fe_est = np.array([np.nanmean(inter[ok]), np.nanmean(slope[ok])])
    fe_var = np.array(
        [np.nansum(est["var_i"][ok]) / k_ok**2, np.nansum(est["var_s"][ok]) / k_ok**2]
    )
    if est["common"] is not None:
        part, value, var = est["common"]
        i = 0 if part == "intercept" else 1
        fe_est[i], fe_var[i] = value, var
    fe_se = np.sqrt(sigma2 * fe_var)
    if x is None:
        fe_est, fe_se = fe_est[:1], fe_se[:1]
    with np.errstate(invalid="ignore"):
        lines = pd.DataFrame(
            {
                "n": est["n"].astype(np.int64),
                "intercept": inter,
                "slope": slope,
                "intercept_se": np.where(ok, np.sqrt(sigma2 * est["var_i"]), np.nan),
                "slope_se": np.where(ok, np.sqrt(sigma2 * est["var_s"]), np.nan),
            },
            index=groups,
        )
    sep = {"intercepts": ["intercept"], "slopes": ["slope"], "both": ["intercept", "slope"]}
    re = pd.DataFrame(
        {p: lines[p].to_numpy() - fe_est[0 if p == "intercept" else 1] for p in sep[varying]},
        index=groups,
    )
    n = y.size
    k = {"intercepts": g + 1, "slopes": g + 1, "both": 2 * g}[varying] + 1
    if x is None:
        k = g + 1
    loglik = -0.5 * n * (1 + math.log(2 * math.pi * est["rss"] / n))
    return {
        "fixed_effects": _fixed_table(fe_est, fe_se),
        "group_sd": pd.Series(dtype=float),
        "correlation": None,
        "residual_sd": math.sqrt(sigma2),
        "loglik": loglik,
        "k": k,
        "icc": None,
        "group_lines": lines,
        "random_effects": re,
        "converged": True,
        "n_unestimable": int((~ok).sum()),
    }


def _tables_from_engine(
    ef: engine.EngineFit, codes: np.ndarray, groups: pd.Index
) -> dict[str, Any]:
    g = len(groups)
    fe = _fixed_table(ef.beta, np.sqrt(np.diag(ef.beta_cov)))
    sds = np.sqrt(np.maximum(np.diag(ef.re_cov), 0.0))
    group_sd = pd.Series(sds, index=_PARTS[ef.parts].copy(), dtype=float)
    correlation = None
    if ef.correlated:
        denom = sds[0] * sds[1]
        correlation = float(ef.re_cov[0, 1] / denom) if denom > 0 else float("nan")
    icc = None
    if ef.parts == ("intercept",):
        icc = float(ef.re_cov[0, 0] / (ef.re_cov[0, 0] + ef.sigma**2))
    n_j = np.bincount(codes, minlength=g).astype(np.int64)
    cols: dict[str, np.ndarray] = {"n": n_j}
    re = {}
    slope_base = ef.beta[1] if ef.beta.size > 1 else 0.0
    for p, base in (("intercept", ef.beta[0]), ("slope", slope_base)):
        if p in ef.parts:
            i = ef.parts.index(p)
            re[p] = ef.blups[:, i]
            cols[p] = base + ef.blups[:, i]
            cols[p + "_se"] = np.sqrt(np.maximum(ef.blup_cov[:, i, i], 0.0))
        else:
            cols[p] = np.full(g, base)
            cols[p + "_se"] = np.full(g, np.nan)
    order = ("n", "intercept", "slope", "intercept_se", "slope_se")
    lines = pd.DataFrame({name: cols[name] for name in order}, index=groups)
    return {
        "fixed_effects": fe,
        "group_sd": group_sd,
        "correlation": correlation,
        "residual_sd": ef.sigma,
        "loglik": ef.loglik,
        "k": ef.n_params,
        "icc": icc,
        "group_lines": lines,
        "random_effects": pd.DataFrame(
            ef.blups.copy(), index=groups, columns=_PARTS[ef.parts].copy()
        ),
        "converged": ef.converged,
    }


def _judge_boundary(
    model: str, result: dict[str, Any], ef: engine.EngineFit | None, x: str, group: str
) -> tuple[bool, list[str]]:
    notes: list[str] = []
    gs = _plural(group)
    if model == "no_pooling":
        k = result.get("n_unestimable", 0)
        if k:
            notes.append(
                f"{k} {gs if k > 1 else group} had a single value of {x}, so no separate line "
                f"could be estimated there (NaN in group_lines)."
            )
        return False, notes
    if ef is None or not ef.parts:
        return False, notes
    # theta is relative to the residual SD (for slopes: per SD of x), so this judgement does
    # not depend on the units of the data, unlike statsmodels' "variance below 0.01" warning.
    q = len(ef.parts)
    lam = engine._lambda(ef.theta, q, ef.correlated)
    rel_sd = np.sqrt(np.diag(lam @ lam.T))
    zero = [ef.parts[i] for i in range(q) if rel_sd[i] < _BOUNDARY_TOL]
    boundary = False
    for part in zero:
        boundary = True
        what = "base level (intercept)" if part == "intercept" else f"slope on {x}"
        notes.append(
            f"Boundary fit: the SD of the {what} between {gs} is estimated as (practically) "
            f"zero, i.e. the data show no {group}-to-{group} variation in it beyond what the "
            f"noise explains; a model without that varying part fits as well."
        )
    corr = result["correlation"]
    if not zero and corr is not None and abs(corr) > _CORRELATION_TOL:
        boundary = True
        notes.append(
            f"Boundary fit: the correlation between {group} intercepts and slopes is estimated "
            f"at {corr:+.3f}, i.e. at its limit; the data cannot separate the two kinds of "
            f"variation, and varying_both_uncorrelated or a simpler model is safer."
        )
    return boundary, notes


def _fit_statsmodels(internals: _Internals, spec: tuple) -> Any:
    """Fit the same model with statsmodels, started at the engine's answer."""
    import statsmodels.formula.api as smf
    from statsmodels.regression.mixed_linear_model import MixedLMParams

    model, y, x, group, reml, center, varying = spec
    columns = {y: internals.y, group: internals.data[group].to_numpy()}
    if x is not None:
        columns[x] = internals.x  # already centred when center != 0
    frame = pd.DataFrame(columns)
    rhs = "1" if x is None else x
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if model == "complete_pooling":
            return smf.ols(f"{y} ~ {rhs}", frame).fit()
        if model == "no_pooling":
            if x is None:
                return smf.ols(f"{y} ~ 0 + C({group})", frame).fit()
            formula = {
                "intercepts": f"{y} ~ 0 + C({group}) + {x}",
                "slopes": f"{y} ~ 1 + C({group}):{x}",
                "both": f"{y} ~ 0 + C({group}) + C({group}):{x}",
            }[varying]
            return smf.ols(formula, frame).fit()
        ef = internals.engine_fit
        rel = ef.rel_cov + 1e-9 * np.eye(len(ef.parts))
        kwargs: dict[str, Any] = {"groups": group}
        if model == "varying_both_uncorrelated":
            kwargs["re_formula"] = "1"
            kwargs["vc_formula"] = {x: f"0 + {x}"}
            start = MixedLMParams.from_components(
                ef.beta, cov_re=rel[:1, :1], vcomp=np.array([rel[1, 1]])
            )
        else:
            kwargs["re_formula"] = {
                "varying_intercepts": "1",
                "varying_slopes": f"0 + {x}",
                "varying_both": f"1 + {x}",
            }[model]
            start = MixedLMParams.from_components(ef.beta, cov_re=rel)
        md = smf.mixedlm(f"{y} ~ {rhs}", frame, **kwargs)
        return md.fit(reml=reml, start_params=start, method=["lbfgs"])


def likelihood_ratio_test(smaller: FitResult, larger: FitResult) -> LikelihoodRatioTest:
    """Compare two nested models fitted to the same data by a likelihood-ratio test.

    REML fits are refitted with maximum likelihood first (as lme4's ``anova`` does). Besides
    the naive chi-squared p-value, gives the boundary-corrected one: when the larger model
    adds a variance, "no variation" sits on the edge of what a variance can be (zero), the
    naive test is too conservative, and half the chi-squared probability is the better guide.

    Parameters
    ----------
    smaller, larger : FitResult
        Fits of the same data (same y, x, group, centring) from ``multilevel.fit``; the smaller
        model's varying parts must be part of the larger one's. ``no_pooling`` is not allowed.

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
    for fr, role in ((smaller, "smaller"), (larger, "larger")):
        if not isinstance(fr, FitResult) or fr._internals is None:
            raise ModelError(
                f"{role} must be a FitResult from multilevel.fit, got {type(fr).__name__}"
            )
        if fr.model == "no_pooling":
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
    ) and np.array_equal(smaller._internals.y, larger._internals.y)
    if not same:
        raise ModelError("smaller and larger must be fitted to the same data (y, x, group, center)")
    ps, cs = engine.RANDOM_PARTS[_RANDOM[smaller.model]]
    pl, cl = engine.RANDOM_PARTS[_RANDOM[larger.model]]
    df = larger._internals.engine_fit.n_params - smaller._internals.engine_fit.n_params
    if not set(ps) <= set(pl) or (cs and not cl) or df <= 0:
        raise ModelError(
            f"{smaller.model!r} is not nested in {larger.model!r}; pass the simpler model as "
            f"smaller (e.g. varying_intercepts inside varying_both)"
        )

    def ml_loglik(fr: FitResult) -> float:
        if not fr.reml:
            return fr.loglik
        it = fr._internals
        ef = engine.fit_arrays(
            it.x,
            it.y,
            it.codes,
            len(it.groups),
            random=_RANDOM[fr.model],
            reml=False,
            start_rel_cov=None if it.engine_fit is None else it.engine_fit.rel_cov,
        )
        return ef.loglik

    ll_s, ll_l = ml_loglik(smaller), ml_loglik(larger)
    stat = max(2.0 * (ll_l - ll_s), 0.0)
    p = float(scipy.stats.chi2.sf(stat, df))
    added_variances = len(set(pl) - set(ps))
    refit = " (both refitted by maximum likelihood)" if smaller.reml or larger.reml else ""
    if added_variances == 1:
        lower = float(scipy.stats.chi2.sf(stat, df - 1)) if df > 1 else float(stat <= 0)
        p_b = 0.5 * lower + 0.5 * p
        note = (
            f"The larger model adds a variance, whose 'no variation' value (zero) is at the edge "
            f"of what a variance can be, so the usual chi-squared({df}) p-value {p:.3g} is too "
            f"large; the boundary-corrected p-value, a 50:50 mixture of chi-squared({df - 1}) "
            f"and chi-squared({df}) (Self & Liang 1987; Stram & Lee 1994), is {p_b:.3g}{refit}."
        )
    elif added_variances == 0:
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
