"""Figures for checking a fitted model: residual plots, normal quantile plots, replicated data.

Seaborn-style, like :mod:`multilevel.plots`: the fit and its data first, keyword-only options,
``ax=None`` draws on the given axes (or the current one), and each function returns what it
drew (an Axes, or a Figure for a grid of panels). Labels carry units ("Residual ($)"), colours
come from :mod:`multilevel.style`. The numbers behind the figures are in
:mod:`multilevel.checking`.

Examples
--------
>>> import matplotlib.pyplot as plt, multilevel as ml, simdata
>>> sim = simdata.faculty_salaries(seed=1)
>>> res = ml.fit(sim, model="varying_intercepts")
>>> ax = ml.plots.residual_plot(res, sim, against="x", trend=True)
>>> plt.close("all")
"""

from __future__ import annotations

import math
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import scipy.stats
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from multilevel import checking, style
from multilevel._docstrings import fill
from multilevel.models import FitResult

from ._common import ONE_COLOR

__all__ = [
    "residual_plot",
    "qq_plot",
    "replicates_plot",
    "replicate_statistic_plot",
]

_MANY_GROUPS = 12


def _get_ax(ax: Axes | None) -> Axes:
    return plt.gca() if ax is None else ax


def _noun(group: str) -> str:
    return str(group).replace("_", " ")


def _unit_suffix(column: str) -> str:
    unit = style.unit_of(column)
    return f" ({unit})" if unit else ""


def _group_handles(styles: dict[Any, style.GroupStyle]) -> list[Line2D]:
    return [
        Line2D([], [], color=s.color, marker=s.marker, linestyle="none", label=str(g))
        for g, s in styles.items()
    ]


def _group_legend(ax: Axes, styles: dict[Any, style.GroupStyle], group: str) -> None:
    handles = _group_handles(styles)
    if len(handles) <= _MANY_GROUPS:
        ax.legend(
            handles=handles,
            title=_noun(group).capitalize(),
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            borderaxespad=0.0,
        )


@fill
def residual_plot(
    result: FitResult,
    data: Any,
    *,
    against: str = "fitted",
    trend: bool = False,
    ax: Axes | None = None,
    legend: bool = True,
    title: str | None = None,
    **kwargs: Any,
) -> Axes:
    """Residuals against the fitted values or against ``x``, coloured by group.

    If the model is right the points form a horizontal band around zero, the same width
    everywhere. A funnel (spread growing with the fitted value) or a curve is misfit; with
    ``against="x", trend=True`` each group's residuals get their own least-squares line, and
    lines that fan out in both directions show slopes that vary although the model keeps
    them constant.

    Parameters
    ----------
    result : FitResult
    {fitted_data}
    against : {"fitted", "x"}
        The horizontal axis: the fitted value (each group's line) or the predictor.
    trend : bool
        Draw each group's least-squares line through its residuals (``against="x"`` only).
    {ax}
    legend : bool
        A legend of groups (up to 12 groups).
    {title}
    **kwargs
        Passed on to :meth:`~matplotlib.axes.Axes.scatter` for the points (``alpha=0.3``).

    Returns
    -------
    Axes
        The panel: a point per row, and a dashed line at zero.

    Examples
    --------
    >>> import matplotlib.pyplot as plt, multilevel as ml, simdata
    >>> sim = simdata.faculty_salaries(seed=2)
    >>> ax = residual_plot(ml.fit(sim), sim)
    >>> ax.get_ylabel()
    'Residual ($)'
    >>> plt.close("all")
    """
    if against not in ("fitted", "x"):
        raise ValueError(f"against must be 'fitted' or 'x', got {against!r}")
    if against == "x" and result.x is None:
        raise ValueError("against='x' needs a model with a predictor; this fit has x=None")
    if trend and against != "x":
        raise ValueError("trend=True draws lines on x; use it with against='x'")
    table = checking.residual_table(result, data)
    column = "fitted" if against == "fitted" else result.x
    ax = _get_ax(ax)
    groups = list(result.group_lines.index)
    styles = style.group_styles(groups)
    labels = table[result.group].astype(object).to_numpy()
    xs = table[column].to_numpy(dtype=float)
    rs = table["residual"].to_numpy(dtype=float)
    for g in groups:
        keep = labels == g
        if not keep.any():
            continue
        s = styles[g]
        points = {"s": 22, "alpha": 0.7, "linewidths": 0, **kwargs}
        ax.scatter(
            xs[keep],
            rs[keep],
            color=s.color,
            marker=s.marker,
            label=str(g),
            gid="residuals",
            **points,
        )
        if trend and keep.sum() > 1 and np.ptp(xs[keep]) > 0:
            slope, intercept = np.polyfit(xs[keep], rs[keep], 1)
            ends = np.array([xs[keep].min(), xs[keep].max()])
            ax.plot(ends, intercept + slope * ends, color=s.color, linewidth=2, gid="trend")
    ax.axhline(0.0, color=style.POPULATION_COLOR, linewidth=1.2, linestyle="--", gid="zero")
    if against == "fitted":
        ax.set_xlabel(f"Fitted {_noun(result.y).lower()}{_unit_suffix(result.y)}")
        style.format_axis(ax, x=result.y, y=result.y)
    else:
        ax.set_xlabel(style.axis_label(result.x))
        style.format_axis(ax, x=result.x, y=result.y)
    ax.set_ylabel(f"Residual{_unit_suffix(result.y)}")
    if title is None:
        what = "fitted values" if against == "fitted" else _noun(result.x)
        title = f"Residuals against {what}"
    ax.set_title(title)
    if legend:
        _group_legend(ax, styles, result.group)
    return ax


