"""The course's figures draw what the fits say, with labels, units and legends.

Every check compares the drawn artists with an independent source: ``FitResult.predict`` for
line heights, ``group_lines`` of separately made fits for shrinkage arrows and caterpillars,
and the simulation's truth for the truth plot. A plot that draws the wrong model, the wrong
group or the wrong end of an arrow fails here.
"""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.text import Annotation

import multilevel as ml
from multilevel import checking, plots, style
from simdata import faculty_salaries, hospital_patients

MODELS_DRAWN = [
    "complete_pooling",
    "no_pooling",
    "varying_intercepts",
    "varying_slopes",
    "varying_both",
    "varying_both_uncorrelated",
]


@pytest.fixture(scope="module")
def sim():
    # Unbalanced on purpose: small departments shrink visibly more than large ones.
    return faculty_salaries(n_departments=8, faculty_per_department=(3, 30), seed=20240611)


@pytest.fixture(scope="module")
def fits(sim):
    out = {m: ml.fit(sim, model=m) for m in MODELS_DRAWN}
    out["no_pooling_intercepts"] = ml.fit(sim, model="no_pooling", varying="intercepts")
    out["no_pooling_slopes"] = ml.fit(sim, model="no_pooling", varying="slopes")
    out["varying_both_centred"] = ml.fit(sim, model="varying_both", center=True)
    return out


@pytest.fixture(autouse=True)
def _course_style():
    with mpl.rc_context():
        style.use_course_style(presentation=False)
        yield
    plt.close("all")


@pytest.fixture(scope="module")
def png_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("plots")


def _save(fig: Figure, png_dir, name: str) -> None:
    path = png_dir / f"{name}.png"
    fig.savefig(path)
    assert path.stat().st_size > 10_000, f"{name}.png looks empty"


def _lines(ax: Axes, gid: str) -> list:
    return [line for line in ax.get_lines() if line.get_gid() == gid]


def _arrows(ax: Axes) -> dict[str, Annotation]:
    """Shrinkage arrows by group (their gid is "shrinkage-arrow:<group>")."""
    return {
        t.get_gid().split(":", 1)[1]: t
        for t in ax.texts
        if isinstance(t, Annotation) and str(t.get_gid()).startswith("shrinkage-arrow:")
    }


def _assert_labelled(ax: Axes, *, x: str | None = None, y: str | None = None) -> None:
    assert ax.get_title(), "every figure needs a title"
    if x is not None:
        assert ax.get_xlabel() == x
    if y is not None:
        assert ax.get_ylabel() == y


def _legend_labels(legend) -> list[str]:
    assert legend is not None, "expected a legend"
    return [t.get_text() for t in legend.get_texts()]


# ------------------------------------------------------------------------------------ style


def test_group_colors_are_stable_distinct_and_colour_blind_safe():
    names = ["Physics", "Biology", "Chemistry", "English", "History", "Art", "Law", "Music"]
    colors = style.group_colors(names)
    assert len(set(colors.values())) == 8, "the default eight departments need eight colours"
    # Checked for colour-blind vision in tests/test_palette.py.
    assert set(colors.values()) == set(style.GROUP_PALETTE)
    assert style.POPULATION_COLOR not in colors.values(), "black is kept for the population"
    # Same colour whatever the order or source of the labels.
    assert style.group_colors(list(reversed(names))) == colors
    assert style.group_colors(pd.Categorical(names, categories=names[::-1])) == colors


def test_distinct_styles_stay_distinguishable_beyond_the_palette():
    many = style.distinct_styles(30)
    keys = {(s.color, str(s.linestyle), s.marker) for s in many}
    assert len(keys) == 30
    with pytest.raises(ValueError, match="n must be a non-negative integer, got -1"):
        style.distinct_styles(-1)


def test_dollar_and_years_formatters():
    short, full = style.dollar_formatter(), style.dollar_formatter(short=False)
    assert [short(v, 0) for v in (60_000, 62_500, 1_500, 0, -5_000)] == [
        "$60k",
        "$62.5k",
        "$1.5k",
        "$0",
        "-$5k",
    ]
    assert full(60_000, 0) == "$60,000"
    assert style.years_formatter()(10.0, 0) == "10"


def test_axis_labels_carry_units_for_known_data_sets():
    assert style.axis_label("salary") == "Salary ($)"
    assert style.axis_label("experience") == "Experience (years)"
    assert style.axis_label("log_radon") == "Log radon (log pCi/L)"
    assert style.axis_label("recovery_days") == "Recovery time (days)"
    assert style.axis_label("shoe_size") == "Shoe size"
    assert style.slope_unit("salary", "experience") == "$ per year of experience"


