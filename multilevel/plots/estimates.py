"""Group estimates: against the truth, sorted with intervals, and their errors by group size."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.container import ErrorbarContainer
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator, NullLocator

import simdata

from .. import checking, style, units
from .._docstrings import fill
from ..models import FitResult
from ..pooling import METHODS, typical_errors
from ._common import (
    DASHED,
    MANY_GROUPS,
    center_of,
    check_parameter,
    check_result,
    colors_or_one,
    format_group_size_axis,
    format_parameter_axis,
    get_ax,
    group_noun,
    legend_key,
    line_width,
    marker_size,
    model_title,
    parameter_label,
    place_legend,
    population_reference,
    wrap_to_axes,
)

# --------------------------------------------------------------------------------- truth


_POPULATION_KEYS = {
    "intercept": ("base_mean", "intercept_mean", "mean_intercept", "alpha_mean", "mu_intercept"),
    "slope": ("raise_mean", "slope_mean", "mean_slope", "beta_mean", "mu_slope"),
}


def _population_truth(population: Mapping[str, Any], parameter: str) -> float | None:
    for key in _POPULATION_KEYS[parameter]:
        if key in population:
            return float(population[key])
    return None


@fill
def truth_plot(
    result: FitResult,
    truth: simdata.SimulatedData | pd.DataFrame,
    *,
    parameter: str = "intercept",
    population: float | None = None,
    data: Any = None,
    label_groups: bool | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    **kwargs: Any,
) -> Axes:
    """Estimates against the truth for simulated data, per group and for the population.

    Each group is a point at (true value, estimate) with a 95% interval, estimate ± 1.96 x the
    full SD of its error (:func:`multilevel.checking.group_estimate_se`: the deviation's
    conditional SD *and* the error in the average line); points on the dotted identity line
    are estimated exactly. Without the fitted data (``truth`` a DataFrame and no ``data``), the
    intervals use the conditional SD alone and the legend says they are for the deviation. The
    population parameter (the fixed effect, with its 95% confidence interval) is a black
    diamond at the true population mean.

    Parameters
    ----------
    result : FitResult
    truth : SimulatedData or DataFrame
        A SimulatedData (its ``truth`` and ``population``), or a DataFrame indexed by group
        with an ``intercept`` / ``slope`` column (then pass ``population`` to mark it).
    parameter : {"intercept", "slope"}
    population : float, optional
        The true population value; default from a SimulatedData's ``population``
        (``base_mean`` / ``raise_mean`` for faculty salaries).
    data : DataFrame or SimulatedData, optional
        The data ``result`` was fitted to; default ``truth`` when it is a SimulatedData.
    label_groups : bool, optional
        Write each group's name beside its point; default when there are at most
        12 groups.
    {ax}
    {title}
    **kwargs
        Passed on to matplotlib's ``Axes.scatter`` for the group estimates.

    Returns
    -------
    Axes
        The panel: each group's estimate against its true value, and the line where the two
        are equal.

    Examples
    --------
    >>> import multilevel as ml, simdata
    >>> sim = simdata.faculty_salaries(seed=1)
    >>> ax = truth_plot(ml.fit(sim, model="varying_both"), sim, parameter="slope")
    """
    points = _truth_points(result, truth, parameter=parameter, population=population, data=data)
    true, est, se = points.true, points.estimate, points.se
    ax = get_ax(ax)
    styles = style.group_styles(list(result.group_lines.index))
    colors = colors_or_one(styles, points.groups)
    has_se = np.isfinite(se)
    if has_se.any():
        ax.errorbar(
            true[has_se],
            est[has_se],
            yerr=1.96 * se[has_se],
            fmt="none",
            ecolor=[colors[i] for i in np.flatnonzero(has_se)],
            elinewidth=line_width(0.6),
            alpha=0.8,
            zorder=2,
        )
    interval = "95% interval" if points.se_is_full else "95% interval of the deviation"
    group_label = f"{group_noun(result.group).capitalize()}s (± {interval})"
    ax.scatter(
        true,
        est,
        **{
            "c": colors,
            "s": marker_size(1.3) ** 2,
            "edgecolors": "white",
            "linewidths": 0.5,
            "zorder": 3,
            "label": group_label,
            "gid": "group-estimates",
            **kwargs,
        },
    )
    values = [true, est]
    if has_se.any():
        values += [est[has_se] - 1.96 * se[has_se], est[has_se] + 1.96 * se[has_se]]
    population_marker = None
    if points.population is not None:
        population_marker = _population_marker(ax, result, parameter, points.population)
        fe = result.fixed_effects.loc[parameter]
        values.append(np.array([points.population, fe["ci_lower"], fe["ci_upper"]], dtype=float))
    identity = _identity_square(ax, np.concatenate(values))
    _label_truth_axes(ax, result, parameter)
    if label_groups is None:
        label_groups = len(points.groups) <= MANY_GROUPS
    if label_groups:
        _label_points(ax, points)
    if title is None:
        rmse = float(np.sqrt(np.nanmean((est - true) ** 2)))
        money = units.is_money(units.unit_of(result.y))
        rmse_text = units.format_amount(rmse, style="fixed") if money else f"{rmse:.3g}"
        # A square plot is narrow: the default title is wrapped to its width so that it is not
        # clipped and does not run over the y label.
        # (A no-break space keeps "RMSE $1,350" on one line.)
        title = wrap_to_axes(
            ax,
            f"{model_title(result.model)}\nEstimates vs truth, RMSE\N{NO-BREAK SPACE}{rmse_text}",
        )
    ax.set_title(title)
    # Built by hand: the axes may hold other labelled artists (e.g. drawn by plt.gca()).
    handles: list[Any] = [
        legend_key(
            group_label, marker="o", linestyle="none", color="0.35", markersize=marker_size(1.3)
        ),
        identity,
    ]
    if population_marker is not None:
        handles.append(population_marker)
    place_legend(ax, handles)
    return ax


@dataclass(frozen=True)
class _TruthPoints:
    """The groups a fit shares with the truth, their true and estimated values and the SEs."""

    groups: list[Any]
    true: np.ndarray
    estimate: np.ndarray
    se: np.ndarray
    se_is_full: bool
    population: float | None


#: Where a group's name may sit around its point, in points, in order of preference: a name
#: goes to the first place where it covers no other name and no point. Names further out than
#: the first ring get a thin leader line to their point.
_LABEL_OFFSETS = tuple((dx, dy) for ring in (3, 11, 20) for dy in (ring, -ring) for dx in (5, -5))


def _label_points(ax: Axes, points: _TruthPoints) -> None:
    """Each group's name beside its point, moved out (with a leader) where names would overlap.

    Call it once the axes have their limits: the overlap test works in display units. A
    name's size is estimated from its length (0.6 em a character), which is close enough to
    keep neighbours apart without drawing the figure.
    """
    size = FontProperties(size="x-small").get_size_in_points()
    to_pixels = ax.figure.dpi / 72
    at = ax.transData.transform(np.column_stack([points.true, points.estimate]))
    radius = 0.6 * marker_size(1.3) * to_pixels
    taken = [(px - radius, py - radius, px + radius, py + radius) for px, py in at]
    for name, (px, py), x, y in zip(points.groups, at, points.true, points.estimate, strict=True):
        text = str(name)
        width, height = 0.6 * size * len(text) * to_pixels, 1.2 * size * to_pixels
        places = []
        for dx, dy in _LABEL_OFFSETS:
            left = px + dx * to_pixels - (width if dx < 0 else 0.0)
            bottom = py + dy * to_pixels - (height if dy < 0 else 0.0)
            places.append(((dx, dy), (left, bottom, left + width, bottom + height)))
        free = (place for place in places if not any(_overlap(place[1], t) for t in taken))
        (dx, dy), box = next(free, places[0])  # nowhere free: the first place, overlapping
        taken.append(box)
        leader = abs(dy) > _LABEL_OFFSETS[0][1]
        ax.annotate(
            text,
            xy=(x, y),
            xytext=(dx, dy),
            textcoords="offset points",
            ha="right" if dx < 0 else "left",
            va="top" if dy < 0 else "bottom",
            fontsize=size,
            color="0.2",
            zorder=5,
            gid="group-label",
            arrowprops={
                "arrowstyle": "-",
                "color": "0.55",
                "linewidth": 0.5,
                "shrinkA": 0,
                "shrinkB": 3,
            }
            if leader
            else None,
        )


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _truth_points(
    result: FitResult,
    truth: simdata.SimulatedData | pd.DataFrame,
    *,
    parameter: str,
    population: float | None,
    data: Any = None,
) -> _TruthPoints:
    """What :func:`truth_plot` compares, with the true intercepts moved to the fit's centre."""
    check_result(result)
    check_parameter(parameter)
    pop_mapping: Mapping[str, Any] = {}
    if simdata.is_simulated_data(truth):
        pop_mapping = truth.population
        if data is None:
            data = truth
        truth = truth.truth
    if not isinstance(truth, pd.DataFrame):
        raise ValueError(
            f"truth must be a SimulatedData or a DataFrame indexed by group, got {type(truth).__name__}"
        )
    if parameter not in truth.columns:
        raise ValueError(
            f"truth has no {parameter!r} column (columns: {list(truth.columns)}); "
            "choose a parameter the simulation varies"
        )
    if population is None:
        population = _population_truth(pop_mapping, parameter)
    gl = result.group_lines
    common = [g for g in gl.index if g in set(truth.index)]
    if not common:
        raise ValueError("truth and result share no groups; was truth simulated with this data?")
    c = center_of(result)
    true = truth.loc[common, parameter].to_numpy(dtype=float)
    if parameter == "intercept" and c != 0.0:
        # Compare like with like: the fit's intercept is the height at x = center.
        slopes = truth.loc[common, "slope"].to_numpy(dtype=float) if "slope" in truth else 0.0
        true = true + slopes * c
        if population is not None:
            population = population + (_population_truth(pop_mapping, "slope") or 0.0) * c
    if data is None:
        se = gl[f"{parameter}_se"]
    else:
        se = checking.group_estimate_se(result, data, parameter)
    return _TruthPoints(
        groups=common,
        true=true,
        estimate=gl.loc[common, parameter].to_numpy(dtype=float),
        se=se.loc[common].to_numpy(dtype=float),
        se_is_full=data is not None or checking.group_ses_are_complete(result),
        population=population,
    )


