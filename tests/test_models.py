"""multilevel.fit: the public API, refusals with clear messages, notes, prediction, LRT."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.stats
import statsmodels.formula.api as smf

import multilevel as ml
from simdata import faculty_salaries

FE_COLUMNS = ["estimate", "std_error", "ci_lower", "ci_upper"]
LINE_COLUMNS = ["n", "intercept", "slope", "intercept_se", "slope_se"]


@pytest.fixture(scope="module")
def sim():
    return faculty_salaries(n_departments=8, faculty_per_department=(15, 25), seed=2024)


@pytest.mark.parametrize("model", ml.MODELS)
def test_every_model_returns_the_documented_result(sim, model: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = ml.fit(sim, model=model)
    assert dataclasses.is_dataclass(res)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.model = "x"  # type: ignore[misc]
    assert (res.y, res.x, res.group) == ("salary", "experience", "department")
    assert res.n_obs == len(sim.data) and res.n_groups == 8
    assert res.fixed_effects.columns.tolist() == FE_COLUMNS
    assert res.fixed_effects.index.tolist() == ["intercept", "slope"]
    fe = res.fixed_effects
    assert (fe["ci_lower"] < fe["estimate"]).all() and (fe["estimate"] < fe["ci_upper"]).all()
    assert res.group_lines.columns.tolist() == LINE_COLUMNS
    assert res.group_lines.index.name == "department"
    assert res.group_lines["n"].sum() == res.n_obs
    assert res.random_effects.index.equals(res.group_lines.index)
    assert np.isfinite([res.loglik, res.aic, res.bic, res.residual_sd]).all()
    assert res.converged and not res.boundary
    # The truth is 1,500 $/year and 60,000 $ base: estimates land in a generous range.
    assert 1_000 < fe.at["slope", "estimate"] < 2_000
    assert isinstance(res.summary(), str) and "salary" in res.summary()


def test_group_lines_recover_truth(sim) -> None:
    res = ml.fit(sim, model="varying_both")
    truth = sim.truth.loc[res.group_lines.index]
    err = res.group_lines["intercept"] - truth["intercept"]
    # Within ~3 conditional SDs of the truth for every department.
    assert (err.abs() < 4 * res.group_lines["intercept_se"] + 1_000).all()
    assert np.corrcoef(res.group_lines["intercept"], truth["intercept"])[0, 1] > 0.8


def test_no_pooling_matches_separate_least_squares(sim) -> None:
    res = ml.fit(sim, model="no_pooling")
    for dept, d in sim.data.groupby("department", observed=True):
        ols = smf.ols("salary ~ experience", d).fit()
        assert res.group_lines.at[dept, "intercept"] == pytest.approx(ols.params.iloc[0])
        assert res.group_lines.at[dept, "slope"] == pytest.approx(ols.params.iloc[1])
    for varying in ("intercepts", "slopes"):
        r = ml.fit(sim, model="no_pooling", varying=varying)
        sm = r.statsmodels
        assert r.residual_sd == pytest.approx(np.sqrt(sm.scale), rel=1e-9)
        assert np.allclose(
            r.predict(sim.data["experience"], sim.data["department"]), sm.fittedvalues
        )


def test_varying_intercepts_statsmodels_object_agrees(sim) -> None:
    res = ml.fit(sim, model="varying_intercepts")
    sm = res.statsmodels
    assert res.statsmodels is sm  # computed once
    assert sm.llf == pytest.approx(res.loglik, rel=1e-7)
    assert "Mixed Linear Model" in str(sm.summary())


def test_icc_and_correlation_only_where_defined(sim) -> None:
    assert 0 < ml.fit(sim, model="varying_intercepts").icc < 1
    assert ml.fit(sim, model="varying_both").icc is None
    assert ml.fit(sim, model="varying_both_uncorrelated").correlation is None
    assert -1 <= ml.fit(sim, model="varying_both").correlation <= 1


def test_center_reports_intercept_at_the_mean(sim) -> None:
    plain = ml.fit(sim, model="varying_both")
    centred = ml.fit(sim, model="varying_both", center=True)
    mean = sim.data["experience"].mean()
    assert centred.center == pytest.approx(mean)
    assert plain.center == 0.0
    # Same model, reparametrised: same likelihood and predictions, intercept moved to the mean.
    assert centred.loglik == pytest.approx(plain.loglik, rel=1e-8)
    a, b = plain.fixed_effects["estimate"]
    assert centred.fixed_effects.at["intercept", "estimate"] == pytest.approx(a + b * mean)
    x = np.array([0.0, 10.0, 25.0])
    assert np.allclose(centred.predict(x, "Biology"), plain.predict(x, "Biology"), rtol=1e-6)


def test_predict_existing_and_new_group(sim) -> None:
    res = ml.fit(sim, model="varying_both")
    line = res.group_lines.iloc[0]
    name = res.group_lines.index[0]
    assert res.predict(10, name)[0] == pytest.approx(line["intercept"] + 10 * line["slope"])
    a, b = res.fixed_effects["estimate"]
    assert np.allclose(res.predict([0, 10], ["no such dept", None]), [a, a + 10 * b])
    assert np.allclose(res.predict([0, 10]), [a, a + 10 * b])


def test_reml_false_is_maximum_likelihood(sim) -> None:
    reml = ml.fit(sim, model="varying_intercepts")
    mle = ml.fit(sim, model="varying_intercepts", reml=False)
    assert not mle.reml
    assert mle.group_sd["intercept"] < reml.group_sd["intercept"]  # ML shrinks the SD


def test_warm_start_same_answer(sim) -> None:
    first = ml.fit(sim, model="varying_both")
    again = ml.fit(sim, model="varying_both", start=first)
    assert again.loglik == pytest.approx(first.loglik, rel=1e-10)


def test_likelihood_ratio_test_boundary_correction(sim) -> None:
    small = ml.fit(sim, model="varying_intercepts")
    large = ml.fit(sim, model="varying_both")
    lrt = ml.likelihood_ratio_test(small, large)
    ml_small = ml.fit(sim, model="varying_intercepts", reml=False)
    ml_large = ml.fit(sim, model="varying_both", reml=False)
    assert lrt.statistic == pytest.approx(2 * (ml_large.loglik - ml_small.loglik), rel=1e-6)
    assert lrt.df == 2
    assert lrt.p_value == pytest.approx(scipy.stats.chi2.sf(lrt.statistic, 2))
    expected = 0.5 * scipy.stats.chi2.sf(lrt.statistic, 1) + 0.5 * lrt.p_value
    assert lrt.p_value_boundary == pytest.approx(expected)
    assert lrt.p_value_boundary < lrt.p_value
    assert "boundary" in lrt.note
    pooled = ml.fit(sim, model="complete_pooling", reml=False)
    lrt0 = ml.likelihood_ratio_test(pooled, ml_small)
    assert lrt0.df == 1 and lrt0.p_value_boundary == pytest.approx(lrt0.p_value / 2)
    with pytest.raises(ml.ModelError, match="not nested"):
        ml.likelihood_ratio_test(large, small)


def test_boundary_is_flagged_in_plain_english() -> None:
    sim = faculty_salaries(n_departments=10, faculty_per_department=20, raise_sd=0, seed=7)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = ml.fit(sim, model="varying_both_uncorrelated")
        _ = res.statsmodels  # no statsmodels warning escapes either
    if res.group_sd["slope"] < 1e-3 * res.residual_sd:
        assert res.boundary
        assert any("Boundary fit" in n and "slope" in n for n in res.notes)
    flat = faculty_salaries(n_departments=10, faculty_per_department=20, base_sd=0, seed=8)
    res2 = ml.fit(flat, model="varying_intercepts")
    assert res2.boundary == (res2.group_sd["intercept"] < 1e-3 * res2.residual_sd)


def test_missing_values_are_dropped_with_a_note(sim) -> None:
    data = sim.data.copy()
    data.loc[[0, 5, 9], "salary"] = np.nan
    res = ml.fit(data, y="salary", x="experience", group="department")
    assert res.n_obs == len(data) - 3
    assert any("3 of" in n and "left out" in n for n in res.notes)
    data["salary"] = np.nan
    with pytest.raises(ml.ModelError, match="nothing to fit"):
        ml.fit(data, y="salary", x="experience", group="department")


def _frame(n_groups=5, n_each=6, seed=0, noise=1.0):
    rng = np.random.default_rng(seed)
    g = np.repeat([f"g{i}" for i in range(n_groups)], n_each)
    x = rng.uniform(0, 10, g.size)
    y = 2 + 0.5 * x + rng.normal(0, 1, n_groups).repeat(n_each) + noise * rng.normal(size=g.size)
    return pd.DataFrame({"g": g, "x": x, "y": y})


@pytest.mark.parametrize(
    ("change", "kwargs", "match"),
    [
        (None, {"y": "nope"}, "y='nope' is not a column"),
        (None, {"model": "random"}, "model must be one of"),
        (None, {"varying": "all"}, "varying must be one of"),
        (lambda d: d.assign(g="one"), {}, "only one group"),
        (lambda d: d.assign(x=3.0), {}, "same value"),
        (lambda d: d.assign(y=d["x"] * 2 + 1), {}, "no noise"),
        (lambda d: d.assign(g=[f"s{i}" for i in range(len(d))]), {}, "one observation per"),
        (
            lambda d: d.assign(x=d["g"].str[1:].astype(float)),
            {"model": "varying_both"},
            "never varies",
        ),
        (lambda d: d.assign(x=d["g"]), {}, "numeric column"),
        (None, {"x": "y"}, "three different columns"),
        (None, {"center": "mean"}, "center must be"),
    ],
)
def test_refusals_say_why(change, kwargs, match: str) -> None:
    data = _frame()
    if change is not None:
        data = change(data)
    args = {"y": "y", "x": "x", "group": "g", **kwargs}
    with pytest.raises(ml.ModelError, match=match):
        ml.fit(data, **args)
    assert issubclass(ml.ModelError, ValueError)


def test_zero_noise_within_groups_refused() -> None:
    data = _frame(noise=0.0)
    with pytest.raises(ml.ModelError, match="no noise"):
        ml.fit(data, y="y", x="x", group="g", model="varying_intercepts")


# ------------------------------------------------------------------ no predictor (x=None)


def test_no_predictor_varying_intercepts_matches_statsmodels(sim) -> None:
    res = ml.fit(sim.data, y="salary", x=None, group="department", model="varying_intercepts")
    assert res.x is None
    assert res.fixed_effects.index.tolist() == ["intercept"]
    assert res.fixed_effects.columns.tolist() == FE_COLUMNS
    assert res.group_sd.index.tolist() == ["intercept"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sm = smf.mixedlm("salary ~ 1", sim.data, groups="department").fit(
            reml=True, method=["bfgs"], gtol=1e-10
        )
    assert res.fixed_effects.at["intercept", "estimate"] == pytest.approx(
        sm.fe_params["Intercept"], rel=1e-6
    )
    assert res.group_sd["intercept"] == pytest.approx(np.sqrt(sm.cov_re.iloc[0, 0]), rel=1e-4)
    assert res.residual_sd == pytest.approx(np.sqrt(sm.scale), rel=1e-4)
    assert res.loglik == pytest.approx(sm.llf, rel=1e-8)
    assert res.statsmodels.llf == pytest.approx(res.loglik, rel=1e-7)
    # Flat group lines: each department's level is the mean plus its BLUP.
    lines = res.group_lines
    assert lines.columns.tolist() == LINE_COLUMNS
    assert (lines["slope"] == 0).all() and lines["slope_se"].isna().all()
    for dept, blup in sm.random_effects.items():
        expected = sm.fe_params["Intercept"] + blup.iloc[0]
        assert lines.at[dept, "intercept"] == pytest.approx(expected, rel=1e-5)
    # predict ignores x (there is no predictor) and uses the group's level or the mean.
    name = lines.index[0]
    assert np.allclose(res.predict([0, 5, 99], name), lines.at[name, "intercept"])
    assert np.allclose(res.predict(None, [name, "new dept"]), [lines.at[name, "intercept"],
                       res.fixed_effects.at["intercept", "estimate"]])  # fmt: skip
    assert 0 < res.icc < 1
    assert "without predictor" in res.summary()


def test_no_predictor_pooling_models_are_means(sim) -> None:
    data = sim.data
    y = data["salary"].to_numpy(float)
    cp = ml.fit(data, y="salary", x=None, group="department", model="complete_pooling")
    assert cp.fixed_effects.index.tolist() == ["intercept"]
    assert cp.fixed_effects.at["intercept", "estimate"] == pytest.approx(y.mean())
    # REML residual SD of an intercept-only model is the sample SD; the SE is SD / sqrt(n).
    assert cp.residual_sd == pytest.approx(y.std(ddof=1))
    assert cp.fixed_effects.at["intercept", "std_error"] == pytest.approx(
        y.std(ddof=1) / np.sqrt(y.size)
    )
    npool = ml.fit(data, y="salary", x=None, group="department", model="no_pooling")
    means = data.groupby("department", observed=True)["salary"].mean()
    assert np.allclose(npool.group_lines.loc[means.index, "intercept"], means)
    assert npool.varying == "intercepts"
    assert np.allclose(npool.statsmodels.fittedvalues, means.loc[data["department"]].to_numpy())
    ols = smf.ols("salary ~ 0 + C(department)", data).fit()
    assert npool.residual_sd == pytest.approx(np.sqrt(ols.scale))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"model": "varying_slopes"}, "needs a predictor"),
        ({"model": "varying_both"}, "needs a predictor"),
        ({"model": "varying_both_uncorrelated"}, "needs a predictor"),
        ({"model": "no_pooling", "varying": "slopes"}, "needs a predictor"),
        ({"model": "varying_intercepts", "center": True}, "center needs a predictor"),
    ],
)
def test_no_predictor_refuses_slope_models(sim, kwargs, match) -> None:
    with pytest.raises(ml.ModelError, match=match):
        ml.fit(sim.data, y="salary", x=None, group="department", **kwargs)


def test_no_predictor_likelihood_ratio_test(sim) -> None:
    kwargs = {"y": "salary", "x": None, "group": "department", "reml": False}
    pooled = ml.fit(sim.data, model="complete_pooling", **kwargs)
    varying = ml.fit(sim.data, model="varying_intercepts", **kwargs)
    lrt = ml.likelihood_ratio_test(pooled, varying)
    assert lrt.df == 1
    assert lrt.statistic == pytest.approx(2 * (varying.loglik - pooled.loglik))


# ------------------------------------------------------------------ result.statsmodels


@pytest.mark.parametrize("model", ml.MODELS)
def test_statsmodels_object_agrees_with_the_engine(sim, model: str) -> None:
    """``result.statsmodels`` is the same model fitted by statsmodels: its numbers agree at 1e-4."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = ml.fit(sim, model=model)
        sm = res.statsmodels
    fe = res.fixed_effects["estimate"]
    if model == "complete_pooling":
        np.testing.assert_allclose(sm.params.to_numpy(), fe.to_numpy(), rtol=1e-10)
        # REML residual variance of a linear model is the OLS scale, RSS / (n - 2).
        assert res.residual_sd == pytest.approx(np.sqrt(sm.scale), rel=1e-10)
        return
    if model == "no_pooling":
        params = sm.params
        for dept, line in res.group_lines.iterrows():
            assert line["intercept"] == pytest.approx(params[f"C(department)[{dept}]"], rel=1e-8)
            assert line["slope"] == pytest.approx(
                params[f"C(department)[{dept}]:experience"], rel=1e-8
            )
        assert res.residual_sd == pytest.approx(np.sqrt(sm.scale), rel=1e-10)
        return
    assert "Mixed Linear Model" in str(sm.summary())
    np.testing.assert_allclose(sm.fe_params.to_numpy(), fe.to_numpy(), rtol=1e-4)
    assert np.sqrt(sm.scale) == pytest.approx(res.residual_sd, rel=1e-4)
    assert sm.llf == pytest.approx(res.loglik, rel=1e-6)
    if model == "varying_both_uncorrelated":
        variances = [float(sm.cov_re.iloc[0, 0]), float(sm.vcomp[0])]
    else:
        variances = np.diag(np.asarray(sm.cov_re, dtype=float))
    # Group SDs: 1e-4 relative, with a floor of 1e-4 of the natural scale for an SD near 0.
    floor = {"intercept": 1e-4 * res.residual_sd,
             "slope": 1e-4 * res.residual_sd / sim.data["experience"].std()}  # fmt: skip
    for part, variance in zip(res.group_sd.index, variances, strict=True):
        assert np.sqrt(variance) == pytest.approx(res.group_sd[part], rel=1e-4, abs=floor[part]), (
            part
        )
    if model == "varying_both":
        cov = np.asarray(sm.cov_re, dtype=float)
        corr = cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1])
        assert corr == pytest.approx(res.correlation, abs=1e-4)