def test_presentation_mode_switches_and_restores_in_one_place():
    normal_font = mpl.rcParams["font.size"]
    normal_lw = mpl.rcParams["lines.linewidth"]
    with style.presentation_mode():
        assert style.is_presentation_mode()
        assert mpl.rcParams["font.size"] > normal_font
        assert mpl.rcParams["lines.linewidth"] > normal_lw
        fig, ax = plt.subplots()
        big = ax.xaxis.label.get_fontsize()
    assert not style.is_presentation_mode()
    assert mpl.rcParams["font.size"] == normal_font
    fig, ax = plt.subplots()
    assert ax.xaxis.label.get_fontsize() < big
    # Called on its own it stays on until switched off.
    style.presentation_mode()
    try:
        assert mpl.rcParams["font.size"] == style.PRESENTATION_RC["font.size"]
    finally:
        style.presentation_mode(False)
    assert mpl.rcParams["font.size"] == style.COURSE_RC["font.size"]
    with pytest.raises(ValueError, match="on must be True or False"):
        style.presentation_mode("yes")


# ----------------------------------------------------------------------------- fitted lines


@pytest.mark.parametrize("model", [*MODELS_DRAWN, "varying_both_centred"])
def test_fitted_lines_follow_the_fit(sim, fits, model):
    res = fits[model]
    fig, ax = plt.subplots()
    out = plots.fitted_lines_plot(res, sim, ax=ax)
    assert out is ax
    _assert_labelled(ax, x="Experience (years)", y="Salary ($)")
    group_lines = _lines(ax, "group-line")
    population = _lines(ax, "population-line")
    if res.model == "complete_pooling":
        assert group_lines == [] and len(population) == 1
    else:
        assert len(group_lines) == sim.n_groups, "one line per department"
        assert {line.get_label() for line in group_lines} == {str(g) for g in sim.truth.index}
    for line in group_lines:
        xs = np.asarray(line.get_xdata(), dtype=float)
        expected = res.predict(xs, group=line.get_label())
        np.testing.assert_allclose(line.get_ydata(), expected, rtol=1e-10)
    for line in population:
        xs = np.asarray(line.get_xdata(), dtype=float)
        np.testing.assert_allclose(line.get_ydata(), res.predict(xs), rtol=1e-10)
    # Lines span the data's experience range, and every faculty member is drawn.
    all_x = np.concatenate([np.asarray(line.get_xdata()) for line in ax.get_lines()])
    assert all_x.min() == sim.data["experience"].min()
    assert all_x.max() == sim.data["experience"].max()
    assert sum(len(c.get_offsets()) for c in ax.collections) == sim.n_obs
    labels = _legend_labels(ax.get_legend())
    assert set(map(str, sim.truth.index)) <= set(labels)


def test_fitted_lines_plot_uses_current_axes_and_other_data(sim, fits):
    fig, (left, right) = plt.subplots(1, 2)
    plt.sca(right)
    assert plots.fitted_lines_plot(fits["varying_intercepts"], sim.data) is right
    assert not left.has_data()
    hosp = hospital_patients(seed=3)
    fig, ax = plt.subplots()
    plots.fitted_lines_plot(ml.fit(hosp, model="varying_both"), hosp, ax=ax)
    _assert_labelled(ax, x="Severity (points)", y="Recovery time (days)")


def test_fitted_lines_plot_rejects_bad_input(sim, fits):
    with pytest.raises(ValueError, match="result must be a FitResult"):
        plots.fitted_lines_plot(sim.data, sim)
    with pytest.raises(ValueError, match="x_range must be given"):
        plots.fitted_lines_plot(fits["varying_both"])


def test_update_fitted_lines_moves_lines_in_place(sim, fits):
    fig, ax = plt.subplots()
    drawn = plots.draw_fitted_lines(fits["varying_intercepts"], sim.data, ax=ax)
    before = {g: line for g, line in drawn.lines.items()}
    plots.update_fitted_lines(drawn, fits["varying_both"])
    for g, line in drawn.lines.items():
        assert line is before[g]
        xs = np.asarray(line.get_xdata(), dtype=float)
        np.testing.assert_allclose(line.get_ydata(), fits["varying_both"].predict(xs, group=g))


def test_every_plot_function_takes_keyword_options_and_passes_the_rest_to_matplotlib():
    """The seaborn convention: at most two positional arguments (what is drawn, the data it
    came from), everything else keyword-only, and unknown keywords reach matplotlib."""
    import inspect

    for name in plots.__all__:
        func = getattr(plots, name)
        if not inspect.isfunction(func):
            continue
        kinds = [p.kind for p in inspect.signature(func).parameters.values()]
        positional = [k for k in kinds if k == inspect.Parameter.POSITIONAL_OR_KEYWORD]
        assert len(positional) <= 2, name
        if name != "update_fitted_lines":
            assert kinds[-1] == inspect.Parameter.VAR_KEYWORD, name