def _population_marker(
    ax: Axes, result: FitResult, parameter: str, true_value: float
) -> ErrorbarContainer:
    """The fixed effect with its 95% CI, a black diamond at the true population value."""
    fe = result.fixed_effects.loc[parameter]
    marker = ax.errorbar(
        [true_value],
        [float(fe["estimate"])],
        yerr=[
            [float(fe["estimate"] - fe["ci_lower"])],
            [float(fe["ci_upper"] - fe["estimate"])],
        ],
        fmt="D",
        color=style.POPULATION_COLOR,
        markersize=marker_size(1.5),
        elinewidth=line_width(1.0),
        capsize=marker_size(0.8),
        zorder=4,
        label="Population (fixed effect ± 95% CI)",
    )
    marker.lines[0].set_gid("population-estimate")
    return marker


def _identity_square(ax: Axes, values: np.ndarray) -> Line2D:
    """Equal, square axes around ``values`` with the dotted line estimate = truth."""
    lo = float(np.nanmin(values))
    hi = float(np.nanmax(values))
    pad = 0.08 * (hi - lo if hi > lo else max(abs(hi), 1.0))
    lims = (lo - pad, hi + pad)
    # An infinite line, so that it still spans the axes when they are shared with a wider plot.
    identity = ax.axline(
        (lims[0], lims[0]),
        (lims[1], lims[1]),
        color="0.45",
        linestyle=":",
        linewidth=line_width(0.8),
        zorder=1,
        label="Estimate = truth",
        gid="identity-line",
    )
    ax.set_xlim(lims)
    ax.set_ylim(lims)
    ax.set_aspect("equal", adjustable="box")
    return identity


