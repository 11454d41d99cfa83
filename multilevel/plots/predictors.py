"""Group-level predictors: group intercepts against a group-level predictor, and within- against
between-group effects.

Both take a fit made from a formula (``ml.fit("y ~ x + u + (1 | g)", data)``, a
:class:`~multilevel.models.lmm.FormulaFit`); :func:`group_predictor_plot` also takes the
keyword form's :class:`~multilevel.models.result.FitResult` (a model without the predictor, whose
line is flat).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from .. import style, units
from .._docstrings import fill
from ..models import FitResult
from ..models.result import plural
from ._common import DASHED, get_ax, group_noun, legend_key, line_width, marker_size

__all__ = ["group_predictor_plot", "within_between_plot"]

_POINT_COLOR = style.OKABE_ITO["blue"]
_BETWEEN_COLOR = style.OKABE_ITO["vermillion"]


def _formula_fit(fit: Any, name: str = "fit") -> Any:
    """``fit`` if it is a FormulaFit, else a ValueError that says what to pass."""
    from ..models.lmm import FormulaFit  # loaded already whenever a FormulaFit exists

    if not isinstance(fit, FormulaFit):
        raise ValueError(
            f"{name} must be a fit from a formula, ml.fit('y ~ x + (1 | g)', data), got "
            f"{type(fit).__name__}"
        )
    return fit


def _group_values(data: pd.DataFrame, group: str, column: str, groups: pd.Index) -> pd.Series:
    """The one value of ``column`` in each group, in the order of ``groups``."""
    for name, role in ((group, "the grouping column"), (column, "predictor")):
        if name not in data.columns:
            raise ValueError(
                f"{role} {name!r} is not a column of data; columns are {list(data.columns)}"
            )
    by_group = data.groupby(group, observed=True)[column]
    varying = by_group.nunique(dropna=True) > 1
    if varying.any():
        raise ValueError(
            f"predictor={column!r} must have one value per {group_noun(group)} (a group-level "
            f"predictor); it varies within {varying.sum()} of them, e.g. {varying.idxmax()!r}"
        )
    values = by_group.first()
    values.index = values.index.astype(object)
    return values.reindex(pd.Index(groups, dtype=object)).astype(float)


@dataclass(frozen=True)
class _Intercepts:
    """Each group's intercept at its predictor value, the line they scatter around, labels."""

    groups: pd.Index
    u: np.ndarray
    intercept: np.ndarray
    se: np.ndarray
    line_at_zero: float
    line_slope: float
    response: str
    group: str
    at: str


def _intercepts(fit: Any, data: pd.DataFrame, predictor: str) -> _Intercepts:
    if isinstance(fit, FitResult):
        if "intercept" not in fit.group_sd.index:
            raise ValueError(f"fit must have varying intercepts; got a {fit.model} model")
        groups = fit.group_lines.index
        u = _group_values(data, fit.group, predictor, groups).to_numpy()
        base = float(fit.fixed_effects.at["intercept", "estimate"])
        effect = fit.random_effects["intercept"].to_numpy(dtype=float)
        se = fit.group_lines["intercept_se"].to_numpy(dtype=float)
        at = "" if fit.x is None else f"{fit.x} = {fit.center:g}"
        return _Intercepts(groups, u, base + effect, se, base, 0.0, fit.y, fit.group, at)
    fit = _formula_fit(fit)
    if "Intercept" not in fit.random_effects.columns:
        raise ValueError(f"fit must have a varying intercept, (1 | g); got {fit.formula!r}")
    design = fit._internals.design
    groups = fit.random_effects.index
    u = _group_values(data, fit.group, predictor, groups).to_numpy()
    beta = fit.fixed_effects["estimate"]
    others = [name for name in beta.index if name not in ("Intercept", predictor)]
    # Other group-level terms would move each group's intercept too: refuse rather than
    # draw intercepts that leave them out.
    for name in others:
        column = design.X[:, list(design.fixed_names).index(name)]
        spread = pd.Series(column).groupby(design.codes).agg(np.ptp)
        if (spread == 0).all():
            raise ValueError(
                f"{name!r} is a second group-level term of {fit.formula!r}; each group's "
                f"intercept depends on it too, so only one group-level predictor can be drawn"
            )
    base = float(beta.get("Intercept", 0.0))
    slope = float(beta.get(predictor, 0.0))
    effect = fit.random_effects["Intercept"].to_numpy(dtype=float)
    se = fit.group_lines["Intercept_se"].to_numpy(dtype=float)
    at = ", ".join(f"{name} = 0" for name in others)
    return _Intercepts(
        groups, u, base + slope * u + effect, se, base, slope, fit.response, fit.group, at
    )