def test_extra_keywords_reach_the_group_artists(sim, fits):
    fig, ax = plt.subplots()
    plots.fitted_lines_plot(fits["varying_intercepts"], sim, ax=ax, alpha=0.25)
    assert {line.get_alpha() for line in _lines(ax, "group-line")} == {0.25}
    fig, ax = plt.subplots()
    plots.truth_plot(fits["varying_intercepts"], sim, ax=ax, alpha=0.5)
    (points,) = [c for c in ax.collections if c.get_gid() == "group-estimates"]
    assert points.get_alpha() == 0.5


# ------------------------------------------------------------------------------ the 2x2 graph


def test_four_models_plot_draws_each_model_in_its_panel(sim, fits, png_dir):
    fig = plots.four_models_plot(sim)
    assert isinstance(fig, Figure)
    axes = fig.axes[:4]
    titles = [ax.get_title() for ax in axes]
    assert titles == [
        "Complete pooling",
        "Varying intercepts",
        "Varying slopes",
        "Varying intercepts and slopes",
    ]
    models = ["complete_pooling", "varying_intercepts", "varying_slopes", "varying_both"]
    for ax, model in zip(axes, models, strict=True):
        res = fits[model]
        group_lines = _lines(ax, "group-line")
        assert len(group_lines) == (0 if model == "complete_pooling" else sim.n_groups)
        for line in group_lines:
            xs = np.asarray(line.get_xdata(), dtype=float)
            np.testing.assert_allclose(
                line.get_ydata(), res.predict(xs, group=line.get_label()), rtol=1e-6
            )
        (pop,) = _lines(ax, "population-line")
        np.testing.assert_allclose(pop.get_ydata(), res.predict(pop.get_xdata()), rtol=1e-6)
        assert ax.get_legend() is None, "one legend for the whole figure"
    # Varying slopes: every department starts at the same salary; varying intercepts: same raise.
    starts = [line.get_ydata()[0] for line in _lines(axes[2], "group-line")]
    assert np.ptp(starts) < 1e-6 * abs(np.mean(starts))
    slopes = [np.diff(line.get_ydata())[0] for line in _lines(axes[1], "group-line")]
    assert np.ptp(slopes) < 1e-6 * abs(np.mean(slopes))
    assert len(fig.legends) == 1
    labels = _legend_labels(fig.legends[0])
    assert set(map(str, sim.truth.index)) <= set(labels)
    assert any("Pooled" in t for t in labels) and any("Population" in t for t in labels)
    assert {ax.get_ylim() for ax in axes} == {axes[0].get_ylim()}, "shared axes"
    assert axes[2].get_xlabel() == "Experience (years)"
    assert axes[0].get_ylabel() == "Salary ($)"
    assert fig.get_suptitle()
    _save(fig, png_dir, "four_models")


def test_four_models_plot_reuses_given_fits_and_figure(sim, fits):
    given = {m: fits[m] for m in plots.FOUR_MODELS}
    fig = plt.figure()
    out = plots.four_models_plot(
        sim.data, y="salary", x="experience", group="department", results=given, fig=fig
    )
    assert out is fig
    with pytest.raises(ValueError, match="y='pay' is not a column of data"):
        plots.four_models_plot(sim.data, y="pay", x="experience", group="department")


# --------------------------------------------------------------------------------- pooling


def test_pooling_plot_shows_three_kinds_of_line(sim, fits, png_dir):
    fig, ax = plt.subplots()
    out = plots.pooling_plot(sim, ax=ax)
    assert out is ax
    _assert_labelled(ax, x="Experience (years)", y="Salary ($)")
    own = _lines(ax, "no-pooling-line")
    partial = _lines(ax, "partial-pooling-line")
    (complete,) = _lines(ax, "complete-pooling-line")
    assert len(own) == len(partial) == sim.n_groups
    for line in own:
        xs = np.asarray(line.get_xdata(), dtype=float)
        np.testing.assert_allclose(
            line.get_ydata(), fits["no_pooling"].predict(xs, group=line.get_label()), rtol=1e-6
        )
        assert line.get_linestyle() == "--"
    for line in partial:
        xs = np.asarray(line.get_xdata(), dtype=float)
        np.testing.assert_allclose(
            line.get_ydata(), fits["varying_both"].predict(xs, group=line.get_label()), rtol=1e-6
        )
        assert line.get_linestyle() == "-"
    xs = np.asarray(complete.get_xdata(), dtype=float)
    np.testing.assert_allclose(complete.get_ydata(), fits["complete_pooling"].predict(xs))
    assert complete.get_linewidth() > max(line.get_linewidth() for line in partial)
    labels = _legend_labels(ax.get_legend())
    assert any(t.startswith("No pooling") for t in labels)
    assert any(t.startswith("Partial pooling") for t in labels)
    assert any(t.startswith("Complete pooling") for t in labels)
    _save(fig, png_dir, "pooling")


