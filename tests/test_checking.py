"""multilevel.checking (residuals, replicated data, line SEs) and its figures (multilevel.plots.checking)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import multilevel as ml
import simdata
from multilevel import checking
from multilevel import plots as checking_plots


@pytest.fixture(scope="module")
def sim() -> simdata.SimulatedData:
    return simdata.faculty_salaries(n_departments=10, faculty_per_department=(5, 25), seed=3)


@pytest.fixture(scope="module")
def fits(sim: simdata.SimulatedData) -> dict[str, ml.FitResult]:
    return {m: ml.fit(sim, model=m) for m in ml.MODELS if m != "no_pooling"}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ------------------------------------------------------------------------------ residuals


@pytest.mark.parametrize(
    "model", ["complete_pooling", "varying_intercepts", "varying_slopes", "varying_both"]
)
def test_residuals_sum_to_zero_and_are_orthogonal_to_x(model, sim, fits) -> None:
    # GLS normal equations: X' V^-1 (y - X b) = 0, and the conditional residuals are
    # sigma^2 V^-1 (y - X b), so they are orthogonal to the fixed-effects design.
    table = checking.residual_table(fits[model], sim)
    scale = float(table["salary"].abs().sum())
    assert abs(table["residual"].sum()) < 1e-7 * scale
    assert abs((table["residual"] * table["experience"]).sum()) < 1e-7 * scale * 25


def test_residual_table_matches_group_lines(sim, fits) -> None:
    res = fits["varying_both"]
    table = checking.residual_table(res, sim)
    lines = res.group_lines.loc[table["department"].astype(object)]
    expected = lines["intercept"].to_numpy() + lines["slope"].to_numpy() * table["experience"]
    np.testing.assert_allclose(table["fitted"], expected, rtol=1e-12)
    np.testing.assert_allclose(table["residual"], table["salary"] - table["fitted"], rtol=1e-12)
    np.testing.assert_allclose(table["standardized"], table["residual"] / res.residual_sd)
    assert len(table) == res.n_obs
    pop = res.fixed_effects["estimate"]
    np.testing.assert_allclose(
        table["population"], pop["intercept"] + pop["slope"] * table["experience"]
    )


def test_residual_table_with_centred_fit_is_in_original_units(sim) -> None:
    plain = checking.residual_table(ml.fit(sim, model="varying_both"), sim)
    centred = checking.residual_table(ml.fit(sim, model="varying_both", center=True), sim)
    np.testing.assert_allclose(plain["fitted"], centred["fitted"], rtol=1e-6)


def test_residuals_by_group_finds_varying_slopes_left_in_the_residuals() -> None:
    flat = simdata.faculty_salaries(raise_sd=0, seed=11)
    fanning = simdata.faculty_salaries(raise_sd=600, seed=11)
    flat_trends = checking.residuals_by_group(ml.fit(flat), flat)["trend"]
    fan_trends = checking.residuals_by_group(ml.fit(fanning), fanning)["trend"]
    assert fan_trends.std() > 3 * flat_trends.std()
    assert fan_trends.std() > 300
    table = checking.residuals_by_group(ml.fit(fanning), fanning)
    assert list(table.columns) == ["n", "mean", "sd", "trend"]
    assert table["n"].sum() == len(fanning.data)


def test_wrong_data_is_refused(sim, fits) -> None:
    other = simdata.faculty_salaries(n_departments=3, seed=1)
    with pytest.raises(ValueError, match="fitted to"):
        checking.residual_table(fits["varying_intercepts"], other)
    with pytest.raises(ValueError, match="no column"):
        checking.residual_table(fits["varying_intercepts"], sim.data.drop(columns="salary"))
    with pytest.raises(TypeError, match="FitResult"):
        checking.residual_table("not a fit", sim)


# ------------------------------------------------------------------------------ replicates


def test_replicates_reproduce_by_seed_and_differ_between_seeds(sim, fits) -> None:
    res = fits["varying_both"]
    a = checking.simulate_replicates(res, sim, n_replicates=3, seed=7)
    b = checking.simulate_replicates(res, sim, n_replicates=3, seed=7)
    c = checking.simulate_replicates(res, sim, n_replicates=3, seed=8)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["salary"], c["salary"])
    assert len(a) == 3 * res.n_obs
    assert list(a.columns) == ["replicate", "department", "experience", "salary"]
    assert a["department"].dtype == sim.data["department"].dtype


def test_replicates_accept_a_generator(sim, fits) -> None:
    rng = np.random.default_rng(5)
    a = checking.simulate_replicates(fits["varying_intercepts"], sim, n_replicates=1, seed=rng)
    b = checking.simulate_replicates(
        fits["varying_intercepts"], sim, n_replicates=1, seed=np.random.default_rng(5)
    )
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "3"])
def test_replicates_need_a_positive_count(bad, sim, fits) -> None:
    with pytest.raises(ValueError, match="n_replicates must be a positive integer"):
        checking.simulate_replicates(fits["varying_intercepts"], sim, n_replicates=bad)


@pytest.mark.slow
def test_replicates_have_the_fitted_sds() -> None:
    """Refitting many replicates recovers the SDs they were simulated with, within a few SE."""
    sim = simdata.faculty_salaries(
        n_departments=20, faculty_per_department=20, raise_sd=500, seed=2
    )
    res = ml.fit(sim, model="varying_both")
    # Away from the boundary, where an SD estimate is roughly unbiased.
    assert res.group_sd["slope"] > 300 and res.group_sd["intercept"] > 4_000
    reps = checking.simulate_replicates(res, sim, n_replicates=150, seed=1)
    refits = [
        ml.fit(
            part.drop(columns="replicate"),
            y="salary",
            x="experience",
            group="department",
            model="varying_both",
        )
        for _, part in reps.groupby("replicate")
    ]
    residual = np.array([f.residual_sd for f in refits])
    slope = np.array([f.group_sd["slope"] for f in refits])
    base = np.array([f.group_sd["intercept"] for f in refits])
    for values, target in [
        (residual, res.residual_sd),
        (slope, res.group_sd["slope"]),
        (base, res.group_sd["intercept"]),
    ]:
        se = values.std(ddof=1) / np.sqrt(values.size)
        # REML SDs of 20 groups are biased a little; allow 8% plus 4 Monte Carlo SE.
        assert abs(values.mean() - target) < 4 * se + 0.08 * target, (values.mean(), target)
    # The noise is estimated from 400 observations: it must be close.
    assert abs(residual.mean() - res.residual_sd) < 0.03 * res.residual_sd


def test_replicated_group_effects_have_the_fitted_spread(sim, fits) -> None:
    """Without noise refits, check the simulator directly: group means vary with the fitted SD."""
    res = fits["varying_intercepts"]
    reps = checking.simulate_replicates(res, sim, n_replicates=400, seed=3)
    # Remove the fixed line, then a group's mean deviation = its effect + mean noise.
    slope = res.fixed_effects.at["slope", "estimate"]
    reps["dev"] = reps["salary"] - slope * reps["experience"]
    means = reps.groupby(["replicate", "department"], observed=True)["dev"].mean()
    n = sim.data.groupby("department", observed=True).size()
    noise_var = (res.residual_sd**2 / n).mean()
    spread = means.groupby(level="department", observed=True).var().mean()
    expected = res.group_sd["intercept"] ** 2 + noise_var
    assert abs(spread - expected) < 0.15 * expected


def test_replicate_statistics_put_the_real_value_first(sim, fits) -> None:
    stats = checking.replicate_statistics(
        fits["varying_intercepts"], sim, lambda d: d["salary"].mean(), n_replicates=4, seed=1
    )
    assert len(stats) == 5
    assert stats.iloc[0] == pytest.approx(sim.data["salary"].mean())


def test_replicate_statistics_flag_a_skewed_outcome() -> None:
    sim = simdata.faculty_salaries(raise_sd=0, noise_sd=1_000, seed=4)
    rng = simdata.as_generator(4)
    extra = 6_000 * (rng.exponential(1.0, len(sim.data)) - 1.0)
    skewed = sim.data.assign(salary=sim.data["salary"] + extra)
    res = ml.fit(skewed, y="salary", x="experience", group="department")

    def skew_around_the_lines(d: pd.DataFrame) -> float:
        return float((d["salary"] - res.predict(d["experience"], group=d["department"])).skew())

    stats = checking.replicate_statistics(
        res, skewed, skew_around_the_lines, n_replicates=100, seed=2
    )
    assert (stats.iloc[1:] >= stats.iloc[0]).mean() < 0.05
    # The same check on data that the model does describe is not flagged.
    plain = ml.fit(sim)
    fine = checking.replicate_statistics(
        plain,
        sim,
        lambda d: float(
            (d["salary"] - plain.predict(d["experience"], group=d["department"])).skew()
        ),
        n_replicates=100,
        seed=2,
    )
    assert 0.05 < (fine.iloc[1:] >= fine.iloc[0]).mean() < 0.95


# ------------------------------------------------------------------------------ line SEs


def test_group_line_se_adds_the_fixed_effects_uncertainty() -> None:
    # The lesson-5 university: the hand computation gives 1,526, 1,700 and 1,810 for
    # the departments of 40, 30 and 20 faculty (condVar 1,112, 1,277 and 1,545).
    sizes = [2, 3, 5, 8, 12, 20, 30, 40]
    sim = simdata.faculty_salaries(
        n_departments=8,
        faculty_per_department=sizes,
        base_sd=5_000,
        raise_sd=0,
        noise_sd=8_000,
        seed=21,
    )
    res = ml.fit(sim, model="varying_intercepts")
    full = checking.group_line_se(res, sim)
    by_n = dict(zip(res.group_lines["n"], full, strict=True))
    assert by_n[40] == pytest.approx(1_526, abs=1)
    assert by_n[30] == pytest.approx(1_700, abs=1)
    assert by_n[20] == pytest.approx(1_810, abs=1)
    assert (full > res.group_lines["intercept_se"]).all()


def test_group_line_se_lies_between_the_conditional_sd_and_a_new_groups_sd(sim) -> None:
    """A group's own line is known better than a new group's (tau plus the fixed effects'
    error) and worse than its deviation alone (condVar)."""
    res = ml.fit(sim, model="varying_both")
    full = checking.group_line_se(res, sim, x=10)
    tau_at = np.sqrt(
        res.group_sd["intercept"] ** 2
        + 100 * res.group_sd["slope"] ** 2
        + 20 * res.correlation * res.group_sd["intercept"] * res.group_sd["slope"]
    )
    assert (full < tau_at + 3 * res.fixed_effects.at["intercept", "std_error"]).all()
    assert (checking.group_line_se(res, sim) > res.group_lines["intercept_se"]).all()


def test_group_line_se_needs_a_multilevel_model(sim, fits) -> None:
    with pytest.raises(ValueError, match="multilevel model"):
        checking.group_line_se(fits["complete_pooling"], sim)


def _mixed_model_equations_se(res, sim, parameter: str) -> np.ndarray:
    """Each group's full error SD from the inverse of Henderson's whole coefficient matrix.

    An independent route to :func:`checking.group_estimate_se`: build X, Z and G for every
    group at once, invert [[X'X, X'Z], [Z'X, Z'Z + sigma^2 G^-1]] / sigma^2 and read the
    variance of (fixed effect + the group's deviation) off it.
    """
    data = sim.data
    groups = list(res.group_lines.index)
    xc = data["experience"].to_numpy(float) - res.center
    fixed = np.column_stack([np.ones(len(data)), xc])
    parts = list(res.group_sd.index)
    sds = res.group_sd.to_numpy(float)
    g = np.diag(sds**2)
    if len(parts) == 2:
        g[0, 1] = g[1, 0] = res.correlation * sds[0] * sds[1]
    columns = {"intercept": np.ones(len(data)), "slope": xc}
    z = np.zeros((len(data), len(groups) * len(parts)))
    for j, name in enumerate(groups):
        rows = (data["department"] == name).to_numpy()
        for k, part in enumerate(parts):
            z[rows, j * len(parts) + k] = columns[part][rows]
    sigma2 = res.residual_sd**2
    g_inv = np.kron(np.eye(len(groups)), np.linalg.inv(g))
    top = np.hstack([fixed.T @ fixed, fixed.T @ z])
    bottom = np.hstack([z.T @ fixed, z.T @ z + sigma2 * g_inv])
    covariance = sigma2 * np.linalg.inv(np.vstack([top, bottom]))
    which = {"intercept": 0, "slope": 1}[parameter]
    out = []
    for j in range(len(groups)):
        k = np.zeros(covariance.shape[0])
        k[which] = 1.0
        if parameter in parts:
            k[2 + j * len(parts) + parts.index(parameter)] = 1.0
        out.append(np.sqrt(k @ covariance @ k))
    return np.array(out)


@pytest.mark.parametrize("model", ["varying_both", "varying_slopes", "varying_intercepts"])
@pytest.mark.parametrize("parameter", ["intercept", "slope"])
def test_group_estimate_se_matches_the_whole_mixed_model_equations(sim, model, parameter) -> None:
    res = ml.fit(sim, model=model)
    full = checking.group_estimate_se(res, sim, parameter)
    np.testing.assert_allclose(full, _mixed_model_equations_se(res, sim, parameter), rtol=1e-6)
    if parameter in res.group_sd.index:
        assert (full > res.group_lines[f"{parameter}_se"]).all()


def test_group_estimate_se_keeps_the_complete_ses_of_no_pooling(sim, fits) -> None:
    separate = ml.fit(sim, model="no_pooling")
    pd.testing.assert_series_equal(
        checking.group_estimate_se(separate, sim, "slope"),
        separate.group_lines["slope_se"],
    )
    with pytest.raises(ValueError, match="'intercept' or 'slope'"):
        checking.group_estimate_se(fits["varying_both"], sim, "raise")


# ------------------------------------------------------------------------------ figures


def test_residual_plot_has_labels_title_legend_and_trend_lines(sim, fits) -> None:
    ax = checking_plots.residual_plot(fits["varying_intercepts"], sim, against="x", trend=True)
    assert ax.get_xlabel() == "Experience (years)"
    assert ax.get_ylabel() == "Residual ($)"
    assert ax.get_title()
    assert ax.get_legend() is not None
    trends = [line for line in ax.get_lines() if line.get_gid() == "trend"]
    assert len(trends) == sim.data["department"].nunique()
    ax2 = checking_plots.residual_plot(fits["varying_intercepts"], sim, ax=plt.figure().gca())
    assert ax2.get_xlabel() == "Fitted salary ($)"


def test_residual_plot_draws_on_the_given_axes(sim, fits) -> None:
    fig, (a, b) = plt.subplots(1, 2)
    assert checking_plots.residual_plot(fits["varying_both"], sim, ax=b) is b
    assert not a.collections


def test_residual_plot_rejects_bad_options(sim, fits) -> None:
    with pytest.raises(ValueError, match="against"):
        checking_plots.residual_plot(fits["varying_both"], sim, against="y")
    with pytest.raises(ValueError, match="trend"):
        checking_plots.residual_plot(fits["varying_both"], sim, trend=True)


@pytest.mark.parametrize("of", ["residuals", "intercept", "slope"])
def test_qq_plot_has_labels_and_a_reference_line(of, sim, fits) -> None:
    ax = checking_plots.qq_plot(fits["varying_both"], sim, of=of)
    assert ax.get_xlabel().startswith("Normal quantile")
    assert ax.get_ylabel() and ax.get_title()
    assert ax.get_legend() is not None
    points = ax.collections[0].get_offsets()
    expected = fits["varying_both"].n_obs if of == "residuals" else 10
    assert len(points) == expected
    assert np.all(np.diff(np.asarray(points)[:, 1]) >= 0)


def test_qq_plot_refuses_a_part_that_does_not_vary(sim, fits) -> None:
    with pytest.raises(ValueError, match="no varying slope"):
        checking_plots.qq_plot(fits["varying_intercepts"], sim, of="slope")
    with pytest.raises(ValueError, match="needs the data"):
        checking_plots.qq_plot(fits["varying_intercepts"], of="residuals")


def test_replicates_plot_shows_real_data_first(sim, fits) -> None:
    fig = checking_plots.replicates_plot(fits["varying_intercepts"], sim, n_replicates=4, seed=1)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 5
    assert visible[0].get_title() == "Real data"
    assert visible[1].get_title() == "Replicate 1"
    assert fig.get_suptitle()
    assert fig.legends
    assert any(ax.get_xlabel() == "Experience (years)" for ax in visible)
    assert any(ax.get_ylabel() == "Salary ($)" for ax in visible)


def test_replicate_statistic_plot_marks_the_real_value(sim, fits) -> None:
    stats = checking.replicate_statistics(
        fits["varying_intercepts"], sim, lambda d: d["salary"].std(), n_replicates=20, seed=1
    )
    ax = checking_plots.replicate_statistic_plot(stats, label="SD of salary ($)")
    real = [line for line in ax.get_lines() if line.get_gid() == "real"]
    assert len(real) == 1 and real[0].get_xdata()[0] == pytest.approx(stats.iloc[0])
    assert ax.get_xlabel() == "SD of salary ($)"
    assert ax.get_legend() is not None and ax.get_title()
    with pytest.raises(ValueError, match="statistics"):
        checking_plots.replicate_statistic_plot(stats.iloc[:1], label="x")


def test_least_squares_slopes_match_polyfit(sim) -> None:
    slopes = checking.least_squares_slopes(sim, y="salary", x="experience", group="department")
    for g, part in sim.data.groupby("department", observed=True):
        expected = np.polyfit(part["experience"], part["salary"], 1)[0]
        assert slopes[g] == pytest.approx(expected, rel=1e-9)
    flat = sim.data.assign(experience=5)
    assert (
        checking.least_squares_slopes(flat, y="salary", x="experience", group="department")
        .isna()
        .all()
    )
    with pytest.raises(ValueError, match="x='years'"):
        checking.least_squares_slopes(sim, y="salary", x="years", group="department")


def test_extra_keywords_reach_the_drawn_points_and_bars(fits, sim):
    """Like every plots function, the checking figures pass unknown keywords to matplotlib."""
    ax = checking_plots.residual_plot(fits["varying_both"], sim, alpha=0.25)
    assert {c.get_alpha() for c in ax.collections if c.get_gid() == "residuals"} == {0.25}
    ax = checking_plots.qq_plot(fits["varying_both"], sim, alpha=0.5)
    (points,) = [c for c in ax.collections if c.get_gid() == "quantiles"]
    assert points.get_alpha() == 0.5
    fig = checking_plots.replicates_plot(fits["varying_both"], sim, n_replicates=2, seed=1, s=3)
    assert all(c.get_sizes()[0] == 3 for ax in fig.axes for c in ax.collections)
    stats = checking.replicate_statistics(
        fits["varying_both"], sim, lambda d: d["salary"].std(), n_replicates=10, seed=1
    )
    ax = checking_plots.replicate_statistic_plot(stats, label="SD of salary ($)", alpha=0.4)
    assert {p.get_alpha() for p in ax.patches} == {0.4}
    plt.close("all")
