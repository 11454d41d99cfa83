"""What every explorer shares: the layout, fast in-place drawing, coalesced updates, notes.

Drawing
-------
Each explorer owns one matplotlib ``Figure`` on the Agg canvas (no pyplot, no global state) and
shows it as a PNG in an ``ipywidgets.Image``. The artists that move (points, lines, markers) are
created once and changed in place with ``set_data`` / ``set_offsets`` / ``set_segments``; they
are *animated*, so the still parts (axes, ticks, labels, legend) are drawn once into a cached
background and only redrawn when the axis limits or the legend change. A refresh then restores
the background, draws the moving artists and encodes a PNG with light compression.

Why this backend, by measurement on the 2-core course machine (80 dpi, 880x352 pixels): the
inline backend re-renders the whole figure into an ``Output`` (``savefig`` to PNG: about 60 ms
CPU, a full Agg draw alone about 30 ms, mostly tick labels), which alone breaks the 50 ms budget.
Restoring the cached background, drawing the moving artists and encoding an RGB PNG at
compression level 1 costs about 9 ms CPU at 8x20 (about 6.5 ms of it the encoding); a whole
slider step (simulate, refit all models, redraw) about 15-20 ms CPU. ``ipympl`` was not
measured: it is not installed, it needs a matching front-end extension, and the Image widget
already meets the budget with nothing beyond ipywidgets; it also works unchanged in
JupyterLab, in nbclient runs and in exported HTML.

Updates
-------
Slider changes call :meth:`Explorer.request_update`. A change sent by the browser (a drag step)
inside a running kernel is deferred to the next event-loop iteration and a flag marks it
pending, so a burst of changes (drag messages that queued up while a refit was running) is
served by one refit with the newest values, never by a queue of stale refits. ipywidgets' front
end also keeps at most one slider message in flight. A change made by code (a cell, a test, the
benchmark) updates at once, so the next line sees the new figure, readout and notes.

Errors
------
An update that fails (a fit that raises, a drawing error) never freezes the figure silently and
never prints a traceback into the notebook: :meth:`Explorer.update` and every control's callback
catch the error, keep the last figure that worked, and show a note in plain English (what went
wrong, and how to try again). The full traceback goes to the logger ``multilevel.widgets`` and to
the widget's own log (``explorer.log``; in a kernel that is the kernel's log, printed in the
terminal that started JupyterLab), where an instructor can read it.

Threads
-------
The many-samples explorer fits in a background thread. ``warnings.catch_warnings`` and
``matplotlib.rc_context`` swap process-wide state and restore it on exit, so a thread entering
them while the kernel's thread does the same can leave the other thread's filters, warning
recorder or style in force for the rest of the session (Python 3.11); pandas and matplotlib
enter ``catch_warnings`` internally. The background thread therefore runs numpy and the engine
only, and hands its results to the kernel's thread, which draws (see ``many_samples``). As a
safeguard, an update that does run off the main thread enters neither context.
"""

from __future__ import annotations

import asyncio
import html
import io
import logging
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import ipywidgets as widgets
import matplotlib as mpl
import numpy as np
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection
from matplotlib.colors import to_rgba_array
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from PIL import Image as PILImage
from threadpoolctl import ThreadpoolController

import simdata

from .. import style
from ._fitting import PartialFit, fit_partial

__all__ = [
    "Explorer",
    "SampleExplorer",
    "group_colors",
    "dollars",
    "dollar_slider",
    "spread_slider",
    "SPREAD_LABELS",
    "count_slider",
    "float_slider",
    "toggle",
    "button",
]

#: Where an explorer's errors are logged, with their traceback. A NullHandler keeps the logging
#: module's last-resort handler from printing them into the notebook (a kernel's stderr).
LOG = logging.getLogger("multilevel.widgets")
LOG.addHandler(logging.NullHandler())

_CONTROL_WIDTH = "290px"
_COLUMN_WIDTH = "300px"
_DESCRIPTION_WIDTH = "0px"

