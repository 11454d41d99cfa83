"""multilevel.models.logistic: a logistic model with varying intercepts, against the truth and lme4.

statsmodels fits this model only approximately (variational Bayes), so the checks are against
independent answers: the known truth of simulated data (many schools, many students, where any
sound fit must land close), and R's ``lme4::glmer`` (Laplace approximation to the likelihood), the
reference implementation, run live on the same data.
"""

from __future__ import annotations

import json
import os
import subprocess

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from multilevel.models.logistic import LogisticFit, fit_logistic
from simdata import school_admissions
from tests.lme4.reference import lme4_missing


@pytest.fixture(scope="module")
def many_schools():
    # 60 schools of 100-150 students: large enough that the estimates must be near the truth.
    return school_admissions(n_schools=60, students_per_school=(100, 150), seed=11)


@pytest.fixture(scope="module")
def many_fit(many_schools) -> LogisticFit:
    return fit_logistic(many_schools, seed=1)


def test_fixed_effects_recover_the_truth(many_schools, many_fit):
    pop = many_schools.population
    truth = pd.Series(
        {
            "intercept": pop["intercept_mean"],
            "gpa": pop["gpa_effect"],
            "volunteer": pop["volunteer_effect"],
        }
    )
    fe = many_fit.fixed_effects
    z = (fe["estimate"] - truth) / fe["std_error"]
    assert (z.abs() < 3).all(), f"estimates more than 3 SE from the truth:\n{fe}\nz:\n{z}"
    # And the standard errors are small enough that this was a real test.
    assert fe.at["gpa", "std_error"] < 0.1


def test_school_sd_and_intercepts_recover_the_truth(many_schools, many_fit):
    true_intercepts = many_schools.truth["intercept"]
    true_sd = float(true_intercepts.std(ddof=1))
    assert abs(many_fit.group_sd - true_sd) < 0.15 * true_sd, (many_fit.group_sd, true_sd)
    est = many_fit.group_intercepts["intercept"].reindex(true_intercepts.index)
    assert np.corrcoef(est, true_intercepts)[0, 1] > 0.95
    assert many_fit.group_intercepts["n"].to_dict() == many_schools.truth["n"].to_dict()


def test_odds_ratios_and_intervals_are_consistent(many_fit):
    fe = many_fit.fixed_effects
    assert np.allclose(fe["odds_ratio"], np.exp(fe["estimate"]))
    assert np.allclose(fe["odds_ratio_lower"], np.exp(fe["estimate"] - 1.959964 * fe["std_error"]))
    assert np.allclose(fe["odds_ratio_upper"], np.exp(fe["estimate"] + 1.959964 * fe["std_error"]))
    gi = many_fit.group_intercepts
    assert np.allclose(gi["intercept"], fe.at["intercept", "estimate"] + gi["deviation"])
    assert (gi["deviation_se"] > 0).all()


def test_predict_uses_the_school_or_the_average_for_a_new_school(many_fit):
    fe = many_fit.fixed_effects["estimate"]
    school = many_fit.group_intercepts.index[0]
    rows = pd.DataFrame(
        {"gpa": [3.2, 3.2], "volunteer": [1, 1], "school": [school, "Nowhere High"]}
    )
    p = many_fit.predict(rows)
    own = many_fit.group_intercepts.at[school, "intercept"]
    assert p[0] == pytest.approx(expit(own + 3.2 * fe["gpa"] + fe["volunteer"]))
    assert p[1] == pytest.approx(expit(fe["intercept"] + 3.2 * fe["gpa"] + fe["volunteer"]))
    assert many_fit.predict(rows.drop(columns="school"))[0] == pytest.approx(p[1])


def test_same_seed_same_fit():
    sim = school_admissions(n_schools=8, seed=2)
    a, b = fit_logistic(sim, seed=5), fit_logistic(sim, seed=5)
    pd.testing.assert_frame_equal(a.fixed_effects, b.fixed_effects)
    assert a.group_sd == b.group_sd


