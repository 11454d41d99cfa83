"""The course's look: a colour-blind-safe palette, legible defaults and a presentation mode.

Every figure in the course takes its colours and sizes from here, so a lesson only calls
:func:`use_course_style` once, and a lecturer switches larger type and thicker lines on for a
projector in one place with :func:`presentation_mode`.

The palette is Okabe & Ito's (2008) "Color Universal Design" set of eight colours, which stay
distinguishable for the common forms of colour-vision deficiency. Black is kept for the
population (pooled) line, so groups get the seven other colours plus a mid grey (as in the
"Cookbook for R" colour-blind palette), eight in all: the default number of departments. Beyond
eight groups the colours repeat with a different line style and marker, so every group stays
distinguishable.

Example
-------
>>> from multilevel import style
>>> style.use_course_style()
>>> colors = style.group_colors(["Biology", "Chemistry", "Physics"])
>>> colors["Biology"]
'#E69F00'
>>> with style.presentation_mode():
...     pass  # figures drawn here use projector-sized type
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib import cycler
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, MaxNLocator

from .units import axis_label, format_amount, is_money, slope_unit, unit_of

__all__ = [
    "OKABE_ITO",
    "GROUP_PALETTE",
    "POPULATION_COLOR",
    "COURSE_RC",
    "PRESENTATION_RC",
    "GroupStyle",
    "distinct_styles",
    "group_styles",
    "group_colors",
    "use_course_style",
    "presentation_mode",
    "is_presentation_mode",
    "dollar_formatter",
    "years_formatter",
    "unit_of",
    "axis_label",
    "format_axis",
    "slope_unit",
]

#: Okabe & Ito's eight colours, by name, in their published order.
OKABE_ITO: Mapping[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky blue": "#56B4E9",
    "bluish green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish purple": "#CC79A7",
}

#: Colours for groups, most distinct first. Black is reserved for the population line, so
#: Okabe-Ito's other seven are joined by a mid grey; yellow and grey come last because they
#: are the faintest on white, especially on a projector.
GROUP_PALETTE: tuple[str, ...] = (
    OKABE_ITO["orange"],
    OKABE_ITO["sky blue"],
    OKABE_ITO["bluish green"],
    OKABE_ITO["vermillion"],
    OKABE_ITO["blue"],
    OKABE_ITO["reddish purple"],
    OKABE_ITO["yellow"],
    "#999999",
)

#: The colour of the population (complete-pooling / fixed-effects) line.
POPULATION_COLOR: str = OKABE_ITO["black"]

_LINESTYLES: tuple[Any, ...] = ("-", (0, (5, 2)), (0, (1, 1.5)), (0, (5, 2, 1, 2)))
_MARKERS: tuple[str, ...] = ("o", "s", "^", "D")

#: Defaults for every course figure: legible on a laptop and in a lecture hall.
COURSE_RC: dict[str, Any] = {
    "figure.figsize": (8.0, 5.0),
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    "figure.constrained_layout.use": True,
    "font.size": 12,
    "axes.titlesize": 14,
    "axes.titleweight": "bold",
    "axes.labelsize": 13,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "legend.fontsize": 11,
    "legend.title_fontsize": 12,
    "legend.frameon": False,
    "figure.titlesize": 16,
    "figure.titleweight": "bold",
    "lines.linewidth": 2.0,
    "lines.markersize": 6,
    "axes.linewidth": 1.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#DDDDDD",
    "grid.linewidth": 0.8,
    "axes.axisbelow": True,
    "axes.prop_cycle": cycler(color=list(GROUP_PALETTE)),
    "image.cmap": "cividis",
}

#: What :func:`presentation_mode` changes on top of :data:`COURSE_RC`: bigger type, thicker lines.
PRESENTATION_RC: dict[str, Any] = {
    "figure.figsize": (11.0, 6.5),
    "font.size": 17,
    "axes.titlesize": 20,
    "axes.labelsize": 18,
    "xtick.labelsize": 15,
    "ytick.labelsize": 15,
    "legend.fontsize": 15,
    "legend.title_fontsize": 16,
    "figure.titlesize": 22,
    "lines.linewidth": 3.0,
    "lines.markersize": 9,
    "axes.linewidth": 1.5,
    "xtick.major.width": 1.5,
    "ytick.major.width": 1.5,
    "xtick.major.size": 6,
    "ytick.major.size": 6,
    "grid.linewidth": 1.0,
}


@dataclass(frozen=True)
class GroupStyle:
    """How one group is drawn: a colour, a line style and a marker.

    Attributes
    ----------
    color : str
        A hex colour from :data:`GROUP_PALETTE`.
    linestyle : str or tuple
        A matplotlib line style; solid for the first eight groups.
    marker : str
        A matplotlib marker; a circle for the first eight groups.
    """

    color: str
    linestyle: Any = "-"
    marker: str = "o"


def distinct_styles(n: int) -> list[GroupStyle]:
    """Return ``n`` distinguishable group styles.

    The first eight differ by colour alone; after that each round of colours gets a new
    line style and marker, so up to 32 groups are told apart, and more groups repeat the
    cycle.

    Parameters
    ----------
    n : int
        The number of groups, zero or more.

    Returns
    -------
    list of GroupStyle

    Example
    -------
    >>> [s.color for s in distinct_styles(2)]
    ['#E69F00', '#56B4E9']
    >>> distinct_styles(9)[8].linestyle != distinct_styles(9)[0].linestyle
    True
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    k = len(GROUP_PALETTE)
    return [
        GroupStyle(
            color=GROUP_PALETTE[i % k],
            linestyle=_LINESTYLES[(i // k) % len(_LINESTYLES)],
            marker=_MARKERS[(i // k) % len(_MARKERS)],
        )
        for i in range(int(n))
    ]


def _ordered_groups(groups: Iterable[Any]) -> list[Any]:
    """Unique groups in sorted order, whatever their source (a data column or a fit's index)."""
    if isinstance(groups, (pd.Series, pd.Index, pd.Categorical)):
        values = list(pd.unique(np.asarray(groups, dtype=object)))
    else:
        values = list(dict.fromkeys(groups))
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=str)


def group_styles(groups: Iterable[Any]) -> dict[Any, GroupStyle]:
    """Map each group to its :class:`GroupStyle`, the same way in every figure.

    Groups are taken in sorted order, so a department keeps its colour whether the labels
    come from a data column (categorical or not) or a fit's ``group_lines`` index. Pass the
    full set of groups and pick from the result to colour a subset the same way.

    Parameters
    ----------
    groups : iterable
        Group labels; repeats are fine (a data column works).

    Returns
    -------
    dict
        ``{group: GroupStyle}``.

    Example
    -------
    >>> styles = group_styles(["b", "a", "b"])
    >>> styles["a"].color == GROUP_PALETTE[0]
    True
    """
    ordered = _ordered_groups(groups)
    return dict(zip(ordered, distinct_styles(len(ordered)), strict=True))


def group_colors(groups: Iterable[Any]) -> dict[Any, str]:
    """Map each group to a colour, the same way in every figure.

    Parameters
    ----------
    groups : iterable
        Group labels (see :func:`group_styles` for the order used).

    Returns
    -------
    dict
        ``{group: hex colour}``.

    Example
    -------
    >>> group_colors(["Physics", "Biology"])["Biology"]
    '#E69F00'
    """
    return {g: s.color for g, s in group_styles(groups).items()}


#: Set MULTILEVEL_PRESENTATION=1 (``make lab PRESENTATION=1``) to start every lesson in
#: presentation mode: the one switch an instructor needs before a lecture.
PRESENTATION_ENV = "MULTILEVEL_PRESENTATION"
_presentation_on = os.environ.get(PRESENTATION_ENV, "").strip().lower() in {
    "1",
    "true",
    "yes",
    "on",
}


def use_course_style(*, presentation: bool | None = None) -> None:
    """Apply the course's matplotlib defaults; lessons call this once at the top.

    Parameters
    ----------
    presentation : bool or None
        ``True`` also switches presentation mode on, ``False`` switches it off, ``None``
        (default) keeps whatever mode is active.

    Example
    -------
    >>> use_course_style()
    """
    global _presentation_on
    mpl.rcParams.update(COURSE_RC)
    if presentation is not None:
        _presentation_on = bool(presentation)
    if _presentation_on:
        mpl.rcParams.update(PRESENTATION_RC)


def is_presentation_mode() -> bool:
    """Return whether presentation mode is on.

    Example
    -------
    >>> isinstance(is_presentation_mode(), bool)
    True
    """
    return _presentation_on


class presentation_mode:  # noqa: N801 - reads as a function call, like contextlib helpers
    """Switch projector-sized type and thicker lines on (or off), in one place.

    Called on its own it switches the mode for the rest of the session; used in a ``with``
    block it switches back when the block ends.

    Parameters
    ----------
    on : bool
        ``True`` (default) for large type and thick lines, ``False`` for the normal course
        sizes.

    Example
    -------
    >>> presentation_mode()          # from now on, projector sizes
    presentation_mode(on=True)
    >>> presentation_mode(False)     # back to normal
    presentation_mode(on=False)
    >>> with presentation_mode():    # only inside the block
    ...     pass
    """

    def __init__(self, on: bool = True) -> None:
        global _presentation_on
        if not isinstance(on, (bool, np.bool_)):
            raise ValueError(f"on must be True or False, got {on!r}")
        self.on = bool(on)
        keys = set(COURSE_RC) | set(PRESENTATION_RC)
        self._saved_rc = {k: mpl.rcParams[k] for k in keys}
        self._saved_mode = _presentation_on
        _presentation_on = self.on
        if self.on:
            mpl.rcParams.update(PRESENTATION_RC)
        else:
            mpl.rcParams.update({k: COURSE_RC[k] for k in PRESENTATION_RC if k in COURSE_RC})
            mpl.rcParams.update(
                {k: mpl.rcParamsDefault[k] for k in PRESENTATION_RC if k not in COURSE_RC}
            )

    def __enter__(self) -> presentation_mode:
        return self

    def __exit__(self, *exc: object) -> None:
        global _presentation_on
        mpl.rcParams.update(self._saved_rc)
        _presentation_on = self._saved_mode

    def __repr__(self) -> str:
        return f"presentation_mode(on={self.on})"


# ---------------------------------------------------------------------------- tick formatters


def dollar_formatter(*, short: bool = True) -> FuncFormatter:
    """A tick formatter for dollars: ``$60k`` (``short=True``) or ``$60,000``.

    Parameters
    ----------
    short : bool
        Abbreviate thousands as ``k`` and millions as ``M``.

    Returns
    -------
    matplotlib.ticker.FuncFormatter

    Example
    -------
    >>> dollar_formatter()(60_000, 0), dollar_formatter(short=False)(60_000, 0)
    ('$60k', '$60,000')
    >>> dollar_formatter()(1_500, 0)
    '$1.5k'
    """
    tick_style = "short" if short else "tick"
    return FuncFormatter(lambda value, _pos: format_amount(float(value), style=tick_style))


def years_formatter(*, suffix: str = "") -> FuncFormatter:
    """A tick formatter for whole years: ``5``, ``10`` (or ``5 y`` with ``suffix=" y"``).

    Pair it with ``MaxNLocator(integer=True)`` (as :func:`format_axis` does) so ticks fall
    on whole years.

    Example
    -------
    >>> years_formatter()(10.0, 0), years_formatter(suffix=" y")(2.5, 0)
    ('10', '2.5 y')
    """
    return FuncFormatter(lambda value, _pos: f"{float(value):g}{suffix}")


# ---------------------------------------------------------------------- units and axis labels
# The units themselves live in multilevel.units (no matplotlib); re-exported here for figures.


def format_axis(ax: Axes, *, x: str | None = None, y: str | None = None) -> None:
    """Give an axis the tick format its column's unit calls for ($60k, whole years).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    x, y : str, optional
        Column names (or a unit such as ``"$"``) shown on each axis.

    Example
    -------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> format_axis(ax, x="experience", y="salary")
    """
    for axis, column in ((ax.xaxis, x), (ax.yaxis, y)):
        if column is None:
            continue
        unit = column if column in ("$", "years") else unit_of(column)
        if unit is None:
            continue
        if is_money(unit):
            axis.set_major_formatter(dollar_formatter(short=True))
        elif unit == "years":
            axis.set_major_locator(MaxNLocator(integer=True))
            axis.set_major_formatter(years_formatter())
