"""The explorers' controls: sliders, check boxes and buttons worded and sized the same everywhere.

Every control made here knows whether its current change came from the browser (a learner
dragging) or from code (a cell, a test): :func:`from_frontend` asks it. Explorers defer the
former, so that a burst of drag messages makes one refit, and run the latter at once.

Example
-------
>>> slider = spread_slider("noise_sd", 5_000)
>>> slider.readout_format, slider.min
('$,d', 500)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import ipywidgets as widgets

from ..units import format_amount

__all__ = [
    "SPREAD_LABELS",
    "PRESENTATION_CSS",
    "button",
    "count_slider",
    "dollar_slider",
    "dollars",
    "float_slider",
    "from_frontend",
    "labelled",
    "number",
    "readout_table",
    "spread_slider",
    "toggle",
]

CONTROL_WIDTH = "290px"
COLUMN_WIDTH = "300px"
_DESCRIPTION_WIDTH = "0px"

#: Larger type in the controls for a lecture hall; scoped to explorers in presentation mode.
PRESENTATION_CSS = """
<style>
.ml-explorer.ml-presentation .widget-label,
.ml-explorer.ml-presentation .widget-readout,
.ml-explorer.ml-presentation .widget-html-content,
.ml-explorer.ml-presentation button,
.ml-explorer.ml-presentation .widget-checkbox label { font-size: 17px !important; }
.ml-explorer.ml-presentation .widget-html-content table { font-size: 17px !important; }
.ml-explorer.ml-presentation .ml-label { font-size: 17px !important; }
</style>
"""

#: The simulation's spreads as every explorer words them, on its slider and in its readout.
SPREAD_LABELS = {
    "base_sd": "Spread of base salaries between departments (SD)",
    "raise_sd": "Spread of raises between departments (SD, per year)",
    "noise_sd": "Spread of salaries within a department (SD)",
}
# Their slider ranges in dollars: low, high, step.
_SPREAD_RANGES = {
    "base_sd": (0, 20_000, 500),
    "raise_sd": (0, 1_500, 25),
    "noise_sd": (500, 20_000, 500),
}


class _FromFrontend:
    """Mixin: counts the front-end updates (``set_state`` calls) being applied right now.

    ipywidgets applies a browser message through the public ``Widget.set_state``, and the
    value observers run inside it; so while the count is positive, a change came from the
    browser.
    """

    #: How many front-end updates are being applied right now.
    frontend_updates = 0

    def set_state(self, sync_data: dict[str, Any]) -> None:
        self.frontend_updates += 1
        try:
            super().set_state(sync_data)  # type: ignore[misc]
        finally:
            self.frontend_updates -= 1


class IntSlider(_FromFrontend, widgets.IntSlider):
    """An ``ipywidgets.IntSlider`` that knows when the browser moved it."""


class FloatSlider(_FromFrontend, widgets.FloatSlider):
    """An ``ipywidgets.FloatSlider`` that knows when the browser moved it."""


class Checkbox(_FromFrontend, widgets.Checkbox):
    """An ``ipywidgets.Checkbox`` that knows when the browser ticked it."""


class Dropdown(_FromFrontend, widgets.Dropdown):
    """An ``ipywidgets.Dropdown`` that knows when the browser changed it."""


def from_frontend(change: Mapping[str, Any]) -> bool:
    """Whether a trait change came from the browser rather than from code in the kernel.

    Parameters
    ----------
    change : Mapping
        The change an observer receives: a dict whose ``owner`` is the control.

    Example
    -------
    >>> slider = count_slider("Samples", 10, 1, 20)
    >>> seen = []
    >>> slider.observe(lambda change: seen.append(from_frontend(change)), names="value")
    >>> slider.value = 12                  # code
    >>> slider.set_state({"value": 13})    # what a browser message does
    >>> seen
    [False, True]
    """
    return getattr(change.get("owner"), "frontend_updates", 0) > 0


def dollars(value: float | None, *, digits: int = 0) -> str:
    """An amount of money for a readout: ``8000 -> '$8,000'``, ``-1500.5 -> '-$1,500'``.

    Parameters
    ----------
    value : float
        Amount in dollars; None or NaN gives an em dash.
    digits : int
        Decimal places.

    Example
    -------
    >>> dollars(8000), dollars(float("nan"))
    ('$8,000', '—')
    """
    return format_amount(value, style="fixed", digits=digits, missing="\u2014")


def number(value: float | None) -> str:
    """A plain number for a readout, two decimals: ``0.4567 -> '0.46'``; None or NaN: an em dash.

    Example
    -------
    >>> number(0.4567), number(None)
    ('0.46', '—')
    """
    return "\u2014" if value is None or not math.isfinite(value) else f"{value:.2f}"


def _range(value: float, low: float, high: float, step: float, kind: type) -> dict[str, float]:
    """A slider's value, bounds and step as ``kind`` (int or float)."""
    return {"value": kind(value), "min": kind(low), "max": kind(high), "step": kind(step)}