def test_pooling_plot_subset_and_errors(sim, fits):
    fig, ax = plt.subplots()
    chosen = list(sim.truth.index[:2])
    plots.pooling_plot(
        complete_pooling=fits["complete_pooling"],
        no_pooling=fits["no_pooling_intercepts"],
        partial_pooling=fits["varying_intercepts"],
        model="varying_intercepts",
        groups=chosen,
        x_range=(0, 25),
        ax=ax,
    )
    assert sorted(line.get_label() for line in _lines(ax, "partial-pooling-line")) == sorted(chosen)
    with pytest.raises(ValueError, match="groups has unknown groups"):
        plots.pooling_plot(sim, groups=["Astrology"])
    with pytest.raises(ValueError, match="model must be one of"):
        plots.pooling_plot(sim, model="complete_pooling")


def test_pooling_grid_has_one_panel_per_group(sim, fits, png_dir):
    fig = plots.pooling_grid(sim)
    assert isinstance(fig, Figure)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == sim.n_groups
    sizes = [int(t.split("n = ")[1].rstrip(")")) for t in (ax.get_title() for ax in visible)]
    assert sizes == sorted(sizes), "panels run from the smallest group to the largest"
    for ax in visible:
        group = ax.get_title().split(" (n =")[0]
        assert int(sim.truth.loc[group, "n"]) == sizes[visible.index(ax)]
        (partial,) = _lines(ax, "partial-pooling-line")
        xs = np.asarray(partial.get_xdata(), dtype=float)
        np.testing.assert_allclose(
            partial.get_ydata(), fits["varying_both"].predict(xs, group=group), rtol=1e-6
        )
    _save(fig, png_dir, "pooling_grid")


# ------------------------------------------------------------------------------- shrinkage


@pytest.mark.parametrize(
    ("parameter", "model", "own_fit", "partial_fit"),
    [
        ("intercept", None, "no_pooling_intercepts", "varying_intercepts"),
        ("slope", None, "no_pooling_slopes", "varying_slopes"),
        ("intercept", "varying_both", "no_pooling", "varying_both"),
        ("slope", "varying_both", "no_pooling", "varying_both"),
    ],
)
def test_shrinkage_arrows_run_from_no_pooling_to_partial_pooling(
    sim, fits, png_dir, parameter, model, own_fit, partial_fit
):
    fig, ax = plt.subplots()
    out = plots.shrinkage_plot(sim, parameter=parameter, model=model, ax=ax)
    assert out is ax
    unit = "$" if parameter == "intercept" else "$ per year of experience"
    assert ax.get_ylabel().endswith(f"({unit})")
    assert ax.get_xlabel() == "Observations per department (n)"
    assert ax.get_title()
    arrows = _arrows(ax)
    assert len(arrows) == sim.n_groups
    own = fits[own_fit].group_lines
    partial = fits[partial_fit].group_lines
    for g, arrow in arrows.items():
        (x_tail, y_tail), (x_head, y_head) = arrow.xyann, arrow.xy
        assert y_tail == pytest.approx(own.loc[g, parameter], rel=1e-6)
        assert y_head == pytest.approx(partial.loc[g, parameter], rel=1e-6)
        assert x_tail == x_head == pytest.approx(partial.loc[g, "n"], abs=0.5)
    (pop,) = _lines(ax, "population-estimate")
    assert pop.get_ydata()[0] == pytest.approx(
        fits[partial_fit].fixed_effects.at[parameter, "estimate"]
    )
    labels = _legend_labels(ax.get_legend())
    assert any("No pooling" in t for t in labels) and any("Partial pooling" in t for t in labels)
    _save(fig, png_dir, f"shrinkage_{parameter}_{partial_fit}")


@pytest.mark.parametrize(
    ("parameter", "own_fit", "partial_fit"),
    [
        ("intercept", "no_pooling_intercepts", "varying_intercepts"),
        ("slope", "no_pooling_slopes", "varying_slopes"),
    ],
)
def test_shrinkage_arrows_point_toward_the_population(sim, fits, parameter, own_fit, partial_fit):
    # With one varying part, each partial-pooling estimate lies between the department's own
    # estimate and the population value, so every arrow must end nearer the population line.
    ax = plots.shrinkage_plot(
        no_pooling=fits[own_fit], partial_pooling=fits[partial_fit], parameter=parameter
    )
    pop = fits[partial_fit].fixed_effects.at[parameter, "estimate"]
    arrows = _arrows(ax)
    assert len(arrows) == sim.n_groups
    for arrow in arrows.values():
        assert abs(arrow.xy[1] - pop) < abs(arrow.xyann[1] - pop)


def test_shrinkage_plot_refuses_a_part_that_does_not_vary(sim):
    with pytest.raises(ValueError, match="parameter='slope' does not vary in a varying_intercepts"):
        plots.shrinkage_plot(sim, parameter="slope", model="varying_intercepts")
    with pytest.raises(ValueError, match="parameter must be 'intercept' or 'slope'"):
        plots.shrinkage_plot(sim, parameter="raise")