@fill
def qq_plot(
    result: FitResult,
    data: Any = None,
    *,
    of: str = "residuals",
    ax: Axes | None = None,
    title: str | None = None,
    **kwargs: Any,
) -> Axes:
    """Normal quantile plot of the residuals or of the estimated group effects.

    Each point is one residual (or one group's estimated deviation), at the quantile a
    normal distribution would put it (across) and its value (up). Points on the straight
    line (through the first and third quartiles) look normal; a bow (both ends above the
    line, or both below) means a skewed distribution, ends that bend away from the line in
    opposite directions mean heavy tails.

    Parameters
    ----------
    result : FitResult
    data : DataFrame or SimulatedData, optional
        The data ``result`` was fitted to (needed for ``of="residuals"``).
    of : {"residuals", "intercept", "slope"}
        The residuals, or the groups' estimated deviations (``result.random_effects``) in
        their base (intercept) or slope.
    {ax}
    {title}
    **kwargs
        Passed on to :meth:`~matplotlib.axes.Axes.scatter` for the points.

    Returns
    -------
    Axes
        The panel: the sorted values against normal quantiles, and the line through the
        quartiles.

    Examples
    --------
    >>> import matplotlib.pyplot as plt, multilevel as ml, simdata
    >>> sim = simdata.faculty_salaries(seed=3)
    >>> ax = qq_plot(ml.fit(sim), of="intercept")
    >>> ax.get_xlabel()
    'Normal quantile (SDs from the mean)'
    >>> plt.close("all")
    """
    if of == "residuals":
        if data is None:
            raise ValueError("of='residuals' needs the data the model was fitted to")
        values = checking.residual_table(result, data)["residual"].to_numpy(dtype=float)
        what, unit_of = "Residual", result.y
        default_title = "Normal quantiles: residuals"
    elif of in ("intercept", "slope"):
        if of not in result.random_effects.columns:
            raise ValueError(
                f"of={of!r}: this {result.model} fit has no varying {of}; "
                f"choose from {['residuals', *result.random_effects.columns]}"
            )
        values = result.random_effects[of].to_numpy(dtype=float)
        noun = _noun(result.group)
        if of == "intercept":
            what, unit_of = f"{noun.capitalize()} deviation in base", result.y
        else:
            what, unit_of = f"{noun.capitalize()} deviation in slope", None
        default_title = f"Normal quantiles: {noun} effects ({of})"
    else:
        raise ValueError(f"of must be 'residuals', 'intercept' or 'slope', got {of!r}")
    values = np.sort(values[np.isfinite(values)])
    n = values.size
    theory = scipy.stats.norm.ppf((np.arange(1, n + 1) - 0.5) / n)
    ax = _get_ax(ax)
    points = {"s": 24, "color": ONE_COLOR, "alpha": 0.8, **kwargs}
    ax.scatter(theory, values, gid="quantiles", **points)
    q1, q3 = np.quantile(values, [0.25, 0.75])
    z1, z3 = scipy.stats.norm.ppf([0.25, 0.75])
    slope = (q3 - q1) / (z3 - z1)
    ends = np.array([theory.min(), theory.max()])
    ax.plot(
        ends,
        q1 + slope * (ends - z1),
        color=style.POPULATION_COLOR,
        linestyle="--",
        linewidth=1.5,
        label="Normal (through the quartiles)",
        gid="reference",
    )
    ax.set_xlabel("Normal quantile (SDs from the mean)")
    if unit_of is not None:
        ax.set_ylabel(f"{what}{_unit_suffix(unit_of)}")
        style.format_axis(ax, y=unit_of)
    else:
        unit = style.slope_unit(result.y, result.x) if result.x else ""
        ax.set_ylabel(f"{what} ({unit})" if unit else what)
    ax.set_title(title if title is not None else default_title)
    ax.legend(loc="upper left")
    return ax


