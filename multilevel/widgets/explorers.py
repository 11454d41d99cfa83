"""Explorers 1-3: complete, no and partial pooling side by side as departments differ more or less.

>>> import multilevel as ml
>>> explorer = ml.widgets.varying_intercepts_explorer(seed=1)
>>> explorer.controls["base_sd"].value = 0   # departments no longer differ
>>> "spread of base salaries to $0" in explorer.notes[0]   # a note says what happened
True
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

import simdata

from .. import specs, style
from ..units import axis_label
from ._base import SampleExplorer
from ._controls import (
    SPREAD_LABELS,
    button,
    count_slider,
    dollar_slider,
    dollars,
    float_slider,
    from_frontend,
    number,
    readout_table,
    spread_slider,
    toggle,
)
from ._fitting import Lines, arrays, complete_pooling, no_pooling, spread_looks_zero
from ._render import GroupMarks

__all__ = [
    "PoolingExplorer",
    "varying_intercepts_explorer",
    "varying_slopes_explorer",
    "varying_both_explorer",
]

_EXPERIENCE = (0, 25)

#: Each explorer's heading and starting spreads ($); the model, what it varies and the matching
#: no-pooling fit come from :data:`multilevel.specs.MODELS`.
_KINDS: dict[str, dict[str, Any]] = {
    "intercepts": {
        "title": "Varying intercepts: departments pay different base salaries",
        "defaults": {"base_sd": 8_000, "raise_sd": 0, "noise_sd": 5_000},
    },
    "slopes": {
        "title": "Varying slopes: departments give different raises",
        "defaults": {"base_sd": 0, "raise_sd": 500, "noise_sd": 5_000},
    },
    "both": {
        "title": "Varying intercepts and slopes: departments differ in base and raise",
        "defaults": {"base_sd": 8_000, "raise_sd": 500, "noise_sd": 5_000},
    },
}

_PART_WORDS = {
    "intercept": ("base salaries", "base_sd", "the spread of base salaries"),
    "slope": ("raises", "raise_sd", "the spread of raises"),
}


class PoolingExplorer(SampleExplorer):
    """Data, complete/no/partial pooling lines and the truth for one kind of group variation.

    Build one with :func:`varying_intercepts_explorer`, :func:`varying_slopes_explorer` or
    :func:`varying_both_explorer`. Besides the attributes of every explorer it has ``sim`` (the
    current :class:`simdata.SimulatedData`), ``fit`` (the partial-pooling ``FitResult`` or None),
    ``complete`` and ``separate`` (the complete- and no-pooling lines, one row per department).
    """

    def __init__(
        self,
        kind: str,
        *,
        n_departments: int = 8,
        faculty_per_department: int = 20,
        seed: simdata.Seed = None,
        presentation: bool | None = None,
    ) -> None:
        if kind not in _KINDS:
            raise ValueError(f"kind must be one of {sorted(_KINDS)}, got {kind!r}")
        self.kind = kind
        #: The multilevel model fitted (partial pooling), from :data:`multilevel.specs.MODELS`.
        self.model = specs.MODELS[specs.model_for_kind(kind)]
        #: What the no-pooling lines estimate separately per department (``"intercepts"``, ...).
        self.varying = str(self.model.no_pooling_varying)
        #: The parts of the line that vary between departments.
        self.parts = self.model.varying_parts
        self.title = _KINDS[kind]["title"]
        super().__init__(seed=seed, presentation=presentation, figsize=(11.0, 4.4))
        self.sim: simdata.SimulatedData | None = None
        self.complete: Lines | None = None
        self.separate: Lines | None = None
        self._n_styled = -1
        d = _KINDS[kind]["defaults"]
        c = self.controls
        if "intercept" in self.parts:
            c["base_sd"] = spread_slider("base_sd", d["base_sd"])
        if "slope" in self.parts:
            c["raise_sd"] = spread_slider("raise_sd", d["raise_sd"])
        if kind == "both":
            c["correlation"] = float_slider("Correlation of base and raise", 0.0, -1.0, 1.0, 0.05)
        c["noise_sd"] = spread_slider("noise_sd", d["noise_sd"])
        c["raise_mean"] = dollar_slider(
            "Average raise per year of experience", 1_500, 0, 4_000, 100
        )
        c["n_departments"] = count_slider("Number of departments", n_departments, 1, 50)
        c["faculty_per_department"] = count_slider(
            "Faculty per department", faculty_per_department, 1, 50
        )
        c["show_complete"] = toggle("Complete pooling (one line for all)", True)
        c["show_no_pooling"] = toggle("No pooling (each department alone)", True)
        c["show_partial"] = toggle("Partial pooling (multilevel model)", True)
        c["show_truth"] = toggle("Truth (the simulated departments)", False)
        c["new_sample"] = button("New sample", "Draw new departments and faculty")
        self._on_click("new_sample", self._new_sample)
        settings = [k for k in ("base_sd", "raise_sd", "correlation") if k in c]
        settings += ["noise_sd", "raise_mean", "n_departments", "faculty_per_department"]
        self._watch(settings)
        self._watch(
            ["show_complete", "show_no_pooling", "show_partial", "show_truth"],
            lambda change: self._toggle(defer=from_frontend(change)),
        )
        self._build_figure()
        self._assemble(
            [
                ("How departments differ", [c[k] for k in settings[:-4]]),
                ("Faculty and data", [c[k] for k in settings[-4:]] + [c["new_sample"]]),
                (
                    "Show",
                    [c["show_complete"], c["show_no_pooling"], c["show_partial"], c["show_truth"]],
                ),
            ],
            # For a lecture: the spreads, the noise, faculty per department, New sample and
            # Truth stay in view (the instructor's guide's demo steps); the rest folds away.
            more=[
                c["raise_mean"],
                c["n_departments"],
                c["show_complete"],
                c["show_no_pooling"],
                c["show_partial"],
            ],
        )
        self.update()

    def describe_figure(self) -> str:
        """What the figure shows, in words (the alt text of its still picture)."""
        c = self.controls
        who = (
            f"{c['n_departments'].value} departments of {c['faculty_per_department'].value} "
            "faculty members"
        )
        if self.kind == "both":
            right = (
                "right, each department's raise against its base salary, estimated from its own "
                "data (open circles) and by the multilevel model (filled dots), with the "
                "complete-pooling estimate as a black star"
            )
        else:
            part = "base salary" if self.parts[0] == "intercept" else "raise per year"
            right = (
                f"right, each department's {part} estimated from its own data (open circles) "
                "and by the multilevel model (filled dots), joined by grey lines that show how "
                "far the model pulls each towards the black line of complete pooling"
            )
        return (
            f"Left, salary against years of experience for {who}, with one black line for "
            "everyone (complete pooling), a dashed line per department fitted to its own data "
            "(no pooling) and a solid line per department from the multilevel model (partial "
            f"pooling); {right}."
        )

    # ------------------------------------------------------------------ figure
    def _build_figure(self) -> None:
        fig = self.figure
        with self._rc_context():
            self.ax_data, self.ax_groups = fig.subplots(
                1, 2, gridspec_kw={"width_ratios": [1.35, 1.0]}
            )
            fig.subplots_adjust(left=0.09, right=0.97, bottom=0.14, top=0.9, wspace=0.32)
            ax = self.ax_data
            ax.set_xlim(_EXPERIENCE[0] - 0.5, _EXPERIENCE[1] + 0.5)
            ax.set_ylim(0, 1)
            ax.set_xlabel(axis_label("experience"))
            ax.set_ylabel(axis_label("salary"))
            ax.yaxis.set_major_formatter(style.dollar_formatter())
            ax.set_title("Salaries and fitted lines")
            self.points = self._dots(ax, 14, alpha=0.55)
            self.truth_lines = LineCollection([], linewidths=self._width(1.2), linestyles=":")
            self.separate_lines = LineCollection(
                [], linewidths=self._width(1.3), linestyles="--", alpha=0.9
            )
            self.partial_lines = LineCollection([], linewidths=self._width(2.2))
            for coll in (self.truth_lines, self.separate_lines, self.partial_lines):
                ax.add_collection(coll)
            (self.complete_line,) = ax.plot(
                [], [], color=style.POPULATION_COLOR, lw=self._width(3.2)
            )
            g = self.ax_groups
            if self.kind == "both":
                g.set_xlabel("Department base salary ($ at 0 years)")
                g.set_ylabel("Department raise ($ per year)")
                g.xaxis.set_major_formatter(style.dollar_formatter())
                g.yaxis.set_major_formatter(style.dollar_formatter(short=False))
                g.set_title("Base and raise by department")
                g.xaxis.set_major_locator(MaxNLocator(5))
            else:
                part = self.parts[0]
                label = (
                    "Department base salary ($ at 0 years)"
                    if part == "intercept"
                    else "Department raise ($ per year)"
                )
                g.set_xlabel(label)
                g.xaxis.set_major_formatter(style.dollar_formatter(short=part == "intercept"))
                g.set_title("Each department's estimate")
                g.xaxis.set_major_locator(MaxNLocator(5))
                g.grid(axis="y", visible=False)
            self.shrink_arrows = LineCollection([], colors="#999999", linewidths=self._width(1.0))
            g.add_collection(self.shrink_arrows)
            self.group_truth = self._truth_markers(g)
            self.group_separate = self._own_data_markers(g)
            self.group_partial = self._dots(g, 50, zorder=3)
            if self.kind == "both":
                (self.group_complete,) = g.plot(
                    [], [], "*", color=style.POPULATION_COLOR, ms=self._width(15), ls="none"
                )
            else:
                (self.group_complete,) = g.plot(
                    [], [], color=style.POPULATION_COLOR, lw=self._width(2.5)
                )
        self._renderer.animate(
            self.points,
            self.truth_lines,
            self.separate_lines,
            self.partial_lines,
            self.complete_line,
            self.shrink_arrows,
            self.group_truth,
            self.group_separate,
            self.group_partial,
            self.group_complete,
        )
        self._make_legend()

    def _make_legend(self) -> None:
        c = self.controls
        handles = []
        if c["show_complete"].value:
            handles.append(
                Line2D(
                    [],
                    [],
                    color=style.POPULATION_COLOR,
                    lw=self._width(3),
                    label="Complete pooling",
                )
            )
        if c["show_no_pooling"].value:
            handles.append(
                Line2D([], [], color="#555555", lw=self._width(1.3), ls="--", label="No pooling")
            )
        if c["show_partial"].value:
            handles.append(
                Line2D([], [], color="#555555", lw=self._width(2.2), label="Partial pooling")
            )
        if c["show_truth"].value:
            handles.append(
                Line2D([], [], color="#555555", lw=self._width(1.2), ls=":", label="Truth")
            )
        legend = self.ax_data.get_legend()
        if legend is not None:
            legend.remove()
        if handles:
            with self._rc_context():
                self.ax_data.legend(handles=handles, loc="upper left", fontsize="small")
        markers = []
        if c["show_no_pooling"].value:
            markers.append(
                Line2D(
                    [], [], marker="o", mfc="white", mec="#333333", ls="none", label="No pooling"
                )
            )
        if c["show_partial"].value:
            markers.append(
                Line2D([], [], marker="o", color="#555555", ls="none", label="Partial pooling")
            )
        if c["show_truth"].value:
            markers.append(Line2D([], [], marker="x", color="#555555", ls="none", label="Truth"))
        legend = self.ax_groups.get_legend()
        if legend is not None:
            legend.remove()
        if c["show_complete"].value and self.kind == "both":
            markers.append(
                Line2D(
                    [],
                    [],
                    marker="*",
                    color=style.POPULATION_COLOR,
                    ms=self._width(11),
                    ls="none",
                    label="Complete pooling",
                )
            )
        if markers and self.kind == "both":
            with self._rc_context():
                self.ax_groups.legend(handles=markers, loc="best", fontsize="small")
        self._renderer.invalidate()

    def _toggle(self, *, defer: bool = False) -> None:
        self._make_legend()
        self.request_update(defer=defer)

    # ------------------------------------------------------------------ refit
    def settings(self) -> dict[str, Any]:
        """The simulation settings currently chosen, as keyword arguments of ``faculty_salaries``."""
        c = self.controls
        return {
            "n_departments": int(c["n_departments"].value),
            "faculty_per_department": int(c["faculty_per_department"].value),
            "base_sd": float(c["base_sd"].value) if "base_sd" in c else 0.0,
            "raise_sd": float(c["raise_sd"].value) if "raise_sd" in c else 0.0,
            "correlation": float(c["correlation"].value) if "correlation" in c else 0.0,
            "noise_sd": float(c["noise_sd"].value),
            "raise_mean": float(c["raise_mean"].value),
            "experience_range": _EXPERIENCE,
        }

    def _refresh(self) -> list[str]:
        settings = self.settings()
        sim = simdata.faculty_salaries(**settings, seed=self._sample_seed)
        self.sim = sim
        x, y, codes, _ = arrays(sim)
        n_groups = settings["n_departments"]
        per = settings["faculty_per_department"]
        notes: list[str] = []

        self.complete = complete_pooling(x, y, n_groups)
        self.separate = no_pooling(x, y, codes, n_groups, self.varying)
        if n_groups == 1:
            self.fit = None
            partial = None
            notes.append(
                "With one department there is nothing to pool: complete pooling and no pooling "
                "are the same single line, and a spread between departments cannot be estimated "
                "from one department, so no multilevel model is fitted."
            )
        else:
            outcome = self._refit(sim, self.model.name, n_groups)
            partial = outcome.lines
            notes.extend(self._explain(settings, per))
            notes.extend(outcome.notes)
        if per == 1:
            notes.append(
                "With one faculty member per department, a department's own line cannot be "
                "estimated (one point does not fix a line), so there are no no-pooling lines; "
                "and differences between departments cannot be told apart from noise within "
                "them, so how the model splits the variation is largely a guess."
            )
        elif not self.separate.defined.all() and n_groups > 0:
            notes.append(
                "Some departments' own lines cannot be estimated (every member has the same "
                "experience), so their no-pooling lines are missing."
            )
        self._draw(sim, x, y, codes, partial)
        self._fill_readout(sim)
        return notes

    def _explain(self, settings: dict[str, Any], per: int) -> list[str]:
        notes = []
        res = self.fit
        if settings["n_departments"] == 2:
            notes.append(
                "With two departments the spread between departments is estimated from just "
                "two departments, so it is very uncertain: try more departments."
            )
        if res is None:
            return notes
        residual = float(res.residual_sd) if np.isfinite(res.residual_sd) else 1.0
        for part in self.parts:
            words, key, spread_words = _PART_WORDS[part]
            true_sd = settings[key]
            est = float(res.group_sd.get(part, np.nan))
            at_zero = spread_looks_zero(est, residual, part)
            money = dollars(true_sd) + (" per year" if part == "slope" else "")
            if at_zero and true_sd == 0:
                notes.append(
                    f"The model estimates no difference between departments' {words}; with these "
                    f"settings that is the right answer, because you set {spread_words} to $0."
                )
            elif at_zero:
                notes.append(
                    f"The model estimates no difference between departments' {words}, although "
                    f"the true spread is {money}: with this much noise and this little data the "
                    "real differences are hidden, so partial pooling pulls every department onto "
                    "the overall line."
                )
            elif true_sd == 0:
                notes.append(
                    f"You set {spread_words} to $0, yet the model estimates "
                    f"{dollars(est)}{' per year' if part == 'slope' else ''}: chance differences "
                    "between departments in one sample look like a small spread."
                )
        return notes

    def _segments(self, lines: Lines) -> np.ndarray:
        ok = lines.defined
        x0, x1 = _EXPERIENCE
        seg = np.empty((int(ok.sum()), 2, 2))
        seg[:, 0, 0] = x0
        seg[:, 1, 0] = x1
        seg[:, 0, 1] = lines.intercept[ok] + lines.slope[ok] * x0
        seg[:, 1, 1] = lines.intercept[ok] + lines.slope[ok] * x1
        return seg

    def _draw(
        self,
        sim: simdata.SimulatedData,
        x: np.ndarray,
        y: np.ndarray,
        codes: np.ndarray,
        partial: Lines | None,
    ) -> None:
        c = self.controls
        n_groups = len(sim.truth)
        if n_groups != self._n_styled:
            self._marks = GroupMarks(n_groups)
            self._n_styled = n_groups
            self._set_group_ticks(sim)
        marks = self._marks
        colors = marks.colors
        truth = Lines(sim.truth["intercept"].to_numpy(float), sim.truth["slope"].to_numpy(float))
        self.points.set_offsets(np.column_stack([x, y]))
        self.points.set_facecolors(colors[codes])
        self.points.set_paths(marks.point_paths(codes))

        def put(coll: LineCollection, lines: Lines | None, show: bool) -> None:
            if lines is None:
                coll.set_segments([])
                coll.set_visible(False)
                return
            coll.set_segments(self._segments(lines))
            coll.set_colors(colors[lines.defined])
            coll.set_visible(show)

        put(self.truth_lines, truth, c["show_truth"].value)
        put(self.separate_lines, self.separate, c["show_no_pooling"].value)
        put(self.partial_lines, partial, c["show_partial"].value)
        cp = self.complete
        x0, x1 = _EXPERIENCE
        self.complete_line.set_data(
            [x0, x1], [cp.intercept[0] + cp.slope[0] * x0, cp.intercept[0] + cp.slope[0] * x1]
        )
        self.complete_line.set_visible(c["show_complete"].value and np.isfinite(cp.slope[0]))
        self._set_limits(
            self.ax_data, y=np.concatenate([y, [np.percentile(y, 1) if y.size else 0]])
        )

        # Right panel: each department's estimate.
        if self.kind == "both":

            def xy(lines: Lines | None) -> tuple[np.ndarray, np.ndarray]:
                if lines is None:
                    return np.full(n_groups, np.nan), np.full(n_groups, np.nan)
                return lines.intercept, lines.slope

            complete_xy = ([cp.intercept[0]], [cp.slope[0]])
        else:
            part = self.parts[0]
            rows = np.arange(n_groups)[::-1].astype(float)

            def xy(lines: Lines | None) -> tuple[np.ndarray, np.ndarray]:
                if lines is None:
                    return np.full(n_groups, np.nan), rows
                return getattr(lines, part), rows

            value = getattr(cp, part)[0]
            complete_xy = ([value, value], [-0.7, n_groups - 0.3])
        tx, ty = xy(truth)
        sx, sy = xy(self.separate)
        px, py = xy(partial)
        self.group_truth.set_data(tx, ty)
        self.group_truth.set_visible(c["show_truth"].value)
        self.group_separate.set_data(sx, sy)
        self.group_separate.set_visible(c["show_no_pooling"].value)
        self.group_partial.set_offsets(np.column_stack([px, py]))
        self.group_partial.set_facecolors(colors)
        self.group_partial.set_paths(marks.paths)
        self.group_partial.set_visible(c["show_partial"].value and partial is not None)
        self.group_complete.set_data(*complete_xy)
        self.group_complete.set_visible(c["show_complete"].value)
        both_shown = c["show_no_pooling"].value and c["show_partial"].value and partial is not None
        ok = np.isfinite(sx) & np.isfinite(px) & np.isfinite(sy) & np.isfinite(py)
        self.shrink_arrows.set_segments(
            np.stack([np.column_stack([sx, sy]), np.column_stack([px, py])], axis=1)[ok]
        )
        self.shrink_arrows.set_visible(bool(both_shown))
        xs = [tx, sx, px, complete_xy[0]]
        self._set_limits(self.ax_groups, x=np.concatenate([np.ravel(v) for v in xs]))
        if self.kind == "both":
            ys = [ty, sy, py, complete_xy[1]]
            self._set_limits(self.ax_groups, y=np.concatenate([np.ravel(v) for v in ys]))

    def _set_group_ticks(self, sim: simdata.SimulatedData) -> None:
        if self.kind == "both":
            return
        n = len(sim.truth)
        ax = self.ax_groups
        ax.set_ylim(-0.7, n - 0.3)
        if n <= 16:
            ax.set_yticks(np.arange(n)[::-1], [str(name) for name in sim.truth.index])
            ax.set_ylabel("")
        else:
            ax.set_yticks([])
            ax.set_ylabel(f"{n} departments")
        self._renderer.invalidate()

    def _fill_readout(self, sim: simdata.SimulatedData) -> None:
        res = self.fit
        pop, truth = sim.population, sim.truth
        rows = [
            [
                SPREAD_LABELS[key],
                dollars(pop[key]),
                dollars(float(truth[part].std(ddof=1)) if len(truth) > 1 else None),
                dollars(None if res is None else float(res.group_sd.get(part, np.nan))),
            ]
            for part, (_, key, _) in _PART_WORDS.items()
            if part in self.parts
        ]
        if self.kind == "both":
            rows.append(
                [
                    "Correlation of base and raise",
                    f"{pop['correlation']:.2f}",
                    number(_sample_correlation(truth)),
                    number(None if res is None else res.correlation),
                ]
            )
        rows.append(
            [
                SPREAD_LABELS["noise_sd"],
                dollars(pop["noise_sd"]),
                "",
                dollars(None if res is None else float(res.residual_sd)),
            ]
        )
        if self.kind == "intercepts":
            tau2, sig2 = float(pop["base_sd"]) ** 2, float(pop["noise_sd"]) ** 2
            true_icc = tau2 / (tau2 + sig2) if tau2 + sig2 > 0 else None
            icc = None if res is None else res.icc
            rows.append(
                ["Share of variation between departments (ICC)", number(true_icc), "", number(icc)]
            )
        fixed = None if res is None else res.fixed_effects["estimate"]
        for label, key, part in (
            ("Average base salary (at 0 years)", "base_mean", "intercept"),
            ("Average raise per year", "raise_mean", "slope"),
        ):
            rows.append(
                [
                    label,
                    dollars(pop[key]),
                    dollars(float(truth[part].mean())),
                    dollars(None if fixed is None else float(fixed[part])),
                ]
            )
        self.readout.value = readout_table(
            ["", "True (setting)", "These departments", "Estimated (partial pooling)"], rows
        )


def _sample_correlation(truth: pd.DataFrame) -> float | None:
    """The correlation of the simulated departments' bases and raises (None if undefined)."""
    if len(truth) > 2 and truth["intercept"].std() > 0 and truth["slope"].std() > 0:
        return float(np.corrcoef(truth["intercept"], truth["slope"])[0, 1])
    return None