def _label_truth_axes(ax: Axes, result: FitResult, parameter: str) -> None:
    """ "True ..." and "Estimated ..." labels, wrapped to the square, with dollar ticks."""
    what = parameter_label(result, parameter)
    ax.set_xlabel(wrap_to_axes(ax, f"True {what[0].lower()}{what[1:]}", along="xlabel"))
    # The y label runs along one side of a square, shorter than the x label's: wrap it.
    ax.set_ylabel(wrap_to_axes(ax, f"Estimated {what[0].lower()}{what[1:]}", along="ylabel"))
    format_parameter_axis(ax.xaxis, result, parameter)
    format_parameter_axis(ax.yaxis, result, parameter)
    # A square is narrow: with matplotlib's default nine ticks, dollar amounts run together.
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
    ax.yaxis.set_major_locator(MaxNLocator(nbins=5))


# ---------------------------------------------------------------------------- caterpillar


@fill
def caterpillar_plot(
    result: FitResult,
    *,
    parameter: str = "intercept",
    scale: str = "deviation",
    ax: Axes | None = None,
    title: str | None = None,
    **kwargs: Any,
) -> Axes:
    """Group effects, sorted, with 95% intervals (a caterpillar plot, like lme4's ``dotplot``).

    Parameters
    ----------
    result : FitResult
        A fit in which ``parameter`` varies by group (its ``group_lines`` has ``*_se``).
    parameter : {"intercept", "slope"}
    scale : {"deviation", "estimate"}
        ``"deviation"`` (default) shows each group's difference from the population value
        (the random effect, reference line at 0); ``"estimate"`` shows the group's own
        intercept or slope with the population value as the reference line.
    {ax}
    {title}
    **kwargs
        Passed on to matplotlib's ``Axes.scatter`` for the group effects.

    Returns
    -------
    Axes
        The panel: a row per group, sorted by the effect, each with its 95% interval.

    Examples
    --------
    >>> import multilevel as ml, simdata
    >>> ax = caterpillar_plot(ml.fit(simdata.faculty_salaries(seed=1), model="varying_intercepts"))
    """
    check_result(result)
    check_parameter(parameter)
    if scale not in ("deviation", "estimate"):
        raise ValueError(f"scale must be 'deviation' or 'estimate', got {scale!r}")
    gl = result.group_lines
    se = gl[f"{parameter}_se"].to_numpy(dtype=float)
    values = gl[parameter].to_numpy(dtype=float)
    if not np.isfinite(se).any() or np.ptp(values) == 0:
        raise ValueError(
            f"parameter={parameter!r} does not vary by group in a {result.model} model; "
            "fit a model where it varies (e.g. model='varying_both')"
        )
    population = float(result.fixed_effects.at[parameter, "estimate"])
    reference = 0.0
    if scale == "deviation":
        values = values - population
    else:
        reference = population
    order = np.argsort(values, kind="stable")
    groups = [gl.index[i] for i in order]
    values, se = values[order], se[order]
    pos = np.arange(len(groups))
    ax = get_ax(ax)
    styles = style.group_styles(list(gl.index))
    colors = colors_or_one(styles, groups)
    ax.errorbar(
        values,
        pos,
        xerr=1.96 * se,
        fmt="none",
        ecolor=colors,
        elinewidth=line_width(1.0),
        zorder=2,
    )
    ax.scatter(
        values,
        pos,
        **{"c": colors, "s": marker_size(1.3) ** 2, "zorder": 3, "gid": "group-effects", **kwargs},
    )
    population_reference(
        ax,
        reference,
        across="y",
        scale=0.9,
        zorder=1,
        label="Population value",
        gid="reference-line",
    )
    noun = group_noun(result.group)
    if len(groups) <= 40:
        ax.set_yticks(pos, [str(g) for g in groups])
        ax.grid(False, axis="y")
    else:
        ax.set_yticks([])
    ax.set_ylabel(f"{noun.capitalize()} (sorted)")
    what = parameter_label(result, parameter)
    if scale == "deviation":
        ax.set_xlabel(f"Difference from the population {what[0].lower()}{what[1:]}")
    else:
        ax.set_xlabel(what)
    format_parameter_axis(ax.xaxis, result, parameter)
    ax.set_ylim(-0.8, len(groups) - 0.2)
    ax.set_title(
        title
        if title is not None
        else f"{noun.capitalize()} {parameter}s with 95% intervals ({model_title(result.model).lower()})"
    )
    return ax


