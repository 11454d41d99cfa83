"""Wald and bootstrap intervals and the likelihood-ratio test for formula fits (no R needed).

Profile intervals are compared with lme4 in test_formula_lme4.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from multilevel.models import ModelError
from multilevel.models.lmm import fit_formula, likelihood_ratio_test
from simdata import faculty_salaries


@pytest.fixture(scope="module")
def salaries() -> pd.DataFrame:
    return faculty_salaries(
        n_departments=15, faculty_per_department=(10, 25), raise_sd=300, seed=8
    ).data


@pytest.fixture(scope="module")
def both(salaries):
    return fit_formula("salary ~ experience + (1 + experience | department)", salaries)


def test_wald_intervals_are_estimate_plus_minus_z_se(both):
    ci = both.confint("wald", level=0.9)
    assert list(ci.columns) == ["lower", "upper"]
    assert list(ci.index) == [
        "sd_Intercept|department", "cor_experience.Intercept|department",
        "sd_experience|department", "sigma", "Intercept", "experience",
    ]  # fmt: skip
    z = scipy.stats.norm.ppf(0.95)
    fe = both.fixed_effects
    assert ci.loc["experience", "upper"] == pytest.approx(
        fe.loc["experience", "estimate"] + z * fe.loc["experience", "std_error"]
    )
    assert ci.loc[["sigma", "sd_Intercept|department"]].isna().all().all()


def test_bad_confint_arguments_are_model_errors(both):
    with pytest.raises(ModelError, match="method"):
        both.confint("jackknife")
    with pytest.raises(ModelError, match="level"):
        both.confint("wald", level=95)


@pytest.mark.slow
def test_bootstrap_is_seeded_and_agrees_with_the_profile(salaries, capsys):
    fit = fit_formula("salary ~ experience + (1 | department)", salaries)
    boot = fit.confint("bootstrap", n_boot=300, seed=4, progress=True)
    assert "bootstrap [" in capsys.readouterr().err
    again = fit.confint("bootstrap", n_boot=300, seed=np.random.default_rng(4))
    pd.testing.assert_frame_equal(boot, again)
    profile = fit.confint("profile")
    width = profile["upper"] - profile["lower"]
    # 300 draws: percentile limits carry Monte Carlo error of a few percent of the width, and
    # bootstrap and profile intervals differ by their own approximations; a wrong simulation
    # (say, a missing variance part) moves them by far more.
    off = (boot - profile).abs().max(axis=1) / width
    assert (off < 0.25).all(), pd.concat([boot, profile], axis=1)


def test_likelihood_ratio_test_for_an_added_variance(salaries):
    small = fit_formula("salary ~ experience + (1 | department)", salaries)
    large = fit_formula("salary ~ experience + (1 + experience || department)", salaries)
    lrt = likelihood_ratio_test(small, large)
    assert lrt.df == 1
    assert lrt.statistic == pytest.approx(2 * (large.loglik - small.loglik))
    assert lrt.p_value_boundary == pytest.approx(lrt.p_value / 2)
    assert "refitted" not in lrt.note


def test_likelihood_ratio_test_refits_by_ml_when_fixed_effects_differ(salaries):
    data = salaries.assign(noise=np.random.default_rng(1).normal(size=len(salaries)))
    small = fit_formula("salary ~ experience + (1 | department)", data)
    large = fit_formula("salary ~ experience + noise + (1 | department)", data)
    lrt = likelihood_ratio_test(small, large)
    ml_small = fit_formula(small.formula, data, reml=False)
    ml_large = fit_formula(large.formula, data, reml=False)
    assert lrt.df == 1
    assert lrt.loglik_smaller == pytest.approx(ml_small.loglik)
    assert lrt.statistic == pytest.approx(2 * (ml_large.loglik - ml_small.loglik))
    assert "refitted by maximum likelihood" in lrt.note


def test_likelihood_ratio_test_refuses_models_that_are_not_nested(salaries):
    a = fit_formula("salary ~ experience + (1 | department)", salaries)
    b = fit_formula("salary ~ 1 + (1 + experience | department)", salaries)
    with pytest.raises(ModelError, match="not nested"):
        likelihood_ratio_test(a, b)
