"""The radon data set, and Gelman & Hill's published radon estimates reproduced.

Published numbers: Gelman, A. and Hill, J. (2007), *Data Analysis Using Regression and
Multilevel/Hierarchical Models*, sections 12.3-12.6 and 13.1, printed to two decimals. A value
reproduces a printed number when it is within half a unit of the last printed digit (0.005).
The same fits are compared with R's lme4 at 1e-4 in ``tests/test_lme4.py``, and lesson 7's
formula models (uranium, the county mean of floor, their profile intervals) in
``tests/test_formula_lme4.py``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from multilevel.datasets import radon

PRINTED_PRECISION = 0.005


@pytest.fixture(scope="module")
def homes() -> pd.DataFrame:
    return radon()


def test_radon_has_919_homes_in_85_minnesota_counties(homes):
    assert homes.shape == (919, 4)
    assert list(homes.columns) == ["county", "floor", "log_radon", "log_uranium"]
    assert homes["county"].nunique() == 85
    assert isinstance(homes["county"].dtype, pd.CategoricalDtype)
    assert len(homes["county"].cat.categories) == 85
    assert {"AITKIN", "HENNEPIN", "YELLOW MEDICINE"} <= set(homes["county"].cat.categories)
    assert homes["floor"].dtype == np.int64
    assert set(homes["floor"].unique()) == {0, 1}
    assert homes["log_radon"].dtype == np.float64
    assert not homes.isna().any().any()


def test_radon_matches_gelman_and_hill_description(homes):
    # Gelman & Hill: 919 homes, most measured in the basement; Hennepin (Minneapolis) has the most
    # homes (105) and several counties have only one or two. Readings of 0 were set to 0.1 pCi/L.
    assert (homes["floor"] == 1).sum() == 153
    per_county = homes["county"].value_counts()
    assert per_county["HENNEPIN"] == 105
    assert per_county.min() == 1
    assert homes["log_radon"].min() == pytest.approx(np.log(0.1))


def test_uranium_is_one_value_per_county(homes):
    per_county = homes.groupby("county", observed=True)["log_uranium"].nunique()
    assert (per_county == 1).all()


def assert_reproduces(label: str, ours: dict[str, float], published: dict[str, float]) -> None:
    """Fail with a side-by-side table when any value misses its printed number."""
    table = pd.DataFrame({"ours": pd.Series(ours), "Gelman & Hill": pd.Series(published)})
    table["difference"] = table["ours"] - table["Gelman & Hill"]
    table["ok"] = table["difference"].abs() <= PRINTED_PRECISION
    if not table["ok"].all():
        pytest.fail(
            f"{label}: does not reproduce the published table to its printed precision "
            f"(+-{PRINTED_PRECISION}):\n{table.to_string(float_format='{:.4f}'.format)}",
            pytrace=False,
        )


def test_empty_model_by_statsmodels_reproduces_gelman_and_hill(homes):
    # Varying intercepts without a predictor: log_radon ~ 1 + (1 | county), by statsmodels
    # directly (multilevel.fit's x=None is checked in the next test).
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fitted = smf.mixedlm("log_radon ~ 1", homes, groups="county").fit(reml=True)
    ours = {
        "mean": fitted.fe_params["Intercept"],
        "county SD": float(np.sqrt(fitted.cov_re.iloc[0, 0])),
        "residual SD": float(np.sqrt(fitted.scale)),
    }
    published = {"mean": 1.31, "county SD": 0.31, "residual SD": 0.80}
    assert_reproduces("log_radon ~ 1 + (1 | county), statsmodels", ours, published)


@pytest.mark.parametrize(
    ("label", "x", "model", "published"),
    [
        (
            "log_radon ~ 1 + (1 | county), multilevel.fit(x=None)",
            None,
            "varying_intercepts",
            {"intercept": 1.31, "county SD": 0.31, "residual SD": 0.80},
        ),
        (
            "log_radon ~ floor + (1 | county)",
            "floor",
            "varying_intercepts",
            {"intercept": 1.46, "slope": -0.69, "county SD": 0.33, "residual SD": 0.76},
        ),
        (
            "log_radon ~ floor + (1 + floor | county)",
            "floor",
            "varying_both",
            {
                "intercept": 1.46,
                "slope": -0.68,
                "county SD": 0.35,
                "slope SD": 0.34,
                "correlation": -0.34,
                "residual SD": 0.75,
            },
        ),
    ],
)
def test_multilevel_fit_reproduces_gelman_and_hill(homes, label, x, model, published):
    import multilevel as ml
    from multilevel.tables import parameter_summary

    result = ml.fit(homes, y="log_radon", x=x, group="county", model=model)
    assert_reproduces(label, parameter_summary(result).to_dict(), published)


def test_uranium_model_reproduces_gelman_and_hill(homes):
    """Section 12.6: county log uranium as a county-level predictor (lesson 7)."""
    import multilevel as ml

    fit = ml.fit("log_radon ~ floor + log_uranium + (1 | county)", homes)
    fe = fit.fixed_effects
    ours = {
        "intercept": fe.at["Intercept", "estimate"],
        "floor": fe.at["floor", "estimate"],
        "log_uranium": fe.at["log_uranium", "estimate"],
        "intercept SE": fe.at["Intercept", "std_error"],
        "floor SE": fe.at["floor", "std_error"],
        "log_uranium SE": fe.at["log_uranium", "std_error"],
        "county SD": fit.group_sd["Intercept"],
        "residual SD": fit.residual_sd,
    }
    published = {
        "intercept": 1.47,
        "floor": -0.67,
        "log_uranium": 0.72,
        "intercept SE": 0.04,
        "floor SE": 0.07,
        "log_uranium SE": 0.09,
        "county SD": 0.16,
        "residual SD": 0.76,
    }
    assert_reproduces("log_radon ~ floor + log_uranium + (1 | county)", ours, published)


@pytest.fixture(scope="module")
def with_county_mean(homes) -> pd.DataFrame:
    return homes.assign(
        floor_mean=homes.groupby("county", observed=True)["floor"].transform("mean")
    )


@pytest.mark.parametrize("uranium", ["", " + log_uranium"])
def test_county_mean_of_floor_makes_the_floor_coefficient_the_within_county_one(
    with_county_mean, uranium
):
    """With the county mean of floor in the model, the floor coefficient compares homes within
    a county only: it equals the no-pooling (county fixed effects) estimate exactly, whatever
    the county SD (the within-county part of floor is orthogonal to anything constant in a
    county, in the model's own weighting)."""
    import multilevel as ml

    fit = ml.fit(f"log_radon ~ floor + floor_mean{uranium} + (1 | county)", with_county_mean)
    separate = ml.fit(with_county_mean, y="log_radon", x="floor", group="county",
                      model="no_pooling", varying="intercepts")  # fmt: skip
    assert fit.fixed_effects.at["floor", "estimate"] == pytest.approx(
        separate.fixed_effects.at["slope", "estimate"], rel=1e-8
    )


def test_floor_estimate_without_county_mean_lies_between_within_and_between(with_county_mean):
    """Lesson 7: varying intercepts alone mix the within-county comparison (-0.72) with the
    between-county one (within + contextual, about -0.38); their estimate (-0.69) lies between,
    close to the within one because most counties have many homes. With uranium the gap is
    0.05, less than one standard error."""
    import multilevel as ml

    plain = ml.fit("log_radon ~ floor + (1 | county)", with_county_mean)
    split = ml.fit("log_radon ~ floor + floor_mean + (1 | county)", with_county_mean)
    within = split.fixed_effects.at["floor", "estimate"]
    between = within + split.fixed_effects.at["floor_mean", "estimate"]
    mixed = plain.fixed_effects.at["floor", "estimate"]
    assert within < mixed < between < 0
    assert (mixed - within) < 0.2 * (between - within)
    # With uranium too, the plain estimate stays within one standard error of the within one.
    plain_u = ml.fit("log_radon ~ floor + log_uranium + (1 | county)", with_county_mean)
    split_u = ml.fit(
        "log_radon ~ floor + floor_mean + log_uranium + (1 | county)", with_county_mean
    )
    gap = (
        plain_u.fixed_effects.at["floor", "estimate"]
        - split_u.fixed_effects.at["floor", "estimate"]
    )
    assert 0 < gap < plain_u.fixed_effects.at["floor", "std_error"]


def test_county_sd_intervals_before_and_after_uranium(homes):
    """Lesson 7: each model's profile interval for the county SD leaves out the other model's
    estimate: uranium's drop from 0.33 to 0.16 is more than the uncertainty of either."""
    import multilevel as ml

    before = ml.fit("log_radon ~ floor + (1 | county)", homes)
    after = ml.fit("log_radon ~ floor + log_uranium + (1 | county)", homes)
    ci_before = before.confint("profile").loc["sd_Intercept|county"]
    ci_after = after.confint("profile").loc["sd_Intercept|county"]
    assert ci_before["lower"] < before.group_sd["Intercept"] < ci_before["upper"]
    assert ci_after["lower"] < after.group_sd["Intercept"] < ci_after["upper"]
    assert ci_after["upper"] < before.group_sd["Intercept"]
    assert ci_before["lower"] > after.group_sd["Intercept"]
    assert ci_after["lower"] > 0  # counties still differ once uranium is known