# ------------------------------------------------------------------------- pooling errors


#: How each kind of pooling is drawn in :func:`pooling_error_plot`: open circles for no
#: pooling and filled ones for partial pooling, as in :func:`shrinkage_plot`.
_ERROR_STYLE: Mapping[str, Mapping[str, Any]] = {
    "no pooling": {
        "color": style.OKABE_ITO["vermillion"],
        "linestyle": DASHED,
        "markerfacecolor": "white",
        "label": "No pooling (own estimate)",
    },
    "partial pooling": {
        "color": style.OKABE_ITO["blue"],
        "linestyle": "-",
        "label": "Partial pooling (multilevel)",
    },
    "complete pooling": {
        "color": style.POPULATION_COLOR,
        "linestyle": ":",
        "label": "Complete pooling (one value)",
    },
}


@fill
def pooling_error_plot(
    errors: pd.DataFrame,
    *,
    log_n: bool = False,
    legend: bool = True,
    ax: Axes | None = None,
    title: str | None = None,
    **kwargs: Any,
) -> Axes:
    """Typical error of each kind of pooling against group size, over many simulated data sets.

    One line per method (no, partial and, if present, complete pooling): the root mean squared
    error of the group estimates (estimate - truth) at each group size. Where the partial-pooling
    line lies below the no-pooling line, shrinkage has paid for itself.

    Parameters
    ----------
    errors : DataFrame
        From :func:`multilevel.pooling.compare_pooling_errors` (columns ``n``, ``method``,
        ``error`` and, for the axis label, ``parameter`` and ``unit``).
    {log_n}
    legend : bool
    {ax}
    {title}
    **kwargs
        Passed on to matplotlib's ``Axes.plot`` for each method's line.

    Returns
    -------
    Axes
        Each line has gid ``"pooling-error:<method>"``.

    Examples
    --------
    >>> from multilevel.pooling import compare_pooling_errors
    >>> errors = compare_pooling_errors(
    ...     n_samples=5, seed=1, n_departments=4, faculty_per_department=[2, 5, 10, 40], raise_sd=0
    ... )
    >>> ax = pooling_error_plot(errors)
    """
    if not isinstance(errors, pd.DataFrame):
        raise ValueError(
            f"errors must be a DataFrame from compare_pooling_errors, got {type(errors).__name__}"
        )
    unknown = sorted(set(errors.get("method", pd.Series(dtype=object))) - set(METHODS))
    if unknown:
        raise ValueError(f"errors has unknown methods {unknown}; allowed are {list(METHODS)}")
    summary = typical_errors(errors, by="n")
    if summary.empty:
        raise ValueError("errors is empty; nothing to plot")
    ax = get_ax(ax)
    for method in [m for m in METHODS if m in set(summary["method"])]:
        rows = summary[summary["method"] == method].sort_values("n")
        how = _ERROR_STYLE[method]
        ax.plot(
            rows["n"].to_numpy(dtype=float),
            rows["rmse"].to_numpy(dtype=float),
            **{
                "color": how["color"],
                "linestyle": how["linestyle"],
                "linewidth": line_width(),
                "marker": "o",
                "markersize": marker_size(1.2),
                "markerfacecolor": how.get("markerfacecolor", how["color"]),
                "markeredgecolor": how["color"],
                "markeredgewidth": line_width(0.7),
                "label": how["label"],
                "gid": f"pooling-error:{method}",
                "zorder": 3,
                **kwargs,
            },
        )
    known = {"sample", "n", "method", "parameter", "estimate", "truth", "error", "unit"}
    group_columns = [c for c in errors.columns if c not in known]
    noun = group_noun(group_columns[0]) if len(group_columns) == 1 else "group"
    parameter = str(errors["parameter"].iloc[0]) if "parameter" in errors else "estimate"
    unit = str(errors["unit"].iloc[0]) if "unit" in errors else ""
    ax.set_xlabel(f"Observations per {noun} (n)")
    ax.set_ylabel(
        f"Typical error of the {parameter}\n(root mean squared error{', ' + unit if unit else ''})"
    )
    if units.is_money(unit):
        ax.yaxis.set_major_formatter(style.dollar_formatter(short=False))
    ax.set_ylim(bottom=0)
    sizes = np.unique(summary["n"].to_numpy(dtype=float))
    format_group_size_axis(ax, log_n=log_n)
    if len(sizes) <= MANY_GROUPS:
        # A few group sizes: label exactly those.
        ax.set_xticks(sizes, [f"{v:g}" for v in sizes])
        ax.xaxis.set_minor_locator(NullLocator())
    samples = errors["sample"].nunique() if "sample" in errors else None
    if title is None:
        title = f"How far {noun} {parameter}s miss the truth"
        if samples:
            title += f"\n(over {samples:,} simulated data sets)"
    ax.set_title(title)
    if legend:
        place_legend(
            ax,
            [line for line in ax.get_lines() if str(line.get_gid()).startswith("pooling-error:")],
        )
    return ax