@fill
def group_predictor_plot(
    fit: Any,
    data: pd.DataFrame,
    *,
    predictor: str,
    ax: Axes | None = None,
    title: str | None = None,
    **kwargs: Any,
) -> Axes:
    """Each group's estimated intercept against a group-level predictor, with the fitted line.

    Gelman & Hill's figure 12.6: a group's intercept is the fixed intercept, plus the predictor's
    coefficient times the group's value, plus the group's deviation; the bars are ± 1 standard
    error of the deviation (its conditional SD, lme4's ``condVar``) and the line is the
    intercept the model expects from the predictor alone. For a fit without the predictor the
    line is flat at the average intercept, and the deviations carry all that the predictor
    would explain.

    Parameters
    ----------
    fit : FormulaFit or FitResult
        A fit with a varying intercept. Terms other than the intercept and ``predictor`` must
        vary within groups (they are taken at 0: the intercept is at, e.g., ``floor = 0``).
    data : DataFrame
        The data of the fit, with ``predictor`` and the grouping column.
    predictor : str
        A column with one value per group.
    {ax}
    {title}
    **kwargs
        Passed on to matplotlib's ``Axes.scatter`` for the group intercepts.

    Returns
    -------
    Axes
        The panel: each group's intercept with ± 1 standard error, and the fitted line.

    Examples
    --------
    >>> import multilevel as ml
    >>> from multilevel.datasets import radon
    >>> homes = radon()
    >>> fit = ml.fit("log_radon ~ floor + log_uranium + (1 | county)", homes)
    >>> ax = group_predictor_plot(fit, homes, predictor="log_uranium")
    """
    if not isinstance(data, pd.DataFrame):
        raise ValueError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    drawn = _intercepts(fit, data, predictor)
    ax = get_ax(ax)
    ax.errorbar(
        drawn.u,
        drawn.intercept,
        yerr=drawn.se,
        fmt="none",
        ecolor=_POINT_COLOR,
        elinewidth=line_width(0.5),
        alpha=0.6,
        zorder=2,
        gid="group-intervals",
    )
    ax.scatter(
        drawn.u,
        drawn.intercept,
        **{"color": _POINT_COLOR, "s": marker_size(0.9) ** 2, "zorder": 3,
           "gid": "group-intercepts", **kwargs},
    )  # fmt: skip
    ends = np.array([np.nanmin(drawn.u), np.nanmax(drawn.u)])
    name = units.display_name(predictor).lower()
    if drawn.line_slope:
        label = (
            f"Fitted line: {drawn.line_at_zero:.2f} {'+' if drawn.line_slope >= 0 else '-'} "
            f"{abs(drawn.line_slope):.2f} × {name}"
        )
    else:
        label = f"Average intercept ({name} not in the model)"
    ax.plot(
        ends,
        drawn.line_at_zero + drawn.line_slope * ends,
        color=style.POPULATION_COLOR,
        linewidth=line_width(1.2),
        zorder=4,
        gid="group-level-line",
    )
    noun = group_noun(drawn.group)
    unit = units.unit_of(drawn.response)
    at = f" at {drawn.at}" if drawn.at else ""
    ylabel = f"{noun.capitalize()} intercept: {units.display_name(drawn.response).lower()}{at}"
    ax.set_ylabel(f"{ylabel} ({unit})" if unit else ylabel)
    ax.set_xlabel(units.axis_label(predictor))
    handles = [
        legend_key(
            f"{plural(noun).capitalize()} (± 1 SE)", color=_POINT_COLOR, marker="o", linestyle="",
            markersize=marker_size(0.9),
        ),
        legend_key(label, color=style.POPULATION_COLOR, linewidth=line_width(1.2)),
    ]  # fmt: skip
    ax.legend(handles=handles, loc="best")
    ax.set_title(title if title is not None else f"{noun.capitalize()} intercepts against {name}")
    return ax


