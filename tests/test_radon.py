"""The radon data set, and Gelman & Hill's published radon estimates reproduced.

Published numbers: Gelman, A. and Hill, J. (2007), *Data Analysis Using Regression and
Multilevel/Hierarchical Models*, sections 12.3-12.5 and 13.1, printed to two decimals. A value
reproduces a printed number when it is within half a unit of the last printed digit (0.005).
The same fits are compared with R's lme4 at 1e-4 in ``tests/test_lme4.py``.
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