def test_pooling_figures_without_data_name_the_fits_they_need(sim, fits):
    # Each figure asks only for the fits it draws: shrinkage has no complete-pooling line.
    with pytest.raises(ValueError, match="unless no_pooling and partial_pooling fits"):
        plots.shrinkage_plot(partial_pooling=fits["varying_intercepts"])
    with pytest.raises(ValueError, match="unless complete_pooling, no_pooling and partial_pooling"):
        plots.pooling_grid(no_pooling=fits["no_pooling_intercepts"])
    with pytest.raises(ValueError, match="model must be one of"):
        plots.shrinkage_plot(sim, model="complete_pooling")


def test_shrinkage_log_n_puts_group_sizes_on_a_log_axis(sim):
    fig, ax = plt.subplots()
    plots.shrinkage_plot(sim, log_n=True, ax=ax)
    assert ax.get_xscale() == "log"
    fig.canvas.draw()
    ticks = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert ticks and all(float(t) in {1, 2, 5, 10, 20, 50, 100} for t in ticks)
    # Every arrow stays near its department's size: dodging scales it by at most exp(0.1).
    sizes = sim.data.groupby(sim.group).size()
    for g, arrow in _arrows(ax).items():
        assert sizes[g] / 1.106 < arrow.xy[0] < sizes[g] * 1.106
    plt.close(fig)


# ----------------------------------------------------------------------------------- truth


@pytest.mark.parametrize("parameter", ["intercept", "slope"])
def test_truth_plot_puts_estimates_against_the_truth(sim, fits, png_dir, parameter):
    res = fits["varying_both"]
    fig, ax = plt.subplots()
    assert plots.truth_plot(res, sim, parameter=parameter, ax=ax) is ax
    assert ax.get_xlabel().startswith("True") and ax.get_ylabel().startswith("Estimated")
    assert "$" in ax.get_xlabel() and ax.get_title()
    (points,) = [c for c in ax.collections if c.get_gid() == "group-estimates"]
    drawn = {tuple(np.round(p, 6)) for p in points.get_offsets()}
    expected = {
        (
            round(float(sim.truth.loc[g, parameter]), 6),
            round(float(res.group_lines.loc[g, parameter]), 6),
        )
        for g in sim.truth.index
    }
    assert drawn == expected
    (identity,) = _lines(ax, "identity-line")
    np.testing.assert_allclose(identity.get_xdata(), identity.get_ydata())
    (pop,) = [line for line in ax.get_lines() if line.get_gid() == "population-estimate"]
    true_pop = sim.population["base_mean" if parameter == "intercept" else "raise_mean"]
    assert pop.get_xdata()[0] == pytest.approx(true_pop)
    assert pop.get_ydata()[0] == pytest.approx(res.fixed_effects.at[parameter, "estimate"])
    assert any("Population" in t for t in _legend_labels(ax.get_legend()))
    # The intervals are for each group's own value: the full error SD, not the deviation's.
    (bars,) = [
        c
        for c in ax.collections
        if isinstance(c, LineCollection) and len(c.get_segments()) == len(sim.truth)
    ]
    half_widths = sorted(
        round((seg[1][1] - seg[0][1]) / 2 / 1.96, 6) for seg in bars.get_segments()
    )
    full = checking.group_estimate_se(res, sim, parameter)
    np.testing.assert_allclose(half_widths, sorted(full), rtol=1e-6)
    assert any(label.endswith("(± 95% interval)") for label in _legend_labels(ax.get_legend()))
    names = {t.get_text() for t in ax.texts if t.get_gid() == "group-label"}
    assert names == {str(g) for g in sim.truth.index}
    _save(fig, png_dir, f"truth_{parameter}")


def test_truth_plot_without_the_data_says_its_intervals_are_for_the_deviation(sim, fits):
    res = fits["varying_both"]
    ax = plots.truth_plot(res, sim.truth, parameter="slope", label_groups=False)
    assert any("interval of the deviation" in t for t in _legend_labels(ax.get_legend()))
    assert not [t for t in ax.texts if t.get_gid() == "group-label"]


def test_truth_plot_compares_centred_intercepts_at_the_centre(sim, fits):
    res = fits["varying_both_centred"]
    ax = plots.truth_plot(res, sim, parameter="intercept")
    (points,) = [c for c in ax.collections if c.get_gid() == "group-estimates"]
    true_at_center = sim.truth["intercept"] + sim.truth["slope"] * res.center
    np.testing.assert_allclose(
        points.get_offsets()[:, 0], true_at_center.loc[res.group_lines.index]
    )


# ----------------------------------------------------------------------------- caterpillar


