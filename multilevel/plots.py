"""The course's figures: fitted lines by group, the four models, pooling, shrinkage and truth.

Every function works like a seaborn function: tidy data and column names in, keyword-only
options, ``ax=None`` draws on the given axes (or the current one), and the function returns what
it drew: the :class:`~matplotlib.axes.Axes`, or the :class:`~matplotlib.figure.Figure` for
multi-panel figures. Axis labels come from the column names with their units ("Salary ($)",
"Experience (years)"), colours from the Okabe-Ito palette in :mod:`multilevel.style`.

Lines are drawn from a fit's ``group_lines`` (see ``multilevel.fit``), so any model can be
shown; functions that compare models fit them for you from ``data`` unless you pass fits in.

Example
-------
>>> import matplotlib.pyplot as plt
>>> import multilevel as ml
>>> from multilevel import plots
>>> from simdata import faculty_salaries
>>> sim = faculty_salaries(seed=1)
>>> fig = plots.four_models_plot(sim)                     # the 2x2 graph
>>> ax = plots.shrinkage_plot(sim, parameter="intercept")  # no pooling -> partial pooling
>>> plt.close("all")
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter, NullLocator

from . import style

__all__ = [
    "MODEL_TITLES",
    "FittedLines",
    "draw_fitted_lines",
    "update_fitted_lines",
    "fitted_lines_plot",
    "four_models_plot",
    "pooling_plot",
    "pooling_grid",
    "shrinkage_plot",
    "truth_plot",
    "caterpillar_plot",
    "pooling_error_plot",
]

#: Plain-English names of the models, used in titles.
MODEL_TITLES: Mapping[str, str] = {
    "complete_pooling": "Complete pooling",
    "no_pooling": "No pooling",
    "varying_intercepts": "Varying intercepts",
    "varying_slopes": "Varying slopes",
    "varying_both": "Varying intercepts and slopes",
    "varying_both_uncorrelated": "Varying intercepts and slopes (uncorrelated)",
}

FOUR_MODELS: tuple[str, ...] = (
    "complete_pooling",
    "varying_intercepts",
    "varying_slopes",
    "varying_both",
)

_PARAMETERS = ("intercept", "slope")
_NO_POOLING_FOR = {
    "varying_intercepts": "intercepts",
    "varying_slopes": "slopes",
    "varying_both": "both",
    "varying_both_uncorrelated": "both",
}


# ------------------------------------------------------------------------------ helpers


def _fit(data: pd.DataFrame, y: str, x: str, group: str, model: str, **kwargs: Any) -> Any:
    # Imported here: models never import plots, and plots stay importable on their own.
    from .models import fit

    return fit(data, y=y, x=x, group=group, model=model, **kwargs)


def _resolve_data(
    data: Any, y: str | None, x: str | None, group: str | None
) -> tuple[pd.DataFrame, str, str, str]:
    """Accept a DataFrame with column names, or a SimulatedData that knows its own."""
    if hasattr(data, "data") and hasattr(data, "truth") and hasattr(data, "group"):
        y = y or data.y
        x = x or data.x
        group = group or data.group
        data = data.data
    if not isinstance(data, pd.DataFrame):
        raise ValueError(
            f"data must be a pandas DataFrame or a simdata.SimulatedData, got {type(data).__name__}"
        )
    for name, column in (("y", y), ("x", x), ("group", group)):
        if column is None:
            raise ValueError(f"{name} must name a column of data; got None")
        if column not in data.columns:
            raise ValueError(
                f"{name}={column!r} is not a column of data; columns are {list(data.columns)}"
            )
    return data, str(y), str(x), str(group)


def _check_result(result: Any, name: str = "result") -> None:
    needed = ("group_lines", "fixed_effects", "model", "y", "x", "group")
    if not all(hasattr(result, a) for a in needed):
        raise ValueError(
            f"{name} must be a FitResult from multilevel.fit, got {type(result).__name__}"
        )


def _check_parameter(parameter: str) -> None:
    if parameter not in _PARAMETERS:
        raise ValueError(f"parameter must be 'intercept' or 'slope', got {parameter!r}")


def _get_ax(ax: Axes | None) -> Axes:
    if ax is None:
        return plt.gca()
    if not isinstance(ax, Axes):
        raise ValueError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax


def _center(result: Any) -> float:
    return float(getattr(result, "center", 0.0) or 0.0)


def line_y(result: Any, intercept: float, slope: float, xs: np.ndarray) -> np.ndarray:
    """Heights of a line from ``group_lines`` at predictor values ``xs`` (original scale)."""
    return intercept + slope * (np.asarray(xs, dtype=float) - _center(result))


def _group_line_y(result: Any, g: Any, xs: np.ndarray) -> np.ndarray:
    """Heights of group ``g``'s fitted line at ``xs``."""
    gl = result.group_lines
    return line_y(result, float(gl.at[g, "intercept"]), float(gl.at[g, "slope"]), xs)


def _population_line_y(result: Any, xs: np.ndarray) -> np.ndarray:
    """Heights of the population line (the fixed effects) at ``xs``."""
    fe = result.fixed_effects["estimate"]
    return line_y(result, float(fe["intercept"]), float(fe["slope"]), xs)


def _x_ends(frame: pd.DataFrame | None, x: str, x_range: tuple[float, float] | None) -> np.ndarray:
    """The two ends of the lines: ``x_range``, or else the range of ``frame[x]``."""
    if x_range is not None:
        return np.asarray(x_range, dtype=float)
    if frame is None:
        raise ValueError("x_range must be given when data is None, e.g. x_range=(0, 25)")
    xs = frame[x].to_numpy(dtype=float)
    return np.array([np.nanmin(xs), np.nanmax(xs)])


def _lw(scale: float = 1.0) -> float:
    return float(plt.rcParams["lines.linewidth"]) * scale


def _ms(scale: float = 1.0) -> float:
    return float(plt.rcParams["lines.markersize"]) * scale


def _title(model: str) -> str:
    return MODEL_TITLES.get(model, str(model).replace("_", " ").capitalize())


def _formula(model: str, y: str, x: str, group: str) -> str:
    """The lme4-style formula students see next to each panel."""
    return {
        "complete_pooling": f"{y} ~ {x}",
        "no_pooling": f"{y} ~ {x}, one fit per {group}",
        "varying_intercepts": f"{y} ~ {x} + (1 | {group})",
        "varying_slopes": f"{y} ~ {x} + (0 + {x} | {group})",
        "varying_both": f"{y} ~ {x} + (1 + {x} | {group})",
        "varying_both_uncorrelated": f"{y} ~ {x} + (1 + {x} || {group})",
    }.get(model, "")