# ------------------------------------------------------------------ the table of the models


def test_every_model_is_in_the_one_table() -> None:
    assert ml.MODELS == tuple(ml.specs.MODELS)
    for name, spec in ml.specs.MODELS.items():
        assert spec.name == name
        assert spec.lme4_formula("y", "x", "g").startswith("y ~ x")
        if spec.mixed:
            # the matching no-pooling fit estimates the same parts separately
            assert ml.specs.parts_of_varying(spec.no_pooling_varying) == spec.varying_parts
            assert spec.re_formula is not None
    assert [ml.specs.model_for_kind(k) for k in ml.specs.KINDS] == [
        "varying_intercepts",
        "varying_slopes",
        "varying_both",
    ]
    assert ml.specs.model_varying_only("slope") == "varying_slopes"
    with pytest.raises(ValueError, match="kind must be one of"):
        ml.specs.model_for_kind("everything")


def test_summary_titles_and_money_come_from_specs_and_units(sim) -> None:
    res = ml.fit(sim, model="no_pooling", varying="slopes")
    assert res.summary().startswith("No pooling (separate slopes per department): salary on")
    assert "$" in res.summary() and "$" not in res.summary(y_unit="")
    radon = pd.DataFrame(
        {"log_radon": np.sin(np.arange(40.0)) + np.arange(40) % 4, "county": np.arange(40) % 4}
    )
    assert "$" not in ml.fit(radon, y="log_radon", group="county").summary()


