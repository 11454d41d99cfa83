"""Explorer 5: truth versus estimate over many samples.

Repeat the simulation N times at the chosen settings, fit the multilevel model to each sample and
show how the estimates scatter around the truth: their spread, the bias, how often the 95%
intervals cover the truth and how often the fit lands on the boundary (a spread estimated as 0).

The repeated fits call the array-level engine (:func:`multilevel.engine.fit_arrays`, the exact
REML fit behind :func:`multilevel.fit`) directly, warm-started from the previous sample, so 200
samples at the default size take about a second. Runs go in a background thread that only
simulates (numpy) and fits (the engine); about four times a second it hands what it has fitted
to the kernel's thread, which updates the figure, readout and progress bar, and stays free to
receive a click on Stop.

>>> import multilevel as ml
>>> explorer = ml.widgets.many_samples_explorer(seed=1, n_samples=20, run_now=False)
>>> summary = explorer.run()      # synchronous; the Run button starts a thread instead
>>> len(explorer.estimates)
20
"""

from __future__ import annotations

import asyncio
import threading
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.ticker import MaxNLocator

import simdata

from .. import specs, style
from ._base import Explorer
from ._controls import (
    button,
    count_slider,
    dollars,
    dropdown,
    number,
    readout_table,
    spread_slider,
)
from ._fitting import single_threaded_blas
from ._study import Z95, RunSummary, design_problem, fit_sample, summarise, why_unfittable

__all__ = ["ManySamplesExplorer", "many_samples_explorer", "RunSummary", "fit_sample"]

_CHUNK_SECONDS = 0.25
#: The first partial result is drawn sooner, so a slider step answers at once, not after a chunk.
_FIRST_DRAW_SECONDS = 0.03
_EXPERIENCE = (0, 25)
_INTERVALS_SHOWN = 50

_SETTINGS_CHANGED = "Settings changed: press <b>Run</b> for samples at the new settings."


def _parts(kind: str) -> tuple[str, ...]:
    """The parts of the line that vary between departments in this kind of model."""
    return specs.MODELS[specs.model_for_kind(kind)].varying_parts


@dataclass(frozen=True)
class _Plan:
    """One run's settings, fixed when it starts."""

    run_id: int
    n: int
    kind: str
    settings: dict[str, Any]
    seed: int
    reason: str | None


@dataclass(frozen=True)
class _Snapshot:
    """What a run has fitted so far, handed from the background thread to the kernel's."""

    plan: _Plan
    rows: list[dict[str, float]]
    seconds: float
    stopped: bool = False
    final: bool = False
    failures: list[tuple[dict, Exception]] = field(default_factory=list)
    error: Exception | None = None


