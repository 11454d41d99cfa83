"""Fitted lines by group, for one model or the four models side by side."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from .. import style, units
from .._docstrings import fill
from ..models import FitResult
from ._common import (
    DASHED,
    MANY_GROUPS,
    Data,
    check_result,
    fit_model,
    fresh_figure,
    get_ax,
    group_handles,
    group_line_y,
    group_noun,
    label_axes,
    legend_key,
    line_span,
    line_width,
    model_formula,
    model_title,
    place_legend,
    population_line_y,
    resolve_data,
    scatter_groups,
)

FOUR_MODELS: tuple[str, ...] = (
    "complete_pooling",
    "varying_intercepts",
    "varying_slopes",
    "varying_both",
)

# ------------------------------------------------------------------ fitted lines by group


@dataclass
class FittedLines:
    """The artists one :func:`draw_fitted_lines` call made, for cheap in-place updates.

    Attributes
    ----------
    ax : Axes
    lines : dict
        ``{group: Line2D}``; empty for complete pooling (one line for everyone).
    population : Line2D or None
        The pooled line (complete pooling) or the population line (fixed effects).
    points : list of PathCollection
        The data points.
    x_range : tuple of float
        The predictor range the lines span (original units).
    handles : list
        Legend handles (groups, then the population line).
    """

    ax: Axes
    lines: dict[Any, Line2D] = field(default_factory=dict)
    population: Line2D | None = None
    points: list[PathCollection] = field(default_factory=list)
    x_range: tuple[float, float] = (0.0, 1.0)
    handles: list[Any] = field(default_factory=list)


@fill
def draw_fitted_lines(
    result: FitResult,
    data: pd.DataFrame | None = None,
    *,
    ax: Axes | None = None,
    x_range: tuple[float, float] | None = None,
    show_data: bool = True,
    show_population: bool | None = None,
    styles: Mapping[Any, style.GroupStyle] | None = None,
    **kwargs: Any,
) -> FittedLines:
    """Draw data points by group and the fitted line(s) of ``result``; no labels.

    The lower-level worker behind :func:`fitted_lines_plot` and :func:`four_models_plot`, for
    a figure that follows a changing fit: keep the returned :class:`FittedLines` and move its
    lines with :func:`update_fitted_lines` instead of drawing again.

    Parameters
    ----------
    result : FitResult
    data : DataFrame, optional
        The data that was fitted (needed for points and, without ``x_range``, the line span).
    x_range : (float, float), optional
        Span of the lines in predictor units; default the range of ``data[result.x]``.
    {show_data}
    show_population : bool, optional
        Draw the population line (fixed effects) under the group lines; default on for
        multilevel models, off for no pooling. Complete pooling always shows its one line.
    styles : mapping, optional
        ``{group: GroupStyle}``; default :func:`multilevel.style.group_styles` of all groups.
    {ax}
    {line_kwargs}

    Returns
    -------
    FittedLines
        The artists drawn, for :func:`update_fitted_lines` to move.

    Examples
    --------
    >>> import matplotlib.pyplot as plt, multilevel as ml
    >>> from simdata import faculty_salaries
    >>> sim = faculty_salaries(seed=1)
    >>> fig, ax = plt.subplots()
    >>> drawn = draw_fitted_lines(ml.fit(sim, model="varying_intercepts"), sim.data, ax=ax)
    >>> len(drawn.lines)
    8
    >>> plt.close(fig)
    """
    check_result(result)
    ax = get_ax(ax)
    gl = result.group_lines
    groups = list(gl.index)
    if styles is None:
        source = data[result.group] if data is not None else gl.index
        styles = style.group_styles(list(source) + groups)
    x_ends = line_span(data, result.x, x_range)
    drawn = FittedLines(ax=ax, x_range=(float(x_ends[0]), float(x_ends[1])))
    if show_data and data is not None:
        drawn.points = scatter_groups(ax, data, result.x, result.y, result.group, styles)

    pooled = result.model == "complete_pooling"
    if not pooled:
        for g in groups:
            (line,) = ax.plot(
                x_ends,
                group_line_y(result, g, x_ends),
                **{
                    "color": styles[g].color,
                    "linestyle": styles[g].linestyle,
                    "linewidth": line_width(),
                    "label": str(g),
                    "gid": "group-line",
                    "zorder": 3,
                    **kwargs,
                },
            )
            drawn.lines[g] = line
    if show_population is None:
        show_population = result.model != "no_pooling"
    if pooled or show_population:
        (line,) = ax.plot(
            x_ends,
            population_line_y(result, x_ends),
            color=style.POPULATION_COLOR,
            linestyle="-" if pooled else DASHED,
            linewidth=line_width(1.6 if pooled else 1.2),
            label="Pooled line (everyone)" if pooled else "Population line (fixed effects)",
            gid="population-line",
            zorder=4,
        )
        drawn.population = line
    seen = list(dict.fromkeys(list(data[result.group]) if data is not None else groups))
    ordered = [g for g in styles if g in set(seen) | set(groups)]
    drawn.handles = group_handles(styles, ordered)
    if pooled:
        # Points carry the colour; the handles show markers only.
        for h in drawn.handles:
            h.set_linestyle("none")
    if drawn.population is not None:
        drawn.handles.append(
            legend_key(
                drawn.population.get_label(),
                color=style.POPULATION_COLOR,
                linestyle=drawn.population.get_linestyle(),
                linewidth=drawn.population.get_linewidth(),
            )
        )
    return drawn


def update_fitted_lines(drawn: FittedLines, result: FitResult) -> FittedLines:
    """Move already-drawn lines to a new fit of the same groups, without redrawing points.

    Parameters
    ----------
    drawn : FittedLines
        From :func:`draw_fitted_lines` (same model family: group lines or a pooled line).
    result : FitResult
        The new fit.

    Returns
    -------
    FittedLines
        ``drawn``, updated in place.

    Examples
    --------
    >>> import matplotlib.pyplot as plt, multilevel as ml, simdata
    >>> sim = simdata.faculty_salaries(seed=1)
    >>> drawn = draw_fitted_lines(ml.fit(sim, model="varying_intercepts"), sim.data)
    >>> drawn = update_fitted_lines(drawn, ml.fit(sim, model="varying_both"))  # same points
    >>> plt.close("all")
    """
    check_result(result)
    x_ends = np.asarray(drawn.x_range, dtype=float)
    for g, line in drawn.lines.items():
        if g in result.group_lines.index:
            line.set_ydata(group_line_y(result, g, x_ends))
    if drawn.population is not None:
        drawn.population.set_ydata(population_line_y(result, x_ends))
    return drawn


@fill
def fitted_lines_plot(
    result: FitResult,
    data: Data | None = None,
    *,
    ax: Axes | None = None,
    show_data: bool = True,
    show_population: bool | None = None,
    x_range: tuple[float, float] | None = None,
    legend: bool = True,
    max_legend: int = MANY_GROUPS,
    title: str | None = None,
    **kwargs: Any,
) -> Axes:
    """Data points by group with one fitted line per group, for any fitted model.

    Complete pooling draws its one line (thick black); every other model draws one line per
    group from ``result.group_lines``, in the group's colour, and multilevel models add the
    population line (fixed effects, dashed black).

    Parameters
    ----------
    result : FitResult
        From ``multilevel.fit``.
    data : DataFrame or SimulatedData, optional
        The fitted data, for the points and the span of the lines.
    {ax}
    {show_data}
    show_population : bool, optional
        Draw the population line; default on except for no pooling.
    x_range : (float, float), optional
        Span of the lines in predictor units (needed when ``data`` is None).
    legend : bool
        Show a legend of groups (when there are at most ``max_legend`` of them).
    max_legend : int
        Above this many groups the colours only separate groups, so no group legend.
    title : str, optional
        Default: the model's name, e.g. "Varying intercepts: salary by department".
    {line_kwargs}

    Returns
    -------
    Axes
        The panel: a line per group, over the data points unless ``show_data=False``.

    Examples
    --------
    >>> import multilevel as ml, simdata
    >>> sim = simdata.faculty_salaries(seed=1)
    >>> ax = fitted_lines_plot(ml.fit(sim, model="varying_both"), sim)
    """
    check_result(result)
    frame = None
    if data is not None:
        frame, *_ = resolve_data(data, result.y, result.x, result.group)
    ax = get_ax(ax)
    drawn = draw_fitted_lines(
        result,
        frame,
        ax=ax,
        x_range=x_range,
        show_data=show_data,
        show_population=show_population,
        **kwargs,
    )
    label_axes(ax, result.y, result.x)
    ax.set_title(
        title if title is not None else f"{model_title(result.model)}: {result.y} by {result.group}"
    )
    if legend:
        handles = drawn.handles
        if len(result.group_lines) > max_legend:
            handles = [h for h in handles if h.get_label().startswith(("Pooled", "Population"))]
        if handles:
            place_legend(ax, handles, title=group_noun(result.group).capitalize())
    return ax


# ------------------------------------------------------------------------ the 2x2 graph


def _fit_many(
    frame: pd.DataFrame,
    y: str,
    x: str,
    group: str,
    models: Sequence[str],
    results: Mapping[str, FitResult] | None,
    fit_kwargs: Mapping[str, Any] | None,
) -> dict[str, FitResult]:
    given = dict(results or {})
    out = {}
    for m in models:
        out[m] = (
            given[m] if m in given else fit_model(frame, y, x, group, m, **dict(fit_kwargs or {}))
        )
        check_result(out[m], f"results[{m!r}]")
    return out


@fill
def four_models_plot(
    data: Data,
    *,
    y: str | None = None,
    x: str | None = None,
    group: str | None = None,
    results: Mapping[str, FitResult] | None = None,
    fit_kwargs: Mapping[str, Any] | None = None,
    show_population: bool = True,
    fig: Figure | None = None,
    figsize: tuple[float, float] | None = None,
    title: str | None = None,
    **kwargs: Any,
) -> Figure:
    """The seed module's graph: complete pooling, varying intercepts, varying slopes, and both.

    Four panels with shared axes, the same data points in each, one fitted line per group
    (one line for complete pooling), the lme4 formula under each title, and one legend.

    Parameters
    ----------
    data : DataFrame or SimulatedData
    {columns}
    results : mapping, optional
        Fits already made, ``{model: FitResult}``; missing models are fitted here.
    {fit_kwargs}
    show_population : bool
        Draw the population line (dashed black) in the multilevel panels.
    fig : Figure, optional
        Draw into this figure (cleared first), e.g. one a widget keeps; default a new one.
    figsize : (float, float), optional
        Size of a new figure in inches; default twice the course's single-panel height.
    title : str, optional
        Figure title; default "Four ways to model salary by department".
    **kwargs
        Passed on to matplotlib's ``Axes.plot`` for each group's line in every panel.

    Returns
    -------
    Figure
        Its four axes are ``fig.axes[:4]`` in reading order.

    Examples
    --------
    >>> from simdata import faculty_salaries
    >>> fig = four_models_plot(faculty_salaries(seed=1))
    >>> [ax.get_title() for ax in fig.axes[:2]]
    ['Complete pooling', 'Varying intercepts']
    """
    frame, y, x, group = resolve_data(data, y, x, group)
    fits = _fit_many(frame, y, x, group, FOUR_MODELS, results, fit_kwargs)
    fig = fresh_figure(fig, figsize, lambda w, h: (w * 1.45, h * 1.75))
    axes = fig.subplots(2, 2, sharex=True, sharey=True).ravel()
    styles = style.group_styles(frame[group])
    x_ends = line_span(frame, x, None)
    handles: list[Any] = []
    for ax, model in zip(axes, FOUR_MODELS, strict=True):
        drawn = draw_fitted_lines(
            fits[model],
            frame,
            ax=ax,
            x_range=(float(x_ends[0]), float(x_ends[1])),
            show_population=show_population or model == "complete_pooling",
            styles=styles,
            **kwargs,
        )
        ax.set_title(model_title(model), pad=float(plt.rcParams["font.size"]) * 1.6)
        ax.annotate(
            model_formula(model, y, x, group),
            xy=(0.5, 1.0),
            xycoords="axes fraction",
            xytext=(0, 4),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize="small",
            color="0.25",
        )
        style.format_axis(ax, x=x, y=y)
        if model == "complete_pooling":
            pooled_handle = drawn.handles[-1]
        elif not handles:
            handles = drawn.handles
    for ax in axes[2:]:
        ax.set_xlabel(units.axis_label(x))
    for ax in axes[::2]:
        ax.set_ylabel(units.axis_label(y))
    # Groups, then both black lines, so the one legend explains every panel.
    legend_handles = [h for h in handles if not h.get_label().startswith("Population")]
    legend_handles.append(pooled_handle)
    legend_handles += [h for h in handles if h.get_label().startswith("Population")]
    if len(fits["varying_both"].group_lines) > MANY_GROUPS:
        legend_handles = legend_handles[-2:]
    fig.legend(
        handles=legend_handles,
        loc="outside right upper",
        title=group_noun(group).capitalize(),
    )
    fig.suptitle(title if title is not None else f"Four ways to model {y} by {group_noun(group)}")
    return fig
