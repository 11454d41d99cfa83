"""Partial pooling as a precision-weighted average, and what it buys against the truth.

Two questions a lesson asks about a multilevel model, each answered by one call:

- :func:`pooling_weights`: *where does each group's estimate come from?* In a model where
  one part varies by group (``varying_intercepts`` or ``varying_slopes``), a group's fitted
  value is the weighted average ``w_j * own_j + (1 - w_j) * population`` of its own estimate
  and the population (fixed-effect) value, with the weight set by how much information the
  group carries.
- :func:`compare_pooling_errors`: *is that an improvement?* Simulate many data sets with known
  truth, fit no pooling and partial pooling to each, and collect every group's error;
  :func:`typical_errors` summarises them (root mean squared error by group size) and
  :func:`multilevel.plots.pooling_error_plot` draws them.

Example
-------
>>> import multilevel as ml
>>> from multilevel import pooling
>>> from simdata import faculty_salaries
>>> sim = faculty_salaries(faculty_per_department=[2, 5, 20, 40], n_departments=4, raise_sd=0, seed=1)
>>> fit = ml.fit(sim, model="varying_intercepts")
>>> weights = pooling.pooling_weights(fit)
>>> bool(((weights["weighted_average"] - fit.group_lines["intercept"]).abs() < 1e-6).all())
True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from simdata import as_generator, faculty_salaries, validate

from . import specs, units
from .models import FitResult, ModelError, fit

__all__ = [
    "METHODS",
    "compare_pooling_errors",
    "own_estimates",
    "pooling_weights",
    "precision_weights",
    "typical_errors",
]

#: The estimates :func:`compare_pooling_errors` can compare, in the order they are reported.
METHODS: tuple[str, ...] = ("no pooling", "partial pooling", "complete pooling")


def precision_weights(information: np.ndarray, sd_within: float, sd_between: float) -> np.ndarray:
    r"""Each group's weight on its own estimate in partial pooling: :math:`w_j`.

    :math:`w_j = I_j / (I_j + \sigma_y^2 / \sigma_\alpha^2)` with :math:`I_j` the information
    the group carries (``n_j`` for an intercept, :math:`\sum (x - c)^2` for a slope).

    Parameters
    ----------
    information : ndarray
        Per group: observations (intercepts) or sum of squared centred ``x`` (slopes).
    sd_within : float
        Residual SD, outcome units.
    sd_between : float
        SD of the varying part between groups, same units as the part.

    Returns
    -------
    ndarray
        Weights in [0, 1]; all 0 (complete pooling) when ``sd_between`` is 0.

    Example
    -------
    >>> precision_weights(np.array([1.0, 4.0, 100.0]), sd_within=2.0, sd_between=1.0).round(3)
    array([0.2  , 0.5  , 0.962])
    """
    information = np.asarray(information, dtype=float)
    if sd_between > 0:
        return information / (information + (sd_within / sd_between) ** 2)
    # No spread between groups: every group gets the population value (complete pooling).
    return np.zeros(information.shape)


def own_estimates(
    x: np.ndarray,
    y: np.ndarray,
    codes: np.ndarray,
    n_groups: int,
    *,
    parameter: str,
    intercept: float,
    slope: float,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Each group's own estimate of ``parameter`` given the other part's common value.

    Parameters
    ----------
    x, y : ndarray
        Predictor (centred as in the fit) and outcome.
    codes : ndarray of int
        Group of each observation, ``0 .. n_groups - 1``.
    n_groups : int
        Number of groups.
    parameter : {"intercept", "slope"}
        The part that varies by group.
    intercept, slope : float
        The population intercept and slope (the fixed effects).

    Returns
    -------
    information, own : ndarray
        The information per group (``n_j`` or :math:`\sum (x - c)^2`) and its own estimate:
        the mean of ``y - slope * x``, or the least-squares slope through ``intercept``
        (NaN for a group without information).

    Example
    -------
    >>> codes = np.array([0, 0, 1])
    >>> own_estimates(np.zeros(3), np.array([1.0, 3.0, 5.0]), codes, 2,
    ...               parameter="intercept", intercept=0.0, slope=0.0)[1].tolist()
    [2.0, 5.0]
    """
    if parameter == "intercept":
        # The group's own average with the common slope taken out: precision n_j / sigma_y^2.
        information = np.bincount(codes, minlength=n_groups).astype(float)
        own = np.bincount(codes, weights=y - slope * x, minlength=n_groups) / information
        return information, own
    # The group's own least-squares slope through the common intercept:
    # precision sum (x - c)^2 / sigma_y^2.
    information = np.bincount(codes, weights=x**2, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        own = np.bincount(codes, weights=x * (y - intercept), minlength=n_groups) / information
    return information, own


# --------------------------------------------------------------------------- pooling weights


def pooling_weights(result: FitResult) -> pd.DataFrame:
    r"""Each group's partial-pooling estimate as a precision-weighted average.

    For the varying-intercepts model ``y ~ x + (1 | g)`` with residual SD :math:`\sigma_y` and
    between-group SD :math:`\sigma_\alpha`, group :math:`j`'s intercept is

    .. math:: \hat\alpha_j = w_j\,\bar y_j + (1 - w_j)\,\hat\mu_\alpha, \qquad
              w_j = \frac{n_j}{n_j + \sigma_y^2 / \sigma_\alpha^2},

    where :math:`\bar y_j` is the group's own average of ``y - slope * (x - center)``, using the
    model's common slope, and :math:`\hat\mu_\alpha` is the population intercept. Given the
    fit's estimates of :math:`\sigma_y`, :math:`\sigma_\alpha`, the intercept and the slope, this
    is *exactly* the fitted (BLUP) intercept, for REML and ML fits alike; the only approximation
    in the textbook formula is that those four quantities are estimated.

    For the varying-slopes model ``y ~ x + (0 + x | g)`` the same holds for slopes, with the
    group's own slope :math:`\sum (x - c)(y - \hat\mu) / \sum (x - c)^2` through the common
    intercept, and :math:`n_j` replaced by :math:`\sum_i (x_{ij} - c)^2` (the information a
    group carries about its slope, in squared predictor units).

    Parameters
    ----------
    result : FitResult
        A ``varying_intercepts`` or ``varying_slopes`` fit from :func:`multilevel.fit`. With
        both parts varying the weights are 2x2 matrices, not numbers, and this raises.

    Returns
    -------
    pandas.DataFrame
        Indexed by group (index name = the group column), sorted by size then name, with
        columns

        - ``n``: observations in the group;
        - ``own_estimate``: the group's own (no-pooling) estimate, using the model's common
          slope (or intercept): outcome units, e.g. $ (or $ per year for slopes). It differs a
          little from ``fit(..., model="no_pooling")``, which estimates its own common slope;
        - ``weight``: :math:`w_j`, the share of the estimate that comes from the group's own
          data (0 = complete pooling, 1 = no pooling);
        - ``population``: the population (fixed-effect) value the group is pulled towards;
        - ``weighted_average``: ``weight * own_estimate + (1 - weight) * population``, which
          equals ``result.group_lines[parameter]``.

    Raises
    ------
    ModelError
        For a model in which not exactly one part varies by group.

    Example
    -------
    >>> import multilevel as ml
    >>> from simdata import faculty_salaries
    >>> fit = ml.fit(faculty_salaries(raise_sd=0, seed=3), model="varying_intercepts")
    >>> table = pooling_weights(fit)
    >>> bool(table["weight"].between(0, 1).all())
    True
    """
    if not isinstance(result, FitResult):
        raise ValueError(
            f"result must be a FitResult from multilevel.fit, got {type(result).__name__}"
        )
    parts = specs.MODELS[result.model].varying_parts if result.model in specs.MODELS else ()
    parameter = parts[0] if len(parts) == 1 and specs.MODELS[result.model].mixed else None
    if parameter is None:
        raise ModelError(
            f"pooling weights need a model in which one part varies by group "
            f"('varying_intercepts' or 'varying_slopes'), got model={result.model!r}; with both "
            "varying, a group's intercept and slope are pulled together (2x2 weights)"
        )
    arrays = result.arrays
    if arrays is None:
        raise ValueError("result has no data attached; fit it again with multilevel.fit")
    fe = result.fixed_effects["estimate"]
    intercept = float(fe["intercept"])
    slope = float(fe.get("slope", 0.0))
    x = np.zeros_like(arrays.y) if arrays.x is None else arrays.x
    lines = result.group_lines
    k = len(lines)
    count = lines["n"].to_numpy(dtype=float)
    information, own = own_estimates(
        x, arrays.y, arrays.codes, k, parameter=parameter, intercept=intercept, slope=slope
    )
    population = intercept if parameter == "intercept" else slope
    weight = precision_weights(
        information, float(result.residual_sd), float(result.group_sd[parameter])
    )
    weighted = np.where(
        weight > 0, weight * np.nan_to_num(own) + (1 - weight) * population, population
    )
    table = pd.DataFrame(
        {
            "n": count.astype("int64"),
            "own_estimate": own,
            "weight": weight,
            "population": population,
            "weighted_average": weighted,
        },
        index=lines.index,
    )
    order = sorted(range(k), key=lambda i: (int(count[i]), str(table.index[i])))
    return table.iloc[order]


# ------------------------------------------------------------------- errors against truth


def compare_pooling_errors(
    *,
    n_samples: int = 200,
    parameter: str = "intercept",
    methods: Sequence[str] = ("no pooling", "partial pooling"),
    seed: int | np.random.Generator | None = None,
    simulate: Callable[..., Any] | None = None,
    **simulation_settings: Any,
) -> pd.DataFrame:
    """Simulate many data sets and collect each group's estimation error under each kind of pooling.

    Each of ``n_samples`` data sets is drawn with ``simulate(**simulation_settings)``, and
    every group's ``parameter`` is estimated with no pooling (a separate estimate per group),
    partial pooling (the multilevel model in which only ``parameter`` varies) and, if asked,
    complete pooling (one value for everyone); each estimate is compared with the group's
    true value.

    Parameters
    ----------
    n_samples : int
        Number of simulated data sets (about 15 ms each for eight departments).
    parameter : {"intercept", "slope"}
        Which part varies by group and is estimated; the simulation should vary only that
        part (for faculty salaries ``raise_sd=0`` for intercepts, ``base_sd=0`` for slopes).
    methods : sequence of str
        Any of ``"no pooling"``, ``"partial pooling"``, ``"complete pooling"``.
    seed : int, numpy.random.Generator or None
        One seed for the whole study; the same int gives the same table every time.
    simulate : callable, optional
        A ``simdata`` simulator; default :func:`simdata.faculty_salaries`.
    **simulation_settings
        Keyword arguments for ``simulate`` (e.g. ``faculty_per_department=[2, 5, 40]``,
        ``base_sd=5_000``, ``noise_sd=8_000``); ``seed`` is set for you.

    Returns
    -------
    pandas.DataFrame
        One row per data set, group and method, with columns ``sample`` (0, 1, ...), the group
        column (e.g. ``department``), ``n`` (its size in that sample), ``method``,
        ``parameter``, ``estimate``, ``truth``, ``error`` (estimate - truth) and ``unit``
        (the unit of the three values, e.g. ``"$"``).

    Example
    -------
    >>> errors = compare_pooling_errors(
    ...     n_samples=5, seed=1, n_departments=4, faculty_per_department=[2, 5, 10, 40], raise_sd=0
    ... )
    >>> sorted(errors["method"].unique())
    ['no pooling', 'partial pooling']
    >>> len(errors)
    40
    """
    n_samples = validate.positive_int("n_samples", n_samples)
    if parameter not in specs.PARTS:
        raise ValueError(f"parameter must be 'intercept' or 'slope', got {parameter!r}")
    methods = list(methods) if not isinstance(methods, str) else [methods]
    unknown = [m for m in methods if m not in METHODS]
    if not methods or unknown:
        raise ValueError(
            f"methods must be a non-empty selection of {list(METHODS)}, got {methods!r}"
        )
    if "seed" in simulation_settings:
        raise ValueError("pass seed to compare_pooling_errors itself, not as a simulation setting")
    simulate = faculty_salaries if simulate is None else simulate
    rng = as_generator(seed)
    frames = []
    for sample in range(n_samples):
        sim = simulate(**simulation_settings, seed=rng)
        if parameter not in sim.truth.columns:
            raise ValueError(
                f"parameter={parameter!r} is not in the simulation's truth "
                f"(columns: {list(sim.truth.columns)})"
            )
        fits = {}
        if "no pooling" in methods:
            fits["no pooling"] = fit(
                sim, model="no_pooling", varying=specs.varying_of_parts((parameter,))
            )
        if "partial pooling" in methods:
            fits["partial pooling"] = fit(sim, model=specs.model_varying_only(parameter))
        if "complete pooling" in methods:
            fits["complete pooling"] = fit(sim, model="complete_pooling")
        truth = sim.truth[parameter]
        for method in methods:
            estimate = fits[method].group_lines[parameter].reindex(truth.index)
            frames.append(
                pd.DataFrame(
                    {
                        "sample": sample,
                        sim.group: truth.index.astype(str),
                        "n": sim.truth["n"].to_numpy(dtype="int64"),
                        "method": method,
                        "parameter": parameter,
                        "estimate": estimate.to_numpy(dtype=float),
                        "truth": truth.to_numpy(dtype=float),
                    }
                )
            )
    out = pd.concat(frames, ignore_index=True)
    out["error"] = out["estimate"] - out["truth"]
    unit = units.unit_of(sim.y) if parameter == "intercept" else units.slope_unit(sim.y, sim.x)
    out["unit"] = unit or sim.y
    return out


def typical_errors(errors: pd.DataFrame, *, by: str | Sequence[str] | None = "n") -> pd.DataFrame:
    """Root mean squared error of each method, overall or by group size.

    Parameters
    ----------
    errors : DataFrame
        From :func:`compare_pooling_errors` (columns ``method`` and ``error`` at least).
    by : str, sequence of str or None
        Columns to break the errors down by besides ``method``; default ``"n"`` (group size),
        None for one number per method.

    Returns
    -------
    pandas.DataFrame
        Tidy: the ``by`` columns, ``method``, ``rmse`` (root mean squared error, in the unit
        of ``errors["unit"]``), ``mean_error`` (the bias) and ``count`` (errors averaged).

    Example
    -------
    >>> errors = pd.DataFrame({"n": [2, 2, 40, 40], "method": ["no pooling"] * 4,
    ...                        "error": [3.0, -4.0, 1.0, -1.0]})
    >>> typical_errors(errors)["rmse"].round(3).tolist()
    [3.536, 1.0]
    """
    if not isinstance(errors, pd.DataFrame):
        raise ValueError(
            f"errors must be a DataFrame from compare_pooling_errors, got {type(errors).__name__}"
        )
    keys = [] if by is None else [by] if isinstance(by, str) else list(by)
    missing = [c for c in [*keys, "method", "error"] if c not in errors.columns]
    if missing:
        raise ValueError(f"errors has no column(s) {missing}; columns are {list(errors.columns)}")
    grouped = errors.assign(_sq=errors["error"] ** 2).groupby([*keys, "method"], sort=True)
    out = pd.DataFrame(
        {
            "rmse": np.sqrt(grouped["_sq"].mean()),
            "mean_error": grouped["error"].mean(),
            "count": grouped["error"].count(),
        }
    ).reset_index()
    order = {m: i for i, m in enumerate(METHODS)}
    out["_order"] = out["method"].map(lambda m: order.get(m, len(order)))
    return (
        out.sort_values([*keys, "_order"], kind="stable")
        .drop(columns="_order")
        .reset_index(drop=True)
    )