def _group_noun(group: str) -> str:
    return str(group).replace("_", " ")


def _parameter_label(result: Any, parameter: str) -> str:
    """'Intercept: salary at experience = 0 ($)' or 'Slope ($ per year of experience)'."""
    y, x = result.y, result.x
    if parameter == "intercept":
        unit = style.unit_of(y)
        text = f"Intercept: {y} at {x} = {_center(result):g}"
        return f"{text} ({unit})" if unit else text
    return f"Slope ({style.slope_unit(y, x)})"


def _param_axis_format(axis: Any, result: Any, parameter: str) -> None:
    # Raises of $1,400 a year read better in full than as $1.4k.
    if style.unit_of(result.y) == "$":
        axis.set_major_formatter(style.dollar_formatter(short=parameter == "intercept"))


#: The dash pattern of population lines and of no-pooling lines (4 points on, 2 off).
_DASHED = (0, (4, 2))
#: Past this many groups colours no longer name them: figures drop the group legend (and the
#: estimate plots draw every group in one colour).
_MANY_GROUPS = 12
_FEW_LEVELS = 5
_ONE_COLOR = style.OKABE_ITO["blue"]


def _wrap_to_axes(ax: Axes, text: str, *, along: str = "title") -> str:
    """Wrap a ``"title"``, ``"xlabel"`` or ``"ylabel"`` to about the size of ``ax``.

    Equal-aspect axes are taken as a square. The size is read before the layout engine has
    made room for labels and legends, so a little less of it is used.
    """
    fig = ax.get_figure()
    pos = ax.get_position()
    width = pos.width * fig.get_figwidth()
    height = pos.height * fig.get_figheight()
    if ax.get_aspect() == 1.0:
        width = height = min(width, height)
    key = "axes.titlesize" if along == "title" else "axes.labelsize"
    size = FontProperties(size=plt.rcParams[key]).get_size_in_points()
    room = height if along == "ylabel" else width
    # A character is about 0.6 em wide; 72 points per inch.
    chars = max(18, int(0.95 * room * 72 / (0.6 * size)))
    # A unit in brackets stays with the word before it: "= 0 ($)", not a lone "($)".
    nbsp = "\N{NO-BREAK SPACE}"
    text = text.replace(" (", f"{nbsp}(").replace(" = ", f"{nbsp}={nbsp}")
    return "\n".join(textwrap.fill(line, chars) for line in text.split("\n"))


def _colors_or_one(styles: Mapping[Any, style.GroupStyle], groups: Sequence[Any]) -> list[str]:
    """Group colours, or one colour when there are too many groups for colours to name them."""
    if len(groups) > _MANY_GROUPS:
        return [_ONE_COLOR] * len(groups)
    return [styles[g].color for g in groups]


def _legend_key(label: str, **line: Any) -> Line2D:
    """A legend entry drawn like a line or marker that is not on the axes."""
    return Line2D([], [], label=label, **line)


def _group_handles(styles: Mapping[Any, style.GroupStyle], groups: Sequence[Any]) -> list[Line2D]:
    return [
        _legend_key(
            str(g),
            color=styles[g].color,
            linestyle=styles[g].linestyle,
            marker=styles[g].marker,
            linewidth=_lw(),
            markersize=_ms(),
        )
        for g in groups
    ]


def _format_group_size_axis(ax: Axes, *, log_n: bool) -> None:
    """Ticks of an x axis of group sizes: whole numbers, or 1-2-5 steps on a log scale."""
    if log_n:
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _fresh_figure(
    fig: Figure | None,
    figsize: tuple[float, float] | None,
    default_size: Callable[[float, float], tuple[float, float]],
) -> Figure:
    """``fig`` cleared, or a new constrained-layout figure.

    ``default_size`` turns the course's single-panel width and height (inches) into the size
    of a new figure when ``figsize`` is not given.
    """
    if fig is not None:
        fig.clear()
        return fig
    if figsize is None:
        figsize = default_size(*plt.rcParams["figure.figsize"])
    return plt.figure(figsize=figsize, layout="constrained")


def _place_legend(ax: Axes, handles: list[Any], *, title: str | None = None) -> Any:
    return ax.legend(
        handles=handles,
        title=title,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        borderaxespad=0.0,
    )


def _scatter_groups(
    ax: Axes,
    data: pd.DataFrame,
    x: str,
    y: str,
    group: str,
    styles: Mapping[Any, style.GroupStyle],
    *,
    alpha: float = 0.55,
) -> list[PathCollection]:
    """Data points coloured by group; one scatter call per marker shape (fast for many groups)."""
    labels = data[group].astype(object).to_numpy()
    colors = np.array([styles[g].color for g in labels], dtype=object)
    markers = np.array([styles[g].marker for g in labels], dtype=object)
    xs = data[x].to_numpy(dtype=float)
    ys = data[y].to_numpy(dtype=float)
    levels = np.unique(xs[np.isfinite(xs)])
    if 1 < len(levels) <= _FEW_LEVELS:
        # A predictor with a few values (floor 0/1) stacks points into columns; spread them a
        # little, the same way every time (a golden-ratio sequence, no randomness).
        step = float(np.min(np.diff(levels)))
        xs = xs + ((np.arange(len(xs)) * 0.6180339887) % 1.0 - 0.5) * 0.15 * step
        ax.set_xticks(levels)
    drawn = []
    for marker in dict.fromkeys(markers):
        keep = markers == marker
        drawn.append(
            ax.scatter(
                xs[keep],
                ys[keep],
                c=list(colors[keep]),
                marker=marker,
                s=_ms(0.9) ** 2,
                alpha=alpha,
                linewidths=0,
                zorder=1,
            )
        )
    return drawn


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