@pytest.mark.parametrize(
    ("change", "kwargs", "message"),
    [
        (lambda d: d.assign(admitted=d["admitted"] * 2), {}, "must hold only 0 and 1"),
        (lambda d: d.assign(admitted=1), {}, "nothing to model"),
        (lambda d: d.assign(school="One High"), {}, "only one group"),
        (lambda d: d, {"x": []}, "x must be"),
        (lambda d: d, {"x": ["height"]}, "x must be"),
        (lambda d: d, {"group": "district"}, "group must name a column"),
        (lambda d: d, {"prior_sd": 0}, "prior_sd must be a positive number"),
        (lambda d: d.assign(gpa=3.0), {}, "same value in every row"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(change, kwargs, message):
    data = change(school_admissions(n_schools=4, students_per_school=20, seed=3).data)
    args = {"y": "admitted", "x": ["gpa", "volunteer"], "group": "school", **kwargs}
    with pytest.raises(ValueError, match=message):
        fit_logistic(data, **args, seed=1)


def test_missing_rows_are_left_out_with_a_note():
    data = school_admissions(n_schools=6, seed=4).data
    data.loc[data.index[:3], "gpa"] = np.nan
    fit = fit_logistic(data, y="admitted", x=["gpa", "volunteer"], group="school", seed=1)
    assert fit.n_obs == len(data) - 3
    assert any("3 of" in note for note in fit.notes)


GLMER = r"""
suppressMessages({library(lme4); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
m <- glmer(admitted ~ gpa + volunteer + (1 | school), data = d, family = binomial,
           control = glmerControl(optimizer = "bobyqa"))
re <- ranef(m)$school
write_json(list(fixed = as.list(fixef(m)), se = as.list(sqrt(diag(as.matrix(vcov(m))))),
                sd = attr(VarCorr(m)$school, "stddev")[[1]],
                groups = rownames(re), deviation = re[[1]]),
           args[2], digits = NA, auto_unbox = TRUE)
"""


@pytest.fixture(scope="module")
def glmer_comparison(tmp_path_factory):
    reason = lme4_missing()
    if reason is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but lme4 cannot run: {reason}")
        pytest.skip(reason)
    sim = school_admissions(n_schools=20, seed=1)
    work = tmp_path_factory.mktemp("glmer")
    table = sim.data.assign(school=sim.data["school"].astype(str))
    table.to_csv(work / "admissions.csv", index=False, float_format="%.17g")
    (work / "glmer.R").write_text(GLMER)
    done = subprocess.run(
        ["Rscript", str(work / "glmer.R"), str(work / "admissions.csv"), str(work / "out.json")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        pytest.fail(f"glmer failed:\n{done.stdout}\n{done.stderr}")
    return fit_logistic(sim, seed=1), json.loads((work / "out.json").read_text())


@pytest.mark.slow
def test_fixed_effects_and_standard_errors_agree_with_glmer(glmer_comparison):
    ours, lme4 = glmer_comparison
    fe = ours.fixed_effects
    names = {"intercept": "(Intercept)", "gpa": "gpa", "volunteer": "volunteer"}
    table = pd.DataFrame(
        {
            "ours": fe["estimate"],
            "glmer": [lme4["fixed"][names[t]] for t in fe.index],
            "ours_se": fe["std_error"],
            "glmer_se": [lme4["se"][names[t]] for t in fe.index],
        }
    )
    # Two approximations of the same likelihood: they must agree to a small part of an SE.
    close = (table["ours"] - table["glmer"]).abs() < 0.15 * table["glmer_se"]
    se_close = (table["ours_se"] / table["glmer_se"] - 1).abs() < 0.05
    assert close.all() and se_close.all(), f"\n{table}"


@pytest.mark.slow
def test_school_sd_and_deviations_agree_with_glmer(glmer_comparison):
    ours, lme4 = glmer_comparison
    assert ours.group_sd == pytest.approx(lme4["sd"], rel=0.10)
    theirs = pd.Series(lme4["deviation"], index=lme4["groups"])
    mine = pd.Series(
        ours.group_intercepts["deviation"].to_numpy(),
        index=ours.group_intercepts.index.astype(str),
    ).reindex(theirs.index)
    assert (mine - theirs).abs().max() < 0.1, pd.DataFrame({"ours": mine, "glmer": theirs})