@fill
def within_between_plot(
    fit: Any,
    data: pd.DataFrame,
    *,
    x: str,
    group_mean: str,
    ax: Axes | None = None,
    title: str | None = None,
    **kwargs: Any,
) -> Axes:
    """Group means of y against group means of x, with the between-group and within-group slopes.

    For a varying-intercepts fit ``y ~ x + group_mean + (1 | g)``, where ``group_mean`` is each
    group's mean of ``x``: the coefficient of ``x`` is the **within**-group slope (comparing
    rows of one group), and that plus the coefficient of ``group_mean`` (the **contextual**
    effect) is the **between**-group slope, how the expected group mean of y changes with the
    group mean of x. Each group is a point at its means, with area proportional to its number of
    rows; the between line runs through the expected group means, and the within line, dashed,
    through the between line at the average of ``x``. Parallel lines: no contextual effect.

    Parameters
    ----------
    fit : FormulaFit
        With the fixed terms ``Intercept``, ``x`` and ``group_mean`` only (other terms would
        move the expected group means away from the raw means drawn).
    data : DataFrame
        The data of the fit.
    x, group_mean : str
        The predictor and the column holding its group means.
    {ax}
    {title}
    **kwargs
        Passed on to matplotlib's ``Axes.scatter`` for the group means.

    Returns
    -------
    Axes
        The panel: the group means, the between-group line and the within-group line.

    Examples
    --------
    >>> import multilevel as ml
    >>> from multilevel.datasets import radon
    >>> homes = radon()
    >>> homes["floor_mean"] = homes.groupby("county", observed=True)["floor"].transform("mean")
    >>> fit = ml.fit("log_radon ~ floor + floor_mean + (1 | county)", homes)
    >>> ax = within_between_plot(fit, homes, x="floor", group_mean="floor_mean")
    """
    fit = _formula_fit(fit)
    if not isinstance(data, pd.DataFrame):
        raise ValueError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    beta = fit.fixed_effects["estimate"]
    expected = {"Intercept", x, group_mean}
    if set(beta.index) != expected:
        raise ValueError(
            f"fit must have the fixed terms Intercept, {x!r} and {group_mean!r} only, so that "
            f"the raw group means lie around its between line; {fit.formula!r} has "
            f"{list(beta.index)}"
        )
    y, group = fit.response, fit.group
    means = data.groupby(group, observed=True).agg(
        y=(y, "mean"), x=(x, "mean"), n=(y, "size"), stored=(group_mean, "mean")
    )
    if not np.allclose(means["x"], means["stored"]):
        raise ValueError(f"{group_mean!r} must hold each {group_noun(group)}'s mean of {x!r}")
    within = float(beta[x])
    between = within + float(beta[group_mean])
    ax = get_ax(ax)
    area = marker_size(0.6) ** 2 * means["n"].to_numpy() / np.sqrt(means["n"].mean())
    ax.scatter(
        means["x"],
        means["y"],
        **{"s": area, "color": _POINT_COLOR, "alpha": 0.5, "linewidths": 0, "zorder": 2,
           "gid": "group-means", **kwargs},
    )  # fmt: skip
    ends = np.array([means["x"].min(), means["x"].max()])
    base = float(beta["Intercept"])
    ax.plot(ends, base + between * ends, color=_BETWEEN_COLOR, linewidth=line_width(1.3),
            zorder=3, gid="between-line")  # fmt: skip
    centre = float(data[x].mean())
    at_centre = base + between * centre
    ax.plot(ends, at_centre + within * (ends - centre), color=style.POPULATION_COLOR,
            linestyle=DASHED, linewidth=line_width(1.3), zorder=4, gid="within-line")  # fmt: skip
    noun = group_noun(group)
    unit = units.unit_of(y)
    name = units.display_name(y).lower()
    ax.set_ylabel(f"{noun.capitalize()} mean of {name}" + (f" ({unit})" if unit else ""))
    binary = set(np.unique(data[x].dropna())) <= {0, 1}
    ax.set_xlabel(f"{noun.capitalize()} mean of {x}" + (f" (share with {x} = 1)" if binary else ""))
    handles = [
        legend_key(
            f"{noun.capitalize()} means (area: observations)", color=_POINT_COLOR, marker="o",
            linestyle="", alpha=0.5, markersize=marker_size(1.0),
        ),
        legend_key(f"Between {plural(noun)}: slope {between:+.2f}", color=_BETWEEN_COLOR,
                   linewidth=line_width(1.3)),
        legend_key(f"Within a {noun}: slope {within:+.2f}", color=style.POPULATION_COLOR,
                   linestyle=DASHED, linewidth=line_width(1.3)),
    ]  # fmt: skip
    ax.legend(handles=handles, loc="best")
    ax.set_title(title if title is not None else f"Within and between {plural(noun)}")
    return ax
