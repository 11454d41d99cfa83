"""multilevel.pooling: the precision-weighted average and the many-samples error study."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import multilevel as ml
from multilevel import pooling
from simdata import faculty_salaries, hospital_patients

SIZES = [2, 3, 5, 8, 12, 20, 30, 40]


@pytest.fixture(scope="module")
def sim():
    return faculty_salaries(
        n_departments=len(SIZES),
        faculty_per_department=SIZES,
        base_sd=5_000,
        raise_sd=0,
        noise_sd=8_000,
        seed=21,
    )


# ------------------------------------------------------------------------ pooling weights


@pytest.mark.parametrize("reml", [True, False])
def test_weighted_average_is_the_fitted_intercept(sim, reml):
    fit = ml.fit(sim, model="varying_intercepts", reml=reml)
    table = pooling.pooling_weights(fit)
    assert table.index.name == "department"
    assert list(table.columns) == ["n", "own_estimate", "weight", "population", "weighted_average"]
    assert table["n"].tolist() == sorted(SIZES), "sorted from the smallest department"
    # Each ingredient, computed here from the data and the fit's reported estimates.
    raise_ = fit.fixed_effects.at["slope", "estimate"]
    data = sim.data
    own = (
        (data["salary"] - raise_ * data["experience"])
        .groupby(data["department"], observed=True)
        .mean()
    )
    np.testing.assert_allclose(table["own_estimate"], own.loc[table.index], rtol=1e-12)
    ratio = fit.residual_sd**2 / fit.group_sd["intercept"] ** 2
    np.testing.assert_allclose(table["weight"], table["n"] / (table["n"] + ratio), rtol=1e-12)
    assert (table["population"] == fit.fixed_effects.at["intercept", "estimate"]).all()
    # The identity: the weighted average is the engine's BLUP, computed another way.
    fitted = fit.group_lines.loc[table.index, "intercept"]
    np.testing.assert_allclose(table["weighted_average"], fitted, rtol=1e-9)
    # Every estimate lies between the department's own average and the population value.
    lo = np.minimum(table["own_estimate"], table["population"])
    hi = np.maximum(table["own_estimate"], table["population"])
    assert ((fitted >= lo - 1e-6) & (fitted <= hi + 1e-6)).all()


def test_weighted_average_matches_the_blup_from_matrix_algebra(sim):
    # The mixed-model BLUP b = G Z' V^-1 (y - X beta), with the fit's variance estimates.
    fit = ml.fit(sim, model="varying_intercepts")
    data = sim.data
    y = data["salary"].to_numpy(float)
    X = np.column_stack([np.ones(len(y)), data["experience"].to_numpy(float)])
    groups = pd.Index(fit.group_lines.index)
    Z = (
        data["department"].astype(str).to_numpy()[:, None] == groups.astype(str).to_numpy()
    ).astype(float)
    s2, t2 = fit.residual_sd**2, fit.group_sd["intercept"] ** 2
    V = s2 * np.eye(len(y)) + t2 * Z @ Z.T
    beta = fit.fixed_effects["estimate"].to_numpy()
    blup = t2 * Z.T @ np.linalg.solve(V, y - X @ beta)
    table = pooling.pooling_weights(fit)
    np.testing.assert_allclose(
        table.loc[groups, "weighted_average"] - beta[0], blup, rtol=1e-8, atol=1e-6
    )


def test_weights_approach_the_true_variance_ratio_with_many_departments():
    # With many departments the variances are estimated well, so the weights are close to
    # n / (n + noise_sd^2 / base_sd^2) from the simulation's own settings.
    sim = faculty_salaries(
        n_departments=300,
        faculty_per_department=(2, 30),
        base_sd=5_000,
        raise_sd=0,
        noise_sd=8_000,
        seed=5,
    )
    table = pooling.pooling_weights(ml.fit(sim, model="varying_intercepts"))
    true_weight = table["n"] / (table["n"] + 8_000**2 / 5_000**2)
    np.testing.assert_allclose(table["weight"], true_weight, atol=0.05)


@pytest.mark.parametrize("center", [False, True])
def test_slopes_shrink_by_the_information_in_x(center):
    sim = faculty_salaries(
        n_departments=8, faculty_per_department=(3, 30), base_sd=0, raise_sd=400, seed=4
    )
    fit = ml.fit(sim, model="varying_slopes", center=center)
    table = pooling.pooling_weights(fit)
    np.testing.assert_allclose(
        table["weighted_average"], fit.group_lines.loc[table.index, "slope"], rtol=1e-9
    )
    assert (table["population"] == fit.fixed_effects.at["slope", "estimate"]).all()
    xc = sim.data["experience"] - fit.center
    info = (xc**2).groupby(sim.data["department"], observed=True).sum().loc[table.index]
    sd = fit.group_sd["slope"]
    expected = info / (info + fit.residual_sd**2 / sd**2) if sd > 0 else 0 * info
    np.testing.assert_allclose(table["weight"], expected, rtol=1e-9)


def test_model_without_predictor_pools_the_group_means():
    hosp = hospital_patients(seed=2)
    y, group = hosp.y, hosp.group
    fit = ml.fit(hosp.data, y=y, x=None, group=group, model="varying_intercepts")
    table = pooling.pooling_weights(fit)
    means = hosp.data.groupby(group, observed=True)[y].mean()
    np.testing.assert_allclose(table["own_estimate"], means.loc[table.index], rtol=1e-12)
    np.testing.assert_allclose(
        table["weighted_average"], fit.group_lines.loc[table.index, "intercept"], rtol=1e-9
    )


def test_no_spread_between_groups_means_complete_pooling():
    # Identical departments: the between-department SD is estimated as 0.
    one = pd.DataFrame({"experience": [0, 5, 10, 15], "salary": [50e3, 61e3, 64e3, 80e3]})
    data = pd.concat([one.assign(department=d) for d in "ABC"], ignore_index=True)
    fit = ml.fit(data, y="salary", x="experience", group="department")
    assert fit.group_sd["intercept"] == pytest.approx(0, abs=1e-3)
    table = pooling.pooling_weights(fit)
    assert table["weight"].max() < 1e-6
    np.testing.assert_allclose(
        table["weighted_average"], fit.group_lines["intercept"].loc[table.index], rtol=1e-9
    )


def test_array_level_weights_are_the_table_weights(sim):
    # The widgets call the array-level functions; they give the table's numbers exactly.
    fit = ml.fit(sim, model="varying_intercepts")
    table = pooling.pooling_weights(fit).reindex(fit.group_lines.index)
    fe = fit.fixed_effects["estimate"]
    information, own = pooling.own_estimates(
        fit.arrays.x,
        fit.arrays.y,
        fit.arrays.codes,
        fit.n_groups,
        parameter="intercept",
        intercept=float(fe["intercept"]),
        slope=float(fe["slope"]),
    )
    weight = pooling.precision_weights(
        information, fit.residual_sd, float(fit.group_sd["intercept"])
    )
    np.testing.assert_array_equal(own, table["own_estimate"].to_numpy())
    np.testing.assert_array_equal(weight, table["weight"].to_numpy())
    assert (pooling.precision_weights(information, 1.0, 0.0) == 0).all()


def test_n_samples_is_checked_like_the_simulators():
    with pytest.raises(ValueError, match="n_samples must be a positive integer, got 0"):
        pooling.compare_pooling_errors(n_samples=0)


def test_pooling_weights_refuse_models_without_one_varying_part(sim):
    with pytest.raises(ml.ModelError, match="model='varying_both'"):
        pooling.pooling_weights(ml.fit(sim, model="varying_both"))
    with pytest.raises(ml.ModelError, match="model='no_pooling'"):
        pooling.pooling_weights(ml.fit(sim, model="no_pooling"))
    with pytest.raises(ValueError, match="result must be a FitResult"):
        pooling.pooling_weights(sim)


# ---------------------------------------------------------------------- errors vs truth


SETTINGS = {
    "n_departments": len(SIZES),
    "faculty_per_department": SIZES,
    "base_sd": 5_000,
    "raise_sd": 0,
    "noise_sd": 8_000,
}


@pytest.fixture(scope="module")
def errors():
    return pooling.compare_pooling_errors(
        n_samples=120, seed=7, methods=pooling.METHODS, **SETTINGS
    )


def test_errors_table_is_tidy_and_reproducible(errors):
    assert list(errors.columns) == [
        "sample",
        "department",
        "n",
        "method",
        "parameter",
        "estimate",
        "truth",
        "error",
        "unit",
    ]
    assert len(errors) == 120 * len(SIZES) * 3
    np.testing.assert_allclose(errors["error"], errors["estimate"] - errors["truth"])
    assert set(errors["unit"]) == {"$"}
    # Each method sees the same truths in a sample.
    truth = errors.pivot_table(index=["sample", "department"], columns="method", values="truth")
    assert (truth.nunique(axis=1) == 1).all()
    again = pooling.compare_pooling_errors(n_samples=3, seed=7, methods=pooling.METHODS, **SETTINGS)
    pd.testing.assert_frame_equal(again, errors[errors["sample"] < 3].reset_index(drop=True))
    other = pooling.compare_pooling_errors(n_samples=3, seed=8, **SETTINGS)
    assert not np.allclose(other["truth"], again[again["method"] != "complete pooling"]["truth"])


def test_truths_are_those_of_the_simulation():
    # The first sample's truths are what the simulator draws with the same generator.
    from simdata import as_generator

    errors = pooling.compare_pooling_errors(n_samples=1, seed=3, **SETTINGS)
    sim = faculty_salaries(**SETTINGS, seed=as_generator(3))
    got = errors[errors["method"] == "no pooling"].set_index("department")["truth"]
    np.testing.assert_allclose(got, sim.truth["intercept"].loc[got.index].to_numpy())


def test_errors_follow_theory(errors):
    rmse = pooling.typical_errors(errors).set_index(["n", "method"])["rmse"]
    # No pooling: the intercept is the department's mean minus the shared raise times its mean
    # experience, so its error variance is noise_sd^2 / n (the mean) plus E[mean experience^2]
    # times Var(raise estimate) ~ noise_sd^2 / within-department sum of squares of experience.
    # Experience is uniform on 0..25 whole years: mean 12.5, variance (26^2 - 1) / 12.
    var_x, mean_x = (26**2 - 1) / 12, 12.5
    sizes = SETTINGS["faculty_per_department"]
    var_raise = 8_000**2 / (var_x * sum(n - 1 for n in sizes))
    for n in sizes:
        expected = np.sqrt(8_000**2 / n + (mean_x**2 + var_x / n) * var_raise)
        assert rmse[(n, "no pooling")] == pytest.approx(expected, rel=0.15)
    # Complete pooling misses each department by its deviation, SD base_sd.
    overall = pooling.typical_errors(errors, by=None).set_index("method")["rmse"]
    assert overall["complete pooling"] == pytest.approx(5_000, rel=0.2)
    # Partial pooling beats both on average, and no pooling most clearly for tiny departments.
    assert overall["partial pooling"] < min(overall["no pooling"], overall["complete pooling"])
    assert rmse[(2, "partial pooling")] < 0.85 * rmse[(2, "no pooling")]
    assert rmse[(40, "partial pooling")] == pytest.approx(rmse[(40, "no pooling")], rel=0.05)


def test_typical_errors_by_hand():
    errors = pd.DataFrame(
        {
            "n": [2, 2, 2, 2, 9],
            "method": [
                "partial pooling",
                "no pooling",
                "no pooling",
                "partial pooling",
                "no pooling",
            ],
            "error": [1.0, 3.0, -4.0, -1.0, 2.0],
        }
    )
    out = pooling.typical_errors(errors)
    assert out[["n", "method"]].values.tolist() == [
        [2, "no pooling"],
        [2, "partial pooling"],
        [9, "no pooling"],
    ]
    np.testing.assert_allclose(out["rmse"], [np.sqrt(12.5), 1.0, 2.0])
    np.testing.assert_allclose(out["mean_error"], [-0.5, 0.0, 2.0])
    assert out["count"].tolist() == [2, 2, 1]
    with pytest.raises(ValueError, match=r"errors has no column\(s\) \['size'\]"):
        pooling.typical_errors(errors, by="size")


def test_slopes_and_other_simulators():
    errors = pooling.compare_pooling_errors(
        n_samples=2, parameter="slope", seed=1, simulate=hospital_patients
    )
    assert set(errors["parameter"]) == {"slope"}
    assert errors["unit"].iloc[0] == "days per point of severity"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_samples": 0}, "n_samples must be a positive integer, got 0"),
        ({"parameter": "raise"}, "parameter must be 'intercept' or 'slope', got 'raise'"),
        ({"methods": ["best pooling"]}, "methods must be a non-empty selection"),
        ({"methods": []}, "methods must be a non-empty selection"),
        ({"seed": 1, "n_departments": 0}, "n_departments must be a positive integer"),
    ],
)
def test_compare_pooling_errors_rejects_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        pooling.compare_pooling_errors(**kwargs)