# ------------------------------------------------------------------ units and amounts


@pytest.mark.parametrize(
    ("value", "kwargs", "expected"),
    [
        (61_234.5, {}, "$61,234"),
        (-12.345, {}, "-$12.35"),
        (0.012345, {"prefix": ""}, "0.0123"),
        (-1_500.4, {"style": "fixed"}, "-$1,500"),
        (-0.4, {"style": "fixed"}, "$0"),  # no "-$0"
        (60_000, {"style": "short"}, "$60k"),
        (1_250_000, {"style": "short"}, "$1.2M"),
        (60_000.5, {"style": "tick"}, "$60,000.50"),
        (
            1_234.5,
            {"style": "significant", "digits": 4, "prefix": "", "suffix": " days"},
            "1,234 days",
        ),
        (float("nan"), {"missing": "\u2014"}, "\u2014"),
        (None, {"missing": "n/a"}, "n/a"),
    ],
)
def test_amounts_are_written_one_way(value, kwargs, expected) -> None:
    assert ml.units.format_amount(value, **kwargs) == expected


def test_units_know_the_course_columns() -> None:
    units = ml.units
    assert units.unit_of("Log.Radon") == "log pCi/L" and units.unit_of(None) is None
    assert units.axis_label("gpa") == "GPA (grade points)"
    assert units.slope_unit("salary", "experience") == "$ per year of experience"
    assert units.money_prefix("income") == "$" and units.money_prefix("days") == ""
    # style keeps the same names for figures
    assert ml.style.axis_label is units.axis_label