@fill
def replicates_plot(
    result: FitResult,
    data: Any,
    *,
    n_replicates: int = 5,
    seed: checking.Seed = None,
    ncols: int = 3,
    title: str | None = None,
    **kwargs: Any,
) -> Figure:
    """The real data beside data sets simulated from the fitted model, on the same axes.

    The first panel is the real data, the others are replicates from
    :func:`multilevel.checking.simulate_replicates`. If the model describes the data, the
    real panel does not stand out; whatever makes it stand out is what the model misses.

    Parameters
    ----------
    result : FitResult
    {fitted_data}
    n_replicates : int
        Number of simulated panels.
    {seed}
    {ncols}
    title : str, optional
        The figure's title.
    **kwargs
        Passed on to each panel's :meth:`~matplotlib.axes.Axes.scatter` (or
        :meth:`~matplotlib.axes.Axes.hist` for a model without predictor).

    Returns
    -------
    Figure
        The real data's panel first, then one panel per replicate.

    Examples
    --------
    >>> import matplotlib.pyplot as plt, multilevel as ml, simdata
    >>> sim = simdata.faculty_salaries(seed=4)
    >>> fig = replicates_plot(ml.fit(sim), sim, n_replicates=2, seed=1)
    >>> len(fig.axes)
    3
    >>> plt.close("all")
    """
    if not isinstance(ncols, int) or ncols < 1:
        raise ValueError(f"ncols must be a positive integer, got {ncols!r}")
    real = checking.residual_table(result, data)
    reps = checking.simulate_replicates(result, data, n_replicates=n_replicates, seed=seed)
    panels = [("Real data", real)] + [
        (f"Replicate {r}", part) for r, part in reps.groupby("replicate", sort=True)
    ]
    nrows = math.ceil(len(panels) / ncols)
    cols = min(ncols, len(panels))
    fig, axes = plt.subplots(
        nrows,
        cols,
        figsize=(3.6 * cols + 1.8, 3.2 * nrows + 0.6),
        sharex=True,
        sharey=True,
        squeeze=False,
    )
    styles = style.group_styles(list(result.group_lines.index))
    x = result.x
    for ax, (name, frame) in zip(axes.flat, panels, strict=False):
        labels = frame[result.group].astype(object).to_numpy()
        if x is not None:
            # One scatter per marker shape, so the points carry the shapes the legend shows.
            markers = np.array([styles[g].marker for g in labels], dtype=object)
            colors = np.array([styles[g].color for g in labels], dtype=object)
            points = {"s": 10, "alpha": 0.6, "linewidths": 0, **kwargs}
            for marker in dict.fromkeys(markers):
                keep = markers == marker
                ax.scatter(
                    frame[x].to_numpy()[keep],
                    frame[result.y].to_numpy()[keep],
                    c=list(colors[keep]),
                    marker=marker,
                    **points,
                )
            style.format_axis(ax, x=x, y=result.y)
        else:
            bars = {"bins": 20, "color": ONE_COLOR, "alpha": 0.8, **kwargs}
            ax.hist(frame[result.y], **bars)
            style.format_axis(ax, x=result.y)
        ax.set_title(name, fontweight="bold" if name == "Real data" else "normal")
    for ax in axes.flat[len(panels) :]:
        ax.set_visible(False)
    for ax in axes[-1, :]:
        ax.set_xlabel(style.axis_label(x) if x is not None else style.axis_label(result.y))
    for ax in axes[:, 0]:
        ax.set_ylabel(style.axis_label(result.y) if x is not None else "Count")
    if title is None:
        title = "Real data and data simulated from the fitted model"
    fig.suptitle(title)
    handles = _group_handles(styles)
    if x is not None and len(handles) <= _MANY_GROUPS:
        fig.legend(handles=handles, title=_noun(result.group).capitalize(), loc="outside right")
    return fig


