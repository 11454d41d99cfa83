"""``fit``: one call for every model of the course, checked, fitted exactly, explained.

``fit`` validates the data, fits with the exact engine (:mod:`multilevel.models.engine`, the
same numbers as R's lme4) or by least squares (:mod:`multilevel.models.least_squares`), and
returns a :class:`~multilevel.models.result.FitResult` with tidy tables, a boundary flag and
plain-English notes instead of warnings.

Examples
--------
>>> from simdata import faculty_salaries
>>> fit(faculty_salaries(seed=1), model="varying_slopes").group_sd.index.tolist()
['slope']
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from typing import Any

import numpy as np
import pandas as pd

from multilevel import specs
from simdata import is_simulated_data

from . import engine
from .engine import EngineFit
from .least_squares import no_pooling_estimates, no_pooling_tables
from .result import FitArrays, FitResult, ModelError, fixed_table, information_criteria, plural

__all__ = ["MODELS", "fit"]

#: The models ``fit`` knows (the names of :data:`multilevel.specs.MODELS`).
MODELS: tuple[str, ...] = tuple(specs.MODELS)

_CORRELATION_TOL = 0.999
_PARTS = {
    (): pd.Index([], dtype=object),
    ("intercept",): pd.Index(["intercept"]),
    ("slope",): pd.Index(["slope"]),
    ("intercept", "slope"): pd.Index(["intercept", "slope"]),
}


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
    if is_simulated_data(data):
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
    start: Any = None,
    formula: str | None = None,
    family: str = "gaussian",
    nAGQ: int = 1,  # noqa: N803 (lme4's name)
) -> Any:
    """Fit one of the course's models of ``y`` on ``x`` with groups ``group``, or an lme4 formula.

    Two ways to call it. The course's keyword form, ``fit(data, y=, x=, group=, model=)``, fits
    one predictor and returns a :class:`FitResult`. The formula form, ``fit("y ~ x1 * x2 + c +
    (1 + x1 | g)", data)`` (or ``fit(data, formula=...)``), takes several predictors,
    categorical ones, interactions and any varying terms of one grouping factor, and returns a
    :class:`~multilevel.models.lmm.FormulaFit` (see :func:`multilevel.models.lmm.fit_formula`);
    with ``family="binomial"`` a logistic model fitted by adaptive Gauss-Hermite quadrature.

    Parameters
    ----------
    data : pandas.DataFrame or simdata.SimulatedData or str
        Tidy data, one row per observation. With a ``SimulatedData``, ``y``, ``x`` and
        ``group`` default to its column names. A string is read as a formula, and the data
        then come second.
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
    start : FitResult or FormulaFit, optional
        An earlier fit to start the optimiser from (faster when refitting similar data).
    formula : str, optional
        An lme4 formula such as ``"salary ~ experience + (1 + experience | department)"``;
        then ``y``, ``x``, ``group``, ``model``, ``varying`` and ``center`` are not used.
    family : {"gaussian", "binomial"}
        With a formula only: ``"binomial"`` fits a logistic model with a random intercept
        (a 0/1 outcome) by maximum likelihood, as ``glmer``.
    nAGQ : int
        With ``family="binomial"``: quadrature points per group (1 = Laplace, lme4's default).

    Returns
    -------
    FitResult or FormulaFit or GlmmFit
        A ``FitResult`` for the keyword form; a ``FormulaFit`` (``GlmmFit`` for
        ``family="binomial"``) for a formula.

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
    >>> both = ml.fit("salary ~ experience + (1 + experience | department)", sim.data)
    >>> both.group_sd.index.tolist()
    ['Intercept', 'experience']
    """
    if isinstance(data, str):  # fit("y ~ x + (1 | g)", frame)
        formula, data, y = data, y, None
    if formula is not None:
        keywords = {"y": y, "x": x, "group": group, "center": center or None}
        given = [name for name, value in keywords.items() if value is not None]
        if model != "varying_intercepts":
            given.append("model")
        return _fit_formula(formula, data, given, reml=reml, family=family, nAGQ=nAGQ, start=start)
    if family != "gaussian" or nAGQ != 1:
        raise ModelError(
            "family= and nAGQ= go with a formula, e.g. "
            "ml.fit('admitted ~ gpa + (1 | school)', data, family='binomial')"
        )
    _check_options(model, varying, reml, start)
    data, y, x, group = _prepare(data, y, x, group)
    varying = _check_predictor(model, varying, x, group)
    rows = _rows_to_fit(data, y, x, group)
    center_value = _center_value(center, rows.x)
    xc = None if rows.x is None else rows.x - center_value
    yv, codes, groups = rows.y, rows.codes, rows.groups
    n_obs, n_groups = int(yv.size), len(groups)
    _check_fittable(model, varying, xc, yv, codes, n_groups, x, y, group)

    if model == "no_pooling":
        result = no_pooling_tables(xc, yv, codes, groups, varying)
        engine_fit = None
    else:
        engine_fit = engine.fit_arrays(
            xc,
            yv,
            codes,
            n_groups,
            random=specs.MODELS[model].random,
            reml=bool(reml),
            start_rel_cov=_warm_start(start, model),
        )
        result = _tables_from_engine(engine_fit, codes, groups)
    tables = dict(result)
    k = tables.pop("k")  # parameters, for the information criteria
    n_unestimable = tables.pop("n_unestimable", 0)
    notes = list(rows.notes)
    boundary, boundary_notes = _judge_boundary(
        model, tables["correlation"], n_unestimable, engine_fit, x, group
    )
    notes.extend(boundary_notes)
    if not tables["converged"]:
        notes.append(
            "The optimiser could not confirm the best fit (a second run from its answer "
            "disagreed); treat the SDs with caution and try center=True."
        )
    arrays = FitArrays(
        rows=rows.data,
        x=xc,
        y=yv,
        codes=codes,
        groups=groups,
        varying=varying if model == "no_pooling" else None,
        engine_fit=engine_fit,
    )
    return FitResult(
        model=model,
        y=y,
        x=x,
        group=group,
        reml=bool(reml),
        center=center_value,
        n_obs=n_obs,
        n_groups=n_groups,
        **information_criteria(tables["loglik"], k, n_obs),
        boundary=boundary,
        notes=tuple(notes),
        varying=arrays.varying,
        arrays=arrays,
        **tables,
    )


def _fit_formula(
    formula: Any, data: Any, given: list[str], *, reml: Any, family: Any, nAGQ: Any, start: Any
) -> Any:
    """The formula form of :func:`fit`: checks what does not go with a formula, then fits."""
    if given:
        raise ModelError(
            f"give either a formula or the keywords y=, x=, group=, model=, not both "
            f"(got a formula and {', '.join(given)}); the formula names every column"
        )
    if data is None:
        raise ModelError("a formula needs data: ml.fit('y ~ x + (1 | g)', data)")
    if is_simulated_data(data):
        data = data.data
    from .lmm import fit_formula  # formulaic is imported only when a formula is fitted

    return fit_formula(formula, data, reml=reml, family=family, nAGQ=nAGQ, start=start)


def _check_options(model: str, varying: str, reml: Any, start: Any) -> None:
    if model not in MODELS:
        raise ModelError(f"model must be one of {list(MODELS)}, got {model!r}")
    if varying not in specs.VARYING:
        raise ModelError(f"varying must be one of {list(specs.VARYING)}, got {varying!r}")
    if not isinstance(reml, bool | np.bool_):
        raise ModelError(f"reml must be True or False, got {reml!r}")
    if start is not None and not isinstance(start, FitResult):
        raise ModelError(f"start must be an earlier FitResult or None, got {type(start).__name__}")


def _check_predictor(model: str, varying: str, x: str | None, group: str) -> str:
    """Refuse models that need a predictor when there is none; the ``varying`` to use."""
    if x is None and specs.MODELS[model].needs_x:
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
        return "intercepts"
    return varying


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class _Rows:
    """The rows without missing values, as arrays, with each row's group code."""

    data: pd.DataFrame
    x: np.ndarray | None
    y: np.ndarray
    codes: np.ndarray
    groups: pd.Index
    notes: tuple[str, ...]


def _rows_to_fit(data: pd.DataFrame, y: str, x: str | None, group: str) -> _Rows:
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
    codes, groups = _group_codes(column, cat_codes, group)
    return _Rows(data=used, x=xv, y=yv, codes=codes, groups=groups, notes=tuple(notes))


def _group_codes(
    column: pd.Series, cat_codes: np.ndarray | None, group: str
) -> tuple[np.ndarray, pd.Index]:
    """Each row's group as ``0 .. G - 1`` and the group labels, in the categorical's order."""
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
    return np.asarray(codes_raw, dtype=np.intp), groups


def _center_value(center: Any, xv: np.ndarray | None) -> float:
    if xv is None:
        if center is not False:
            raise ModelError(f"center needs a predictor; got center={center!r} with x=None")
        return 0.0
    if isinstance(center, bool | np.bool_):
        return float(xv.mean()) if center else 0.0
    if isinstance(center, numbers.Real) and math.isfinite(center):
        return float(center)
    raise ModelError(f"center must be True, False or a finite number, got {center!r}")


def _warm_start(start: FitResult | None, model: str) -> np.ndarray | None:
    """The relative covariance of an earlier fit of the same random part, to start from."""
    if start is None or start.arrays is None or start.arrays.engine_fit is None:
        return None
    earlier = start.arrays.engine_fit
    if earlier.parts != specs.MODELS[model].varying_parts:
        return None
    return earlier.rel_cov


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
    groups_word = plural(gname)
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
            f"group={gname!r} has only one group; {model} needs at least two {groups_word} "
            f"(use model='complete_pooling' for a single line)"
        )
    parts = specs.MODELS[model].parts(varying)
    n_j = np.bincount(codes, minlength=n_groups)
    if model != "no_pooling" and y.size <= len(parts) * n_groups:
        raise ModelError(
            f"{model} needs more observations ({y.size}) than group-level effects "
            f"({len(parts)} per group x {n_groups} {groups_word} = {len(parts) * n_groups}): with "
            f"{'one observation' if n_j.max() == 1 else 'so few observations'} per {gname} "
            f"the {gname} variation cannot be told apart from the noise; add observations or "
            f"fit a model with fewer varying parts"
        )
    # Separate slopes need x to vary within a group; so does the common slope next to
    # separate intercepts.
    if x is not None and ("slope" in parts or model == "no_pooling"):
        sx = np.bincount(codes, x, minlength=n_groups)
        sxx = np.bincount(codes, x * x, minlength=n_groups)
        within = sxx - sx**2 / np.maximum(n_j, 1)
        if not np.any(within > 1e-12 * max(1.0, float(np.max(x * x)))):
            what, instead = (
                (f"slopes per {gname}", "varying_intercepts")
                if "slope" in parts
                else (f"a common slope next to separate intercepts per {gname}", "complete_pooling")
            )
            raise ModelError(
                f"{xname!r} never varies within a {gname} (each {gname} has one observation "
                f"or one value of {xname}), so {what} cannot be estimated; "
                f"use model={instead!r}"
            )
    # Zero noise: the matching least-squares fit with separate parts per group is exact.
    sep_varying = specs.varying_of_parts(parts)
    rss = no_pooling_estimates(x, y, codes, n_groups, sep_varying).rss
    tss = float(((y - y.mean()) ** 2).sum())
    if rss <= 1e-16 * tss and y.size > (2 * n_groups if sep_varying == "both" else n_groups + 1):
        pattern = f"an exact straight-line function of {xname!r}" if x is not None else "constant"
        raise ModelError(
            f"{yname!r} is {pattern} within every {gname} (no noise left), so the residual SD "
            f"is zero and the model is not defined; real or simulated data need noise "
            f"(e.g. noise_sd > 0)"
        )


def _tables_from_engine(
    engine_fit: EngineFit, codes: np.ndarray, groups: pd.Index
) -> dict[str, Any]:
    g = len(groups)
    fe = fixed_table(engine_fit.beta, np.sqrt(np.diag(engine_fit.beta_cov)))
    sds = np.sqrt(np.maximum(np.diag(engine_fit.re_cov), 0.0))
    group_sd = pd.Series(sds, index=_PARTS[engine_fit.parts].copy(), dtype=float)
    correlation = None
    if engine_fit.correlated:
        denom = sds[0] * sds[1]
        correlation = float(engine_fit.re_cov[0, 1] / denom) if denom > 0 else float("nan")
    icc = None
    if engine_fit.parts == ("intercept",):
        icc = float(engine_fit.re_cov[0, 0] / (engine_fit.re_cov[0, 0] + engine_fit.sigma**2))
    n_j = np.bincount(codes, minlength=g).astype(np.int64)
    cols: dict[str, np.ndarray] = {"n": n_j}
    re = {}
    slope_base = engine_fit.beta[1] if engine_fit.beta.size > 1 else 0.0
    for p, base in (("intercept", engine_fit.beta[0]), ("slope", slope_base)):
        if p in engine_fit.parts:
            i = engine_fit.parts.index(p)
            re[p] = engine_fit.blups[:, i]
            cols[p] = base + engine_fit.blups[:, i]
            cols[p + "_se"] = np.sqrt(np.maximum(engine_fit.blup_cov[:, i, i], 0.0))
        else:
            cols[p] = np.full(g, base)
            cols[p + "_se"] = np.full(g, np.nan)
    order = ("n", "intercept", "slope", "intercept_se", "slope_se")
    lines = pd.DataFrame({name: cols[name] for name in order}, index=groups)
    return {
        "fixed_effects": fe,
        "group_sd": group_sd,
        "correlation": correlation,
        "residual_sd": engine_fit.sigma,
        "loglik": engine_fit.loglik,
        "k": engine_fit.n_params,
        "icc": icc,
        "group_lines": lines,
        "random_effects": pd.DataFrame(
            engine_fit.blups.copy(), index=groups, columns=_PARTS[engine_fit.parts].copy()
        ),
        "converged": engine_fit.converged,
    }


def _judge_boundary(
    model: str,
    corr: float | None,
    n_unestimable: int,
    engine_fit: EngineFit | None,
    x: str | None,
    group: str,
) -> tuple[bool, list[str]]:
    notes: list[str] = []
    groups_word = plural(group)
    if model == "no_pooling":
        k = n_unestimable
        if k:
            notes.append(
                f"{k} {groups_word if k > 1 else group} had a single value of {x}, so no separate line "
                f"could be estimated there (NaN in group_lines)."
            )
        return False, notes
    if engine_fit is None or not engine_fit.parts:
        return False, notes
    zero = engine.boundary_parts(engine_fit)
    boundary = False
    for part in zero:
        boundary = True
        what = "base level (intercept)" if part == "intercept" else f"slope on {x}"
        notes.append(
            f"Boundary fit: the SD of the {what} between {groups_word} is estimated as (practically) "
            f"zero, i.e. the data show no {group}-to-{group} variation in it beyond what the "
            f"noise explains; a model without that varying part fits as well."
        )
    if not zero and corr is not None and abs(corr) > _CORRELATION_TOL:
        boundary = True
        notes.append(
            f"Boundary fit: the correlation between {group} intercepts and slopes is estimated "
            f"at {corr:+.3f}, i.e. at its limit; the data cannot separate the two kinds of "
            f"variation, and varying_both_uncorrelated or a simpler model is safer."
        )
    return boundary, notes
