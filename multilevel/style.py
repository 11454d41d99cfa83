"""The course's look: a colour-blind-safe palette, legible defaults and a presentation mode.

Every figure in the course takes its colours and sizes from here, so a lesson only calls
:func:`use_course_style` once, and a lecturer switches larger type and thicker lines on for a
projector in one place with :func:`presentation_mode`.

How group colours are chosen
----------------------------
Each group gets a :class:`GroupStyle` from :func:`distinct_styles`, the one palette function
every figure and explorer uses: a colour, a marker shape and a line style.

* **Colours** (:data:`GROUP_PALETTE`): eight colours designed for this course by the method of
  Petroff (2021), "Accessible Color Sequences for Data Visualization" (arXiv:2107.02270), the
  method behind matplotlib's ``petroff`` styles: starting from Okabe & Ito's hues (blue,
  orange, bluish green, vermilion, reddish purple, sky blue) plus a violet and a dark green,
  each colour was moved as little as possible until every pair is at least 18 CAM02-UCS units
  apart (Petroff's bar for eight colours) for normal vision *and* for simulated deuteranopia,
  protanopia and tritanopia at full severity (Machado, Oliveira & Fernandes 2009, as computed
  by ``colorspacious``), and every colour has at least 3:1 contrast against white (WCAG 2.1,
  success criterion 1.4.11, for graphical objects; Okabe-Ito's yellow has 1.3:1). There is no
  grey (grey is kept for legend keys and reference marks) and no colour close to black (black
  is the population line, :data:`POPULATION_COLOR`).
* **Markers** (:data:`GROUP_MARKERS`): six filled shapes that stay apart at legend size, so
  colour is never the only cue (WCAG 1.4.1); the ``x`` and ``*`` used for the truth and for
  complete pooling are not among them.
* **Line styles**: solid for the first eight groups; past eight the colours repeat, each with
  a new marker and a dashed line, so up to twelve groups (and more) get distinct
  (colour, marker) pairs, and two groups drawn with the same marker always have colours at
  least 20 units apart in every one of the four visions.

``tests/test_palette.py`` checks all of this for 8, 10 and 12 groups, and that the old palette
(Okabe-Ito with yellow and grey, all circles) fails it.

Example
-------
>>> from multilevel import style
>>> style.use_course_style()
>>> colors = style.group_colors(["Biology", "Chemistry", "Physics"])
>>> colors["Biology"]
'#C20000'
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
    "GROUP_MARKERS",
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

#: Colours for groups, in the order groups get them (see the module notes for how they were
#: chosen). The order puts the colours of groups that share a marker (the 1st and 7th, the 2nd
#: and 8th, ...) far apart, and the first three as far apart as possible.
GROUP_PALETTE: tuple[str, ...] = (
    "#C20000",  # red
    "#AF709E",  # mauve (reddish purple)
    "#004198",  # navy blue
    "#7946FF",  # violet
    "#69A16D",  # sage green
    "#E37400",  # orange
    "#009AF7",  # azure (sky blue)
    "#357249",  # forest green
)

#: Marker shapes for groups, in the order groups get them: filled shapes that differ in
#: outline, not only in size or a few corners (a hexagon or an octagon reads as a circle at
#: legend size). Six, the most that ggplot2's shape scale allows for the same reason.
GROUP_MARKERS: tuple[str, ...] = ("o", "s", "^", "D", "v", "P")

#: The colour of the population (complete-pooling / fixed-effects) line.
POPULATION_COLOR: str = OKABE_ITO["black"]

#: One line style per round of colours: solid for the first eight groups, then dashed, ...
_LINESTYLES: tuple[Any, ...] = ("-", (0, (5, 2)), (0, (1, 1.5)), (0, (5, 2, 1, 2)))

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
        A matplotlib marker from :data:`GROUP_MARKERS`.
    """

    color: str
    linestyle: Any = "-"
    marker: str = "o"


def distinct_styles(n: int) -> list[GroupStyle]:
    """Return ``n`` distinguishable group styles: the course's one palette function.

    Group ``i`` (from 0) gets colour ``i mod 8`` of :data:`GROUP_PALETTE`, marker ``i mod 6``
    of :data:`GROUP_MARKERS` and line style ``i // 8``: every group has its own colour up to
    eight and its own marker up to six, no two groups share both a colour and a marker before
    24, and groups sharing a colour (past eight) also differ in line style.

    Parameters
    ----------
    n : int
        The number of groups, zero or more.

    Returns
    -------
    list of GroupStyle

    Example
    -------
    >>> [(s.color, s.marker) for s in distinct_styles(2)]
    [('#C20000', 'o'), ('#AF709E', 's')]
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
            marker=GROUP_MARKERS[i % len(GROUP_MARKERS)],
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
    '#C20000'
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
