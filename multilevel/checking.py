"""Numbers for checking a fitted model: residuals, fitted values, replicated data.

The figures that show them are in :mod:`multilevel.plots.checking`; this module draws nothing.
Every function takes a :class:`~multilevel.FitResult` and the data it was fitted to (a
DataFrame or a ``SimulatedData``), so that it works from the public API alone.

- :func:`residual_table`: one row per observation, with its group's fitted line, the population
  line and the residuals.
- :func:`residuals_by_group`: per group, how far the residuals sit from zero and whether they
  still trend with ``x`` (a sign that slopes vary but the model keeps them constant).
- :func:`simulate_replicates`: new data sets simulated from the fitted model, the way Gelman &
  Hill (2007, ch. 24) check a model: if the model is right, the real data look like them.
- :func:`replicate_statistics`: a summary statistic of the real data and of every replicate.
- :func:`least_squares_slopes`: each group's own least-squares slope, a handy statistic to
  compare real and replicated data.
- :func:`group_line_se`: the full prediction-error SD of each group's line (deviation *and*
  fixed effects), where ``group_lines["intercept_se"]`` holds only the deviation's part.
- :func:`group_estimate_se`: the same full SD for each group's own intercept or slope.

Examples
--------
>>> import multilevel as ml, simdata
>>> from multilevel import checking
>>> sim = simdata.faculty_salaries(seed=1)
>>> res = ml.fit(sim, model="varying_intercepts")
>>> table = checking.residual_table(res, sim)
>>> abs(float(table["residual"].sum())) < 1e-6 * float(table["salary"].abs().sum())
True
>>> reps = checking.simulate_replicates(res, sim, n_replicates=3, seed=1)
>>> sorted(reps["replicate"].unique().tolist())
[1, 2, 3]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from multilevel._docstrings import fill
from multilevel.models import FitResult
from simdata import as_generator

__all__ = [
    "residual_table",
    "residuals_by_group",
    "simulate_replicates",
    "replicate_statistics",
    "group_line_se",
    "group_estimate_se",
    "group_ses_are_complete",
    "least_squares_slopes",
]

Seed = int | np.random.Generator | None


def _check_result(result: Any) -> FitResult:
    if not isinstance(result, FitResult):
        raise TypeError(
            f"result must be a FitResult from multilevel.fit, got {type(result).__name__}"
        )
    return result


def _fitted_frame(result: FitResult, data: Any) -> pd.DataFrame:
    """The rows the model was fitted to: the outcome, predictor and group columns, no NaNs."""
    frame = getattr(data, "data", data)
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(
            f"data must be the DataFrame or SimulatedData that was fitted, got {type(data).__name__}"
        )
    columns = [result.y, result.group] + ([result.x] if result.x is not None else [])
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"data has no column {missing[0]!r}; pass the data the model was fitted to "
            f"(columns {list(frame.columns)})"
        )
    used = frame[columns].dropna()
    if len(used) != result.n_obs:
        raise ValueError(
            f"data has {len(used)} complete rows but the model was fitted to {result.n_obs}; "
            "pass the data the model was fitted to"
        )
    return used


def _x_values(result: FitResult, frame: pd.DataFrame) -> np.ndarray:
    if result.x is None:
        return np.zeros(len(frame))
    return frame[result.x].to_numpy(dtype=float)


@fill
def residual_table(result: FitResult, data: Any) -> pd.DataFrame:
    """Fitted values and residuals, one row per observation.

    Parameters
    ----------
    result : FitResult
        From ``multilevel.fit``.
    {fitted_data}

    Returns
    -------
    pandas.DataFrame
        The rows used in the fit (same index as ``data``), with columns: the group, the
        predictor and the outcome as in ``data``; ``fitted`` (the group's own line at the
        observation's ``x``, outcome units); ``population`` (the population line, the fixed
        effects); ``residual`` (outcome minus ``fitted``); ``standardized`` (``residual``
        divided by the fit's residual SD: about 95% of them lie within +-2 if the model is
        right).

    Examples
    --------
    >>> import multilevel as ml, simdata
    >>> sim = simdata.faculty_salaries(seed=2)
    >>> residual_table(ml.fit(sim, model="varying_intercepts"), sim).columns.tolist()
    ['department', 'experience', 'salary', 'fitted', 'population', 'residual', 'standardized']
    """
    _check_result(result)
    frame = _fitted_frame(result, data)
    x = _x_values(result, frame)
    groups = frame[result.group].to_numpy(dtype=object)
    fitted = result.predict(x, group=groups)
    population = result.predict(x)
    y = frame[result.y].to_numpy(dtype=float)
    columns = [result.group] + ([result.x] if result.x is not None else []) + [result.y]
    table = frame[columns].copy()
    table["fitted"] = fitted
    table["population"] = population
    table["residual"] = y - fitted
    table["standardized"] = table["residual"] / result.residual_sd
    return table


@fill
def residuals_by_group(result: FitResult, data: Any) -> pd.DataFrame:
    """Per group: the residuals' mean, SD and their least-squares trend on ``x``.

    A well-fitting model leaves residuals that average about zero in every group and do not
    trend with ``x``. A varying-intercepts model fitted to groups whose slopes differ leaves
    trends of both signs: ``trend`` then varies between groups with an SD close to the SD of
    the slopes.

    Parameters
    ----------
    result : FitResult
    {fitted_data}

    Returns
    -------
    pandas.DataFrame
        Indexed by group (in ``result.group_lines`` order), columns ``n``, ``mean`` and ``sd``
        (outcome units; ``sd`` NaN for a group of one) and ``trend`` (the residuals' slope on
        ``x``, outcome units per unit of ``x``; NaN without a predictor or when ``x`` does not
        vary within the group).

    Examples
    --------
    >>> import multilevel as ml, simdata
    >>> sim = simdata.faculty_salaries(seed=3)
    >>> residuals_by_group(ml.fit(sim), sim).columns.tolist()
    ['n', 'mean', 'sd', 'trend']
    """
    table = residual_table(result, data)
    grouped = table.groupby(table[result.group].astype(object), sort=False)["residual"]
    out = pd.DataFrame({"n": grouped.size(), "mean": grouped.mean(), "sd": grouped.std(ddof=1)})
    if result.x is None:
        out["trend"] = np.nan
    else:
        trends = least_squares_slopes(table, y="residual", x=result.x, group=result.group)
        out["trend"] = trends.set_axis(trends.index.astype(object)).reindex(out.index)
    out = out.reindex([g for g in result.group_lines.index if g in out.index])
    out.index.name = result.group
    out["n"] = out["n"].astype("int64")
    return out


def _random_cov(result: FitResult) -> tuple[tuple[str, ...], np.ndarray]:
    """The varying parts and their covariance matrix G (outcome units)."""
    parts = tuple(result.group_sd.index)
    sds = result.group_sd.to_numpy(dtype=float)
    cov = np.diag(sds**2)
    if len(parts) == 2 and result.correlation is not None and np.isfinite(result.correlation):
        cov[0, 1] = cov[1, 0] = result.correlation * sds[0] * sds[1]
    return parts, cov


@fill
def simulate_replicates(
    result: FitResult,
    data: Any,
    *,
    n_replicates: int = 20,
    seed: Seed = None,
) -> pd.DataFrame:
    """Data sets simulated from the fitted model, for comparison with the real data.

    Each replicate keeps the real design (the same groups, group sizes and ``x`` values) and
    draws everything the model treats as random afresh: new group effects from
    ``N(0, G)`` with the fitted SDs (and correlation), and new noise from
    ``N(0, residual_sd**2)``, around the fitted fixed effects. This is the check of Gelman &
    Hill (2007, ch. 24) with the estimates plugged in (no posterior draws). If the model
    describes the data, the real data look like one more replicate.

    Parameters
    ----------
    result : FitResult
        A multilevel model or complete pooling (``no_pooling`` keeps its group lines fixed and
        draws only new noise).
    {fitted_data}
    n_replicates : int
        How many data sets (positive).
    {seed}

    Returns
    -------
    pandas.DataFrame
        Long format: columns ``replicate`` (1 to ``n_replicates``), the group, the predictor
        (when the model has one) and the simulated outcome, under the data's column names;
        ``n_replicates * result.n_obs`` rows.

    Raises
    ------
    ValueError
        If ``n_replicates`` is not a positive integer.

    Examples
    --------
    >>> import multilevel as ml, simdata
    >>> sim = simdata.faculty_salaries(seed=4)
    >>> reps = simulate_replicates(ml.fit(sim), sim, n_replicates=2, seed=1)
    >>> len(reps) == 2 * len(sim.data)
    True
    """
    _check_result(result)
    frame = _fitted_frame(result, data)
    outcomes = _replicate_outcomes(result, frame, n_replicates, seed)
    n_rep, n = outcomes.shape
    columns = {
        "replicate": np.repeat(np.arange(1, n_rep + 1), n),
        result.group: np.tile(frame[result.group].to_numpy(), n_rep),
    }
    if result.x is not None:
        columns[result.x] = np.tile(frame[result.x].to_numpy(), n_rep)
    columns[result.y] = outcomes.ravel()
    out = pd.DataFrame(columns)
    if isinstance(frame[result.group].dtype, pd.CategoricalDtype):
        out[result.group] = out[result.group].astype(frame[result.group].dtype)
    return out


def _replicate_outcomes(
    result: FitResult, frame: pd.DataFrame, n_replicates: Any, seed: Seed
) -> np.ndarray:
    """Simulated outcomes, shape (n_replicates, n_obs): one row per replicate."""
    if (
        isinstance(n_replicates, bool)
        or not isinstance(n_replicates, int | np.integer)
        or n_replicates < 1
    ):
        raise ValueError(f"n_replicates must be a positive integer, got {n_replicates!r}")
    rng = as_generator(seed)
    x = _x_values(result, frame)
    xc = x - result.center
    n = len(frame)
    lookup = {g: i for i, g in enumerate(result.group_lines.index)}
    codes = np.array([lookup[g] for g in frame[result.group].to_numpy(dtype=object)])
    n_groups = len(lookup)
    if result.model == "no_pooling":
        mean = result.predict(x, group=frame[result.group].to_numpy(dtype=object))
        parts, cov = (), np.zeros((0, 0))
    else:
        mean = result.predict(x)
        parts, cov = _random_cov(result)
    design = {"intercept": np.ones(n), "slope": xc}
    out = np.empty((int(n_replicates), n))
    for r in range(int(n_replicates)):
        y = mean.copy()
        if parts:
            effects = rng.multivariate_normal(np.zeros(len(parts)), cov, size=n_groups)
            for k, part in enumerate(parts):
                y += effects[codes, k] * design[part]
        y += rng.normal(0.0, result.residual_sd, size=n)
        out[r] = y
    return out


@fill
def replicate_statistics(
    result: FitResult,
    data: Any,
    statistic: Callable[[pd.DataFrame], float],
    *,
    n_replicates: int = 200,
    seed: Seed = None,
) -> pd.Series:
    """A statistic of the real data and of data sets simulated from the fitted model.

    Parameters
    ----------
    result : FitResult
    {fitted_data}
    statistic : callable
        Takes a DataFrame with the data's column names and returns a number, e.g.
        ``lambda d: d["salary"].skew()``.
    n_replicates : int
        Number of simulated data sets.
    seed : int, numpy.random.Generator or None
        For :func:`simulate_replicates`.

    Returns
    -------
    pandas.Series
        Index ``0`` is the real data, ``1 .. n_replicates`` the replicates (index name
        ``replicate``). The share of replicates at or above the real value is
        ``(s.iloc[1:] >= s.iloc[0]).mean()``: near 0 or 1 means the model does not reproduce
        this feature of the data.

    Examples
    --------
    >>> import multilevel as ml, simdata
    >>> sim = simdata.faculty_salaries(seed=5)
    >>> s = replicate_statistics(ml.fit(sim), sim, lambda d: d["salary"].std(), n_replicates=5, seed=1)
    >>> len(s)
    6
    """
    frame = _fitted_frame(_check_result(result), data)
    outcomes = _replicate_outcomes(result, frame, n_replicates, seed)
    values = [float(statistic(frame))]
    replicate = frame.copy()
    for y in outcomes:
        replicate[result.y] = y
        values.append(float(statistic(replicate)))
    return pd.Series(values, index=pd.RangeIndex(len(values), name="replicate"), name="statistic")


@fill
def group_line_se(result: FitResult, data: Any, x: float | None = None) -> pd.Series:
    """Full prediction-error SD of each group's line at ``x``: deviation plus fixed effects.

    ``result.group_lines["intercept_se"]`` is lme4's ``condVar``: the SD of a group's
    deviation with the average line held fixed. The error in a group's own line also
    includes the error in the estimated average line, partly offset through their
    covariance. This function adds both (Henderson's mixed-model equations with the fitted
    SDs treated as known, as lme4 does):
    ``Var = a' C a + (f + a' L)' V_beta (f + a' L)``, with ``C`` the conditional covariance,
    ``V_beta`` the fixed effects' covariance and ``L`` how the deviation's estimate moves
    with the fixed effects.

    Parameters
    ----------
    result : FitResult
        A multilevel model (varying intercepts, slopes or both).
    {fitted_data}
    x : float, optional
        Where to evaluate the line (original units); default ``result.center`` (the
        intercept: 0 when not centred).

    Returns
    -------
    pandas.Series
        Indexed by group (``result.group_lines`` order), outcome units.

    Examples
    --------
    >>> import multilevel as ml, simdata
    >>> sim = simdata.faculty_salaries(seed=6, raise_sd=0)
    >>> res = ml.fit(sim, model="varying_intercepts")
    >>> bool((group_line_se(res, sim) > res.group_lines["intercept_se"]).all())
    True
    """
    _check_result(result)
    if group_ses_are_complete(result):
        raise ValueError(f"group_line_se needs a multilevel model, got model={result.model!r}")
    at = (result.center if x is None else float(x)) - result.center
    return _prediction_se(
        result, data, fixed_at=(1.0, at), varying_at={"intercept": 1.0, "slope": at}
    )


@fill
def group_estimate_se(result: FitResult, data: Any, parameter: str = "intercept") -> pd.Series:
    """The full SD of the error in each group's own intercept or slope.

    What an interval for a group's *own* value (its base salary, its raise) needs. For a
    multilevel model, that is the error in the group's deviation plus the error in the
    average line, with their covariance (:func:`group_line_se`; for the slope, the same sum
    for the slope's fixed effect and deviation). ``group_lines[f"{parameter}_se"]`` holds only
    the deviation's part (lme4's ``condVar``). For no pooling and complete pooling, the
    standard errors in ``group_lines`` are already complete and are returned as they are.

    Parameters
    ----------
    result : FitResult
    {fitted_data}
    parameter : {"intercept", "slope"}
        The intercept is the line's height at ``result.center``.

    Returns
    -------
    pandas.Series
        Indexed by group (``result.group_lines`` order), in the parameter's units.

    Examples
    --------
    >>> import multilevel as ml, simdata
    >>> sim = simdata.faculty_salaries(seed=1)
    >>> res = ml.fit(sim, model="varying_both")
    >>> full = group_estimate_se(res, sim, "slope")
    >>> bool((full > res.group_lines["slope_se"]).all())
    True
    """
    _check_result(result)
    if parameter not in ("intercept", "slope"):
        raise ValueError(f"parameter must be 'intercept' or 'slope', got {parameter!r}")
    if parameter == "slope" and result.x is None:
        raise ValueError("this model has no predictor, so its groups have no slope")
    if group_ses_are_complete(result):
        return result.group_lines[f"{parameter}_se"].rename(f"{parameter}_se")
    weights = (1.0, 0.0) if parameter == "intercept" else (0.0, 1.0)
    return _prediction_se(
        result,
        data,
        fixed_at=weights,
        varying_at=dict(zip(("intercept", "slope"), weights, strict=True)),
    )


def group_ses_are_complete(result: FitResult) -> bool:
    """Whether ``group_lines``' standard errors already hold each group's whole error.

    True for no pooling (ordinary least-squares SEs) and complete pooling (no group parts);
    for a multilevel model they hold only the deviation's part (see
    :func:`group_estimate_se`).

    Examples
    --------
    >>> import multilevel as ml, simdata
    >>> sim = simdata.faculty_salaries(seed=1)
    >>> group_ses_are_complete(ml.fit(sim, model="no_pooling", varying="intercepts"))
    True
    >>> group_ses_are_complete(ml.fit(sim, model="varying_intercepts"))
    False
    """
    return result.group_sd.empty or result.model == "no_pooling"


def _prediction_se(
    result: FitResult,
    data: Any,
    *,
    fixed_at: tuple[float, float],
    varying_at: dict[str, float],
) -> pd.Series:
    """Henderson's prediction-error SD of ``fixed_at' beta + varying_at' b_j`` for every group.

    ``fixed_at`` weighs the fixed intercept and slope (the slope's weight is dropped when the
    model has no predictor), ``varying_at`` the group's varying parts by name.
    """
    frame = _fitted_frame(result, data)
    xc = _x_values(result, frame) - result.center
    y = frame[result.y].to_numpy(dtype=float)
    lookup = {g: i for i, g in enumerate(result.group_lines.index)}
    codes = np.array([lookup[g] for g in frame[result.group].to_numpy(dtype=object)])
    parts, g_cov = _random_cov(result)
    sigma2 = result.residual_sd**2
    fixed = np.column_stack([np.ones(len(y)), xc]) if result.x is not None else np.ones((len(y), 1))
    design = {"intercept": np.ones(len(y)), "slope": xc}
    z_all = np.column_stack([design[p] for p in parts])
    f_at = np.array(fixed_at)[: fixed.shape[1]]
    a_at = np.array([varying_at[p] for p in parts])
    blocks = []
    info = np.zeros((fixed.shape[1], fixed.shape[1]))
    for j in range(len(lookup)):
        rows = codes == j
        xj, zj = fixed[rows], z_all[rows]
        v_inv = np.linalg.inv(zj @ g_cov @ zj.T + sigma2 * np.eye(int(rows.sum())))
        info += xj.T @ v_inv @ xj
        blocks.append((xj, zj, v_inv))
    v_beta = np.linalg.inv(info)
    out = []
    for xj, zj, v_inv in blocks:
        cond = g_cov - g_cov @ zj.T @ v_inv @ zj @ g_cov
        lever = -g_cov @ zj.T @ v_inv @ xj  # d(deviation estimate) / d(fixed effects)
        total = f_at + a_at @ lever
        out.append(float(a_at @ cond @ a_at + total @ v_beta @ total))
    return pd.Series(
        np.sqrt(np.maximum(out, 0.0)), index=result.group_lines.index.copy(), name="line_se"
    )


def least_squares_slopes(data: Any, *, y: str, x: str, group: str) -> pd.Series:
    """Each group's own least-squares slope of ``y`` on ``x`` (no pooling, from the data alone).

    A summary to compare between the real data and replicates: if the groups' own slopes vary
    much more in the real data than in data simulated from a model with one slope, the slopes
    vary.

    Parameters
    ----------
    data : DataFrame or SimulatedData
    y, x, group : str
        Column names of the outcome, the predictor and the grouping variable.

    Returns
    -------
    pandas.Series
        Indexed by group (outcome units per unit of ``x``); NaN where ``x`` does not vary
        within the group.

    Examples
    --------
    >>> from simdata import faculty_salaries
    >>> sim = faculty_salaries(seed=7)
    >>> slopes = least_squares_slopes(sim, y="salary", x="experience", group="department")
    >>> len(slopes) == len(sim.truth)
    True
    """
    frame = getattr(data, "data", data)
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"data must be a DataFrame or SimulatedData, got {type(data).__name__}")
    for role, name in (("y", y), ("x", x), ("group", group)):
        if name not in frame.columns:
            raise ValueError(f"{role}={name!r} is not a column of data ({list(frame.columns)})")
    codes, uniques = pd.factorize(frame[group], sort=False)
    if isinstance(frame[group].dtype, pd.CategoricalDtype):
        categories = frame[group].cat.categories
        codes = frame[group].cat.codes.to_numpy()
        used = np.unique(codes[codes >= 0])
        uniques = categories[used]
        remap = np.full(len(categories), -1)
        remap[used] = np.arange(len(used))
        codes = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1)
    xs = frame[x].to_numpy(dtype=float)
    ys = frame[y].to_numpy(dtype=float)
    ok = (codes >= 0) & np.isfinite(xs) & np.isfinite(ys)
    codes, xs, ys = codes[ok], xs[ok], ys[ok]
    k = len(uniques)
    n = np.bincount(codes, minlength=k).astype(float)
    sx, sy = np.bincount(codes, xs, minlength=k), np.bincount(codes, ys, minlength=k)
    sxx = np.bincount(codes, xs * xs, minlength=k) - sx**2 / np.maximum(n, 1)
    sxy = np.bincount(codes, xs * ys, minlength=k) - sx * sy / np.maximum(n, 1)
    tol = 1e-12 * np.maximum(np.bincount(codes, xs * xs, minlength=k), 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        slopes = np.where(sxx > tol, sxy / np.where(sxx > tol, sxx, 1.0), np.nan)
    return pd.Series(slopes, index=pd.Index(uniques, name=group), name="slope")