def draw_fitted_lines(
    ax: Axes,
    result: Any,
    data: pd.DataFrame | None = None,
    *,
    x_range: tuple[float, float] | None = None,
    show_data: bool = True,
    show_population: bool | None = None,
    styles: Mapping[Any, style.GroupStyle] | None = None,
) -> FittedLines:
    """Draw data points by group and the fitted line(s) of ``result`` on ``ax``; no labels.

    The lower-level worker behind :func:`fitted_lines_plot` and :func:`four_models_plot`;
    widgets keep the returned :class:`FittedLines` and call :func:`update_fitted_lines`.

    Parameters
    ----------
    ax : Axes
    result : FitResult
    data : DataFrame, optional
        The data that was fitted (needed for points and, without ``x_range``, the line span).
    x_range : (float, float), optional
        Span of the lines in predictor units; default the range of ``data[result.x]``.
    show_data : bool
        Draw the data points.
    show_population : bool, optional
        Draw the population line (fixed effects) under the group lines; default on for
        multilevel models, off for no pooling. Complete pooling always shows its one line.
    styles : mapping, optional
        ``{group: GroupStyle}``; default :func:`multilevel.style.group_styles` of all groups.

    Returns
    -------
    FittedLines

    Example
    -------
    >>> import matplotlib.pyplot as plt, multilevel as ml
    >>> from simdata import faculty_salaries
    >>> sim = faculty_salaries(seed=1)
    >>> fig, ax = plt.subplots()
    >>> drawn = draw_fitted_lines(ax, ml.fit(sim, model="varying_intercepts"), sim.data)
    >>> len(drawn.lines)
    8
    >>> plt.close(fig)
    """
    _check_result(result)
    gl = result.group_lines
    groups = list(gl.index)
    if styles is None:
        source = data[result.group] if data is not None else gl.index
        styles = style.group_styles(list(source) + groups)
    x_ends = _x_ends(data, result.x, x_range)
    drawn = FittedLines(ax=ax, x_range=(float(x_ends[0]), float(x_ends[1])))
    if show_data and data is not None:
        drawn.points = _scatter_groups(ax, data, result.x, result.y, result.group, styles)

    pooled = result.model == "complete_pooling"
    if not pooled:
        for g in groups:
            (line,) = ax.plot(
                x_ends,
                _group_line_y(result, g, x_ends),
                color=styles[g].color,
                linestyle=styles[g].linestyle,
                linewidth=_lw(),
                label=str(g),
                gid="group-line",
                zorder=3,
            )
            drawn.lines[g] = line
    if show_population is None:
        show_population = result.model != "no_pooling"
    if pooled or show_population:
        (line,) = ax.plot(
            x_ends,
            _population_line_y(result, x_ends),
            color=style.POPULATION_COLOR,
            linestyle="-" if pooled else _DASHED,
            linewidth=_lw(1.6 if pooled else 1.2),
            label="Pooled line (everyone)" if pooled else "Population line (fixed effects)",
            gid="population-line",
            zorder=4,
        )
        drawn.population = line
    seen = list(dict.fromkeys(list(data[result.group]) if data is not None else groups))
    ordered = [g for g in styles if g in set(seen) | set(groups)]
    drawn.handles = _group_handles(styles, ordered)
    if pooled:
        # Points carry the colour; the handles show markers only.
        for h in drawn.handles:
            h.set_linestyle("none")
    if drawn.population is not None:
        drawn.handles.append(
            _legend_key(
                drawn.population.get_label(),
                color=style.POPULATION_COLOR,
                linestyle=drawn.population.get_linestyle(),
                linewidth=drawn.population.get_linewidth(),
            )
        )
    return drawn


def update_fitted_lines(drawn: FittedLines, result: Any) -> FittedLines:
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

    Example
    -------
    >>> import matplotlib.pyplot as plt, multilevel as ml
    >>> from simdata import faculty_salaries
    >>> sim = faculty_salaries(seed=1)
    >>> fig, ax = plt.subplots()
    >>> drawn = draw_fitted_lines(ax, ml.fit(sim, model="varying_intercepts"), sim.data)
    >>> drawn = update_fitted_lines(drawn, ml.fit(sim, model="varying_both"))
    >>> plt.close(fig)
    """
    _check_result(result)
    x_ends = np.asarray(drawn.x_range, dtype=float)
    for g, line in drawn.lines.items():
        if g in result.group_lines.index:
            line.set_ydata(_group_line_y(result, g, x_ends))
    if drawn.population is not None:
        drawn.population.set_ydata(_population_line_y(result, x_ends))
    return drawn


def _label_axes(ax: Axes, y: str, x: str) -> None:
    ax.set_xlabel(style.axis_label(x))
    ax.set_ylabel(style.axis_label(y))
    style.format_axis(ax, x=x, y=y)


def fitted_lines_plot(
    result: Any,
    data: Any = None,
    *,
    ax: Axes | None = None,
    show_data: bool = True,
    show_population: bool | None = None,
    x_range: tuple[float, float] | None = None,
    legend: bool = True,
    max_legend: int = _MANY_GROUPS,
    title: str | None = None,
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
    ax : Axes, optional
        Draw here; default the current axes.
    show_data : bool
        Draw the data points.
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

    Returns
    -------
    Axes

    Example
    -------
    >>> import multilevel as ml
    >>> from simdata import faculty_salaries
    >>> sim = faculty_salaries(seed=1)
    >>> ax = fitted_lines_plot(ml.fit(sim, model="varying_both"), sim)
    """
    _check_result(result)
    frame = None
    if data is not None:
        frame, *_ = _resolve_data(data, result.y, result.x, result.group)
    ax = _get_ax(ax)
    drawn = draw_fitted_lines(
        ax,
        result,
        frame,
        x_range=x_range,
        show_data=show_data,
        show_population=show_population,
    )
    _label_axes(ax, result.y, result.x)
    ax.set_title(
        title if title is not None else f"{_title(result.model)}: {result.y} by {result.group}"
    )
    if legend:
        handles = drawn.handles
        if len(result.group_lines) > max_legend:
            handles = [h for h in handles if h.get_label().startswith(("Pooled", "Population"))]
        if handles:
            _place_legend(ax, handles, title=_group_noun(result.group).capitalize())
    return ax


# ------------------------------------------------------------------------ the 2x2 graph


def _fit_many(
    frame: pd.DataFrame,
    y: str,
    x: str,
    group: str,
    models: Sequence[str],
    results: Mapping[str, Any] | None,
    fit_kwargs: Mapping[str, Any] | None,
) -> dict[str, Any]:
    given = dict(results or {})
    out = {}
    for m in models:
        out[m] = given[m] if m in given else _fit(frame, y, x, group, m, **dict(fit_kwargs or {}))
        _check_result(out[m], f"results[{m!r}]")
    return out


