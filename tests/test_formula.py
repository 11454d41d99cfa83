"""Formula parsing, design matrices, clear errors, and the bad inputs found on the old ml.fit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from multilevel.datasets import radon
from multilevel.models import ModelError
from multilevel.models.formula import build_design, parse_formula
from multilevel.models.lmm import fit_formula
from simdata import as_generator, faculty_salaries


@pytest.fixture(scope="module")
def salaries() -> pd.DataFrame:
    data = faculty_salaries(n_departments=12, faculty_per_department=(10, 25), seed=5).data.copy()
    rng = as_generator(6)
    data["rank"] = rng.choice(["assistant", "associate", "full"], size=len(data))
    data["size"] = rng.integers(10, 60, size=12).astype(float)[data["department"].cat.codes]
    data["salary"] = data["salary"] + 50.0 * data["size"]
    return data


def test_parse_splits_fixed_and_random_parts():
    parsed = parse_formula("y ~ x1*x2 + C(c) + (1 + x1 | g)")
    assert (parsed.response, parsed.fixed, parsed.group) == ("y", "x1*x2 + C(c)", "g")
    assert [(t.expression, t.correlated) for t in parsed.random] == [("1 + x1", True)]
    parsed = parse_formula("y ~ (1 | g) + x + (0 + x | g)")
    assert parsed.fixed == "x"
    assert [t.expression for t in parsed.random] == ["1", "0 + x"]
    assert parse_formula("y ~ x + (1 + x || g)").random[0].correlated is False


def test_design_names_terms_as_formulaic_does(salaries):
    design = build_design(
        parse_formula("salary ~ experience * rank + size + (1 + experience || department)"),
        salaries,
    )
    assert design.fixed_names == (
        "Intercept", "experience", "rank[T.associate]", "rank[T.full]", "size",
        "experience:rank[T.associate]", "experience:rank[T.full]",
    )  # fmt: skip
    assert design.random_names == ("Intercept", "experience")
    assert design.blocks == ((0,), (1,))
    assert design.X.shape == (len(salaries), 7)


@pytest.mark.parametrize(
    ("formula", "words"),
    [
        ("salary ~ experince + (1 | department)", "experince"),
        ("salary ~ experience + (1 | department) + (1 | rank)", "vc_formula"),
        ("salary ~ experience + (experience | department:rank)", "vc_formula"),
        ("salary ~ experience + (experience | department/rank)", "lmer"),
        ("salary ~ experience + (1 + (1 | rank) | department)", "nested"),
        ("experience + (1 | department)", "response"),
        ("salary ~ salary + experience + (1 | department)", "response"),
        ("salary ~ experience + (0 + salary | department)", "response"),
        ("salary ~ experience | department", "parentheses"),
        ("salary ~ experience", "no random term"),
        ("salary ~ experience + (1 | department) + (1 | department)", "more than one"),
    ],
)
def test_bad_formulas_get_a_clear_model_error(salaries, formula, words):
    with pytest.raises(ModelError, match=words):
        fit_formula(formula, salaries)


def test_model_error_says_what_is_supported(salaries):
    with pytest.raises(ModelError, match=r"\(1 \+ x \|\| g\)"):
        fit_formula("salary ~ experience + (1 + (1 | rank) | department)", salaries)


def test_group_constant_predictor_fits(salaries):
    """A department-level predictor: the old ml.fit raised ZeroDivisionError here."""
    res = fit_formula("salary ~ experience + size + (1 | department)", salaries)
    assert np.isfinite(res.fixed_effects.loc["size", "std_error"])
    assert res.group_sd["Intercept"] > 0


def test_gelman_hill_uranium_model():
    """Gelman & Hill 12.6: county-level log uranium explains most of the county variation."""
    homes = radon()
    without = fit_formula("log_radon ~ floor + (1 | county)", homes)
    with_u = fit_formula("log_radon ~ floor + log_uranium + (1 | county)", homes)
    assert with_u.fixed_effects.loc["log_uranium", "estimate"] == pytest.approx(0.72, abs=0.01)
    assert with_u.group_sd["Intercept"] == pytest.approx(0.16, abs=0.01)
    assert without.group_sd["Intercept"] == pytest.approx(0.33, abs=0.01)


@pytest.mark.parametrize("formula", [
    "salary ~ t + (1 | department)",
    "salary ~ t + (1 + t | department)",
    "salary ~ t + (0 + t | department)",
])  # fmt: skip
def test_predictor_shifted_by_1e8_gives_the_same_fit(salaries, formula):
    """Timestamps: x + 1e8 changes only the intercept (the old ml.fit refused such x)."""
    base = fit_formula(formula, salaries.assign(t=salaries["experience"].astype(float)))
    shifted = fit_formula(formula, salaries.assign(t=salaries["experience"] + 1e8))
    if "0 + t" in formula:
        # (0 + t | g) is a different model once t moves: only check it fits and is finite.
        assert np.isfinite(shifted.loglik) and shifted.group_sd["t"] >= 0
        return
    assert shifted.fixed_effects.loc["t", "estimate"] == pytest.approx(
        base.fixed_effects.loc["t", "estimate"], rel=1e-6
    )
    assert shifted.residual_sd == pytest.approx(base.residual_sd, rel=1e-6)
    if "t" in base.group_sd:
        assert shifted.group_sd["t"] == pytest.approx(base.group_sd["t"], rel=1e-5)
    # Moving t moves the intercept (and its SD) but not the model: the same likelihood.
    assert shifted.loglik == pytest.approx(base.loglik, rel=1e-9)


def test_duplicate_column_names_are_a_model_error(salaries):
    doubled = pd.concat([salaries, salaries[["experience"]]], axis=1)
    with pytest.raises(ModelError, match="more than one column named"):
        fit_formula("salary ~ experience + (1 | department)", doubled)


def test_complex_response_is_a_model_error(salaries):
    data = salaries.assign(salary=salaries["salary"] + 1j)
    with pytest.raises(ModelError, match="complex"):
        fit_formula("salary ~ experience + (1 | department)", data)


def test_tiny_response_scale_gives_the_scaled_fit(salaries):
    """y * 1e-300: every estimate scales with y (the old ml.fit said 'no noise')."""
    formula = "salary ~ experience + (1 + experience | department)"
    base = fit_formula(formula, salaries)
    tiny = fit_formula(formula, salaries.assign(salary=salaries["salary"] * 1e-300))
    assert tiny.residual_sd / 1e-300 == pytest.approx(base.residual_sd, rel=1e-8)
    assert (tiny.group_sd / 1e-300).to_numpy() == pytest.approx(base.group_sd.to_numpy(), rel=1e-6)
    assert tiny.correlation == pytest.approx(base.correlation, abs=1e-6)
    assert (tiny.fixed_effects["std_error"] / 1e-300).to_numpy() == pytest.approx(
        base.fixed_effects["std_error"].to_numpy(), rel=1e-6
    )
    assert (tiny.group_lines["experience_se"] / 1e-300).to_numpy() == pytest.approx(
        base.group_lines["experience_se"].to_numpy(), rel=1e-6
    )


def test_missing_values_are_dropped_with_a_note(salaries):
    data = salaries.copy()
    data.loc[data.index[:3], "experience"] = np.nan
    res = fit_formula("salary ~ experience + (1 | department)", data)
    assert res.n_obs == len(data) - 3
    assert any("3 rows" in note for note in res.notes)


def test_predict_uses_group_deviations_for_known_groups_only(salaries):
    res = fit_formula("salary ~ experience + rank + (1 + experience | department)", salaries)
    rows = salaries.head(4)
    population = res.predict(rows, random=False)
    known = res.predict(rows)
    line = res.group_lines.loc[rows["department"]]
    expected = population + res.random_effects.loc[rows["department"], "Intercept"].to_numpy()
    expected += (
        res.random_effects.loc[rows["department"], "experience"].to_numpy()
        * rows["experience"].to_numpy()
    )
    assert known == pytest.approx(expected)
    assert line["experience"].to_numpy() == pytest.approx(
        res.fixed_effects.loc["experience", "estimate"]
        + res.random_effects.loc[rows["department"], "experience"].to_numpy()
    )
    new = res.predict(rows.assign(department="Nowhere"))
    assert new == pytest.approx(population)
    with pytest.raises(ModelError, match="new data"):
        res.predict(rows.assign(rank="emeritus"))


def test_summary_is_plain_text(salaries):
    res = fit_formula("salary ~ experience + (1 + experience | department)", salaries)
    text = res.summary()
    assert "REML" in text and "Correlation" in text and "experience" in text


def test_logistic_model_refuses_what_it_cannot_fit():
    from multilevel.models.glmm import fit_glmm
    from simdata import school_admissions

    data = school_admissions(seed=3).data
    with pytest.raises(ModelError, match="random intercept only"):
        fit_glmm("admitted ~ gpa + (1 + gpa | school)", data)
    with pytest.raises(ModelError, match="0/1"):
        fit_glmm("gpa ~ volunteer + (1 | school)", data)
    with pytest.raises(ModelError, match="nAGQ"):
        fit_glmm("admitted ~ gpa + (1 | school)", data, nAGQ=0)
    res = fit_glmm("admitted ~ gpa + volunteer + (1 | school)", data)
    probabilities = res.predict(data.head(5))
    assert np.all((probabilities > 0) & (probabilities < 1))
    assert "Logistic" in res.summary()


@pytest.mark.parametrize(
    "model",
    ["varying_intercepts", "varying_slopes", "varying_both", "varying_both_uncorrelated"],
)
def test_keyword_form_gives_the_same_fit_as_ml_fit(salaries, model):
    """The lessons' keyword call, as a formula, reproduces today's ml.fit (which matches lme4)."""
    import multilevel as ml
    from multilevel.models.formula import keyword_formula

    formula = keyword_formula("salary", "experience", "department", model)
    ours = fit_formula(formula, salaries)
    old = ml.fit(salaries, y="salary", x="experience", group="department", model=model)
    assert ours.loglik == pytest.approx(old.loglik, rel=1e-9)
    assert ours.fixed_effects["estimate"].to_numpy() == pytest.approx(
        old.fixed_effects["estimate"].to_numpy(), rel=1e-7
    )
    assert ours.residual_sd == pytest.approx(old.residual_sd, rel=1e-7)


@pytest.mark.parametrize("group_effects", [True, False])
def test_outcome_without_noise_is_a_model_error(group_effects):
    g = np.repeat(np.arange(6), 10)
    x = np.tile(np.arange(10.0), 6)
    y = 3 + 2 * x + (np.arange(6.0)[g] if group_effects else 0.0)
    with pytest.raises(ModelError, match="no noise"):
        fit_formula("y ~ x + (1 | g)", pd.DataFrame({"y": y, "x": x, "g": g}))


def test_logistic_wald_intervals():
    from multilevel.models.glmm import fit_glmm
    from simdata import school_admissions

    res = fit_glmm("admitted ~ gpa + (1 | school)", school_admissions(seed=4).data)
    ci = res.confint("wald")
    assert list(ci.index) == ["sd_Intercept|school", "Intercept", "gpa"]
    fe = res.fixed_effects
    assert ci.loc["gpa", "lower"] == pytest.approx(fe.loc["gpa", "ci_lower"])
    with pytest.raises(ModelError, match="wald"):
        res.confint("bootstrap")


def test_boundary_notes_say_which_part_is_at_its_edge():
    tiny = faculty_salaries(
        n_departments=10, faculty_per_department=15, base_sd=50, raise_sd=20, seed=303
    ).data
    res = fit_formula("salary ~ experience + (1 | department)", tiny)
    assert res.boundary and "SD between groups of Intercept is" in res.notes[0]
    small = faculty_salaries(
        n_departments=10, faculty_per_department=15, base_sd=1500, raise_sd=80, seed=506
    ).data
    res = fit_formula("salary ~ experience + (1 + experience | department)", small)
    assert res.boundary and "perfectly correlated" in res.notes[0]
    assert abs(res.correlation) == 1.0


def test_fit_formula_dispatches_the_binomial_family():
    from multilevel.models.glmm import GlmmFit, fit_glmm
    from simdata import school_admissions

    data = school_admissions(seed=5).data
    formula = "admitted ~ gpa + (1 | school)"
    res = fit_formula(formula, data, family="binomial", nAGQ=3)
    assert isinstance(res, GlmmFit) and res.nAGQ == 3
    assert res.loglik == pytest.approx(fit_glmm(formula, data, nAGQ=3).loglik, rel=1e-12)
    with pytest.raises(ModelError, match="family"):
        fit_formula(formula, data, family="poisson")


@pytest.mark.parametrize(
    "random",
    ["(1 | department)", "(1 + experience | department)", "(1 + experience || department)"],
)
def test_statsmodels_fit_of_the_same_model(salaries, random):
    """Every result keeps the statsmodels equivalent (STYLE.md); its estimates are close."""
    res = fit_formula(f"salary ~ experience + rank + {random}", salaries)
    sm = res.statsmodels
    assert res.statsmodels is sm
    for term in res.fixed_effects.index:
        # patsy and formulaic name terms alike (Intercept, rank[T.full]).
        assert sm.fe_params[term] == pytest.approx(
            res.fixed_effects.loc[term, "estimate"],
            abs=0.05 * res.fixed_effects.loc[term, "std_error"],
        )


def test_warm_start_changes_only_the_work(salaries):
    formula = "salary ~ experience + (1 + experience | department)"
    cold = fit_formula(formula, salaries)
    moved = salaries.assign(salary=salaries["salary"] * 1.01 + 100.0)
    warm = fit_formula(formula, moved, start=cold)
    again = fit_formula(formula, moved)
    assert warm.loglik == pytest.approx(again.loglik, rel=1e-10)
    assert warm.group_sd.to_numpy() == pytest.approx(again.group_sd.to_numpy(), rel=1e-6)
    assert warm._internals.estimates.n_evals <= again._internals.estimates.n_evals


def test_ml_fit_takes_a_formula_first_or_as_a_keyword(salaries):
    import multilevel as ml

    formula = "salary ~ experience * rank + size + (1 + experience | department)"
    direct = fit_formula(formula, salaries)
    for res in (ml.fit(formula, salaries), ml.fit(salaries, formula=formula)):
        assert type(res) is type(direct)
        pd.testing.assert_frame_equal(res.fixed_effects, direct.fixed_effects)
        pd.testing.assert_series_equal(res.group_sd, direct.group_sd)
        assert res.loglik == direct.loglik
    by_ml = ml.fit(formula, salaries, reml=False)
    assert not by_ml.reml and by_ml.loglik == fit_formula(formula, salaries, reml=False).loglik
    assert by_ml.loglik != direct.loglik


def test_ml_fit_formula_and_keywords_do_not_mix(salaries):
    import multilevel as ml

    with pytest.raises(ModelError, match="either a formula or the keywords.*x, group"):
        ml.fit("salary ~ experience + (1 | department)", salaries, x="experience", group="dept")
    with pytest.raises(ModelError, match="model"):
        ml.fit(salaries, formula="salary ~ 1 + (1 | department)", model="varying_both")
    with pytest.raises(ModelError, match="needs data"):
        ml.fit("salary ~ 1 + (1 | department)")
    with pytest.raises(ModelError, match="go with a formula"):
        ml.fit(salaries, y="salary", x="experience", group="department", family="binomial")


def test_ml_likelihood_ratio_test_takes_formula_fits_and_refits_by_ml(salaries):
    import multilevel as ml
    from multilevel.models.lmm import likelihood_ratio_test

    small = ml.fit("salary ~ experience + (1 | department)", salaries)
    large = ml.fit("salary ~ experience + size + (1 + experience | department)", salaries)
    test = ml.likelihood_ratio_test(small, large)
    assert test == likelihood_ratio_test(small, large)
    assert test.df == 3 and "refitted by maximum likelihood" in test.note
    by_ml = [ml.fit(f.formula, salaries, reml=False) for f in (small, large)]
    assert test.statistic == pytest.approx(2 * (by_ml[1].loglik - by_ml[0].loglik), rel=1e-9)


@pytest.mark.parametrize("model", ["varying_intercepts", "varying_slopes", "varying_both"])
@pytest.mark.parametrize("center", [False, True])
def test_keyword_fit_confint_wald_rows_are_its_own_fixed_effects(salaries, model, center):
    """FitResult.confint refits the keyword model as a formula; with the same rows, REML and
    centring, its fixed-effect intervals are the keyword fit's own (two engines agreeing)."""
    import multilevel as ml

    res = ml.fit(salaries, y="salary", x="experience", group="department", model=model,
                 center=center)  # fmt: skip
    ci = res.confint("wald")
    fe = res.fixed_effects
    for ours, theirs in (("Intercept", "intercept"), ("experience", "slope")):
        assert ci.loc[ours, "lower"] == pytest.approx(fe.at[theirs, "ci_lower"], rel=1e-6)
        assert ci.loc[ours, "upper"] == pytest.approx(fe.at[theirs, "ci_upper"], rel=1e-6)