# Larger type in the controls for a lecture hall; scoped to explorers in presentation mode.
_PRESENTATION_CSS = """
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


_controller: ThreadpoolController | None = None
_blas_lock = threading.Lock()
_blas_users = 0
_blas_limit: Any = None


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """A context in which BLAS (OpenBLAS) runs on one thread.

    The refits are many tiny problems; with a multi-threaded BLAS their L-BFGS-B steps spend
    most of their wall time waking and parking BLAS threads, which on a busy 2-core machine
    measured 133 ms per fit instead of 16 ms. Entering the context costs about 0.03 ms.

    The BLAS thread count is process-wide, and the kernel's thread and a background run may be
    inside the context at once: the first one in sets the limit and the last one out restores
    the previous count, so overlapping uses never leave the wrong count behind.
    """
    global _controller, _blas_users, _blas_limit
    with _blas_lock:
        if _controller is None:
            import scipy.optimize  # noqa: F401 - load scipy's BLAS so the controller sees it

            _controller = ThreadpoolController()
        if _blas_users == 0:
            _blas_limit = _controller.limit(limits=1, user_api="blas")
        _blas_users += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_users -= 1
            if _blas_users == 0:
                _blas_limit.restore_original_limits()
                _blas_limit = None


def dollars(value: float, *, digits: int = 0) -> str:
    """Format an amount of money for a readout: ``8000 -> '$8,000'``, ``-1500.5 -> '-$1,500'``.

    Parameters
    ----------
    value : float
        Amount in dollars; NaN gives an em dash.
    digits : int
        Decimal places.

    Example
    -------
    >>> dollars(8000)
    '$8,000'
    """
    if value is None or not np.isfinite(value):
        return "\u2014"
    text = f"{abs(value):,.{digits}f}"
    # No "-$0": a sign only when the rounded amount is not zero.
    sign = "-" if value < 0 and text.strip("0.,") else ""
    return f"{sign}${text}"


def _style(description_width: str = _DESCRIPTION_WIDTH) -> dict[str, str]:
    return {"description_width": description_width}


def dollar_slider(
    description: str, value: float, low: float, high: float, step: float
) -> widgets.IntSlider:
    """A slider for an amount in dollars, with a ``$8,000`` style readout."""
    return widgets.IntSlider(
        value=int(value),
        min=int(low),
        max=int(high),
        step=int(step),
        description=description,
        readout_format="$,d",
        continuous_update=True,
        style=_style(),
        layout=widgets.Layout(width=_CONTROL_WIDTH),
    )


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
    return widgets.IntSlider(
        value=value,
        min=low,
        max=high,
        step=step,
        description=description,
        readout_format=",d",
        continuous_update=True,
        style=_style(),
        layout=widgets.Layout(width=_CONTROL_WIDTH),
    )


def float_slider(
    description: str, value: float, low: float, high: float, step: float, fmt: str = ".2f"
) -> widgets.FloatSlider:
    """A slider for a plain number such as a correlation or a variance ratio."""
    return widgets.FloatSlider(
        value=value,
        min=low,
        max=high,
        step=step,
        description=description,
        readout_format=fmt,
        continuous_update=True,
        style=_style(),
        layout=widgets.Layout(width=_CONTROL_WIDTH),
    )


def button(description: str, tooltip: str, icon: str = "refresh") -> widgets.Button:
    """A push button (new sample, run, stop)."""
    return widgets.Button(description=description, tooltip=tooltip, icon=icon)


def toggle(description: str, value: bool) -> widgets.Checkbox:
    """A check box that shows or hides one family of lines."""
    return widgets.Checkbox(
        value=value,
        description=description,
        indent=False,
        layout=widgets.Layout(width="auto"),
    )


class _BlitRenderer:
    """Render a figure to PNG, redrawing only the animated artists when the background holds."""

    def __init__(self, fig: Figure) -> None:
        self.fig = fig
        self.canvas = FigureCanvasAgg(fig)
        self._background: Any = None
        self._animated: list[Artist] = []

    def animate(self, *artists: Artist) -> None:
        """Mark artists as moving: drawn on top of the cached background at every refresh."""
        for artist in artists:
            artist.set_animated(True)
            self._animated.append(artist)

    def invalidate(self) -> None:
        """The still parts changed (limits, legend, titles): redraw them at the next render."""
        self._background = None

    def render(self) -> bytes:
        canvas = self.canvas
        if self._background is None:
            canvas.draw()
            self._background = canvas.copy_from_bbox(self.fig.bbox)
        else:
            canvas.restore_region(self._background)
        renderer = canvas.get_renderer()
        for artist in self._animated:
            if artist.get_visible() and artist.figure is not None:
                artist.draw(renderer)
        width, height = canvas.get_width_height()
        image = PILImage.frombuffer(
            "RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1
        ).convert("RGB")
        out = io.BytesIO()
        # RGB at compress_level=1: about 6 ms instead of about 25 ms at the default level, for a
        # file of about 70 kB at 8x20.
        image.save(out, format="png", compress_level=1)
        return out.getvalue()


class _Limits:
    """Axis limits that only move when the content leaves them or shrinks to a small part."""

    def __init__(self, pad: float = 0.3, shrink: float = 0.3) -> None:
        self.pad = pad
        self.shrink = shrink

    def fit(
        self, current: tuple[float, float], values: Iterable[float]
    ) -> tuple[float, float] | None:
        """New limits for ``values``, or None when the current ones still serve."""
        arr = np.asarray([v for v in values if v is not None], dtype=float)
        arr = arr[np.isfinite(arr)]
        if arr.size == 0:
            return None
        low, high = float(arr.min()), float(arr.max())
        span = high - low
        if span <= 0:
            span = max(abs(high) * 0.1, 1.0)
        cur_low, cur_high = current
        cur_span = cur_high - cur_low
        # A marker drawn right at the edge would be cut in half: keep a small margin clear.
        margin = 0.04 * cur_span
        inside = low >= cur_low + margin and high <= cur_high - margin
        if inside and span >= self.shrink * cur_span:
            return None
        return low - self.pad * span, high + self.pad * span


class Explorer(widgets.VBox):
    """Base class of the explorers: controls on the left, figure, readout and notes on the right.

    Subclasses build their controls and artists, and implement :meth:`_refresh` (simulate if
    needed, fit, move the artists, fill the readout and notes).

    Attributes
    ----------
    controls : dict of str to ipywidgets.Widget
        Every slider, check box and button, by name; set ``.value`` or call ``.click()`` to drive
        the explorer from code exactly as a learner would.
    figure : matplotlib.figure.Figure
        The figure shown (updated in place).
    image : ipywidgets.Image
        The rendered figure.
    readout : ipywidgets.HTML
        True versus estimated values.
    note : ipywidgets.HTML
        Plain-English notes on what happened (empty when there is nothing to say).
    timings : list of float
        Seconds taken by each update (refit plus redraw), for benchmarks.
    error : str or None
        The plain-English message of the last update that failed, None after one that worked.
    more_settings : ipywidgets.Accordion or None
        In presentation mode, the collapsed section holding the less-used controls.
    """

    title: str = ""
    #: How a learner tries again after an error (shown in the error note).
    retry_hint: str = "Press <b>New sample</b> or change a slider to try again."

    def __init__(self, *, presentation: bool | None = None, figsize: tuple[float, float]) -> None:
        super().__init__()
        self.presentation = (
            style.is_presentation_mode() if presentation is None else bool(presentation)
        )
        self.controls: dict[str, widgets.Widget] = {}
        self.timings: list[float] = []
        self.notes: tuple[str, ...] = ()
        self.error: str | None = None
        self._pending = False
        rc = dict(style.COURSE_RC)
        if self.presentation:
            rc.update(style.PRESENTATION_RC)
        # Explorers lay out once and then keep the layout: constrained layout would re-run at
        # every full draw, and tight bounding boxes would change the image size while dragging.
        rc.update({"figure.constrained_layout.use": False, "savefig.bbox": None})
        self._rc = rc
        dpi = 90 if self.presentation else 80
        if self.presentation:
            figsize = (figsize[0] * 1.2, figsize[1] * 1.2)
        with mpl.rc_context(rc):
            self.figure = Figure(figsize=figsize, dpi=dpi)
        self._renderer = _BlitRenderer(self.figure)
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self.readout = widgets.HTML()
        self.note = widgets.HTML()
        self.add_class("ml-explorer")
        if self.presentation:
            self.add_class("ml-presentation")

    # ------------------------------------------------------------------ building
    def _rc_context(self) -> Any:
        return mpl.rc_context(self._rc)

    def _assemble(
        self,
        groups: Sequence[tuple[str, Sequence[widgets.Widget]]],
        *,
        more: Iterable[widgets.Widget] = (),
    ) -> None:
        """Lay out the figure with its notes on top and the groups of controls as columns below.

        A JupyterLab notebook column is about 900-1,000 px wide: the figure (880 px) fills it,
        the note sits right under the figure so it is seen while dragging, the control groups
        stand side by side under it (wrapping on narrow screens) and the readout closes.

        In presentation mode the controls in ``more`` (the less-used ones) move into a
        collapsed "More settings" section under the others, so the room sees the main sliders,
        the figure and the readout; :attr:`more_settings` is that section (None otherwise).
        """
        moved = {id(item) for item in more} if self.presentation else set()
        hidden: list[widgets.Widget] = []
        columns: list[widgets.Widget] = []
        for heading, items in groups:
            kept = [item for item in items if id(item) not in moved]
            hidden.extend(item for item in items if id(item) in moved)
            if not kept:
                continue
            children: list[widgets.Widget] = []
            if heading:
                children.append(widgets.HTML(f"<b>{heading}</b>"))
            children.extend(_labelled(item) for item in kept)
            columns.append(
                widgets.VBox(
                    children, layout=widgets.Layout(width=_COLUMN_WIDTH, margin="0 12px 0 0")
                )
            )
        controls = widgets.HBox(columns, layout=widgets.Layout(flex_flow="row wrap"))
        self.more_settings: widgets.Accordion | None = None
        parts: list[widgets.Widget] = []
        if self.presentation:
            parts.append(widgets.HTML(_PRESENTATION_CSS))
        if self.title:
            parts.append(widgets.HTML(f"<h3 style='margin:4px 0'>{self.title}</h3>"))
        parts.extend([self.image, self.note, controls])
        if hidden:
            inner = widgets.HBox(
                [_labelled(item) for item in hidden],
                layout=widgets.Layout(flex_flow="row wrap", grid_gap="4px 12px"),
            )
            self.more_settings = widgets.Accordion(
                children=[inner], titles=("More settings",), selected_index=None
            )
            parts.append(self.more_settings)
        parts.append(self.readout)
        self.children = tuple(parts)

    def _width(self, points: float) -> float:
        """A line width or marker size in points, thicker in presentation mode."""
        return points * (1.5 if self.presentation else 1.0)

    def _dots(self, ax: Any, size: float, **kwargs: Any) -> PathCollection:
        """Filled dots placed later with ``set_offsets``; ``size`` is the area in points^2
        (scaled like a width twice in presentation mode), with no edge line."""
        return ax.scatter(
            np.empty(0),
            np.empty(0),
            s=self._width(self._width(size)),
            linewidths=self._width(0),
            **kwargs,
        )

    def _own_data_markers(self, ax: Any, **kwargs: Any) -> Line2D:
        """Open circles for each department's estimate from its own data only (no pooling)."""
        (line,) = ax.plot(
            [],
            [],
            "o",
            mfc="white",
            mec="#333333",
            ms=self._width(7),
            mew=self._width(1.3),
            ls="none",
            **kwargs,
        )
        return line

    def _truth_markers(self, ax: Any, **kwargs: Any) -> Line2D:
        """Grey crosses for each department's simulated (true) value."""
        (line,) = ax.plot(
            [],
            [],
            "x",
            color="#555555",
            ms=self._width(7),
            mew=self._width(1.6),
            ls="none",
            **kwargs,
        )
        return line

    def _watch(self, names: Iterable[str], handler: Callable[[Any], None] | None = None) -> None:
        """Refit when any of the named controls changes value."""
        handler = handler or (lambda change: self.request_update(defer=from_frontend(change)))

        def callback(change: Any) -> None:
            self._safely(handler, change)

        for name in names:
            self.controls[name].observe(callback, names="value")

    def _on_click(self, name: str, handler: Callable[[], None]) -> None:
        """Run ``handler`` when the named button is pressed (errors become a note)."""
        self.controls[name].on_click(lambda _button: self._safely(handler))

    def _safely(self, action: Callable[..., Any], *args: Any) -> None:
        """Run a control's callback; an error becomes a note instead of a traceback.

        ipywidgets prints a button callback's traceback into the notebook and only logs a
        slider observer's in the kernel's log, leaving the figure frozen without a word.
        """
        try:
            action(*args)
        except Exception as exc:  # noqa: BLE001 - any error: explain it, log it, keep going
            self._report_error(exc)

    def request_update(self, *, defer: bool = False) -> None:
        """Ask for a refit and redraw.

        With ``defer=True`` (a change sent by the front end, such as a drag step) and a running
        event loop (a kernel), the update waits for the next loop iteration and a burst of
        requests makes one update with the newest values. Otherwise it runs now, so code in a
        cell that sets a slider sees the new figure, readout and notes at once.
        """
        loop = None
        if defer:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                loop = None
        if loop is None:
            self.update()
            return
        if not self._pending:
            self._pending = True
            loop.call_soon(self._flush)

    def _flush(self) -> None:
        # Runs as an event-loop callback, where asyncio would swallow an error: update() and
        # _safely() turn every error into a note.
        if self._pending:
            self._pending = False
            self._safely(self.update)

    def update(self) -> None:
        """Refit with the current settings and redraw the figure in place (synchronously).

        An error does not propagate: the figure keeps its last good state, :attr:`error` and
        the note say what went wrong, and the traceback is logged (see the module notes).
        """
        self._pending = False
        start = time.perf_counter()
        try:
            if threading.current_thread() is threading.main_thread():
                with warnings.catch_warnings(record=True) as caught, single_threaded_blas():
                    warnings.simplefilter("always")
                    with self._rc_context():
                        notes = list(self._refresh())
                notes.extend(_warning_notes(caught))
            else:
                # No process-wide switches off the main thread (see "Threads" above).
                with np.errstate(all="ignore"):
                    notes = list(self._refresh())
            self._show_notes(notes)
            self.image.value = self._renderer.render()
            self.error = None
        except Exception as exc:  # noqa: BLE001 - any error: explain it, log it, keep going
            self._report_error(exc)
        finally:
            self.timings.append(time.perf_counter() - start)

    def _report_error(self, exc: BaseException) -> None:
        """Show a failed update as a plain-English note and log its traceback.

        The figure keeps the last state that was drawn completely; the cached background is
        dropped, so the next update redraws everything.
        """
        what = str(exc).strip().split("\n")[0] or "no details were given"
        if len(what) > 300:
            what = what[:297] + "..."
        message = (
            f"Something went wrong while updating this explorer: {what} "
            f"({type(exc).__name__}). The figure still shows the last result that worked."
        )
        self.error = message
        self.notes = (message,)
        self._renderer.invalidate()
        self.note.value = (
            "<div style='border-left:4px solid #D55E00;padding:2px 8px;margin-top:4px;"
            f"max-width:760px'><b>Could not update</b><br>{html.escape(message)} "
            f"{self.retry_hint}</div>"
        )
        text = f"{type(self).__name__} could not update: {type(exc).__name__}: {exc}"
        try:
            LOG.error(text, exc_info=exc)
            if self.log is not LOG:
                # In a kernel: the kernel's log, printed in the terminal running JupyterLab.
                self.log.error(text, exc_info=exc)
        except Exception:  # noqa: BLE001, S110 - a broken log handler must not hide the note
            pass

    def _refresh(self) -> list[str]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _show_notes(self, notes: Sequence[str]) -> None:
        unique = list(dict.fromkeys(n for n in notes if n))
        self.notes = tuple(unique)
        if not unique:
            self.note.value = ""
            return
        items = "".join(f"<li>{n}</li>" for n in unique)
        self.note.value = (
            "<div style='border-left:4px solid #E69F00;padding:2px 8px;margin-top:4px;"
            f"max-width:760px'><b>Note</b><ul style='margin:2px 0'>{items}</ul></div>"
        )

    def _set_limits(
        self, ax: Any, *, x: Iterable[float] | None = None, y: Iterable[float] | None = None
    ) -> None:
        """Move axis limits only when needed; a move invalidates the cached background."""
        limits = _Limits()
        if x is not None:
            new = limits.fit(ax.get_xlim(), x)
            if new is not None:
                ax.set_xlim(new)
                self._renderer.invalidate()
        if y is not None:
            new = limits.fit(ax.get_ylim(), y)
            if new is not None:
                ax.set_ylim(new)
                self._renderer.invalidate()

    def _readout_table(self, header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
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


class SampleExplorer(Explorer):
    """An explorer of one simulated sample at a time, refitted in place as the sliders move.

    ``seed`` fixes the sequence of samples: every sample is drawn from :attr:`_sample_seed`,
    so a slider change redraws the same departments at the new settings, and the "New sample"
    button (:meth:`_new_sample`) moves on to the next seed. ``fit`` holds the last
    partial-pooling ``FitResult`` (None before the first), the warm start of the next refit.
    """

    def __init__(
        self, *, seed: simdata.Seed, presentation: bool | None, figsize: tuple[float, float]
    ) -> None:
        super().__init__(presentation=presentation, figsize=figsize)
        self._rng = simdata.as_generator(seed)
        self._sample_seed = int(self._rng.integers(2**32))
        self.fit: Any = None

    def _new_sample(self, _button: Any = None) -> None:
        self._sample_seed = int(self._rng.integers(2**32))
        self.fit = None
        self.request_update()

    def _refit(self, sim: Any, model: str, n_groups: int) -> PartialFit:
        """Fit the multilevel model, warm-started from the last fit when the groups still match,
        and keep the result in :attr:`fit`."""
        previous = self.fit
        start = previous if previous is not None and previous.n_groups == n_groups else None
        outcome = fit_partial(sim, model, start=start)
        self.fit = outcome.result
        return outcome


def group_colors(n_groups: int) -> np.ndarray:
    """RGBA rows, one colour per department, in the course's colour-blind-safe order."""
    return to_rgba_array([s.color for s in style.distinct_styles(n_groups)])


def _labelled(control: widgets.Widget) -> widgets.Widget:
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


def from_frontend(change: Any) -> bool:
    """Whether a trait change came from the browser (ipywidgets holds a property lock while it
    applies a front-end update) rather than from code in the kernel."""
    return bool(getattr(change.get("owner"), "_property_lock", None))


def _warning_notes(caught: Sequence[warnings.WarningMessage]) -> list[str]:
    """Turn numerical warnings caught during a refit into plain-English notes."""
    notes = []
    for w in caught:
        message = str(w.message).split("\n")[0]
        notes.append(
            "The fitting routine reported a numerical difficulty "
            f"({w.category.__name__}: {message}); treat these estimates with care."
        )
    return notes
