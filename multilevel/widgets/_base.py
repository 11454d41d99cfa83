"""What every explorer shares: the layout, in-place drawing, coalesced updates, plain notes.

An explorer is a ``VBox``: the figure (a PNG drawn by :class:`~._render.BlitRenderer`), the
notes, the controls in columns and a readout. A slider change sent by the browser is deferred to
the next event-loop iteration, so a burst of drag messages makes one refit with the newest
values; a change made by code updates at once. An update that fails keeps the last figure that
worked and says what went wrong in a note; the traceback goes to the logger
``multilevel.widgets`` (in a kernel: the terminal that started JupyterLab).
"""

from __future__ import annotations

import asyncio
import base64
import html
import logging
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import ipywidgets as widgets
import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

import simdata

from .. import style
from ..models import FitResult
from ._controls import COLUMN_WIDTH, PRESENTATION_CSS, from_frontend, labelled
from ._fitting import PartialFit, fit_partial, single_threaded_blas
from ._render import AxisLimits, BlitRenderer

__all__ = ["LOG", "Explorer", "SampleExplorer"]

#: Where an explorer's errors are logged, with their traceback. A NullHandler keeps the logging
#: module's last-resort handler from printing them into the notebook (a kernel's stderr).
LOG = logging.getLogger("multilevel.widgets")
LOG.addHandler(logging.NullHandler())


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
    #: Under the still picture (:meth:`still_html`): where the explorer can be moved.
    run_it_hint: str = (
        "A still picture of this explorer at its first settings. To move its sliders, run the "
        "lesson in JupyterLab (<code>make lab</code>, or the Binder button at the top of this "
        "page), or show it without code in a lecture with <code>make demo</code>."
    )

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
        self._renderer = BlitRenderer(self.figure)
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self.readout = widgets.HTML()
        self.note = widgets.HTML()
        self.add_class("ml-explorer")
        if self.presentation:
            self.add_class("ml-presentation")

    # ------------------------------------------------------------------ a still picture
    def describe_figure(self) -> str:
        """One or two sentences on what the figure shows, for a reader who cannot see it (the
        alt text of :meth:`still_html`). Subclasses say what their panels draw."""
        return f"The figure of the explorer {self.title!r}."

    def still_html(self) -> str:
        """The explorer as static HTML: its title, its figure as it is now (a PNG with alt
        text) and where to run it.

        Jupyter front ends with the widget manager (JupyterLab, Voila) show the live widget and
        ignore this; a static page made from the executed notebook (the course's web site)
        shows it instead of a widget that could not move there.

        Example
        -------
        >>> import multilevel as ml
        >>> html = ml.widgets.varying_intercepts_explorer(seed=1).still_html()
        >>> html.count("<img"), 'alt="' in html
        (1, True)
        """
        picture = base64.b64encode(self.image.value).decode("ascii")
        title = f"<p><strong>{html.escape(self.title)}</strong></p>" if self.title else ""
        return (
            f"<div class='ml-static-explorer'>{title}"
            f"<img src='data:image/png;base64,{picture}' "
            f'alt="{html.escape(self.describe_figure(), quote=True)}">'
            f"<p class='ml-run-it'>{self.run_it_hint}</p></div>"
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        """The widget, plus :meth:`still_html` for front ends that cannot show a widget."""
        bundle = super()._repr_mimebundle_(**kwargs)
        bundle["text/html"] = self.still_html()
        return bundle

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
            children.extend(labelled(item) for item in kept)
            columns.append(
                widgets.VBox(
                    children, layout=widgets.Layout(width=COLUMN_WIDTH, margin="0 12px 0 0")
                )
            )
        controls = widgets.HBox(columns, layout=widgets.Layout(flex_flow="row wrap"))
        self.more_settings: widgets.Accordion | None = None
        parts: list[widgets.Widget] = []
        if self.presentation:
            parts.append(widgets.HTML(PRESENTATION_CSS))
        if self.title:
            parts.append(widgets.HTML(f"<h3 style='margin:4px 0'>{self.title}</h3>"))
        parts.extend([self.image, self.note, controls])
        if hidden:
            inner = widgets.HBox(
                [labelled(item) for item in hidden],
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

    def _dots(self, ax: Axes, size: float, **kwargs: Any) -> PathCollection:
        """Filled dots placed later with ``set_offsets``; ``size`` is the area in points^2
        (scaled like a width twice in presentation mode), with no edge line."""
        return ax.scatter(
            np.empty(0),
            np.empty(0),
            s=self._width(self._width(size)),
            linewidths=self._width(0),
            **kwargs,
        )

    def _own_data_markers(self, ax: Axes, **kwargs: Any) -> Line2D:
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

    def _truth_markers(self, ax: Axes, **kwargs: Any) -> Line2D:
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
                notes.extend(warning_notes(caught))
            else:
                # warnings.catch_warnings and matplotlib.rc_context swap process-wide state: a
                # thread entering them while the kernel's thread does the same can leave the
                # other's filters or style behind (Python 3.11). Off the main thread: neither.
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
        self, ax: Axes, *, x: Iterable[float] | None = None, y: Iterable[float] | None = None
    ) -> None:
        """Move axis limits only when needed; a move invalidates the cached background."""
        limits = AxisLimits()
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
        self.fit: FitResult | None = None

    def _new_sample(self, _button: Any = None) -> None:
        self._sample_seed = int(self._rng.integers(2**32))
        self.fit = None
        self.request_update()

    def _refit(self, sim: simdata.SimulatedData, model: str, n_groups: int) -> PartialFit:
        """Fit the multilevel model, warm-started from the last fit when the groups still match,
        and keep the result in :attr:`fit`."""
        previous = self.fit
        start = previous if previous is not None and previous.n_groups == n_groups else None
        outcome = fit_partial(sim, model, start=start)
        self.fit = outcome.result
        return outcome


def warning_notes(caught: Sequence[warnings.WarningMessage]) -> list[str]:
    """Turn numerical warnings caught during a refit into plain-English notes."""
    notes = []
    for w in caught:
        message = str(w.message).split("\n")[0]
        notes.append(
            "The fitting routine reported a numerical difficulty "
            f"({w.category.__name__}: {message}); treat these estimates with care."
        )
    return notes