@pytest.mark.parametrize(
    ("model", "center"),
    [
        ("varying_intercepts", True),
        ("varying_both", False),
        ("varying_both", True),  # failed before the inner profile fits were scaled
    ],
)  # fmt: skip
def test_keyword_fit_profile_intervals_are_the_formula_routes(salaries, model, center):
    import multilevel as ml
    from multilevel.models.formula import keyword_formula

    res = ml.fit(salaries, y="salary", x="experience", group="department", model=model,
                 center=center)  # fmt: skip
    centred = salaries.assign(experience=salaries["experience"] - res.center)
    formula = keyword_formula("salary", "experience", "department", model)
    expected = fit_formula(formula, centred).confint("profile")
    ci = res.confint("profile")
    pd.testing.assert_frame_equal(ci, expected)
    assert list(ci.index[:1]) == ["sd_Intercept|department"]
    # The intervals hold the keyword fit's own estimates.
    sd = ci.loc["sd_Intercept|department"]
    assert sd["lower"] < res.group_sd["intercept"] < sd["upper"]
    intercept = ci.loc["Intercept"]
    assert intercept["lower"] < res.fixed_effects.at["intercept", "estimate"] < intercept["upper"]
    if model == "varying_both":
        cor = ci.loc["cor_experience.Intercept|department"]
        assert -1 <= cor["lower"] < res.correlation < cor["upper"] <= 1


@pytest.mark.parametrize("model", ["complete_pooling", "no_pooling"])
def test_keyword_fit_confint_needs_a_group_sd(salaries, model):
    import multilevel as ml

    res = ml.fit(salaries, y="salary", x="experience", group="department", model=model)
    with pytest.raises(ModelError, match="no.*group SD|has none"):
        res.confint()
