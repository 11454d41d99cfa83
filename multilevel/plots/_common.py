"""Helpers every plot family shares: inputs, line heights, sizes, labels, legends.

Names here are public to the package (``lines``, ``pooling``, ``estimates`` import them) and not
part of :mod:`multilevel.plots`' own API.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

import simdata

from .. import specs, style, units
from ..models import FitResult, fit

#: Plain-English names of the models, used in titles (from :data:`multilevel.specs.MODELS`).
MODEL_TITLES: Mapping[str, str] = MappingProxyType(
    {name: spec.title for name, spec in specs.MODELS.items()}
)


# ------------------------------------------------------------------------------ helpers


#: What the figures accept as data: a tidy DataFrame, or a simulation that names its columns.
Data = pd.DataFrame | simdata.SimulatedData


def fit_model(
    data: pd.DataFrame, y: str, x: str, group: str, model: str, **kwargs: Any
) -> FitResult:
    """``multilevel.fit`` of ``model`` to the columns ``y``, ``x``, ``group`` of ``data``."""
    return fit(data, y=y, x=x, group=group, model=model, **kwargs)


def resolve_data(
    data: Data, y: str | None, x: str | None, group: str | None
) -> tuple[pd.DataFrame, str, str, str]:
    """Accept a DataFrame with column names, or a SimulatedData that knows its own."""
    if simdata.is_simulated_data(data):
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


def check_result(result: FitResult, name: str = "result") -> None:
    """Raise a ValueError naming ``name`` unless ``result`` is a FitResult."""
    if not isinstance(result, FitResult):
        raise ValueError(
            f"{name} must be a FitResult from multilevel.fit, got {type(result).__name__}"
        )


def check_parameter(parameter: str) -> None:
    """Raise a ValueError unless ``parameter`` is a part of a line ("intercept" or "slope")."""
    if parameter not in specs.PARTS:
        raise ValueError(f"parameter must be 'intercept' or 'slope', got {parameter!r}")


def get_ax(ax: Axes | None) -> Axes:
    """``ax``, or the current axes when it is None (as seaborn does)."""
    if ax is None:
        return plt.gca()
    if not isinstance(ax, Axes):
        raise ValueError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax


def center_of(result: FitResult) -> float:
    """The value subtracted from x before fitting (0.0 when x was not centred)."""
    return float(result.center)


def line_y(result: FitResult, intercept: float, slope: float, xs: np.ndarray) -> np.ndarray:
    """Heights of a line from ``group_lines`` at predictor values ``xs`` (original scale)."""
    return intercept + slope * (np.asarray(xs, dtype=float) - center_of(result))


def group_line_y(result: FitResult, g: Any, xs: np.ndarray) -> np.ndarray:
    """Heights of group ``g``'s fitted line at ``xs``."""
    gl = result.group_lines
    return line_y(result, float(gl.at[g, "intercept"]), float(gl.at[g, "slope"]), xs)


def population_line_y(result: FitResult, xs: np.ndarray) -> np.ndarray:
    """Heights of the population line (the fixed effects) at ``xs``."""
    fe = result.fixed_effects["estimate"]
    return line_y(result, float(fe["intercept"]), float(fe["slope"]), xs)


def line_span(
    frame: pd.DataFrame | None, x: str, x_range: tuple[float, float] | None
) -> np.ndarray:
    """The two ends of the lines: ``x_range``, or else the range of ``frame[x]``."""
    if x_range is not None:
        return np.asarray(x_range, dtype=float)
    if frame is None:
        raise ValueError("x_range must be given when data is None, e.g. x_range=(0, 25)")
    xs = frame[x].to_numpy(dtype=float)
    return np.array([np.nanmin(xs), np.nanmax(xs)])


def line_width(scale: float = 1.0) -> float:
    """The style's line width times ``scale`` (thicker in presentation mode)."""
    return float(plt.rcParams["lines.linewidth"]) * scale


def marker_size(scale: float = 1.0) -> float:
    """The style's marker size times ``scale`` (larger in presentation mode)."""
    return float(plt.rcParams["lines.markersize"]) * scale


def model_title(model: str) -> str:
    """The model's plain-English name, e.g. "Varying intercepts"."""
    return MODEL_TITLES.get(model, str(model).replace("_", " ").capitalize())