# ------------------------------------------------------------------ no pooling, safely


@pytest.mark.parametrize("varying", ["intercepts", "slopes", "both"])
def test_no_pooling_estimates_never_raise_on_thin_data(varying: str) -> None:
    from multilevel.models.least_squares import no_pooling_estimates

    x, y = np.arange(4.0), np.array([1.0, 3.0, 2.0, 5.0])
    one_each = no_pooling_estimates(x, y, np.arange(4), 4, varying)
    # one observation per group: no separate line, and no common slope next to separate
    # intercepts (slopes through a common intercept are still defined where x != 0)
    assert np.isnan(one_each.slope).all() if varying != "slopes" else np.isnan(one_each.slope[0])
    # an empty group is NaN; the others are estimated as without it
    codes = np.array([0, 0, 2, 2])
    with_empty = no_pooling_estimates(x, y, codes, 3, varying)
    without = no_pooling_estimates(x, y, np.array([0, 0, 1, 1]), 2, varying)
    assert np.isnan(with_empty.intercept[1]) and np.isnan(with_empty.slope[1])
    np.testing.assert_allclose(with_empty.intercept[[0, 2]], without.intercept)
    np.testing.assert_allclose(with_empty.slope[[0, 2]], without.slope)


def test_no_pooling_with_one_observation_per_group_is_refused_in_words() -> None:
    sim = faculty_salaries(n_departments=6, faculty_per_department=1, seed=1)
    with pytest.raises(ml.ModelError, match="never varies within a department"):
        ml.fit(sim, model="no_pooling", varying="intercepts")