def test_caterpillar_plot_sorts_department_effects_with_intervals(sim, fits, png_dir):
    res = fits["varying_intercepts"]
    fig, ax = plt.subplots()
    assert plots.caterpillar_plot(res, ax=ax) is ax
    assert ax.get_title() and ax.get_xlabel().endswith("($)")
    deviations = res.random_effects["intercept"].sort_values(kind="stable")
    assert [t.get_text() for t in ax.get_yticklabels()] == [str(g) for g in deviations.index]
    (points,) = [c for c in ax.collections if c.get_gid() == "group-effects"]
    np.testing.assert_allclose(
        points.get_offsets()[:, 0], deviations.to_numpy(), rtol=1e-6, atol=1e-6
    )
    # Interval half-widths are 1.96 conditional SDs.
    (bars,) = [c for c in ax.collections if c is not points]
    widths = [abs(seg[1, 0] - seg[0, 0]) / 2 for seg in bars.get_segments()]
    se = res.group_lines.loc[deviations.index, "intercept_se"].to_numpy()
    np.testing.assert_allclose(widths, 1.96 * se, rtol=1e-6)
    _save(fig, png_dir, "caterpillar")


def test_caterpillar_plot_needs_a_varying_part(fits):
    with pytest.raises(ValueError, match="does not vary by group in a complete_pooling model"):
        plots.caterpillar_plot(fits["complete_pooling"])
    with pytest.raises(ValueError, match="scale must be 'deviation' or 'estimate'"):
        plots.caterpillar_plot(fits["varying_both"], scale="raw")


def test_figures_compose_on_shared_axes_without_legend_warnings(sim, fits, recwarn):
    # Lessons call one function after another on plt.gca(); arrows must not confuse legends.
    fig, ax = plt.subplots()
    plots.shrinkage_plot(sim, ax=ax)
    plots.truth_plot(fits["varying_intercepts"], sim, ax=ax)
    ax.legend()
    assert [str(w.message) for w in recwarn] == []


# ----------------------------------------------------------- legends and titles that fit


def test_shrinkage_legend_markers_match_the_points_past_eight_groups(png_dir):
    from matplotlib.markers import MarkerStyle

    many = faculty_salaries(n_departments=11, faculty_per_department=(3, 30), raise_sd=0, seed=1)
    fig, ax = plt.subplots()
    plots.shrinkage_plot(many, ax=ax)
    drawn = {}  # (x, y) of each partial-pooling point -> (marker vertices, face colour)
    for c in ax.collections:
        if c.get_gid() == "partial-pooling-estimates":
            path = np.round(c.get_paths()[0].vertices, 6)
            for (x, y), face in zip(c.get_offsets(), c.get_facecolors(), strict=True):
                drawn[(round(float(x), 6), round(float(y), 6))] = (path, mpl.colors.to_hex(face))
    arrows = _arrows(ax)
    handles = {h.get_label(): h for h in ax.get_legend().legend_handles}
    seen = set()
    for g, arrow in arrows.items():
        path, color = drawn[(round(float(arrow.xy[0]), 6), round(float(arrow.xy[1]), 6))]
        handle = handles[g]
        marker = MarkerStyle(handle.get_marker())
        expected = np.round(marker.get_path().transformed(marker.get_transform()).vertices, 6)
        assert path.shape == expected.shape and np.allclose(path, expected), g
        assert color == mpl.colors.to_hex(handle.get_color()), g
        seen.add((handle.get_marker(), color))
    assert len(seen) == 11, "each department is told apart by colour or marker"
    _save(fig, png_dir, "shrinkage_11_groups")


@pytest.mark.parametrize("presentation", [False, True])
@pytest.mark.parametrize("model", ["varying_both", "varying_both_uncorrelated"])
def test_truth_plot_default_title_fits_above_its_axes(sim, fits, png_dir, presentation, model):
    with mpl.rc_context():
        style.use_course_style(presentation=presentation)
        layouts = [plt.subplots()]
        fig2, (left, right) = plt.subplots(1, 2, figsize=(14, 6), sharex=True, sharey=True)
        layouts += [(fig2, left), (fig2, right)]
        for _fig, ax in layouts:
            plots.truth_plot(fits[model], sim, ax=ax)
        # As lesson 5 shows them side by side: one legend, one y label.
        left.get_legend().remove()
        right.set_ylabel("")
        for fig, ax in layouts:
            fig.canvas.draw()
            renderer = fig.canvas.get_renderer()
            title = ax.title.get_window_extent(renderer)
            label = ax.yaxis.label.get_window_extent(renderer)
            frame = ax.get_window_extent(renderer)
            assert "RMSE" in ax.get_title()
            assert not title.overlaps(label), "title runs over the y label"
            assert label.height <= 1.05 * frame.height, "y label longer than its axes"
            assert title.x0 >= frame.x0 - 0.1 * frame.width
            assert title.x1 <= frame.x1 + 0.1 * frame.width
            assert title.x0 >= 0 and title.y1 <= fig.bbox.height, "title clipped"
    _save(layouts[0][0], png_dir, f"truth_title_{model}_{presentation}")


# ---------------------------------------------------------------------------- pooling errors


@pytest.fixture(scope="module")
def pooling_errors():
    from multilevel.pooling import METHODS, compare_pooling_errors

    return compare_pooling_errors(
        n_samples=8,
        seed=2,
        methods=METHODS,
        n_departments=4,
        faculty_per_department=[2, 5, 10, 40],
        raise_sd=0,
    )