def varying_intercepts_explorer(
    *,
    n_departments: int = 8,
    faculty_per_department: int = 20,
    seed: simdata.Seed = None,
    presentation: bool | None = None,
) -> PoolingExplorer:
    """Explore varying intercepts: departments pay different base salaries, raises are shared.

    Sliders set the spread of base salaries between departments ($ SD), the spread within a
    department ($ SD), the raise per year ($), the number of departments and faculty per
    department; check boxes show complete, no and partial pooling and the truth.

    Parameters
    ----------
    n_departments, faculty_per_department : int
        Starting sizes (sliders allow 1 to 50).
    seed : int, numpy.random.Generator or None
        Fixes the samples drawn (the "New sample" button draws the next one).
    presentation : bool or None
        Larger type for a projector; None follows :func:`multilevel.style.presentation_mode`.

    Returns
    -------
    PoolingExplorer
        A widget; it displays itself when it is the last expression of a cell.

    Example
    -------
    >>> explorer = varying_intercepts_explorer(seed=1)
    >>> explorer.controls["base_sd"].value = 12_000
    """
    return PoolingExplorer(
        "intercepts",
        n_departments=n_departments,
        faculty_per_department=faculty_per_department,
        seed=seed,
        presentation=presentation,
    )


def varying_slopes_explorer(
    *,
    n_departments: int = 8,
    faculty_per_department: int = 20,
    seed: simdata.Seed = None,
    presentation: bool | None = None,
) -> PoolingExplorer:
    """Explore varying slopes: departments share a base salary but give different raises.

    Same layout and parameters as :func:`varying_intercepts_explorer`, with a slider for the
    spread of raises between departments ($ per year, SD) instead of the spread of bases.

    Example
    -------
    >>> explorer = varying_slopes_explorer(seed=1)
    >>> explorer.controls["raise_sd"].value = 800
    """
    return PoolingExplorer(
        "slopes",
        n_departments=n_departments,
        faculty_per_department=faculty_per_department,
        seed=seed,
        presentation=presentation,
    )


def varying_both_explorer(
    *,
    n_departments: int = 8,
    faculty_per_department: int = 20,
    seed: simdata.Seed = None,
    presentation: bool | None = None,
) -> PoolingExplorer:
    """Explore varying intercepts and slopes, with the correlation between base and raise.

    Same layout and parameters as :func:`varying_intercepts_explorer`, with sliders for both
    spreads and their correlation; the right panel plots each department's base against its
    raise.

    Example
    -------
    >>> explorer = varying_both_explorer(seed=1)
    >>> explorer.controls["correlation"].value = -0.5
    """
    return PoolingExplorer(
        "both",
        n_departments=n_departments,
        faculty_per_department=faculty_per_department,
        seed=seed,
        presentation=presentation,
    )