@fill
def replicate_statistic_plot(
    statistics: pd.Series,
    *,
    label: str,
    ax: Axes | None = None,
    title: str | None = None,
    **kwargs: Any,
) -> Axes:
    """Histogram of a statistic over replicated data sets, with the real data's value.

    Parameters
    ----------
    statistics : pandas.Series
        From :func:`multilevel.checking.replicate_statistics`: the real value first, then one
        value per replicate.
    label : str
        What the statistic is, with its unit, for the axis label (e.g. ``"Skewness of
        salary"``).
    {ax}
    {title}
    **kwargs
        Passed on to :meth:`~matplotlib.axes.Axes.hist` for the replicates' bars.

    Returns
    -------
    Axes
        The legend states the share of replicates at or above the real value.

    Examples
    --------
    >>> import matplotlib.pyplot as plt, multilevel as ml, simdata
    >>> sim = simdata.faculty_salaries(seed=5)
    >>> stats = ml.checking.replicate_statistics(
    ...     ml.fit(sim), sim, lambda d: d["salary"].skew(), n_replicates=20, seed=1
    ... )
    >>> ax = replicate_statistic_plot(stats, label="Skewness of salary")
    >>> plt.close("all")
    """
    if not isinstance(statistics, pd.Series) or len(statistics) < 2:
        raise ValueError(
            "statistics must be a Series from checking.replicate_statistics (real value "
            f"first, then at least one replicate), got {type(statistics).__name__}"
        )
    real = float(statistics.iloc[0])
    reps = statistics.iloc[1:].to_numpy(dtype=float)
    share = float(np.mean(reps >= real))
    ax = _get_ax(ax)
    bars = {
        "bins": min(30, max(5, reps.size // 5)),
        "color": style.OKABE_ITO["sky blue"],
        "edgecolor": "white",
        **kwargs,
    }
    ax.hist(reps, label=f"{reps.size} data sets simulated from the model", gid="replicates", **bars)
    ax.axvline(
        real,
        color=style.OKABE_ITO["vermillion"],
        linewidth=3,
        label=f"Real data ({share:.0%} of replicates at or above)",
        gid="real",
    )
    ax.set_xlabel(label)
    ax.set_ylabel("Number of replicated data sets")
    ax.set_title(title if title is not None else "Real data against data simulated from the model")
    # Headroom above the bars keeps the legend off them.
    ax.set_ylim(0, ax.get_ylim()[1] * 1.35)
    ax.legend(loc="upper left", frameon=True, framealpha=0.9, edgecolor="none")
    return ax