def test_pooling_error_plot_draws_the_rmse_by_size(pooling_errors, png_dir):
    fig, ax = plt.subplots()
    assert plots.pooling_error_plot(pooling_errors, ax=ax) is ax
    _assert_labelled(ax, x="Observations per department (n)")
    assert ax.get_ylabel().endswith("$)") and "intercept" in ax.get_ylabel()
    assert "8 simulated" in ax.get_title()
    for method, rows in pooling_errors.groupby("method"):
        (line,) = _lines(ax, f"pooling-error:{method}")
        by_n = rows.groupby("n")["error"].apply(lambda e: np.sqrt(np.mean(e**2)))
        np.testing.assert_allclose(line.get_xdata(), by_n.index.to_numpy(dtype=float))
        np.testing.assert_allclose(line.get_ydata(), by_n.to_numpy(), rtol=1e-12)
    labels = _legend_labels(ax.get_legend())
    assert [t.split(" (")[0] for t in labels] == [
        "No pooling",
        "Partial pooling",
        "Complete pooling",
    ]
    assert ax.get_ylim()[0] == 0
    _save(fig, png_dir, "pooling_errors")


def test_pooling_error_plot_log_scale_and_bad_input(pooling_errors):
    ax = plots.pooling_error_plot(
        pooling_errors[pooling_errors["method"] != "complete pooling"], log_n=True
    )
    assert ax.get_xscale() == "log"
    assert len([line for line in ax.get_lines() if str(line.get_gid()).startswith("pooling")]) == 2
    with pytest.raises(ValueError, match="errors must be a DataFrame"):
        plots.pooling_error_plot(pooling_errors.to_dict())
    with pytest.raises(ValueError, match=r"unknown methods \['best pooling'\]"):
        plots.pooling_error_plot(pooling_errors.assign(method="best pooling"))


def test_shrinkage_plot_skips_arrows_for_groups_without_an_own_estimate(tmp_path):
    """Radon counties measured on one floor only have no own slope: no arrow, and it still saves."""
    homes = ml.datasets.radon()
    fig, ax = plt.subplots()
    ml.plots.shrinkage_plot(
        homes, y="log_radon", x="floor", group="county", parameter="slope", ax=ax
    )
    no_pooling = ml.fit(homes, y="log_radon", x="floor", group="county", model="no_pooling")
    has_own_slope = int(np.isfinite(no_pooling.group_lines["slope"]).sum())
    arrows = [a for a in ax.texts if str(a.get_gid()).startswith("shrinkage-arrow:")]
    assert 0 < has_own_slope < len(no_pooling.group_lines)
    assert len(arrows) == has_own_slope
    fig.savefig(tmp_path / "radon_slopes.png")
    plt.close(fig)


# ---------------------------------------------------------------------- group-level predictors


@pytest.fixture(scope="module")
def radon_homes() -> pd.DataFrame:
    homes = ml.datasets.radon()
    homes["floor_mean"] = homes.groupby("county", observed=True)["floor"].transform("mean")
    return homes


def _bars(ax: Axes) -> np.ndarray:
    """(x, low, high) of each error bar of the axes' one errorbar."""
    (container,) = ax.containers
    segments = container.lines[2][0].get_segments()
    return np.array([[s[0, 0], s[0, 1], s[1, 1]] for s in segments])


def test_group_predictor_plot_draws_what_predict_says(radon_homes, png_dir):
    """Gelman & Hill's figure 12.6: county intercepts (predict at floor = 0, each county's
    uranium) +- 1 conditional SD, around the line of the fixed effects."""
    fit = ml.fit("log_radon ~ floor + log_uranium + (1 | county)", radon_homes)
    fig, ax = plt.subplots()
    assert plots.group_predictor_plot(fit, radon_homes, predictor="log_uranium", ax=ax) is ax
    counties = radon_homes.groupby("county", observed=True)["log_uranium"].first()
    at_basement = pd.DataFrame(
        {"county": counties.index.astype(str), "floor": 0, "log_uranium": counties.to_numpy()}
    )
    expected = fit.predict(at_basement)
    (points,) = [c for c in ax.collections if c.get_gid() == "group-intercepts"]
    np.testing.assert_allclose(points.get_offsets()[:, 0], counties.to_numpy())
    np.testing.assert_allclose(points.get_offsets()[:, 1], expected, rtol=1e-10)
    bars = _bars(ax)
    se = fit.group_lines["Intercept_se"].to_numpy()
    np.testing.assert_allclose(bars[:, 2] - bars[:, 1], 2 * se, rtol=1e-10)
    (line,) = _lines(ax, "group-level-line")
    xs = np.asarray(line.get_xdata(), dtype=float)
    ends = pd.DataFrame({"floor": 0, "log_uranium": xs})
    np.testing.assert_allclose(line.get_ydata(), fit.predict(ends, random=False), rtol=1e-10)
    assert xs.min() == counties.min() and xs.max() == counties.max()
    _assert_labelled(
        ax,
        x="Log uranium (log ppm)",
        y="County intercept: log radon at floor = 0 (log pCi/L)",
    )
    assert _legend_labels(ax.get_legend())[1] == "Fitted line: 1.47 + 0.72 × log uranium"
    _save(fig, png_dir, "group_predictor")