class ManySamplesExplorer(Explorer):
    """Repeat the simulation at the current settings and compare the estimates with the truth.

    Attributes (beyond those of every explorer): ``estimates`` (DataFrame, one row per sample:
    ``intercept, intercept_se, slope, slope_se, sd_intercept, sd_slope, correlation,
    residual_sd, boundary, converged``), ``summary`` (:class:`RunSummary` or None), ``progress``
    (the progress bar) and ``status`` (a line of text).

    A run of ``n_samples`` happens when the explorer is built (``run_now``), and again in the
    background whenever a setting changes (``auto_run``; otherwise press Run).

    Parameters
    ----------
    model : {"intercepts", "slopes", "both"}
        Which parts vary between departments, in the simulation and in the fitted model.
    n_samples : int
        Samples per run (the slider allows 10 to 2,000).
    n_departments, faculty_per_department : int
        Starting sizes.
    seed : int, numpy.random.Generator or None
        Fixes the samples drawn by successive runs.
    run_now : bool
        Run once while building the explorer (so the figure shows results at once).
    auto_run : bool
        Start a new run in the background whenever a setting changes (Stop ends it).
    presentation : bool or None
        Larger type for a projector; None follows :func:`multilevel.style.presentation_mode`.

    Press Run (or call ``.run()``); Stop ends a run early.

    Example
    -------
    >>> explorer = many_samples_explorer(seed=1, n_samples=50)
    >>> explorer.summary.n_samples
    50
    """

    title = "Truth versus estimate over many samples"
    retry_hint = "Press <b>Run</b> or change a setting to try again."

    def __init__(
        self,
        *,
        model: str = "intercepts",
        n_samples: int = 200,
        n_departments: int = 8,
        faculty_per_department: int = 20,
        seed: simdata.Seed = None,
        run_now: bool = True,
        auto_run: bool = True,
        presentation: bool | None = None,
    ) -> None:
        if model not in specs.KINDS:
            raise ValueError(f"model must be one of {sorted(specs.KINDS)}, got {model!r}")
        super().__init__(presentation=presentation, figsize=(11.0, 6.4))
        self._rng = simdata.as_generator(seed)
        self.estimates = pd.DataFrame()
        self.summary: RunSummary | None = None
        #: The kind of model of the run shown (None before the first run).
        self._kind: str | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._loop = None
        self._latest: _Snapshot | None = None
        self._run_id = 0
        self._settings_dirty = False
        self._failures = 0
        self._failure = None
        self.auto_run = bool(auto_run)
        c = self.controls
        c["model"] = dropdown(
            "Model (and truth)",
            [(specs.MODELS[name].title, kind) for kind, name in specs.KINDS.items()],
            model,
        )
        c["base_sd"] = spread_slider("base_sd", 8_000)
        c["raise_sd"] = spread_slider("raise_sd", 300)
        c["noise_sd"] = spread_slider("noise_sd", 5_000)
        c["n_departments"] = count_slider("Number of departments", n_departments, 2, 50)
        c["faculty_per_department"] = count_slider(
            "Faculty per department", faculty_per_department, 1, 50
        )
        c["n_samples"] = count_slider("Number of samples", n_samples, 10, 2_000, step=10)
        c["run"] = button("Run", "Simulate and fit this many samples", icon="play")
        c["stop"] = button("Stop", "Stop the run; the samples fitted so far are kept", icon="stop")
        c["stop"].disabled = True
        self._on_click("run", self.start)
        self._on_click("stop", self.stop)
        self.progress = widgets.IntProgress(value=0, min=0, max=n_samples, description="Progress")
        self.status = widgets.HTML("Press <b>Run</b> to simulate and fit many samples.")
        settings = ["model", "base_sd", "raise_sd", "noise_sd", "n_departments"]
        settings += ["faculty_per_department", "n_samples"]
        self._watch(settings, lambda change: self._settings_changed())
        self._build_figure()
        self._assemble(
            [
                ("Settings", [c[k] for k in settings]),
                (
                    "Run",
                    [widgets.HBox([c["run"], c["stop"]]), self.progress, self.status],
                ),
            ],
            more=[c["noise_sd"], c["n_samples"]],
        )
        self.update()
        if run_now:
            self._safely(self.run)

    # ------------------------------------------------------------------ settings
    def settings(self) -> dict[str, Any]:
        """The simulation settings, as keyword arguments of ``faculty_salaries``."""
        c = self.controls
        parts = _parts(c["model"].value)
        return {
            "n_departments": int(c["n_departments"].value),
            "faculty_per_department": int(c["faculty_per_department"].value),
            "base_sd": float(c["base_sd"].value) if "intercept" in parts else 0.0,
            "raise_sd": float(c["raise_sd"].value) if "slope" in parts else 0.0,
            "noise_sd": float(c["noise_sd"].value),
            "base_mean": 60_000.0,
            "raise_mean": 1_500.0,
            "experience_range": _EXPERIENCE,
        }

    def _settings_changed(self) -> None:
        parts = _parts(self.controls["model"].value)
        self.controls["base_sd"].disabled = "intercept" not in parts
        self.controls["raise_sd"].disabled = "slope" not in parts
        if self.auto_run:
            # A new simulation study at the new settings, in the background; a running one is
            # stopped first (it checks between samples, so this waits a few ms at most).
            self.stop()
            if self._thread is not None:
                self._thread.join()  # its results are for the old settings: not drawn
            self.start()
            return
        self._settings_dirty = True
        if self.running:
            self.stop()
        self.status.value = _SETTINGS_CHANGED

    @property
    def running(self) -> bool:
        """True while a background run is going."""
        return self._thread is not None and self._thread.is_alive()

    # ------------------------------------------------------------------ running
    #
    # The background thread only simulates (numpy) and fits (the engine): no pandas, no
    # matplotlib, no ipywidgets drawing. pandas and matplotlib enter warnings.catch_warnings
    # internally, which on Python 3.11 swaps process-wide state and can leave the kernel
    # thread's warning filters or recorder behind (see Explorer.update). What the thread has
    # fitted is handed over as a snapshot; the kernel's thread turns it into the summary,
    # figure and readout, as an event-loop callback (in a kernel) or in wait() and run().

    def start(self) -> None:
        """Start a run in a background thread (what the Run button does)."""
        if self.running:
            return
        self._stop.clear()
        self._settings_dirty = False
        try:
            self._loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None
        plan = self._plan()
        if plan.reason is not None:
            self._finish_unfittable(plan)
            return
        self._set_running(True)
        self._thread = threading.Thread(
            target=self._work, args=(plan,), name="many-samples", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Ask a running run to stop after the sample in progress (what the Stop button does)."""
        self._stop.set()

    def wait(self, timeout: float | None = None) -> None:
        """Block until a background run ends, then show its results (for scripts and tests)."""
        if self._thread is not None:
            self._thread.join(timeout)
        if threading.current_thread() is threading.main_thread():
            self._drain()

    def run(self, n_samples: int | None = None) -> RunSummary:
        """Simulate and fit ``n_samples`` samples (default: the slider) in this thread.

        Progress, figure and readout update about four times a second; :meth:`stop` (from
        another thread, or the Stop button) ends the run early, keeping what was fitted.

        Returns
        -------
        RunSummary
        """
        if threading.current_thread() is not self._thread:
            self._stop.clear()
            self._settings_dirty = False
        plan = self._plan(n_samples)
        if plan.reason is not None:
            self._finish_unfittable(plan)
        else:
            self._set_running(True)
            self._work(plan)
            self._drain()
        assert self.summary is not None
        return self.summary

    def _plan(self, n_samples: int | None = None) -> _Plan:
        """Settings of a new run, and (by fitting its first sample with ``multilevel.fit``,
        which checks the design and explains in plain words why a model cannot be fitted) the
        reason it cannot run, if there is one. Runs in the kernel's thread."""
        c = self.controls
        kind = c["model"].value
        settings = self.settings()
        seed = int(self._rng.integers(2**32))
        self._run_id += 1
        self._failures, self._failure = 0, None
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            first = simdata.faculty_salaries(**settings, seed=seed)
            reason = design_problem(first, kind)
        n = int(c["n_samples"].value if n_samples is None else n_samples)
        self.progress.max = n
        self.progress.value = 0
        self.progress.bar_style = ""
        return _Plan(self._run_id, n, kind, settings, seed, reason)

    def _finish_unfittable(self, plan: _Plan) -> None:
        self._failures, self._failure = plan.n, plan.reason
        self._set_running(False)
        self._latest = _Snapshot(plan, [], 0.0, stopped=False, final=True)
        self._drain()

    def _set_running(self, running: bool) -> None:
        self.controls["run"].disabled = running
        self.controls["stop"].disabled = not running

    def _work(self, plan: _Plan) -> None:
        """Simulate and fit the samples of ``plan``; hand snapshots to the kernel's thread.

        An error ends the run with a final snapshot that carries it (shown as a note).
        """
        rows: list[dict[str, float]] = []
        failures: list[tuple[dict, Exception]] = []
        start = time.perf_counter()
        error: Exception | None = None
        try:
            self._fit_samples(plan, rows, failures, start)
        except Exception as exc:  # noqa: BLE001 - any error: shown as a note by _drain
            error = exc
        self._deliver(
            _Snapshot(
                plan,
                rows,
                time.perf_counter() - start,
                stopped=self._stop.is_set() or error is not None,
                final=True,
                failures=failures,
                error=error,
            )
        )

    def _fit_samples(
        self,
        plan: _Plan,
        rows: list[dict[str, float]],
        failures: list[tuple[dict, Exception]],
        start: float,
    ) -> None:
        rng = simdata.as_generator(plan.seed)
        last_draw = start
        wait = _FIRST_DRAW_SECONDS
        previous = None
        # numpy's error state is per thread: no floating-point warnings from this loop.
        with np.errstate(all="ignore"), single_threaded_blas():
            for i in range(plan.n):
                if self._stop.is_set():
                    break
                state = rng.bit_generator.state
                x, y, codes = _simulate(rng, plan.settings)
                try:
                    row, previous = fit_sample(x, y, codes, kind=plan.kind, previous=previous)
                except (ArithmeticError, ValueError, np.linalg.LinAlgError) as exc:
                    failures.append((state, exc))
                    if len(failures) >= 3 and not rows:
                        break  # the design itself cannot be fitted; say so, do not loop
                    continue
                rows.append(row)
                now = time.perf_counter()
                if now - last_draw >= wait and i + 1 < plan.n:
                    snapshot = _Snapshot(plan, list(rows), now - start, failures=list(failures))
                    self._deliver(snapshot)
                    # Counted from the end of the delivery: a run in the kernel's thread draws
                    # while it delivers, and a draw slower than a chunk (a busy machine) would
                    # otherwise make every later sample draw again.
                    last_draw, wait = time.perf_counter(), _CHUNK_SECONDS

    def _deliver(self, snapshot: _Snapshot) -> None:
        """Hand a snapshot to the kernel's thread (only the newest is kept)."""
        with self._lock:
            self._latest = snapshot
        if threading.current_thread() is threading.main_thread():
            self._drain()
        elif self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._safely, self._drain)
        else:
            # No kernel event loop (a script): progress now, the figure in wait().
            done = len(snapshot.rows)
            self.progress.value = done
            self.status.value = f"{done:,} of {snapshot.plan.n:,} samples\u2026"
            if snapshot.final:
                self._set_running(False)

    def _drain(self) -> None:
        """Show the newest snapshot: summary, progress, status, figure (kernel's thread)."""
        with self._lock:
            snapshot, self._latest = self._latest, None
        if snapshot is None or snapshot.plan.run_id != self._run_id:
            return
        plan, rows, seconds = snapshot.plan, snapshot.rows, snapshot.seconds
        if snapshot.failures:
            self._failures = len(snapshot.failures)
            if self._failure is None:
                state, exc = snapshot.failures[0]
                self._failure = why_unfittable(plan.settings, plan.kind, state, exc)
        self.estimates = pd.DataFrame(rows)
        self.summary = summarise(
            self.estimates, plan.settings, plan.kind, snapshot.stopped, seconds
        )
        self._truth = plan.settings
        self._kind = plan.kind
        done = len(rows)
        self.progress.value = done
        if snapshot.final:
            self._set_running(False)
            self.progress.bar_style = "warning" if snapshot.stopped else "success"
            verb = "Stopped after" if snapshot.stopped else "Done:"
            if done == 0 and self._failures:
                verb = "Nothing fitted (see the note):"
            self.status.value = f"{verb} {done:,} of {plan.n:,} samples in {seconds:.1f} s." + (
                " " + _SETTINGS_CHANGED if self._settings_dirty else ""
            )
        else:
            self.status.value = f"{done:,} of {plan.n:,} samples, {seconds:.1f} s\u2026"
        self.update()
        if snapshot.error is not None:
            self.progress.bar_style = "danger"
            self.status.value = (
                f"Stopped by an error after {done:,} of {plan.n:,} samples (see the note)."
            )
            self._report_error(snapshot.error)

    def describe_figure(self) -> str:
        """What the figure shows, in words (the alt text of its still picture)."""
        samples = (
            f"{len(self.estimates):,} simulated samples"
            if len(self.estimates)
            else ("the simulated samples (none run yet)")
        )
        return (
            f"Four panels from {samples}: histograms of the estimated spread between "
            "departments, of the average raise and of the spread within a department, each with "
            "the true value as a black line and the average estimate as a dashed orange line; "
            f"and the 95% intervals of the average raise for the first {_INTERVALS_SHOWN} "
            "samples, dark where they cover the truth and orange where they miss it."
        )

    # ------------------------------------------------------------------ figure
    def _build_figure(self) -> None:
        with self._rc_context():
            axes = self.figure.subplots(2, 2)
            self.figure.subplots_adjust(
                left=0.08, right=0.98, bottom=0.09, top=0.93, wspace=0.25, hspace=0.45
            )
            self.ax_spread, self.ax_raise, self.ax_noise, self.ax_ci = axes.ravel()
            self.hists = {}
            self.truth_marks = {}
            self.mean_marks = {}
            for name, ax in (
                ("spread", self.ax_spread),
                ("raise", self.ax_raise),
                ("noise", self.ax_noise),
            ):
                self.hists[name] = ax.stairs(
                    np.zeros(1), np.array([0.0, 1.0]), fill=True, color="#56B4E9", alpha=0.8
                )
                self.truth_marks[name] = ax.axvline(
                    np.nan, color="black", lw=self._width(2.2), label="Truth"
                )
                self.mean_marks[name] = ax.axvline(
                    np.nan, color="#D55E00", lw=self._width(2), ls="--", label="Average estimate"
                )
                ax.set_ylabel("Samples")
                ax.yaxis.set_major_locator(MaxNLocator(integer=True))
                ax.grid(axis="x", visible=False)
            self.ax_spread.legend(loc="upper right", fontsize="small")
            self.ax_spread.set_title(self._spread_title("intercept"))
            self.ax_spread.set_xlabel("Estimate ($)")
            self.ax_raise.set_title("Average raise per year")
            self.ax_raise.set_xlabel("Estimate ($ per year)")
            self.ax_noise.set_title("Spread within a department (SD)")
            self.ax_noise.set_xlabel("Estimate ($)")
            for ax in (self.ax_spread, self.ax_noise):
                ax.xaxis.set_major_formatter(style.dollar_formatter())
            self.ax_raise.xaxis.set_major_formatter(style.dollar_formatter(short=False))
            ax = self.ax_ci
            ax.set_title(
                f"95% intervals (first {_INTERVALS_SHOWN})"
                if self.presentation
                else f"95% intervals, average raise (first {_INTERVALS_SHOWN})"
            )
            ax.set_xlabel("Average raise ($ per year)")
            ax.set_ylabel("Sample")
            ax.xaxis.set_major_formatter(style.dollar_formatter(short=False))
            # Headroom above the intervals keeps the legend off them.
            ax.set_ylim(-1, _INTERVALS_SHOWN * 1.3)
            ax.set_yticks(range(0, _INTERVALS_SHOWN + 1, 10))
            self.intervals = LineCollection([], linewidths=self._width(1.6))
            ax.add_collection(self.intervals)
            self.ci_truth = ax.axvline(np.nan, color="black", lw=self._width(2))
            ax.plot([], [], color="#333333", lw=self._width(1.6), label="Covers the truth")
            ax.plot([], [], color="#D55E00", lw=self._width(1.6), label="Misses")
            ax.legend(loc="upper center", ncol=2, fontsize="small", frameon=True, framealpha=0.9)
            for each in (self.ax_spread, self.ax_raise, self.ax_noise, self.ax_ci):
                each.xaxis.set_major_locator(MaxNLocator(5))

    def _spread_title(self, part: str) -> str:
        # Projector type is larger: the long titles would run past the figure's edges.
        words = "raises" if part == "slope" else "base salaries"
        if self.presentation:
            return f"Spread of {words} (SD)"
        return f"Spread of {words} between departments (SD)"

    def _refresh(self) -> list[str]:
        est = self.estimates
        kind = self._kind or self.controls["model"].value
        spread_part = "slope" if kind == "slopes" else "intercept"
        # set_text, not set_title/set_xlabel: those read the style's sizes from the global
        # rcParams, which a background run must not depend on (see Explorer.update).
        self.ax_spread.title.set_text(self._spread_title(spread_part))
        self.ax_spread.xaxis.label.set_text(
            "Estimate ($ per year)" if spread_part == "slope" else "Estimate ($)"
        )
        if est.empty:
            self.readout.value = ""
            for artist in (*self.hists.values(), self.intervals):
                artist.set_visible(False)
            return self._explain()
        for artist in (*self.hists.values(), self.intervals):
            artist.set_visible(True)
        truth = self._truth
        panels = {
            "spread": (
                est[f"sd_{spread_part}"],
                truth["raise_sd" if spread_part == "slope" else "base_sd"],
            ),
            "raise": (est["slope"], truth["raise_mean"]),
            "noise": (est["residual_sd"], truth["noise_sd"]),
        }
        axes = {"spread": self.ax_spread, "raise": self.ax_raise, "noise": self.ax_noise}
        for name, (values, true_value) in panels.items():
            v = values.to_numpy(float)
            v = v[np.isfinite(v)]
            low = min(v.min(), true_value) if v.size else true_value - 1
            high = max(v.max(), true_value) if v.size else true_value + 1
            if high <= low:
                high = low + max(abs(low) * 0.05, 1.0)
            edges = np.linspace(low, high, 31)
            counts, _ = np.histogram(v, edges)
            self.hists[name].set_data(counts, edges)
            self.truth_marks[name].set_xdata([true_value, true_value])
            mean = float(v.mean()) if v.size else np.nan
            self.mean_marks[name].set_xdata([mean, mean])
            pad = 0.05 * (high - low)
            axes[name].set_xlim(low - pad, high + pad)
            axes[name].set_ylim(0, max(counts.max() if counts.size else 1, 1) * 1.15)
        shown = est.iloc[:_INTERVALS_SHOWN]
        lo = shown["slope"] - Z95 * shown["slope_se"]
        hi = shown["slope"] + Z95 * shown["slope_se"]
        ys = np.arange(len(shown), dtype=float)
        self.intervals.set_segments(
            np.stack([np.column_stack([lo, ys]), np.column_stack([hi, ys])], axis=1)
        )
        true_raise = truth["raise_mean"]
        covers = (lo <= true_raise) & (hi >= true_raise)
        self.intervals.set_colors(np.where(covers, "#333333", "#D55E00"))
        self.ci_truth.set_xdata([true_raise, true_raise])
        if len(shown):
            span = max(float(hi.max() - lo.min()), 1.0)
            self.ax_ci.set_xlim(float(lo.min()) - 0.05 * span, float(hi.max()) + 0.05 * span)
        self._renderer.invalidate()
        self._fill_readout()
        return self._explain()

    def _explain(self) -> list[str]:
        notes = []
        if self._failures and self.summary is not None and self.summary.n_samples == 0:
            notes.append(f"The model cannot be fitted with these settings: {self._failure}")
        elif self._failures:
            notes.append(
                f"{self._failures:,} sample(s) could not be fitted and are left out: "
                f"{self._failure}"
            )
        if int(self.controls["faculty_per_department"].value) == 1:
            notes.append(
                "With one faculty member per department, differences between departments "
                "cannot be told apart from noise within them, so how the model splits the "
                "variation is largely a guess: look at the spread of the estimates."
            )
        s = self.summary
        if s is None or s.n_samples == 0:
            return notes
        if s.boundary_share > 0:
            notes.append(
                f"In {s.boundary_share:.0%} of the samples the model estimated no difference "
                "between departments (a spread of $0, the boundary). That happens more often "
                "when the true spread is small, the noise large, or departments few."
            )
        return notes

    def _fill_readout(self) -> None:
        s = self.summary
        if s is None:
            return
        rows = []
        for name, r in s.table.iterrows():
            # Every quantity is in dollars except the correlation, a plain number.
            cell = number if name == "correlation of base and raise" else dollars
            coverage = "\u2014" if not np.isfinite(r["coverage"]) else f"{r['coverage']:.0%}"
            rows.append(
                [
                    name[0].upper() + name[1:],
                    *(cell(r[column]) for column in ("truth", "mean", "bias", "sd")),
                    coverage,
                ]
            )
        html = readout_table(
            [
                "",
                "True",
                "Average estimate",
                "Bias",
                "SD of estimates",
                "95% interval covers truth",
            ],
            rows,
        )
        html += (
            f"<div style='margin-top:4px'>{s.n_samples:,} samples; fits on the boundary "
            f"(a spread estimated as $0): {s.boundary_share:.0%}.</div>"
        )
        self.readout.value = html


def _simulate(
    rng: np.random.Generator, settings: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``x`` (years), ``y`` ($) and group codes of one sample, drawn exactly as
    :func:`simdata.faculty_salaries` draws them from the same generator, without pandas (safe in
    a background thread; tests check that both give the same numbers)."""
    sample = simdata.faculty_arrays(**settings, seed=rng)
    return sample.experience.astype(float), sample.salary, sample.department


#: The name lessons call, as for every explorer; it is the class, so the settings, their
#: defaults and their documentation have one home.
many_samples_explorer = ManySamplesExplorer
