"""The explorers, driven headlessly the way a learner drives them: set slider values, press buttons.

Expected values come from the truth of the simulation, from independent least squares
(``numpy.linalg.lstsq`` on a design matrix) and from fresh statsmodels fits, never from the
explorers' own output.
"""

from __future__ import annotations

import asyncio
import base64
import html
import re
import threading
import time
import warnings

import numpy as np
import pytest
import statsmodels.formula.api as smf
from matplotlib.colors import to_hex
from matplotlib.markers import MarkerStyle

import multilevel as ml
from multilevel import style
from multilevel import widgets as mw
from multilevel.widgets._fitting import arrays, no_pooling

POOLING = {
    "intercepts": (mw.varying_intercepts_explorer, "varying_intercepts", None, "base_sd"),
    "slopes": (mw.varying_slopes_explorer, "varying_slopes", "0 + exp", "raise_sd"),
    "both": (mw.varying_both_explorer, "varying_both", "~exp", "base_sd"),
}
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _warnings_are_errors():
    """No warning may reach a learner: every test runs with warnings turned into errors."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def _statsmodels_fit(sim, re_formula):
    """A fresh statsmodels REML fit of the same data (salary in $1,000 for good conditioning;
    categorical groups and integer x are given as str and float, which statsmodels handles)."""
    data = sim.data.assign(
        salary_k=sim.data["salary"] / 1000,
        exp=sim.data["experience"].astype(float),
        dept=sim.data["department"].astype(str),
    )
    model = smf.mixedlm("salary_k ~ exp", data, groups="dept", re_formula=re_formula)
    # Started from statsmodels' own defaults: Powell to get near the optimum (BFGS alone stalls
    # at a worse likelihood for varying intercepts and slopes), then BFGS to polish.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rough = model.fit(reml=True, method=["powell"])
        result = model.fit(reml=True, start_params=rough.params_object, method=["bfgs"], gtol=1e-10)
    cov = np.atleast_2d(np.asarray(result.cov_re)) * 1e6
    return {
        "group_sd": np.sqrt(np.diag(cov)),
        "residual_sd": float(np.sqrt(result.scale) * 1000),
        "fixed": result.fe_params.to_numpy() * 1000,
        "cov": cov,
    }


def _partial_segments(explorer):
    return np.asarray(explorer.partial_lines.get_segments())


# ---------------------------------------------------------------------------- pooling explorers
@pytest.mark.parametrize("kind", sorted(POOLING))
def test_explorer_builds_with_controls_figure_readout(kind):
    factory, *_ = POOLING[kind]
    explorer = factory(seed=1)
    for name in ("noise_sd", "raise_mean", "n_departments", "faculty_per_department"):
        assert name in explorer.controls
    for name in ("show_complete", "show_no_pooling", "show_partial", "show_truth", "new_sample"):
        assert name in explorer.controls
    assert bytes(explorer.image.value).startswith(PNG)
    assert "Estimated" in explorer.readout.value
    assert explorer.controls["noise_sd"].readout_format == "$,d"
    assert len(explorer.figure.axes) == 2
    assert explorer.notes == ()


@pytest.mark.parametrize("kind", sorted(POOLING))
def test_readouts_match_fresh_statsmodels_fit(kind):
    factory, model, re_formula, spread = POOLING[kind]
    explorer = factory(seed=3)
    explorer.controls[spread].value = explorer.controls[spread].value * 3 // 2  # warm-started refit
    sim = explorer.sim
    expected = _statsmodels_fit(sim, re_formula)
    fit = explorer.fit
    np.testing.assert_allclose(fit.group_sd.to_numpy(), expected["group_sd"], rtol=1e-4)
    np.testing.assert_allclose(fit.residual_sd, expected["residual_sd"], rtol=1e-4)
    np.testing.assert_allclose(
        fit.fixed_effects["estimate"].to_numpy(), expected["fixed"], rtol=1e-4
    )
    # What is drawn is what was fitted: the partial-pooling lines are the fit's group lines.
    lines = fit.group_lines
    seg = _partial_segments(explorer)
    np.testing.assert_allclose(seg[:, 0, 1], lines["intercept"].to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(
        seg[:, 1, 1], (lines["intercept"] + 25 * lines["slope"]).to_numpy(), rtol=1e-9
    )
    # And the readout shows the fitted numbers, formatted.
    for value in expected["group_sd"]:
        assert mw._controls.dollars(value) in explorer.readout.value
    assert mw._controls.dollars(expected["residual_sd"]) in explorer.readout.value


def test_readout_shows_icc_of_the_fit():
    explorer = mw.varying_intercepts_explorer(seed=2)
    expected = _statsmodels_fit(explorer.sim, None)
    tau2, sigma2 = expected["group_sd"][0] ** 2, expected["residual_sd"] ** 2
    assert f"{tau2 / (tau2 + sigma2):.2f}" in explorer.readout.value


def test_partial_pooling_lines_move_toward_pooled_line_as_spread_shrinks():
    explorer = mw.varying_intercepts_explorer(seed=4)
    distances = []
    for spread in (16_000, 8_000, 3_000, 1_000):
        explorer.controls["base_sd"].value = spread
        pooled = np.asarray(explorer.complete_line.get_ydata())
        seg = _partial_segments(explorer)
        distances.append(float(np.mean(np.abs(seg[:, 0, 1] - pooled[0]))))
    assert all(a > b for a, b in zip(distances, distances[1:], strict=False)), distances


def test_pooled_line_is_least_squares_and_no_pooling_lines_are_separate_fits():
    explorer = mw.varying_both_explorer(seed=5)
    x, y, codes, g = arrays(explorer.sim)
    slope, intercept = np.polyfit(x, y, 1)
    line = explorer.complete_line.get_ydata()
    np.testing.assert_allclose(line, [intercept, intercept + 25 * slope], rtol=1e-10)
    for j in range(g):
        b, a = np.polyfit(x[codes == j], y[codes == j], 1)
        np.testing.assert_allclose(
            [explorer.separate.intercept[j], explorer.separate.slope[j]], [a, b], rtol=1e-9
        )


@pytest.mark.parametrize("varying", ["intercepts", "slopes", "both"])
def test_no_pooling_matches_dummy_regression(varying):
    rng = np.random.default_rng(7)
    g = 6
    codes = np.repeat(np.arange(g), [1, 2, 5, 8, 3, 10])
    x = rng.integers(0, 26, codes.size).astype(float)
    y = 50_000 + 900 * codes + 1_400 * x + rng.normal(0, 4_000, codes.size)
    onehot = np.eye(g)[codes]
    if varying == "intercepts":
        design = np.column_stack([onehot, x])
    elif varying == "slopes":
        design = np.column_stack([np.ones_like(x), onehot * x[:, None]])
    else:
        design = np.column_stack([onehot, onehot * x[:, None]])
    ok = np.ones(g, bool)
    if varying == "both":
        ok = np.array([np.ptp(x[codes == j]) > 0 for j in range(g)])
        keep = ok[codes]
        design = design[keep][:, np.r_[np.flatnonzero(ok), g + np.flatnonzero(ok)]]
        coef = np.linalg.lstsq(design, y[keep], rcond=None)[0]
        k = ok.sum()
        expected_a, expected_b = coef[:k], coef[k:]
    else:
        coef = np.linalg.lstsq(design, y, rcond=None)[0]
        expected_a = coef[:g] if varying == "intercepts" else np.full(g, coef[0])
        expected_b = np.full(g, coef[g]) if varying == "intercepts" else coef[1:]
    lines = no_pooling(x, y, codes, g, varying)
    np.testing.assert_allclose(lines.intercept[ok], expected_a, rtol=1e-8)
    np.testing.assert_allclose(lines.slope[ok], expected_b, rtol=1e-8)
    assert np.isnan(lines.slope[~ok]).all()


def test_toggles_hide_and_show_line_families():
    explorer = mw.varying_intercepts_explorer(seed=1)
    assert not explorer.truth_lines.get_visible()
    before = bytes(explorer.image.value)
    explorer.controls["show_truth"].value = True
    assert explorer.truth_lines.get_visible()
    explorer.controls["show_no_pooling"].value = False
    assert not explorer.separate_lines.get_visible()
    assert not explorer.shrink_arrows.get_visible()
    assert bytes(explorer.image.value) != before
    labels = [t.get_text() for t in explorer.ax_data.get_legend().get_texts()]
    assert "Truth" in labels and "No pooling" not in labels


def test_new_sample_button_draws_new_data():
    explorer = mw.varying_intercepts_explorer(seed=1)
    before = explorer.sim.data["salary"].to_numpy().copy()
    image = bytes(explorer.image.value)
    explorer.controls["new_sample"].click()
    assert not np.allclose(before, explorer.sim.data["salary"].to_numpy())
    assert bytes(explorer.image.value) != image


def test_same_seed_gives_same_explorer():
    a = mw.varying_slopes_explorer(seed=11)
    b = mw.varying_slopes_explorer(seed=11)
    assert bytes(a.image.value) == bytes(b.image.value)
    assert a.readout.value == b.readout.value


# ---------------------------------------------------------------------------- edges
@pytest.mark.parametrize("kind", sorted(POOLING))
def test_spread_at_zero_explains_itself(kind, capsys):
    factory, _, _, spread = POOLING[kind]
    explorer = factory(seed=1)
    image = bytes(explorer.image.value)
    explorer.controls[spread].value = 0
    assert bytes(explorer.image.value).startswith(PNG) and bytes(explorer.image.value) != image
    words = "base salaries" if spread == "base_sd" else "raises"
    assert any(f"spread of {words} to $0" in n for n in explorer.notes), explorer.notes
    assert "spread of" in explorer.note.value
    assert capsys.readouterr() == ("", "")


def test_spread_at_zero_estimated_as_zero_says_right_answer():
    # With no spread, many samples are fitted on the boundary; find one among a few seeds and
    # check the plain-English explanation (the boundary itself is judged by ml.fit).
    for seed in range(12):
        explorer = mw.varying_intercepts_explorer(seed=seed)
        explorer.controls["base_sd"].value = 0
        if explorer.fit.group_sd["intercept"] < 1e-6 * explorer.fit.residual_sd:
            assert explorer.notes[0].startswith(
                "The model estimates no difference between departments"
            )
            assert "right answer" in explorer.notes[0]
            return
    pytest.fail("no boundary fit at spread 0 in 12 samples")


@pytest.mark.parametrize("kind", sorted(POOLING))
@pytest.mark.parametrize(
    ("departments", "per", "phrase"),
    [
        (1, 20, "With one department there is nothing to pool"),
        (2, 20, "With two departments"),
        (8, 1, "With one faculty member per department"),
    ],
)
def test_small_designs_draw_and_explain(kind, departments, per, phrase, capsys):
    factory, *_ = POOLING[kind]
    explorer = factory(seed=2)
    explorer.controls["n_departments"].value = departments
    explorer.controls["faculty_per_department"].value = per
    assert bytes(explorer.image.value).startswith(PNG)
    assert any(n.startswith(phrase) for n in explorer.notes), explorer.notes
    assert phrase in explorer.note.value
    assert capsys.readouterr() == ("", "")
    if departments == 1:
        assert explorer.fit is None
        assert explorer.complete_line.get_visible()


# ---------------------------------------------------------------------------- shrinkage
def test_shrinkage_weights_are_precision_weights_and_explain_the_pull():
    explorer = mw.shrinkage_explorer(seed=3)
    t = explorer.table
    fit = explorer.fit
    tau, sigma = fit.group_sd["intercept"], fit.residual_sd
    np.testing.assert_allclose(t["weight"], t["n"] / (t["n"] + sigma**2 / tau**2), rtol=1e-12)
    overall = fit.fixed_effects.loc["intercept", "estimate"]
    np.testing.assert_allclose(
        t["partial"] - overall, t["weight"] * (t["own"] - overall), rtol=1e-6, atol=1e-6
    )
    # The department's own estimate is least squares with the model's common raise.
    x, y, codes, _ = arrays(explorer.sim)
    slope = fit.fixed_effects.loc["slope", "estimate"]
    for j, name in enumerate(t.index):
        assert t.loc[name, "own"] == pytest.approx(np.mean(y[codes == j] - slope * x[codes == j]))
    # Unbalanced 1 .. 30: smaller departments get less weight.
    assert t["n"].min() == 1 and t["n"].max() == 30
    assert np.all(np.diff(t.sort_values("n")["weight"].to_numpy()) >= 0)
    assert any("one faculty member" in n for n in explorer.notes)


def test_shrinkage_statsmodels_agrees():
    explorer = mw.shrinkage_explorer(seed=4, variance_ratio=0.5)
    expected = _statsmodels_fit(explorer.sim, None)
    np.testing.assert_allclose(explorer.fit.group_sd.to_numpy(), expected["group_sd"], rtol=1e-4)
    np.testing.assert_allclose(explorer.fit.residual_sd, expected["residual_sd"], rtol=1e-4)


def test_shrinkage_ratio_controls_pull():
    explorer = mw.shrinkage_explorer(seed=5)
    explorer.controls["variance_ratio"].value = 2.0
    strong = explorer.table["weight"].mean()
    explorer.controls["variance_ratio"].value = 0.05
    weak = explorer.table["weight"].mean()
    assert strong > weak
    explorer.controls["variance_ratio"].value = 0.0
    assert bytes(explorer.image.value).startswith(PNG)
    assert any("ratio to 0" in n for n in explorer.notes), explorer.notes


@pytest.mark.slow
# ---------------------------------------------------------------------------- many samples
def test_many_samples_summary_matches_its_estimates_and_truth():
    explorer = mw.many_samples_explorer(seed=1, n_samples=60)
    summary = explorer.summary  # a run happens when the explorer is built
    est = explorer.estimates
    assert summary.n_samples == len(est) == 60 and not summary.stopped
    row = summary.table.loc["average raise per year"]
    assert row["truth"] == 1_500
    assert row["mean"] == pytest.approx(est["slope"].mean())
    covered = np.abs(est["slope"] - 1_500) <= 1.959963984540054 * est["slope_se"]
    assert row["coverage"] == pytest.approx(covered.mean())
    # Unbiased in the long run: the average raise lies within 4 standard errors of the truth.
    assert abs(row["bias"]) < 4 * est["slope"].std() / np.sqrt(len(est))
    assert 0.8 <= row["coverage"] <= 1.0
    assert explorer.progress.value == 60
    assert "Done" in explorer.status.value
    assert "Average estimate" in explorer.readout.value


def test_many_samples_fits_agree_with_ml_fit():
    import simdata
    from multilevel.widgets.many_samples import fit_sample

    for kind, model, parts in (
        ("intercepts", "varying_intercepts", ("intercept",)),
        ("both", "varying_both", ("intercept", "slope")),
    ):
        sim = simdata.faculty_salaries(seed=9)
        x, y, codes, n_groups = arrays(sim)
        row, _ = fit_sample(x, y, codes, kind=kind, n_groups=n_groups)
        fit = ml.fit(sim, model=model)
        assert row["slope"] == pytest.approx(fit.fixed_effects.loc["slope", "estimate"], rel=1e-6)
        assert row["residual_sd"] == pytest.approx(fit.residual_sd, rel=1e-6)
        for part in parts:
            assert row[f"sd_{part}"] == pytest.approx(fit.group_sd[part], rel=1e-6)


@pytest.mark.parametrize(
    ("kind", "model"),
    [("intercepts", "varying_intercepts"), ("slopes", "varying_slopes")],
    ids=["intercepts", "slopes"],
)
def test_many_samples_boundary_flag_agrees_with_ml_fit_at_the_boundary(kind, model):
    """Where departments truly do not differ, about half the fits put the spread at 0.

    The explorer's "fits on the boundary" share counts a spread estimated as 0; with one varying
    part that is exactly ``ml.fit``'s ``boundary``. Both kinds of sample must occur, or the
    comparison could not tell a rule that always says False (or True) from the right one.
    """
    import simdata
    from multilevel.widgets.many_samples import fit_sample

    flags = []
    for seed in range(12):
        sim = simdata.faculty_salaries(seed=seed, base_sd=0, raise_sd=0)
        x, y, codes, n_groups = arrays(sim)
        row, _ = fit_sample(x, y, codes, kind=kind, n_groups=n_groups)
        fit = ml.fit(sim, model=model)
        assert row["boundary"] == fit.boundary, (seed, dict(fit.group_sd), fit.notes)
        flags.append(fit.boundary)
    assert any(flags) and not all(flags), flags


@pytest.mark.slow
def test_many_samples_runs_its_default_200_samples():
    """The default run is complete; its speed is reported by ``make bench``, not tested here."""
    explorer = mw.many_samples_explorer(seed=2, run_now=False)
    summary = explorer.run()
    assert summary.n_samples == 200 and not summary.stopped
    assert explorer.progress.value == 200
    assert len(explorer.estimates) == 200


@pytest.mark.slow
def test_stop_button_stops_a_background_run():
    explorer = mw.many_samples_explorer(seed=3, n_samples=2_000, run_now=False)
    explorer.controls["run"].click()
    deadline = time.monotonic() + 20
    while explorer.progress.value == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert explorer.running
    assert explorer.controls["run"].disabled and not explorer.controls["stop"].disabled
    explorer.controls["stop"].click()
    explorer.wait(20)
    assert not explorer.running
    assert explorer.summary.stopped
    assert 0 < explorer.summary.n_samples < 2_000
    assert explorer.status.value.startswith("Stopped after")
    assert not explorer.controls["run"].disabled and explorer.controls["stop"].disabled


@pytest.mark.slow
def test_changing_a_setting_restarts_the_run_at_the_new_settings():
    explorer = mw.many_samples_explorer(seed=3, n_samples=40)
    assert explorer.summary.table.loc["spread within a department (SD)", "truth"] == 5_000
    image = bytes(explorer.image.value)
    explorer.controls["noise_sd"].value = 8_000
    explorer.wait(30)
    summary = explorer.summary
    assert not summary.stopped and summary.n_samples == 40
    assert summary.table.loc["spread within a department (SD)", "truth"] == 8_000
    assert bytes(explorer.image.value) != image


@pytest.mark.slow
def test_without_auto_run_a_setting_change_stops_the_run_and_says_so():
    explorer = mw.many_samples_explorer(seed=3, n_samples=2_000, run_now=False, auto_run=False)
    explorer.start()
    explorer.controls["noise_sd"].value = 8_000
    explorer.wait(20)
    assert explorer.summary.stopped
    assert "Settings changed" in explorer.status.value


# ---------------------------------------------------------------------------- updates and looks
def test_burst_of_front_end_changes_in_a_running_kernel_makes_one_refit():
    explorer = mw.varying_intercepts_explorer(seed=1)
    slider = explorer.controls["base_sd"]

    async def drag():
        before = len(explorer.timings)
        for value in range(1_000, 6_000, 500):
            slider.set_state({"value": value})  # what ipywidgets does with a browser message
        assert len(explorer.timings) == before  # deferred, not run ten times
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        return len(explorer.timings) - before

    assert asyncio.run(drag()) == 1
    assert explorer.sim.population["base_sd"] == 5_500


def test_code_in_a_running_kernel_sees_the_update_at_once():
    explorer = mw.varying_intercepts_explorer(seed=1)

    async def cell():
        explorer.controls["base_sd"].value = 0
        return explorer.sim.population["base_sd"], explorer.notes

    spread, notes = asyncio.run(cell())
    assert spread == 0 and notes


def test_figure_is_updated_in_place():
    explorer = mw.varying_both_explorer(seed=1)
    figure, lines = explorer.figure, explorer.partial_lines
    explorer.controls["raise_sd"].value = 900
    assert explorer.figure is figure and explorer.partial_lines is lines
    assert len(figure.axes) == 2


def test_presentation_mode_makes_everything_larger():
    normal = mw.varying_intercepts_explorer(seed=1)
    big = mw.varying_intercepts_explorer(seed=1, presentation=True)
    assert big.figure.get_size_inches()[0] > normal.figure.get_size_inches()[0]
    assert big.ax_data.xaxis.label.get_fontsize() > normal.ax_data.xaxis.label.get_fontsize()
    assert "ml-presentation" in big._dom_classes
    with style.presentation_mode():
        follows = mw.shrinkage_explorer(seed=1)
    assert follows.presentation


def _shown(widget, *, skip=None):
    """Every widget under ``widget``, not looking inside ``skip`` (a collapsed section)."""
    found = [widget]
    if widget is not skip:
        for child in getattr(widget, "children", ()):
            found += _shown(child, skip=skip)
    return found


@pytest.mark.parametrize(
    ("factory", "main", "folded"),
    [
        (
            mw.varying_intercepts_explorer,
            ["base_sd", "noise_sd", "faculty_per_department", "new_sample", "show_truth"],
            ["raise_mean", "n_departments", "show_complete", "show_no_pooling", "show_partial"],
        ),
        (
            mw.varying_both_explorer,
            ["base_sd", "raise_sd", "correlation", "new_sample"],
            ["raise_mean", "n_departments", "show_partial"],
        ),
        (
            mw.shrinkage_explorer,
            ["variance_ratio", "new_sample", "show_truth"],
            ["n_departments", "smallest", "largest"],
        ),
    ],
)
def test_presentation_mode_folds_the_less_used_controls_away(factory, main, folded):
    normal = factory(seed=1)
    big = factory(seed=1, presentation=True)
    assert normal.more_settings is None
    everything = {id(w) for w in _shown(normal)}
    assert all(id(c) in everything for c in normal.controls.values())
    shown = {id(w) for w in _shown(big, skip=big.more_settings)}
    inside = {id(w) for w in _shown(big.more_settings)}
    for name in main:
        assert id(big.controls[name]) in shown, name
    for name in folded:
        assert id(big.controls[name]) not in shown and id(big.controls[name]) in inside, name
    assert big.more_settings.selected_index is None  # collapsed until the instructor opens it
    assert big.more_settings.titles == ("More settings",)
    assert id(big.readout) in shown and id(big.image) in shown and id(big.note) in shown
    # A folded control still works.
    big.controls["n_departments"].value = 5
    assert len(big.sim.truth) == 5


def test_presentation_mode_draws_thicker_lines_and_bigger_markers():
    normal = mw.varying_intercepts_explorer(seed=1)
    big = mw.varying_intercepts_explorer(seed=1, presentation=True)
    assert big.partial_lines.get_linewidths()[0] > normal.partial_lines.get_linewidths()[0]
    assert big.complete_line.get_linewidth() > normal.complete_line.get_linewidth()
    assert big.points.get_sizes()[0] > normal.points.get_sizes()[0]
    assert big.image.value != normal.image.value


def test_dollar_readouts():
    assert mw._controls.dollars(8000) == "$8,000"
    assert mw._controls.dollars(-1500.4) == "-$1,500"
    assert mw._controls.dollars(float("nan")) == "\u2014"


def test_bad_arguments_name_the_parameter():
    with pytest.raises(ValueError, match="kind"):
        mw.PoolingExplorer("sideways")
    with pytest.raises(ValueError, match="model"):
        mw.many_samples_explorer(model="sideways")


@pytest.mark.parametrize("kind", sorted(POOLING))
def test_no_pooling_lines_agree_with_ml_fit(kind):
    factory, *_ = POOLING[kind]
    explorer = factory(seed=6)
    reference = ml.fit(explorer.sim, model="no_pooling", varying=explorer.varying)
    lines = reference.group_lines.reindex(explorer.sim.truth.index)
    np.testing.assert_allclose(explorer.separate.intercept, lines["intercept"], rtol=1e-9)
    np.testing.assert_allclose(explorer.separate.slope, lines["slope"], rtol=1e-9)


@pytest.mark.parametrize(
    ("control", "value"), [("faculty_per_department", 1), ("n_departments", 2)]
)
def test_many_samples_edges_explain_instead_of_failing(control, value, capsys):
    explorer = mw.many_samples_explorer(seed=4, n_samples=30, auto_run=False)
    explorer.controls["faculty_per_department"].value = 1
    explorer.controls[control].value = value
    summary = explorer.run()
    assert summary.n_samples == 0
    assert explorer.notes[0].startswith("The model cannot be fitted with these settings")
    assert "Nothing fitted" in explorer.status.value
    assert bytes(explorer.image.value).startswith(PNG)
    assert capsys.readouterr() == ("", "")
    explorer.controls["faculty_per_department"].value = 5
    explorer.controls["n_departments"].value = 8
    assert explorer.run().n_samples == 30
    assert not any("cannot be fitted" in n for n in explorer.notes)


# ---------------------------------------------------------------------------- errors
def _boom(*_args, **_kwargs):
    raise RuntimeError("the fit exploded")


def test_failed_update_shows_a_plain_note_logs_the_traceback_and_recovers(
    monkeypatch, caplog, capsys
):
    from multilevel.widgets import _base

    explorer = mw.varying_intercepts_explorer(seed=1)
    image = bytes(explorer.image.value)
    with monkeypatch.context() as patch:
        patch.setattr(_base, "fit_partial", _boom)  # the refit shared by the explorers
        explorer.controls["base_sd"].value = 12_000  # no exception reaches the caller
    assert explorer.error is not None and "the fit exploded" in explorer.error
    assert "the fit exploded" in explorer.note.value and "try again" in explorer.note.value
    assert "New sample" in explorer.note.value
    assert "Traceback" not in explorer.note.value
    assert explorer.notes == (explorer.error,)
    assert bytes(explorer.image.value) == image  # the last figure that worked stays
    record = next(r for r in caplog.records if r.name == "multilevel.widgets")
    assert record.exc_info is not None and "RuntimeError" in record.getMessage()
    assert capsys.readouterr() == ("", "")
    # Pressing New sample (the hint) refits and clears the note.
    explorer.controls["new_sample"].click()
    assert explorer.error is None and explorer.note.value == ""
    assert bytes(explorer.image.value) != image
    assert explorer.sim.population["base_sd"] == 12_000


def test_error_in_a_deferred_front_end_update_is_shown_not_swallowed(monkeypatch, caplog):
    from multilevel.widgets import _base

    explorer = mw.varying_intercepts_explorer(seed=1)
    monkeypatch.setattr(_base, "fit_partial", _boom)

    async def drag():
        explorer.controls["base_sd"].set_state({"value": 3_000})  # a browser message
        assert explorer.error is None  # deferred to the event loop
        await asyncio.sleep(0)
        await asyncio.sleep(0)

    asyncio.run(drag())
    assert "the fit exploded" in explorer.note.value
    assert any(r.exc_info for r in caplog.records if r.name == "multilevel.widgets")


def test_error_in_a_button_callback_is_a_note_not_a_traceback(monkeypatch, capsys):
    from multilevel.widgets import shrinkage

    explorer = mw.shrinkage_explorer(seed=1)
    monkeypatch.setattr(shrinkage.simdata, "faculty_salaries", _boom)
    explorer.controls["new_sample"].click()
    assert "the fit exploded" in explorer.note.value
    assert capsys.readouterr() == ("", "")


@pytest.mark.slow
def test_error_in_a_background_run_is_a_note(monkeypatch, capsys):
    from multilevel.widgets import many_samples

    explorer = mw.many_samples_explorer(seed=1, n_samples=40, run_now=False)
    hooked = []
    monkeypatch.setattr("threading.excepthook", hooked.append)
    monkeypatch.setattr(many_samples, "fit_sample", _boom)
    explorer.controls["run"].click()
    explorer.wait(20)
    assert not hooked  # nothing escaped the thread
    assert "the fit exploded" in explorer.note.value and "Run" in explorer.note.value
    assert explorer.status.value.startswith("Stopped by an error")
    assert not explorer.controls["run"].disabled and explorer.controls["stop"].disabled
    assert capsys.readouterr() == ("", "")
    monkeypatch.undo()
    assert explorer.run().n_samples == 40 and explorer.error is None


@pytest.mark.slow
# ---------------------------------------------------------------------------- threads
def test_background_run_leaves_warning_filters_and_style_alone(monkeypatch):
    """A run in a thread uses no process-wide switches (warnings.catch_warnings,
    matplotlib.rc_context), so the kernel's thread refitting meanwhile keeps its own."""
    import matplotlib as mpl

    calls = []
    real_catch, real_rc = warnings.catch_warnings, mpl.rc_context

    def spy(real, name):
        def wrapper(*args, **kwargs):
            calls.append((name, threading.current_thread().name))
            return real(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(warnings, "catch_warnings", spy(real_catch, "catch_warnings"))
    monkeypatch.setattr(mpl, "rc_context", spy(real_rc, "rc_context"))
    filters, show = list(warnings.filters), warnings._showwarnmsg_impl
    rc = {k: str(v) for k, v in mpl.rcParams.items()}
    many = mw.many_samples_explorer(seed=3, n_samples=300, run_now=False, presentation=True)
    pooling = mw.varying_intercepts_explorer(seed=1, presentation=True)
    many.start()
    steps = 0
    while many.running or steps < 3:
        pooling.controls["base_sd"].value = 8_000 + 500 * (steps % 4)
        steps += 1
    many.wait(30)
    assert many.summary.n_samples == 300 and many.error is None and pooling.error is None
    assert not any("numerical difficulty" in n for n in many.notes + pooling.notes)
    assert [c for c in calls if c[1] == "many-samples"] == []
    assert warnings.filters == filters and warnings._showwarnmsg_impl is show
    assert {k: str(v) for k, v in mpl.rcParams.items()} == rc


@pytest.mark.slow
def test_a_redraw_in_a_thread_looks_the_same_as_in_the_kernel_thread():
    explorer = mw.many_samples_explorer(seed=5, n_samples=30, presentation=True)
    in_kernel = bytes(explorer.image.value)
    worker = threading.Thread(target=explorer.update, name="many-samples")
    worker.start()
    worker.join()
    assert bytes(explorer.image.value) == in_kernel


def test_background_samples_are_simdata_samples():
    import simdata
    from multilevel.widgets.many_samples import _simulate

    explorer = mw.many_samples_explorer(seed=1, run_now=False, model="both")
    explorer.controls["faculty_per_department"].value = 7
    settings = explorer.settings()
    rng_a, rng_b = np.random.default_rng(5), np.random.default_rng(5)
    for _ in range(3):  # successive samples from one generator, as in a run
        sim = simdata.faculty_salaries(**settings, seed=rng_a)
        x, y, codes = _simulate(rng_b, settings)
        x_ref, y_ref, codes_ref, _ = arrays(sim)
        np.testing.assert_array_equal(x, x_ref)
        np.testing.assert_array_equal(y, y_ref)
        np.testing.assert_array_equal(codes, codes_ref)


@pytest.mark.slow
def test_in_a_running_kernel_the_figure_is_drawn_by_the_kernel_thread():
    explorer = mw.many_samples_explorer(seed=2, n_samples=60, run_now=False)
    drawn_in = []
    real_update = explorer.update

    def update():
        drawn_in.append(threading.current_thread())
        real_update()

    explorer.update = update

    async def kernel():
        explorer.controls["run"].click()  # the thread hands results to this event loop
        while explorer.controls["run"].disabled:
            await asyncio.sleep(0.01)

    asyncio.run(asyncio.wait_for(kernel(), 30))
    assert explorer.summary.n_samples == 60 and explorer.status.value.startswith("Done")
    assert drawn_in and all(t is threading.main_thread() for t in drawn_in)


def test_axis_limits_move_when_a_marker_would_sit_on_the_edge():
    from multilevel.widgets._render import AxisLimits

    limits = AxisLimits()
    assert limits.fit((0.0, 100.0), [20.0, 80.0]) is None  # well inside: no redraw needed
    low, high = limits.fit((0.0, 100.0), [20.0, 99.9])  # a dot half cut off at the right edge
    assert high > 99.9 + 0.05 * (99.9 - 20.0)
    assert low < 20.0


def test_shrinkage_explorer_tells_twelve_departments_apart_by_colour_and_marker():
    explorer = mw.shrinkage_explorer(n_departments=12, seed=1)
    assert explorer.error is None
    expected = [(s.color.lower(), s.marker) for s in style.distinct_styles(12)]
    shapes = {}
    for marker in {m for _, m in expected}:
        shape = MarkerStyle(marker)
        shapes[marker] = np.round(shape.get_path().transformed(shape.get_transform()).vertices, 6)
    for dots in (explorer.partial, explorer.weights):
        faces = [to_hex(c) for c in dots.get_facecolors()]
        paths = [np.round(p.vertices, 6) for p in dots.get_paths()]
        assert len(faces) == len(paths) == 12
        drawn = []
        for face, path in zip(faces, paths, strict=True):
            (marker,) = [
                m for m, v in shapes.items() if v.shape == path.shape and np.allclose(v, path)
            ]
            drawn.append((face, marker))
        assert drawn == expected
        assert len(set(drawn)) == 12, "two departments look the same"


# --------------------------------------------------------------------------- a still picture
def _still_parts(explorer) -> tuple[bytes, str]:
    """The PNG and the alt text of an explorer's still picture."""
    still = explorer._repr_mimebundle_()["text/html"]
    images = re.findall(r"<img src='data:image/png;base64,([^']+)' alt=\"([^\"]*)\">", still)
    assert len(images) == 1, f"one picture expected in {still[:300]!r}"
    data, alt = images[0]
    return base64.b64decode(data), html.unescape(alt)


@pytest.mark.parametrize(
    "make",
    [
        lambda: mw.varying_intercepts_explorer(seed=1),
        lambda: mw.varying_slopes_explorer(seed=1),
        lambda: mw.varying_both_explorer(seed=1),
        lambda: mw.shrinkage_explorer(seed=1),
        lambda: mw.many_samples_explorer(seed=1, n_samples=10),
    ],
    ids=["intercepts", "slopes", "both", "shrinkage", "many_samples"],
)
def test_explorer_offers_a_still_picture_with_alt_text_beside_the_widget(make):
    explorer = make()
    bundle = explorer._repr_mimebundle_()
    # A live front end still gets the widget; a static page gets the picture.
    assert "application/vnd.jupyter.widget-view+json" in bundle
    png, alt = _still_parts(explorer)
    assert png == explorer.image.value and png[:4] == b"\x89PNG"
    assert alt == explorer.describe_figure()
    assert len(alt.split()) >= 20 and alt.endswith("."), alt
    assert "make lab" in bundle["text/html"] and "make demo" in bundle["text/html"]


def test_still_picture_follows_the_explorer_and_escapes_its_text():
    explorer = mw.varying_intercepts_explorer(seed=1)
    _, before = _still_parts(explorer)
    explorer.controls["n_departments"].value = 5
    _, after = _still_parts(explorer)
    assert "8 departments" in before and "5 departments" in after
    explorer.title = "<b>x</b> & y"
    assert "&lt;b&gt;x&lt;/b&gt; &amp; y" in explorer.still_html()