def test_group_predictor_plot_of_a_fit_without_the_predictor_is_flat(radon_homes):
    keyword = ml.fit(radon_homes, y="log_radon", x="floor", group="county")
    ax = plots.group_predictor_plot(keyword, radon_homes, predictor="log_uranium")
    (points,) = [c for c in ax.collections if c.get_gid() == "group-intercepts"]
    np.testing.assert_allclose(
        points.get_offsets()[:, 1], keyword.group_lines["intercept"].to_numpy(), rtol=1e-12
    )
    (line,) = _lines(ax, "group-level-line")
    assert set(line.get_ydata()) == {keyword.fixed_effects.at["intercept", "estimate"]}
    assert _legend_labels(ax.get_legend())[1] == "Average intercept (log uranium not in the model)"


def test_group_predictor_plot_refuses_what_it_cannot_draw(radon_homes):
    two = ml.fit("log_radon ~ floor + floor_mean + log_uranium + (1 | county)", radon_homes)
    with pytest.raises(ValueError, match="'floor_mean' is a second group-level term"):
        plots.group_predictor_plot(two, radon_homes, predictor="log_uranium")
    one = ml.fit("log_radon ~ floor + (1 | county)", radon_homes)
    with pytest.raises(ValueError, match="one value per county"):
        plots.group_predictor_plot(one, radon_homes, predictor="floor")
    with pytest.raises(ValueError, match="'soil' is not a column"):
        plots.group_predictor_plot(one, radon_homes, predictor="soil")


def test_within_between_plot_draws_the_two_slopes(radon_homes, png_dir):
    fit = ml.fit("log_radon ~ floor + floor_mean + (1 | county)", radon_homes)
    fig, ax = plt.subplots()
    assert plots.within_between_plot(fit, radon_homes, x="floor", group_mean="floor_mean",
                                     ax=ax) is ax  # fmt: skip
    means = radon_homes.groupby("county", observed=True)[["floor", "log_radon"]].mean()
    (points,) = [c for c in ax.collections if c.get_gid() == "group-means"]
    np.testing.assert_allclose(points.get_offsets(), means.to_numpy(), rtol=1e-12)
    beta = fit.fixed_effects["estimate"]

    def slope(line) -> float:
        xs, ys = (np.asarray(v, dtype=float) for v in line.get_data())
        return (ys[1] - ys[0]) / (xs[1] - xs[0])

    (between,) = _lines(ax, "between-line")
    (within,) = _lines(ax, "within-line")
    assert slope(between) == pytest.approx(beta["floor"] + beta["floor_mean"], rel=1e-10)
    assert slope(within) == pytest.approx(beta["floor"], rel=1e-10)
    # The between line is the expected county mean: the fixed part at floor = floor_mean = share.
    share = np.asarray(between.get_xdata(), dtype=float)
    expected = fit.predict(pd.DataFrame({"floor": share, "floor_mean": share}), random=False)
    np.testing.assert_allclose(between.get_ydata(), expected, rtol=1e-10)
    _assert_labelled(
        ax,
        x="County mean of floor (share with floor = 1)",
        y="County mean of log radon (log pCi/L)",
    )
    assert _legend_labels(ax.get_legend())[1:] == [
        f"Between counties: slope {beta['floor'] + beta['floor_mean']:+.2f}",
        f"Within a county: slope {beta['floor']:+.2f}",
    ]
    _save(fig, png_dir, "within_between")


def test_within_between_plot_needs_exactly_x_and_its_group_mean(radon_homes):
    with_uranium = ml.fit("log_radon ~ floor + floor_mean + log_uranium + (1 | county)",
                          radon_homes)  # fmt: skip
    with pytest.raises(ValueError, match="fixed terms Intercept, 'floor' and 'floor_mean' only"):
        plots.within_between_plot(with_uranium, radon_homes, x="floor", group_mean="floor_mean")
    wrong = radon_homes.assign(floor_mean=radon_homes["log_uranium"])
    fit = ml.fit("log_radon ~ floor + floor_mean + (1 | county)", wrong)
    with pytest.raises(ValueError, match="each county's mean of 'floor'"):
        plots.within_between_plot(fit, wrong, x="floor", group_mean="floor_mean")
    keyword = ml.fit(radon_homes, y="log_radon", x="floor", group="county")
    with pytest.raises(ValueError, match="fit from a formula"):
        plots.within_between_plot(keyword, radon_homes, x="floor", group_mean="floor_mean")
