"""Explorer 4: shrinkage. Small departments are pulled hardest toward the overall line.

In the varying-intercepts model each department's estimated base salary is a weighted average
of its own data and the overall line. The weight on its own data (the precision weight) is

    weight_j = n_j / (n_j + sigma^2 / tau^2)

with ``n_j`` the department's faculty, ``sigma`` the spread within departments and ``tau`` the
spread of base salaries between departments. The explorer shows each department's own estimate,
the multilevel estimate, the arrow between them, and the weight.

>>> import multilevel as ml
>>> explorer = ml.widgets.shrinkage_explorer(seed=1)
>>> bool((explorer.table["weight"] <= 1).all())
True
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection

import simdata

from .. import style
from ..pooling import own_estimates, precision_weights
from ._base import SampleExplorer
from ._controls import button, count_slider, dollars, float_slider, readout_table, toggle
from ._fitting import arrays, spread_looks_zero
from ._render import GroupMarks

__all__ = ["ShrinkageExplorer", "shrinkage_explorer"]

_NOISE_SD = 5_000.0
_MAX_SIZE = 30


def department_sizes(n_departments: int, smallest: int, largest: int) -> np.ndarray:
    """Sizes spread evenly from ``smallest`` to ``largest`` faculty (in either order)."""
    low, high = sorted((int(smallest), int(largest)))
    return np.round(np.linspace(low, high, int(n_departments))).astype(int)


class ShrinkageExplorer(SampleExplorer):
    """How far each department's base salary is pulled toward the overall line, and why.

    Attributes (beyond those of every explorer): ``sim``, ``fit`` (the ``FitResult``) and
    ``table``, a DataFrame indexed by department with columns ``n`` (faculty), ``own`` (the
    department's own estimate of its base salary, $, using the model's common raise),
    ``partial`` (the multilevel estimate, $), ``truth`` ($) and ``weight`` (the precision weight
    on the department's own data, 0 to 1).

    Parameters
    ----------
    n_departments : int
        Number of departments (2 to 50).
    smallest, largest : int
        Faculty in the smallest and largest department (1 to 30); sizes are spread evenly
        between them.
    variance_ratio : float
        tau^2 / sigma^2: the variance of base salaries between departments over the variance of
        salaries within a department (0 to 2); the within-department SD stays at $5,000.
    seed : int, numpy.random.Generator or None
        Fixes the samples drawn.
    presentation : bool or None
        Larger type for a projector; None follows :func:`multilevel.style.presentation_mode`.

    Example
    -------
    >>> explorer = shrinkage_explorer(seed=1)
    >>> explorer.controls["variance_ratio"].value = 1.0
    """

    title = "Shrinkage: small departments borrow strength from the others"

    def __init__(
        self,
        *,
        n_departments: int = 12,
        smallest: int = 1,
        largest: int = 30,
        variance_ratio: float = 0.2,
        seed: simdata.Seed = None,
        presentation: bool | None = None,
    ) -> None:
        super().__init__(seed=seed, presentation=presentation, figsize=(11.0, 4.4))
        self.sim: simdata.SimulatedData | None = None
        self.table = pd.DataFrame()
        c = self.controls
        c["variance_ratio"] = float_slider(
            "Between- to within-department variance (\u03c4\u00b2/\u03c3\u00b2)",
            variance_ratio,
            0.0,
            2.0,
            0.01,
        )
        c["n_departments"] = count_slider("Number of departments", n_departments, 2, 50)
        c["smallest"] = count_slider("Smallest department (faculty)", smallest, 1, _MAX_SIZE)
        c["largest"] = count_slider("Largest department (faculty)", largest, 1, _MAX_SIZE)
        c["show_truth"] = toggle("Truth (the simulated base salaries)", False)
        c["new_sample"] = button("New sample", "Draw new departments and faculty")
        self._on_click("new_sample", self._new_sample)
        self._watch(["variance_ratio", "n_departments", "smallest", "largest", "show_truth"])
        self._build_figure()
        hint = _ratio_hint()
        self._assemble(
            [
                (
                    "How departments differ",
                    [c["variance_ratio"], hint],
                ),
                (
                    "Department sizes",
                    [c["n_departments"], c["smallest"], c["largest"], c["new_sample"]],
                ),
                ("Show", [c["show_truth"]]),
            ],
            more=[hint, c["n_departments"], c["smallest"], c["largest"]],
        )
        self.update()

    def describe_figure(self) -> str:
        """What the figure shows, in words (the alt text of its still picture)."""
        return (
            f"Left, the base salaries of {self.controls['n_departments'].value} departments of "
            "different sizes against their number of faculty, estimated from each department's "
            "own data (open circles) and by the multilevel model (filled dots), joined by grey "
            "lines that show the pull towards the overall line (black), longest for the smallest "
            "departments; right, the weight the model gives a department's own data, "
            "n / (n + \u03c3\u00b2/\u03c4\u00b2), rising with the number of faculty."
        )

    def _build_figure(self) -> None:
        with self._rc_context():
            self.ax_pull, self.ax_weight = self.figure.subplots(
                1, 2, gridspec_kw={"width_ratios": [1.3, 1.0]}
            )
            self.figure.subplots_adjust(left=0.09, right=0.98, bottom=0.14, top=0.9, wspace=0.3)
            ax = self.ax_pull
            ax.set_xlim(0, _MAX_SIZE + 1)
            ax.set_xlabel("Faculty in the department")
            ax.set_ylabel("Department base salary ($ at 0 years)")
            ax.yaxis.set_major_formatter(style.dollar_formatter())
            ax.set_title("Own estimate \u2192 multilevel estimate")
            (self.overall,) = ax.plot(
                [0, _MAX_SIZE + 1], [np.nan, np.nan], color="black", lw=self._width(2)
            )
            self.arrows = LineCollection([], colors="#888888", linewidths=self._width(1.2))
            ax.add_collection(self.arrows)
            self.own = self._own_data_markers(ax, label="Own data only")
            self.partial = self._dots(ax, 45, zorder=3, label="Multilevel estimate")
            self.truth = self._truth_markers(ax, label="Truth")
            self._overall_handle = ax.plot(
                [], [], color="black", lw=self._width(2), label="Overall line"
            )[0]
            self._legend_truth: bool | None = None
            w = self.ax_weight
            w.set_xlim(0, _MAX_SIZE + 1)
            w.set_ylim(0, 1.05)
            w.set_xlabel("Faculty in the department")
            w.set_ylabel("Weight on the department's own data")
            w.set_title("Precision weight  n / (n + \u03c3\u00b2/\u03c4\u00b2)")
            grid = np.linspace(0, _MAX_SIZE + 1, 200)
            self._grid = grid
            (self.curve_est,) = w.plot(
                grid, np.zeros_like(grid), color="black", lw=self._width(2), label="Estimated"
            )
            (self.curve_true,) = w.plot(
                grid,
                np.zeros_like(grid),
                color="#777777",
                lw=self._width(1.5),
                ls="--",
                label="True",
            )
            self.weights = self._dots(w, 45, zorder=3)
            w.legend(loc="lower right", fontsize="small")
        self._renderer.animate(
            self.overall,
            self.arrows,
            self.own,
            self.partial,
            self.truth,
            self.curve_est,
            self.curve_true,
            self.weights,
        )

    def _make_legend(self, show_truth: bool) -> None:
        if show_truth == self._legend_truth:
            return
        self._legend_truth = show_truth
        handles = [self.own, self.partial] + ([self.truth] if show_truth else [])
        with self._rc_context():
            self.ax_pull.legend(
                handles=[*handles, self._overall_handle], loc="upper right", fontsize="small"
            )
        self._renderer.invalidate()

    def _refresh(self) -> list[str]:
        c = self.controls
        self._make_legend(bool(c["show_truth"].value))
        ratio = float(c["variance_ratio"].value)
        n_groups = int(c["n_departments"].value)
        sizes = department_sizes(n_groups, c["smallest"].value, c["largest"].value)
        base_sd = _NOISE_SD * np.sqrt(ratio)
        sim = simdata.faculty_salaries(
            n_departments=n_groups,
            faculty_per_department=[int(s) for s in sizes],
            base_sd=base_sd,
            raise_sd=0.0,
            noise_sd=_NOISE_SD,
            seed=self._sample_seed,
        )
        self.sim = sim
        outcome = self._refit(sim, "varying_intercepts", n_groups)
        notes = list(outcome.notes)
        res = outcome.result
        if res is None:
            self.table = pd.DataFrame()
            for artist in (self.partial, self.own, self.arrows, self.weights, self.curve_est):
                artist.set_visible(False)
            return notes
        alpha, beta = (float(v) for v in res.fixed_effects["estimate"])
        tau = float(res.group_sd["intercept"])
        sigma = float(res.residual_sd)
        self.table = _shrinkage_table(sim, (alpha, beta), tau, sigma, outcome.lines.intercept)
        self._draw(alpha, tau, sigma, ratio)
        notes[:0] = _spread_notes(tau, sigma, ratio)
        n, weight = self.table["n"].to_numpy(), self.table["weight"].to_numpy()
        if (n == 1).any() and tau > 0:
            notes.append(
                "A department with one faculty member has only one salary to go on, so it gets "
                f"the least weight ({weight[n == 1].max():.2f}) and is pulled furthest."
            )
        self._fill_readout(ratio, base_sd, tau, sigma)
        return notes

    def _draw(self, alpha: float, tau: float, sigma: float, ratio: float) -> None:
        """Move the estimates, arrows, overall line and weight curves to :attr:`table`."""
        t = self.table
        n_groups = len(t)
        n, own, partial = t["n"].to_numpy(float), t["own"].to_numpy(), t["partial"].to_numpy()
        truth, weight = t["truth"].to_numpy(), t["weight"].to_numpy()
        marks = GroupMarks(n_groups)
        # Departments of equal size sit on top of each other; a small sideways offset keeps each
        # one visible.
        jitter = (np.arange(n_groups) % 3 - 1) * 0.18 if n_groups > 1 else np.zeros(1)
        xs = n + jitter
        self.own.set_data(xs, own)
        self.own.set_visible(True)
        self.partial.set_offsets(np.column_stack([xs, partial]))
        self.partial.set_facecolors(marks.colors)
        self.partial.set_paths(marks.paths)
        self.partial.set_visible(True)
        self.truth.set_data(xs, truth)
        self.truth.set_visible(bool(self.controls["show_truth"].value))
        self.arrows.set_segments(
            np.stack([np.column_stack([xs, own]), np.column_stack([xs, partial])], axis=1)
        )
        self.arrows.set_visible(True)
        self.overall.set_ydata([alpha, alpha])
        self._set_limits(self.ax_pull, y=np.concatenate([own, partial, truth, [alpha]]))
        self.weights.set_offsets(np.column_stack([xs, weight]))
        self.weights.set_facecolors(marks.colors)
        self.weights.set_paths(marks.paths)
        self.weights.set_visible(True)
        self.curve_est.set_ydata(precision_weights(self._grid, sigma, tau))
        self.curve_est.set_visible(True)
        self.curve_true.set_ydata(precision_weights(self._grid, 1.0, float(np.sqrt(ratio))))

    def _fill_readout(self, ratio: float, base_sd: float, tau: float, sigma: float) -> None:
        est_ratio = tau**2 / sigma**2 if sigma > 0 else np.nan
        half_true = "\u2014" if ratio == 0 else f"{1 / ratio:,.1f} faculty"
        half_est = "\u2014" if not est_ratio > 0 else f"{1 / est_ratio:,.1f} faculty"
        rows = [
            [
                "Between- to within-department variance (\u03c4\u00b2/\u03c3\u00b2)",
                f"{ratio:.2f}",
                f"{est_ratio:.2f}",
            ],
            [
                "Spread of base salaries between departments (SD, \u03c4)",
                dollars(base_sd),
                dollars(tau),
            ],
            [
                "Spread of salaries within a department (SD, \u03c3)",
                dollars(_NOISE_SD),
                dollars(sigma),
            ],
            ["Size at which a department's own data get half the weight", half_true, half_est],
        ]
        html = readout_table(["", "True (setting)", "Estimated"], rows)
        if len(self.table) <= 12:
            t = self.table
            detail = [
                [
                    str(name),
                    f"{row.n:d}",
                    dollars(row.own),
                    dollars(row.partial),
                    f"{row.weight:.2f}",
                ]
                for name, row in zip(t.index, t.itertuples(index=False), strict=True)
            ]
            html += "<br>" + readout_table(
                ["Department", "Faculty", "Own data only", "Multilevel", "Weight on own data"],
                detail,
            )
        self.readout.value = html


def _shrinkage_table(
    sim: simdata.SimulatedData,
    fixed: tuple[float, float],
    tau: float,
    sigma: float,
    partial: np.ndarray,
) -> pd.DataFrame:
    """The :attr:`ShrinkageExplorer.table` of a fit with overall base and raise ``fixed`` ($,
    $ per year), spreads ``tau`` between and ``sigma`` within departments ($) and multilevel
    bases ``partial`` ($)."""
    x, y, codes, n_groups = arrays(sim)
    # A department's own estimate of its base: its mean salary less the common raise times its
    # mean experience. The multilevel estimate is the overall base plus weight times the
    # department's difference from it (exact for this model, given the fitted raise).
    alpha, beta = fixed
    n, own = own_estimates(
        x, y, codes, n_groups, parameter="intercept", intercept=alpha, slope=beta
    )
    weight = precision_weights(n, sigma, tau) if sigma > 0 else np.ones_like(n)
    truth = sim.truth["intercept"].to_numpy(float)
    return pd.DataFrame(
        {"n": n.astype(int), "own": own, "partial": partial, "truth": truth, "weight": weight},
        index=sim.truth.index,
    )


def _spread_notes(tau: float, sigma: float, ratio: float) -> list[str]:
    """What the estimated spread between departments says, next to the one that was set."""
    if spread_looks_zero(tau, sigma):
        if ratio == 0:
            return [
                "The model estimates no difference between departments; with these settings "
                "that is the right answer (you set the ratio to 0), so every department gets "
                "weight 0 and sits on the overall line."
            ]
        return [
            "The model estimates no difference between departments although they do "
            "differ: with this much noise and these few faculty the differences are "
            "hidden, so every department is pulled all the way to the overall line."
        ]
    if ratio == 0:
        return [
            "You set the ratio to 0 (departments do not differ), yet the model estimates a "
            "small spread: chance differences in one sample look like real ones."
        ]
    return []


def _ratio_hint() -> widgets.HTML:
    return widgets.HTML(
        "<small>0: departments do not differ. 1: the spread between departments equals the "
        "noise within them. The noise within departments stays at $5,000.</small>",
        layout=widgets.Layout(width="290px"),
    )


#: The name lessons call, as for every explorer; it is the class, so the settings, their
#: defaults and their documentation have one home.
shrinkage_explorer = ShrinkageExplorer