def four_models_plot(
    data: Any,
    *,
    y: str | None = None,
    x: str | None = None,
    group: str | None = None,
    results: Mapping[str, Any] | None = None,
    fit_kwargs: Mapping[str, Any] | None = None,
    show_population: bool = True,
    fig: Figure | None = None,
    figsize: tuple[float, float] | None = None,
    title: str | None = None,
) -> Figure:
    """The seed module's graph: complete pooling, varying intercepts, varying slopes, and both.

    Four panels with shared axes, the same data points in each, one fitted line per group
    (one line for complete pooling), the lme4 formula under each title, and one legend.

    Parameters
    ----------
    data : DataFrame or SimulatedData
    y, x, group : str, optional
        Column names (taken from a SimulatedData when not given).
    results : mapping, optional
        Fits already made, ``{model: FitResult}``; missing models are fitted here.
    fit_kwargs : mapping, optional
        Extra keyword arguments for ``multilevel.fit`` (e.g. ``{"reml": False}``).
    show_population : bool
        Draw the population line (dashed black) in the multilevel panels.
    fig : Figure, optional
        Draw into this figure (cleared first), e.g. one a widget keeps; default a new one.
    figsize : (float, float), optional
        Size of a new figure in inches; default twice the course's single-panel height.
    title : str, optional
        Figure title; default "Four ways to model salary by department".

    Returns
    -------
    Figure
        Its four axes are ``fig.axes[:4]`` in reading order.

    Example
    -------
    >>> from simdata import faculty_salaries
    >>> fig = four_models_plot(faculty_salaries(seed=1))
    >>> [ax.get_title() for ax in fig.axes[:2]]
    ['Complete pooling', 'Varying intercepts']
    """
    frame, y, x, group = _resolve_data(data, y, x, group)
    fits = _fit_many(frame, y, x, group, FOUR_MODELS, results, fit_kwargs)
    fig = _fresh_figure(fig, figsize, lambda w, h: (w * 1.45, h * 1.75))
    axes = fig.subplots(2, 2, sharex=True, sharey=True).ravel()
    styles = style.group_styles(frame[group])
    x_ends = _x_ends(frame, x, None)
    handles: list[Any] = []
    for ax, model in zip(axes, FOUR_MODELS, strict=True):
        drawn = draw_fitted_lines(
            ax,
            fits[model],
            frame,
            x_range=(float(x_ends[0]), float(x_ends[1])),
            show_population=show_population or model == "complete_pooling",
            styles=styles,
        )
        ax.set_title(_title(model), pad=float(plt.rcParams["font.size"]) * 1.6)
        ax.annotate(
            _formula(model, y, x, group),
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
        ax.set_xlabel(style.axis_label(x))
    for ax in axes[::2]:
        ax.set_ylabel(style.axis_label(y))
    # Groups, then both black lines, so the one legend explains every panel.
    legend_handles = [h for h in handles if not h.get_label().startswith("Population")]
    legend_handles.append(pooled_handle)
    legend_handles += [h for h in handles if h.get_label().startswith("Population")]
    if len(fits["varying_both"].group_lines) > _MANY_GROUPS:
        legend_handles = legend_handles[-2:]
    fig.legend(
        handles=legend_handles,
        loc="outside right upper",
        title=_group_noun(group).capitalize(),
    )
    fig.suptitle(title if title is not None else f"Four ways to model {y} by {_group_noun(group)}")
    return fig


# ------------------------------------------------------------------------------- pooling


def _pooling_fits(
    data: Any,
    y: str | None,
    x: str | None,
    group: str | None,
    model: str,
    fit_kwargs: Mapping[str, Any] | None,
    **given: Any,
) -> tuple[pd.DataFrame | None, dict[str, Any]]:
    """The data frame and the fits named in ``given``, fitting from ``data`` those passed as None.

    ``given`` holds ``complete_pooling``, ``no_pooling`` and/or ``partial_pooling``; no pooling
    is fitted to vary what ``model`` (the partial-pooling model) varies.
    """
    if model not in _NO_POOLING_FOR:
        raise ValueError(
            f"model must be one of {sorted(_NO_POOLING_FOR)} (the partial-pooling model), got {model!r}"
        )
    frame = None
    if data is not None:
        frame, y, x, group = _resolve_data(data, y, x, group)
    elif any(r is None for r in given.values()):
        names = list(given)
        listed = ", ".join(names[:-1]) + f" and {names[-1]}"
        raise ValueError(f"data must be given unless {listed} fits are all passed")
    how = {
        "complete_pooling": {"model": "complete_pooling"},
        "no_pooling": {"model": "no_pooling", "varying": _NO_POOLING_FOR[model]},
        "partial_pooling": {"model": model},
    }
    fits = {
        name: _fit(frame, y, x, group, **how[name], **dict(fit_kwargs or {})) if r is None else r
        for name, r in given.items()
    }
    for name, r in fits.items():
        _check_result(r, name)
    return frame, fits


_POOLING_FITS = ("complete_pooling", "no_pooling", "partial_pooling")


@dataclass(frozen=True)
class _PoolingPicture:
    """What :func:`pooling_plot` and :func:`pooling_grid` draw: three fits, the groups, the span."""

    frame: pd.DataFrame | None
    complete: Any
    no: Any
    partial: Any
    shown: list[Any]
    styles: dict[Any, style.GroupStyle]
    x_ends: np.ndarray


def _pooling_picture(
    data: Any,
    y: str | None,
    x: str | None,
    group: str | None,
    model: str,
    groups: Sequence[Any] | None,
    fits: Mapping[str, Any],
    fit_kwargs: Mapping[str, Any] | None,
    x_range: tuple[float, float] | None,
) -> _PoolingPicture:
    frame, made = _pooling_fits(data, y, x, group, model, fit_kwargs, **fits)
    partial = made["partial_pooling"]
    all_groups = list(partial.group_lines.index)
    return _PoolingPicture(
        frame=frame,
        complete=made["complete_pooling"],
        no=made["no_pooling"],
        partial=partial,
        shown=_select_groups(all_groups, groups),
        styles=style.group_styles(all_groups),
        x_ends=_x_ends(frame, partial.x, x_range),
    )


def _select_groups(all_groups: Sequence[Any], groups: Sequence[Any] | None) -> list[Any]:
    if groups is None:
        return list(all_groups)
    if isinstance(groups, str):
        groups = [groups]
    unknown = [g for g in groups if g not in set(all_groups)]
    if unknown:
        raise ValueError(
            f"groups has unknown groups {unknown}; known groups are {list(all_groups)}"
        )
    return list(groups)


_POOLING_STYLE = {
    "complete": {"color": style.POPULATION_COLOR, "linestyle": "-", "scale": 1.9},
    "no": {"linestyle": _DASHED, "scale": 0.9},
    "partial": {"linestyle": "-", "scale": 1.2},
}


def _pooling_key_handles() -> list[Line2D]:
    return [
        _legend_key(
            "No pooling (own line)",
            color="0.35",
            linestyle=_POOLING_STYLE["no"]["linestyle"],
            linewidth=_lw(_POOLING_STYLE["no"]["scale"]),
        ),
        _legend_key(
            "Partial pooling (multilevel)",
            color="0.35",
            linestyle="-",
            linewidth=_lw(_POOLING_STYLE["partial"]["scale"]),
        ),
        _legend_key(
            "Complete pooling (one line)",
            color=style.POPULATION_COLOR,
            linewidth=_lw(_POOLING_STYLE["complete"]["scale"]),
        ),
    ]


def _draw_pooling_lines(ax: Axes, g: Any, picture: _PoolingPicture) -> tuple[Line2D, Line2D]:
    """Group ``g``'s own line (no pooling) and its multilevel line (partial pooling)."""
    out = []
    x_ends = picture.x_ends
    for key, res in (("no", picture.no), ("partial", picture.partial)):
        (line,) = ax.plot(
            x_ends,
            _group_line_y(res, g, x_ends),
            color=picture.styles[g].color,
            linestyle=_POOLING_STYLE[key]["linestyle"],
            linewidth=_lw(_POOLING_STYLE[key]["scale"]),
            label=str(g),
            gid=f"{key}-pooling-line",
            zorder=3 if key == "no" else 4,
        )
        out.append(line)
    return out[0], out[1]


def _draw_complete_line(ax: Axes, res: Any, x_ends: np.ndarray) -> Line2D:
    (line,) = ax.plot(
        x_ends,
        _population_line_y(res, x_ends),
        color=style.POPULATION_COLOR,
        linewidth=_lw(_POOLING_STYLE["complete"]["scale"]),
        label="Complete pooling",
        gid="complete-pooling-line",
        zorder=5,
    )
    return line


def pooling_plot(
    data: Any = None,
    *,
    y: str | None = None,
    x: str | None = None,
    group: str | None = None,
    model: str = "varying_both",
    groups: Sequence[Any] | None = None,
    complete_pooling: Any = None,
    no_pooling: Any = None,
    partial_pooling: Any = None,
    fit_kwargs: Mapping[str, Any] | None = None,
    show_data: bool = True,
    x_range: tuple[float, float] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Complete, no and partial pooling on one panel.

    For each group: its own least-squares line (no pooling, dashed) and its multilevel line
    (partial pooling, solid) in the group's colour, and the one pooled line for everyone (thick
    black). Partial-pooling lines sit between their group's own line and the pooled line. With
    many groups, pass a few in ``groups`` to keep the picture readable (or see
    :func:`pooling_grid`).

    Parameters
    ----------
    data : DataFrame or SimulatedData, optional
        Needed unless all three fits are passed.
    y, x, group : str, optional
        Column names (taken from a SimulatedData when not given).
    model : str
        The partial-pooling model: ``"varying_intercepts"``, ``"varying_slopes"``,
        ``"varying_both"`` (default) or ``"varying_both_uncorrelated"``; no pooling is fitted to
        match (separate intercepts, slopes or both).
    groups : sequence, optional
        The groups to show; default all.
    complete_pooling, no_pooling, partial_pooling : FitResult, optional
        Fits already made; missing ones are fitted from ``data``.
    fit_kwargs : mapping, optional
        Extra keyword arguments for ``multilevel.fit``.
    show_data : bool
        Draw the data points of the groups shown.
    x_range : (float, float), optional
        Span of the lines; default the range of the data.
    ax : Axes, optional
    title : str, optional

    Returns
    -------
    Axes

    Example
    -------
    >>> from simdata import faculty_salaries
    >>> sim = faculty_salaries(seed=1)
    >>> ax = pooling_plot(sim, groups=["Biology", "Physics", "English"])
    """
    fits = dict(zip(_POOLING_FITS, (complete_pooling, no_pooling, partial_pooling), strict=True))
    picture = _pooling_picture(data, y, x, group, model, groups, fits, fit_kwargs, x_range)
    frame, partial, shown, styles = picture.frame, picture.partial, picture.shown, picture.styles
    y, x, group = partial.y, partial.x, partial.group
    ax = _get_ax(ax)
    if show_data and frame is not None:
        keep = frame[group].isin(shown)
        _scatter_groups(ax, frame.loc[keep], x, y, group, styles)
    for g in shown:
        _draw_pooling_lines(ax, g, picture)
    _draw_complete_line(ax, picture.complete, picture.x_ends)
    _label_axes(ax, y, x)
    ax.set_title(
        title
        if title is not None
        else f"Complete, no and partial pooling ({_title(partial.model).lower()})"
    )
    handles: list[Any] = []
    if len(shown) <= _MANY_GROUPS:
        handles = _group_handles(styles, [g for g in styles if g in set(shown)])
        for h in handles:
            h.set_linestyle("-")
    handles += _pooling_key_handles()
    _place_legend(ax, handles, title=_group_noun(group).capitalize())
    return ax


def pooling_grid(
    data: Any = None,
    *,
    y: str | None = None,
    x: str | None = None,
    group: str | None = None,
    model: str = "varying_both",
    groups: Sequence[Any] | None = None,
    complete_pooling: Any = None,
    no_pooling: Any = None,
    partial_pooling: Any = None,
    fit_kwargs: Mapping[str, Any] | None = None,
    ncols: int = 4,
    x_range: tuple[float, float] | None = None,
    fig: Figure | None = None,
    figsize: tuple[float, float] | None = None,
    title: str | None = None,
) -> Figure:
    """Complete, no and partial pooling in small multiples, one panel per group.

    Gelman & Hill's picture (their figure 12.4): each panel shows one group's data, its own
    line (no pooling, dashed), its multilevel line (partial pooling, solid) and the pooled line
    (thick black), with shared axes so groups compare at a glance. Panels are ordered from
    the smallest group to the largest, where the pull towards the pooled line is weakest.

    Parameters
    ----------
    data, y, x, group, model, groups, complete_pooling, no_pooling, partial_pooling, fit_kwargs
        As in :func:`pooling_plot`.
    ncols : int
        Panels per row.
    x_range : (float, float), optional
        Span of the lines; default the range of the data.
    fig : Figure, optional
        Draw into this figure (cleared first).
    figsize : (float, float), optional
    title : str, optional

    Returns
    -------
    Figure

    Example
    -------
    >>> from simdata import faculty_salaries
    >>> fig = pooling_grid(faculty_salaries(seed=1))
    >>> len(fig.axes) >= 8
    True
    """
    if isinstance(ncols, bool) or not isinstance(ncols, (int, np.integer)) or ncols < 1:
        raise ValueError(f"ncols must be a positive integer, got {ncols!r}")
    fits = dict(zip(_POOLING_FITS, (complete_pooling, no_pooling, partial_pooling), strict=True))
    picture = _pooling_picture(data, y, x, group, model, groups, fits, fit_kwargs, x_range)
    frame, partial, styles = picture.frame, picture.partial, picture.styles
    y, x, group = partial.y, partial.x, partial.group
    gl = partial.group_lines
    shown = sorted(picture.shown, key=lambda g: (float(gl.at[g, "n"]), str(g)))
    ncols = min(int(ncols), len(shown))
    nrows = int(np.ceil(len(shown) / ncols))
    fig = _fresh_figure(fig, figsize, lambda w, h: (w * 0.42 * ncols + 2.2, h * 0.62 * nrows + 0.8))
    axes = np.atleast_1d(
        fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)
    ).ravel()
    for ax, g in zip(axes, shown, strict=False):
        if frame is not None:
            sub = frame.loc[frame[group] == g]
            _scatter_groups(ax, sub, x, y, group, styles, alpha=0.7)
        _draw_pooling_lines(ax, g, picture)
        _draw_complete_line(ax, picture.complete, picture.x_ends)
        ax.set_title(f"{g} (n = {int(gl.at[g, 'n'])})", fontsize="medium")
        style.format_axis(ax, x=x, y=y)
    for ax in axes[len(shown) :]:
        ax.set_visible(False)
    for i, ax in enumerate(axes[: len(shown)]):
        if i % ncols == 0:
            ax.set_ylabel(style.axis_label(y))
        if i + ncols >= len(shown):
            ax.set_xlabel(style.axis_label(x))
            ax.xaxis.set_tick_params(labelbottom=True)
    fig.legend(handles=_pooling_key_handles(), loc="outside lower center", ncols=3)
    fig.suptitle(
        title
        if title is not None
        else f"Pooling {y} by {_group_noun(group)}: no pooling, partial pooling, complete pooling"
    )
    return fig


# ----------------------------------------------------------------------------- shrinkage


def _dodge(n: np.ndarray, width: float) -> np.ndarray:
    """Spread groups of equal size sideways so their arrows do not overlap."""
    out = n.astype(float).copy()
    for value in np.unique(n):
        idx = np.flatnonzero(n == value)
        if len(idx) > 1:
            out[idx] += np.linspace(-width, width, len(idx))
    return out


def shrinkage_plot(
    data: Any = None,
    *,
    y: str | None = None,
    x: str | None = None,
    group: str | None = None,
    parameter: str = "intercept",
    model: str | None = None,
    no_pooling: Any = None,
    partial_pooling: Any = None,
    fit_kwargs: Mapping[str, Any] | None = None,
    log_n: bool = False,
    legend: bool = True,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Shrinkage: each group's no-pooling estimate -> partial-pooling estimate, against group size.

    An open circle marks the group's own least-squares estimate, an arrow runs to its
    multilevel (partial-pooling) estimate, a filled circle. The dashed black line is the
    population estimate (the grand mean, the fixed effect). Small groups are pulled furthest
    toward it: they carry the least information of their own.

    Parameters
    ----------
    data : DataFrame or SimulatedData, optional
        Needed unless both fits are passed.
    y, x, group : str, optional
        Column names (taken from a SimulatedData when not given).
    parameter : {"intercept", "slope"}
        Which part of the group lines to show; it must vary in ``model``.
    model : str, optional
        The partial-pooling model; default ``"varying_intercepts"`` for the intercept and
        ``"varying_slopes"`` for the slope, where each estimate lies between the group's own
        estimate and the grand mean. With ``"varying_both"`` an intercept also moves with its
        shrunken slope, so an arrow may point away from the grand mean. No pooling is fitted to
        match (separate intercepts, slopes or both).
    no_pooling, partial_pooling : FitResult, optional
        Fits already made.
    fit_kwargs : mapping, optional
        Extra keyword arguments for ``multilevel.fit``.
    log_n : bool
        Log scale for the group size (useful when sizes span decades, as in the radon data).
    legend : bool
        Explain the markers and, for up to 12 groups, the group colours.
    ax : Axes, optional
    title : str, optional

    Returns
    -------
    Axes
        The arrows are annotations in ``ax.texts`` with gid ``"shrinkage-arrow:<group>"``;
        each runs from ``xyann`` (no pooling) to ``xy`` (partial pooling).

    Example
    -------
    >>> from simdata import faculty_salaries
    >>> ax = shrinkage_plot(faculty_salaries(seed=1, faculty_per_department=(3, 30)))
    """
    _check_parameter(parameter)
    if partial_pooling is not None:
        model = partial_pooling.model
    elif model is None:
        # One varying part at a time shows shrinkage cleanly; with both varying, an intercept
        # also moves with its shrunken slope and may end further from the grand mean.
        model = "varying_intercepts" if parameter == "intercept" else "varying_slopes"
    if (
        parameter == "intercept"
        and model == "varying_slopes"
        or (parameter == "slope" and model == "varying_intercepts")
    ):
        raise ValueError(
            f"parameter={parameter!r} does not vary in a {model} model, so nothing shrinks; "
            f"use parameter={'slope' if parameter == 'intercept' else 'intercept'!r} or "
            "model='varying_both'"
        )
    _, fits = _pooling_fits(
        data,
        y,
        x,
        group,
        model,
        fit_kwargs,
        no_pooling=no_pooling,
        partial_pooling=partial_pooling,
    )
    no_pooling, partial_pooling = fits["no_pooling"], fits["partial_pooling"]
    if _center(no_pooling) != _center(partial_pooling):
        raise ValueError(
            "no_pooling and partial_pooling must use the same centring of x, got center="
            f"{_center(no_pooling):g} and {_center(partial_pooling):g}"
        )
    ax = _get_ax(ax)
    gl_p = partial_pooling.group_lines
    gl_n = no_pooling.group_lines.reindex(gl_p.index)
    groups = list(gl_p.index)
    styles = style.group_styles(groups)
    n = gl_p["n"].to_numpy(dtype=float)
    if log_n:
        xpos = n * np.exp(0.1 * (_dodge(n, 1.0) - n))
    else:
        xpos = _dodge(n, min(0.35, 0.02 * float(np.ptp(n))) if np.ptp(n) > 0 else 0.35)
    own = gl_n[parameter].to_numpy(dtype=float)
    pooled = gl_p[parameter].to_numpy(dtype=float)
    population = float(partial_pooling.fixed_effects.at[parameter, "estimate"])
    colors = _colors_or_one(styles, groups)
    span = float(np.nanmax([*own, *pooled, population]) - np.nanmin([*own, *pooled, population]))
    for g, xp, a, b, c in zip(groups, xpos, own, pooled, colors, strict=True):
        if not np.isfinite(a):
            # No estimate of its own (a radon county measured on one floor has no own slope):
            # its multilevel estimate is drawn, but there is nothing to draw an arrow from.
            continue
        ann = ax.annotate(
            "",
            xy=(xp, b),
            xytext=(xp, a),
            arrowprops={
                # A head on a barely visible arrow only hides the markers.
                "arrowstyle": "-|>" if abs(b - a) > 0.02 * span else "-",
                "color": c,
                "lw": _lw(0.8),
                "shrinkA": _ms(0.5),
                "shrinkB": _ms(0.5),
                "mutation_scale": _ms(2.2),
            },
            zorder=3,
        )
        ann.set_gid(f"shrinkage-arrow:{g}")
    # Past eight groups colours repeat and the group's marker tells them apart, as in the
    # legend; past twelve there is no group legend and everything is one colour and a circle.
    markers = np.array(
        [styles[g].marker if len(groups) <= _MANY_GROUPS else "o" for g in groups], dtype=object
    )
    color_array = np.array(colors, dtype=object)
    for marker in dict.fromkeys(markers):
        keep = markers == marker
        ax.scatter(
            xpos[keep],
            own[keep],
            marker=marker,
            facecolors="white",
            edgecolors=list(color_array[keep]),
            s=_ms(1.2) ** 2,
            linewidths=_lw(0.7),
            zorder=4,
            label="No pooling (own estimate)",
            gid="no-pooling-estimates",
        )
        ax.scatter(
            xpos[keep],
            pooled[keep],
            marker=marker,
            c=list(color_array[keep]),
            s=_ms(1.2) ** 2,
            zorder=5,
            label="Partial pooling (multilevel)",
            gid="partial-pooling-estimates",
        )
    ax.axhline(
        population,
        color=style.POPULATION_COLOR,
        linestyle=_DASHED,
        linewidth=_lw(1.0),
        zorder=2,
        label="Population estimate (grand mean)",
        gid="population-estimate",
    )
    ax.set_xlabel(f"Observations per {_group_noun(partial_pooling.group)} (n)")
    ax.set_ylabel(_parameter_label(partial_pooling, parameter))
    _param_axis_format(ax.yaxis, partial_pooling, parameter)
    _format_group_size_axis(ax, log_n=log_n)
    ax.set_title(
        title
        if title is not None
        else f"Shrinkage of {_group_noun(partial_pooling.group)} {parameter}s toward the population"
    )
    if legend:
        dot = {"marker": "o", "linestyle": "none", "markersize": _ms(1.2)}
        key = [
            _legend_key(
                "No pooling (own estimate)", **dot, markerfacecolor="white", markeredgecolor="0.3"
            ),
            _legend_key("Partial pooling (multilevel)", **dot, color="0.3"),
            _legend_key(
                "Population estimate",
                color=style.POPULATION_COLOR,
                linestyle=_DASHED,
                linewidth=_lw(1.0),
            ),
        ]
        handles = key
        if len(groups) <= _MANY_GROUPS:
            group_keys = _group_handles(styles, groups)
            for h in group_keys:
                # Filled markers of the drawn size, like the partial-pooling points.
                h.set_linestyle("none")
                h.set_markersize(_ms(1.2))
            handles = key + group_keys
        _place_legend(ax, handles)
    return ax


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


def truth_plot(
    result: Any,
    truth: Any,
    *,
    parameter: str = "intercept",
    population: float | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Estimates against the truth for simulated data, per group and for the population.

    Each group is a point at (true value, estimate) with a 95% interval (estimate ±
    1.96 x its conditional SD); points on the dotted identity line are estimated exactly. The
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
    ax : Axes, optional
    title : str, optional

    Returns
    -------
    Axes

    Example
    -------
    >>> import multilevel as ml
    >>> from simdata import faculty_salaries
    >>> sim = faculty_salaries(seed=1)
    >>> ax = truth_plot(ml.fit(sim, model="varying_both"), sim, parameter="slope")
    """
    _check_result(result)
    _check_parameter(parameter)
    pop_mapping: Mapping[str, Any] = {}
    if hasattr(truth, "truth") and hasattr(truth, "population"):
        pop_mapping = truth.population
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
    c = _center(result)
    true = truth.loc[common, parameter].to_numpy(dtype=float)
    true_pop = population
    if parameter == "intercept" and c != 0.0:
        # Compare like with like: the fit's intercept is the height at x = center.
        slopes = truth.loc[common, "slope"].to_numpy(dtype=float) if "slope" in truth else 0.0
        true = true + slopes * c
        if true_pop is not None:
            pop_slope = _population_truth(pop_mapping, "slope") or 0.0
            true_pop = true_pop + pop_slope * c
    est = gl.loc[common, parameter].to_numpy(dtype=float)
    se = gl.loc[common, f"{parameter}_se"].to_numpy(dtype=float)
    ax = _get_ax(ax)
    styles = style.group_styles(list(gl.index))
    colors = _colors_or_one(styles, common)
    has_se = np.isfinite(se)
    if has_se.any():
        ax.errorbar(
            true[has_se],
            est[has_se],
            yerr=1.96 * se[has_se],
            fmt="none",
            ecolor=[colors[i] for i in np.flatnonzero(has_se)],
            elinewidth=_lw(0.6),
            alpha=0.8,
            zorder=2,
        )
    handle_color = "0.35"
    group_label = f"{_group_noun(result.group).capitalize()}s (± 95% interval)"
    ax.scatter(
        true,
        est,
        c=colors,
        s=_ms(1.3) ** 2,
        edgecolors="white",
        linewidths=0.5,
        zorder=3,
        label=group_label,
        gid="group-estimates",
    )
    fe = result.fixed_effects.loc[parameter]
    values = [true, est]
    if has_se.any():
        values += [est[has_se] - 1.96 * se[has_se], est[has_se] + 1.96 * se[has_se]]
    population_marker = None
    if true_pop is not None:
        population_marker = ax.errorbar(
            [true_pop],
            [float(fe["estimate"])],
            yerr=[
                [float(fe["estimate"] - fe["ci_lower"])],
                [float(fe["ci_upper"] - fe["estimate"])],
            ],
            fmt="D",
            color=style.POPULATION_COLOR,
            markersize=_ms(1.5),
            elinewidth=_lw(1.0),
            capsize=_ms(0.8),
            zorder=4,
            label="Population (fixed effect ± 95% CI)",
        )
        population_marker.lines[0].set_gid("population-estimate")
        values.append(np.array([true_pop, fe["ci_lower"], fe["ci_upper"]], dtype=float))
    lo = float(np.nanmin(np.concatenate(values)))
    hi = float(np.nanmax(np.concatenate(values)))
    pad = 0.08 * (hi - lo if hi > lo else max(abs(hi), 1.0))
    lims = (lo - pad, hi + pad)
    # An infinite line, so that it still spans the axes when they are shared with a wider plot.
    identity = ax.axline(
        (lims[0], lims[0]),
        (lims[1], lims[1]),
        color="0.45",
        linestyle=":",
        linewidth=_lw(0.8),
        zorder=1,
        label="Estimate = truth",
        gid="identity-line",
    )
    ax.set_xlim(lims)
    ax.set_ylim(lims)
    ax.set_aspect("equal", adjustable="box")
    what = _parameter_label(result, parameter)
    ax.set_xlabel(_wrap_to_axes(ax, f"True {what[0].lower()}{what[1:]}", along="xlabel"))
    # The y label runs along one side of a square, shorter than the x label's: wrap it.
    ax.set_ylabel(_wrap_to_axes(ax, f"Estimated {what[0].lower()}{what[1:]}", along="ylabel"))
    _param_axis_format(ax.xaxis, result, parameter)
    _param_axis_format(ax.yaxis, result, parameter)
    rmse = float(np.sqrt(np.nanmean((est - true) ** 2)))
    unit = style.unit_of(result.y)
    rmse_text = f"${rmse:,.0f}" if unit == "$" else f"{rmse:.3g}"
    if title is None:
        # A square plot is narrow: the default title is wrapped to its width so that it is not
        # clipped and does not run over the y label.
        # (A no-break space keeps "RMSE $1,350" on one line.)
        title = _wrap_to_axes(
            ax, f"{_title(result.model)}\nEstimates vs truth, RMSE\N{NO-BREAK SPACE}{rmse_text}"
        )
    ax.set_title(title)
    # Built by hand: the axes may hold other labelled artists (e.g. drawn by plt.gca()).
    handles: list[Any] = [
        _legend_key(
            group_label, marker="o", linestyle="none", color=handle_color, markersize=_ms(1.3)
        ),
        identity,
    ]
    if population_marker is not None:
        handles.append(population_marker)
    _place_legend(ax, handles)
    return ax


# ---------------------------------------------------------------------------- caterpillar


def caterpillar_plot(
    result: Any,
    *,
    parameter: str = "intercept",
    scale: str = "deviation",
    ax: Axes | None = None,
    title: str | None = None,
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
    ax : Axes, optional
    title : str, optional

    Returns
    -------
    Axes

    Example
    -------
    >>> import multilevel as ml
    >>> from simdata import faculty_salaries
    >>> ax = caterpillar_plot(ml.fit(faculty_salaries(seed=1), model="varying_intercepts"))
    """
    _check_result(result)
    _check_parameter(parameter)
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
    ax = _get_ax(ax)
    styles = style.group_styles(list(gl.index))
    colors = _colors_or_one(styles, groups)
    ax.errorbar(
        values,
        pos,
        xerr=1.96 * se,
        fmt="none",
        ecolor=colors,
        elinewidth=_lw(1.0),
        zorder=2,
    )
    ax.scatter(values, pos, c=colors, s=_ms(1.3) ** 2, zorder=3, gid="group-effects")
    ax.axvline(
        reference,
        color=style.POPULATION_COLOR,
        linestyle=_DASHED,
        linewidth=_lw(0.9),
        zorder=1,
        label="Population value",
        gid="reference-line",
    )
    noun = _group_noun(result.group)
    if len(groups) <= 40:
        ax.set_yticks(pos, [str(g) for g in groups])
        ax.grid(False, axis="y")
    else:
        ax.set_yticks([])
    ax.set_ylabel(f"{noun.capitalize()} (sorted)")
    what = _parameter_label(result, parameter)
    if scale == "deviation":
        ax.set_xlabel(f"Difference from the population {what[0].lower()}{what[1:]}")
    else:
        ax.set_xlabel(what)
    _param_axis_format(ax.xaxis, result, parameter)
    ax.set_ylim(-0.8, len(groups) - 0.2)
    ax.set_title(
        title
        if title is not None
        else f"{noun.capitalize()} {parameter}s with 95% intervals ({_title(result.model).lower()})"
    )
    return ax


# ------------------------------------------------------------------------- pooling errors


#: How each kind of pooling is drawn in :func:`pooling_error_plot`: open circles for no
#: pooling and filled ones for partial pooling, as in :func:`shrinkage_plot`.
_ERROR_STYLE: Mapping[str, Mapping[str, Any]] = {
    "no pooling": {
        "color": style.OKABE_ITO["vermillion"],
        "linestyle": _DASHED,
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


def pooling_error_plot(
    errors: pd.DataFrame,
    *,
    log_n: bool = False,
    legend: bool = True,
    ax: Axes | None = None,
    title: str | None = None,
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
    log_n : bool
        Log scale for the group size (useful when sizes span decades).
    legend : bool
    ax : Axes, optional
    title : str, optional

    Returns
    -------
    Axes
        Each line has gid ``"pooling-error:<method>"``.

    Example
    -------
    >>> from multilevel.pooling import compare_pooling_errors
    >>> errors = compare_pooling_errors(
    ...     n_samples=5, seed=1, n_departments=4, faculty_per_department=[2, 5, 10, 40], raise_sd=0
    ... )
    >>> ax = pooling_error_plot(errors)
    """
    from .pooling import METHODS, typical_errors

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
    ax = _get_ax(ax)
    for method in [m for m in METHODS if m in set(summary["method"])]:
        rows = summary[summary["method"] == method].sort_values("n")
        how = _ERROR_STYLE[method]
        ax.plot(
            rows["n"].to_numpy(dtype=float),
            rows["rmse"].to_numpy(dtype=float),
            color=how["color"],
            linestyle=how["linestyle"],
            linewidth=_lw(),
            marker="o",
            markersize=_ms(1.2),
            markerfacecolor=how.get("markerfacecolor", how["color"]),
            markeredgecolor=how["color"],
            markeredgewidth=_lw(0.7),
            label=how["label"],
            gid=f"pooling-error:{method}",
            zorder=3,
        )
    known = {"sample", "n", "method", "parameter", "estimate", "truth", "error", "unit"}
    group_columns = [c for c in errors.columns if c not in known]
    noun = _group_noun(group_columns[0]) if len(group_columns) == 1 else "group"
    parameter = str(errors["parameter"].iloc[0]) if "parameter" in errors else "estimate"
    unit = str(errors["unit"].iloc[0]) if "unit" in errors else ""
    ax.set_xlabel(f"Observations per {noun} (n)")
    ax.set_ylabel(
        f"Typical error of the {parameter}\n(root mean squared error{', ' + unit if unit else ''})"
    )
    if unit == "$":
        ax.yaxis.set_major_formatter(style.dollar_formatter(short=False))
    ax.set_ylim(bottom=0)
    sizes = np.unique(summary["n"].to_numpy(dtype=float))
    _format_group_size_axis(ax, log_n=log_n)
    if len(sizes) <= _MANY_GROUPS:
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
        _place_legend(
            ax,
            [line for line in ax.get_lines() if str(line.get_gid()).startswith("pooling-error:")],
        )
    return ax