def model_formula(model: str, y: str, x: str, group: str) -> str:
    """The lme4-style formula students see next to each panel ("" for an unknown model)."""
    return specs.MODELS[model].lme4_formula(y, x, group) if model in specs.MODELS else ""


def group_noun(group: str) -> str:
    """The group column as a word: ``"department"``, ``"school district"``."""
    return str(group).replace("_", " ")


def parameter_label(result: FitResult, parameter: str) -> str:
    """'Intercept: salary at experience = 0 ($)' or 'Slope ($ per year of experience)'."""
    y, x = result.y, result.x
    if parameter == "intercept":
        unit = units.unit_of(y)
        text = f"Intercept: {y} at {x} = {center_of(result):g}"
        return f"{text} ({unit})" if unit else text
    return f"Slope ({units.slope_unit(y, x)})"


def format_parameter_axis(axis: Axis, result: FitResult, parameter: str) -> None:
    """Dollar ticks on an axis of intercepts or slopes of a money outcome."""
    # Raises of $1,400 a year read better in full than as $1.4k.
    if units.is_money(units.unit_of(result.y)):
        axis.set_major_formatter(style.dollar_formatter(short=parameter == "intercept"))


#: The dash pattern of population lines and of no-pooling lines (4 points on, 2 off).
DASHED = (0, (4, 2))
#: Past this many groups colours no longer name them: figures drop the group legend (and the
#: estimate plots draw every group in one colour).
MANY_GROUPS = 12
_FEW_LEVELS = 5
#: The one colour of marks that stand for no group, or for too many groups to name.
ONE_COLOR = style.OKABE_ITO["blue"]


def wrap_to_axes(ax: Axes, text: str, *, along: str = "title") -> str:
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


def colors_or_one(styles: Mapping[Any, style.GroupStyle], groups: Sequence[Any]) -> list[str]:
    """Group colours, or one colour when there are too many groups for colours to name them."""
    if len(groups) > MANY_GROUPS:
        return [ONE_COLOR] * len(groups)
    return [styles[g].color for g in groups]


def legend_key(label: str, **line: Any) -> Line2D:
    """A legend entry drawn like a line or marker that is not on the axes."""
    return Line2D([], [], label=label, **line)


def group_handles(styles: Mapping[Any, style.GroupStyle], groups: Sequence[Any]) -> list[Line2D]:
    return [
        legend_key(
            str(g),
            color=styles[g].color,
            linestyle=styles[g].linestyle,
            marker=styles[g].marker,
            linewidth=line_width(),
            markersize=marker_size(),
        )
        for g in groups
    ]


def format_group_size_axis(ax: Axes, *, log_n: bool) -> None:
    """Ticks of an x axis of group sizes: whole numbers, or 1-2-5 steps on a log scale."""
    if log_n:
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def fresh_figure(
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


def place_legend(ax: Axes, handles: list[Any], *, title: str | None = None) -> Any:
    return ax.legend(
        handles=handles,
        title=title,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        borderaxespad=0.0,
    )


def scatter_groups(
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
                s=marker_size(0.9) ** 2,
                alpha=alpha,
                linewidths=0,
                zorder=1,
            )
        )
    return drawn


def population_reference(
    ax: Axes,
    value: float,
    *,
    across: str,
    label: str,
    gid: str,
    scale: float = 1.0,
    zorder: float = 2,
) -> Line2D:
    """A dashed black line at the population ``value``, running ``across`` the x or y axis;
    ``scale`` widens it (:func:`line_width`), ``zorder`` 2 is matplotlib's for lines."""
    draw = ax.axhline if across == "x" else ax.axvline
    return draw(
        value,
        color=style.POPULATION_COLOR,
        linestyle=DASHED,
        linewidth=line_width(scale),
        zorder=zorder,
        label=label,
        gid=gid,
    )


def label_axes(ax: Axes, y: str, x: str) -> None:
    """Axis labels with units ("Salary ($)") and the tick format the units call for."""
    ax.set_xlabel(units.axis_label(x))
    ax.set_ylabel(units.axis_label(y))
    style.format_axis(ax, x=x, y=y)