def test_a_group_level_predictor_fits_with_varying_intercepts() -> None:
    # x constant within each group (like a county's uranium level): the slope comes from the
    # differences between groups, and the zero-noise check must not divide by the (zero)
    # variation of x within groups.
    groups = np.repeat(np.arange(6), 5)
    data = pd.DataFrame({"g": groups, "x": 2.0 * groups, "y": np.sin(np.arange(30.0)) + groups})
    res = ml.fit(data, y="y", x="x", group="g", model="varying_intercepts")
    assert np.isfinite(res.fixed_effects["estimate"]).all()
    with pytest.raises(ml.ModelError, match="never varies within a g"):
        ml.fit(data, y="y", x="x", group="g", model="no_pooling", varying="intercepts")


def test_boundary_rule_is_public_and_used_by_fit() -> None:
    from multilevel.models import engine

    # No spread between departments: seed 0 lands on the boundary, seed 3 just inside it.
    for seed, at_boundary in ((0, True), (3, False)):
        sim = faculty_salaries(base_sd=0, raise_sd=0, seed=seed)
        res = ml.fit(sim, model="varying_intercepts")
        assert res.boundary is at_boundary
        assert engine.boundary_parts(res.arrays.engine_fit) == (
            ("intercept",) if at_boundary else ()
        )


def test_predict_warns_when_an_unknown_group_looks_like_a_typo():
    sim = faculty_salaries(seed=1)
    res = ml.fit(sim, model="varying_intercepts")
    population = res.predict([12])
    with pytest.warns(UserWarning, match="'chemistry' is not a department.*'Chemistry'"):
        typo = res.predict([12], group="chemistry")
    assert typo == pytest.approx(population)
    assert res.predict([12], group="Chemistry") != pytest.approx(population)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a really new department is no mistake
        assert res.predict([12], group="Astronomy") == pytest.approx(population)


def test_summary_gives_the_slope_per_year_of_experience():
    text = ml.fit(faculty_salaries(seed=1), model="varying_both").summary()
    assert "per year of experience" in text and "per unit of" not in text