def _layout() -> dict[str, Any]:
    return {
        "continuous_update": True,
        "style": {"description_width": _DESCRIPTION_WIDTH},
        "layout": widgets.Layout(width=CONTROL_WIDTH),
    }


def dollar_slider(
    description: str, value: float, low: float, high: float, step: float
) -> widgets.IntSlider:
    """A slider for an amount in dollars, with a ``$8,000`` style readout."""
    return IntSlider(
        **_range(value, low, high, step, int),
        description=description,
        readout_format="$,d",
        **_layout(),
    )


def spread_slider(name: str, value: float) -> widgets.IntSlider:
    """The slider for one of the simulation's spreads, with the same label and range everywhere.

    Parameters
    ----------
    name : {"base_sd", "raise_sd", "noise_sd"}
        Which spread: of base salaries between departments, of raises between departments
        ($ per year) or of salaries within a department.
    value : float
        Starting value in dollars.

    Example
    -------
    >>> spread_slider("noise_sd", 5_000).min
    500
    """
    return dollar_slider(SPREAD_LABELS[name], value, *_SPREAD_RANGES[name])


def count_slider(
    description: str, value: int, low: int, high: int, step: int = 1
) -> widgets.IntSlider:
    """A slider for a whole number (departments, faculty, samples)."""
    return IntSlider(
        **_range(value, low, high, step, int),
        description=description,
        readout_format=",d",
        **_layout(),
    )


def float_slider(
    description: str,
    value: float,
    low: float,
    high: float,
    step: float,
    readout_format: str = ".2f",
) -> widgets.FloatSlider:
    """A slider for a plain number such as a correlation or a variance ratio."""
    return FloatSlider(
        **_range(value, low, high, step, float),
        description=description,
        readout_format=readout_format,
        **_layout(),
    )


def dropdown(description: str, options: list[tuple[str, str]], value: str) -> widgets.Dropdown:
    """A drop-down list of ``(label, value)`` options."""
    return Dropdown(
        options=options,
        value=value,
        description=description,
        style={"description_width": _DESCRIPTION_WIDTH},
        layout=widgets.Layout(width=CONTROL_WIDTH),
    )


def button(description: str, tooltip: str, icon: str = "refresh") -> widgets.Button:
    """A push button (new sample, run, stop)."""
    return widgets.Button(description=description, tooltip=tooltip, icon=icon)


def toggle(description: str, value: bool) -> widgets.Checkbox:
    """A check box that shows or hides one family of lines."""
    return Checkbox(
        value=value,
        description=description,
        indent=False,
        layout=widgets.Layout(width="auto"),
    )


def labelled(control: widgets.Widget) -> widgets.Widget:
    """A slider or drop-down with its plain-words label on its own line above it.

    ipywidgets cuts a description longer than its box with an ellipsis, and the course's labels
    ("Spread of base salaries between departments (SD)") are longer than a slider's label box.
    The description stays on the widget (tests, screen readers), drawn with zero width.
    """
    if not isinstance(control, (widgets.IntSlider, widgets.FloatSlider, widgets.Dropdown)):
        return control
    label = control.description
    control.style.description_width = "0px"
    return widgets.VBox(
        [widgets.HTML(f"<div class='ml-label'>{label}</div>"), control],
        layout=widgets.Layout(margin="0 0 4px 0"),
    )


def readout_table(header: list[str], rows: list[list[str]]) -> str:
    """An HTML table: a header row, then rows whose first cell is left-aligned, the rest right.

    Example
    -------
    >>> readout_table(["", "True"], [["Spread", "$8,000"]]).count("<tr>")
    2
    """
    head = "".join(f"<th style='text-align:right;padding:1px 10px'>{h}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td style='text-align:{'left' if i == 0 else 'right'};padding:1px 10px'>{c}</td>"
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table style='border-collapse:collapse'><tr>{head}</tr>{body}</table>"
