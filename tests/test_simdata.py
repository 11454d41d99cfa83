"""Tests for simdata: each compares the simulated data with the truth it claims to carry."""

from __future__ import annotations

import math
from types import MappingProxyType

import numpy as np
import pandas as pd
import pytest

import simdata
from simdata import SimulatedData, as_generator, faculty_salaries

# Tolerances are multiples of a sampling standard error. With 4 SE a correct generator fails a
# given check with probability about 6e-5; a wrong mean, SD or correlation fails it for sure.
Z = 4.0


def se_mean(sd: float, n: int) -> float:
    return sd / math.sqrt(n)


def se_sd(sd: float, n: int) -> float:
    # Large-sample SE of a normal sample SD.
    return sd / math.sqrt(2 * (n - 1))


def se_corr(rho: float, n: int) -> float:
    return (1 - rho**2) / math.sqrt(n - 1)


def per_group_ols(sim: SimulatedData) -> pd.DataFrame:
    """Intercept and slope of an OLS line per group, by numpy least squares."""
    rows = {}
    for name, part in sim.data.groupby(sim.group, observed=True):
        x = part[sim.x].to_numpy(dtype=float)
        design = np.column_stack([np.ones_like(x), x])
        coef, *_ = np.linalg.lstsq(design, part[sim.y].to_numpy(), rcond=None)
        rows[name] = coef
    return pd.DataFrame.from_dict(rows, orient="index", columns=["intercept", "slope"])


# --------------------------------------------------------------------------- as_generator


def test_as_generator_int_is_reproducible():
    assert as_generator(7).random() == as_generator(7).random()
    assert as_generator(7).random() != as_generator(8).random()


def test_as_generator_passes_generator_through():
    rng = np.random.default_rng(3)
    assert as_generator(rng) is rng


def test_as_generator_none_gives_fresh_generator():
    assert isinstance(as_generator(None), np.random.Generator)
    assert isinstance(as_generator(np.int64(5)), np.random.Generator)


@pytest.mark.parametrize(
    ("seed", "match"),
    [
        (True, "seed must be None, a non-negative integer or a numpy.random.Generator, got True"),
        (1.0, "got 1.0"),
        ("42", "got '42'"),
        (-1, "seed must be a non-negative integer, got -1"),
        (np.random.RandomState(0), "RandomState"),
    ],
)
def test_as_generator_rejects(seed, match):
    with pytest.raises(ValueError, match=match):
        as_generator(seed)


# --------------------------------------------------------------------------- faculty


def test_faculty_defaults_layout_and_dtypes():
    sim = faculty_salaries(seed=1)
    assert isinstance(sim, SimulatedData)
    assert (sim.y, sim.x, sim.group) == ("salary", "experience", "department")
    assert list(sim.data.columns) == ["department", "experience", "salary"]
    assert isinstance(sim.data["department"].dtype, pd.CategoricalDtype)
    assert sim.data["experience"].dtype == np.int64
    assert sim.data["salary"].dtype == np.float64
    assert list(sim.truth.columns) == ["n", "intercept", "slope"]
    assert sim.truth["n"].dtype == np.int64
    assert sim.truth["intercept"].dtype == np.float64
    assert sim.truth.index.name == "department"
    # Categories follow the truth's order, and the names are readable.
    assert list(sim.data["department"].cat.categories) == list(sim.truth.index)
    assert list(sim.truth.index[:3]) == ["Anthropology", "Biology", "Chemistry"]
    assert len(sim.truth) == 8
    assert sim.truth["n"].between(15, 25).all()
    assert sim.data["experience"].between(0, 25).all()


def test_faculty_many_departments_fall_back_to_numbered_names():
    sim = faculty_salaries(
        n_departments=len(simdata.DEPARTMENTS) + 2, faculty_per_department=2, seed=0
    )
    names = list(sim.truth.index)
    assert len(set(names)) == len(names)
    assert names[-1] == f"Department {len(simdata.DEPARTMENTS) + 2}"
    assert names[: len(simdata.DEPARTMENTS)] == list(simdata.DEPARTMENTS)


def test_faculty_truth_counts_match_data():
    sim = faculty_salaries(n_departments=12, seed=5)
    counts = sim.data["department"].value_counts(sort=False)
    pd.testing.assert_series_equal(
        counts.reindex(sim.truth.index), sim.truth["n"], check_names=False, check_dtype=False
    )


def test_faculty_same_int_seed_gives_identical_frames():
    a = faculty_salaries(seed=123)
    b = faculty_salaries(seed=123)
    pd.testing.assert_frame_equal(a.data, b.data)
    pd.testing.assert_frame_equal(a.truth, b.truth)
    assert dict(a.population) == dict(b.population)


def test_faculty_generator_seed_accepted_and_matches_int():
    a = faculty_salaries(seed=np.random.default_rng(99))
    b = faculty_salaries(seed=99)
    pd.testing.assert_frame_equal(a.data, b.data)


def test_faculty_different_seeds_differ():
    a = faculty_salaries(seed=1)
    b = faculty_salaries(seed=2)
    assert not a.truth["intercept"].equals(b.truth["intercept"])
    rng = np.random.default_rng(0)
    # Drawing twice from one generator gives two different data sets.
    assert not faculty_salaries(seed=rng).truth.equals(faculty_salaries(seed=rng).truth)


@pytest.mark.parametrize("rho", [-0.7, 0.0, 0.5])
def test_faculty_recovers_population_parameters(rho):
    n = 4000
    pop = dict(base_mean=55_000, base_sd=9_000, raise_mean=1_200, raise_sd=400, correlation=rho)
    sim = faculty_salaries(n_departments=n, faculty_per_department=2, seed=11, **pop)
    base, raise_ = sim.truth["intercept"], sim.truth["slope"]
    assert abs(base.mean() - pop["base_mean"]) < Z * se_mean(pop["base_sd"], n)
    assert abs(raise_.mean() - pop["raise_mean"]) < Z * se_mean(pop["raise_sd"], n)
    assert abs(base.std() - pop["base_sd"]) < Z * se_sd(pop["base_sd"], n)
    assert abs(raise_.std() - pop["raise_sd"]) < Z * se_sd(pop["raise_sd"], n)
    assert abs(np.corrcoef(base, raise_)[0, 1] - rho) < Z * se_corr(rho, n)


def test_faculty_noise_sd_recovered_from_residuals_around_true_lines():
    sim = faculty_salaries(n_departments=50, faculty_per_department=400, noise_sd=3_000, seed=4)
    line = sim.truth.loc[sim.data["department"].astype(str)]
    resid = sim.data["salary"].to_numpy() - (
        line["intercept"].to_numpy() + line["slope"].to_numpy() * sim.data["experience"].to_numpy()
    )
    n = len(resid)
    assert abs(resid.mean()) < Z * se_mean(3_000, n)
    assert abs(resid.std(ddof=0) - 3_000) < Z * se_sd(3_000, n)


def test_faculty_exact_recovery_by_ols_without_noise():
    sim = faculty_salaries(n_departments=30, faculty_per_department=(5, 40), noise_sd=0, seed=8)
    ols = per_group_ols(sim).reindex(sim.truth.index)
    np.testing.assert_allclose(ols["intercept"], sim.truth["intercept"], rtol=1e-9)
    np.testing.assert_allclose(ols["slope"], sim.truth["slope"], rtol=1e-9)


@pytest.mark.parametrize(
    ("zero", "column", "mean_name", "mean"),
    [("raise_sd", "slope", "raise_mean", 1_234.5), ("base_sd", "intercept", "base_mean", 41_000.0)],
)
def test_faculty_sd_zero_gives_identical_effects(zero, column, mean_name, mean):
    sim = faculty_salaries(n_departments=20, seed=3, correlation=0.6, **{zero: 0, mean_name: mean})
    assert (sim.truth[column] == mean).all()
    other = "intercept" if column == "slope" else "slope"
    assert sim.truth[other].nunique() == 20


def test_faculty_balanced_sizes():
    sim = faculty_salaries(n_departments=6, faculty_per_department=9, seed=0)
    assert (sim.truth["n"] == 9).all()
    assert len(sim.data) == 54


def test_faculty_unbalanced_range_sizes_cover_the_inclusive_range():
    sim = faculty_salaries(n_departments=500, faculty_per_department=(3, 6), seed=0)
    assert set(sim.truth["n"]) == {3, 4, 5, 6}
    assert len(sim.data) == sim.truth["n"].sum()


def test_faculty_explicit_sizes_respected_in_order():
    sizes = [3, 50, 1, 7]
    sim = faculty_salaries(n_departments=4, faculty_per_department=sizes, seed=0)
    assert sim.truth["n"].tolist() == sizes
    counts = sim.data["department"].value_counts(sort=False).reindex(sim.truth.index)
    assert counts.tolist() == sizes
    arr = faculty_salaries(n_departments=4, faculty_per_department=np.array(sizes), seed=0)
    assert arr.truth["n"].tolist() == sizes


def test_faculty_experience_is_uniform_over_inclusive_range():
    sim = faculty_salaries(
        n_departments=100, faculty_per_department=500, experience_range=(2, 7), seed=6
    )
    n = len(sim.data)
    freq = sim.data["experience"].value_counts(normalize=True).sort_index()
    assert freq.index.tolist() == [2, 3, 4, 5, 6, 7]
    p = 1 / 6
    assert (abs(freq - p) < Z * math.sqrt(p * (1 - p) / n)).all()


def test_faculty_single_experience_value_allowed():
    sim = faculty_salaries(experience_range=(5, 5), seed=0)
    assert (sim.data["experience"] == 5).all()


def test_faculty_correlation_plus_minus_one():
    sim = faculty_salaries(n_departments=50, correlation=-1.0, seed=2)
    assert np.corrcoef(sim.truth["intercept"], sim.truth["slope"])[0, 1] == pytest.approx(-1.0)


def test_faculty_population_is_read_only_and_records_parameters():
    sim = faculty_salaries(base_sd=1_000, correlation=0.25, seed=0)
    assert isinstance(sim.population, MappingProxyType)
    assert sim.population["base_sd"] == 1_000
    assert sim.population["correlation"] == 0.25
    assert sim.population["faculty_per_department"] == (15, 25)
    with pytest.raises(TypeError):
        sim.population["base_sd"] = 5  # type: ignore[index]


def test_simulated_data_is_frozen_and_survives_pandas_operations():
    sim = faculty_salaries(seed=0)
    with pytest.raises(AttributeError):
        sim.data = sim.data.head()  # type: ignore[misc]
    subset = sim.data.query("experience > 3").copy()
    assert subset is not sim.data
    assert sim.truth is not None and len(sim.truth) == 8
    assert "8 department groups" in repr(sim)
    text = sim.describe()
    assert "base_mean" in text and "Anthropology" in text
    assert str(sim) == text


def test_simulated_data_checks_column_names():
    sim = faculty_salaries(seed=0)
    with pytest.raises(ValueError, match="missing"):
        SimulatedData(
            data=sim.data,
            truth=sim.truth,
            population={},
            y="wage",
            x="experience",
            group="department",
        )


FACULTY_ERRORS = [
    ({"n_departments": 0}, "n_departments must be a positive integer, got 0"),
    ({"n_departments": -3}, "n_departments must be a positive integer, got -3"),
    ({"n_departments": 8.0}, "n_departments must be a positive integer, got 8.0"),
    ({"n_departments": True}, "n_departments must be a positive integer, got True"),
    ({"n_departments": "8"}, "n_departments must be a positive integer, got '8'"),
    ({"base_sd": -1}, "base_sd must be a non-negative finite number, got -1"),
    ({"raise_sd": -0.5}, "raise_sd must be a non-negative finite number, got -0.5"),
    ({"noise_sd": -5_000}, "noise_sd must be a non-negative finite number, got -5000"),
    ({"noise_sd": math.inf}, "noise_sd must be a non-negative finite number, got inf"),
    ({"base_sd": math.nan}, "base_sd must be a non-negative finite number, got nan"),
    ({"base_mean": math.nan}, "base_mean must be a finite number, got nan"),
    ({"raise_mean": -math.inf}, "raise_mean must be a finite number, got -inf"),
    ({"base_mean": True}, "base_mean must be a finite number, got True"),
    ({"correlation": 1.5}, r"correlation must be a number in \[-1, 1\], got 1.5"),
    ({"correlation": -1.01}, r"correlation must be a number in \[-1, 1\], got -1.01"),
    ({"correlation": math.nan}, r"correlation must be a number in \[-1, 1\], got nan"),
    (
        {"experience_range": (10, 5)},
        r"experience_range must be a pair of whole numbers \(low, high\) with 0 <= low <= high, got \(10, 5\)",
    ),
    ({"experience_range": ()}, r"experience_range must be a pair .*got \(\)"),
    ({"experience_range": (-1, 5)}, r"experience_range .*got \(-1, 5\)"),
    ({"experience_range": (0.5, 5)}, r"experience_range .*got \(0.5, 5\)"),
    ({"experience_range": 10}, r"experience_range .*got 10"),
    ({"faculty_per_department": 0}, "faculty_per_department must be a positive integer .*got 0"),
    ({"faculty_per_department": 10.0}, "faculty_per_department must be .*got 10.0"),
    ({"faculty_per_department": False}, "faculty_per_department must be .*got False"),
    ({"faculty_per_department": (0, 5)}, r"faculty_per_department must be .*got \(0, 5\)"),
    ({"faculty_per_department": (9, 3)}, r"faculty_per_department must be .*got \(9, 3\)"),
    ({"faculty_per_department": (3.0, 9)}, r"faculty_per_department must be .*got \(3.0, 9\)"),
    (
        {"faculty_per_department": [5] * 7},
        "faculty_per_department gives 7 sizes but there are 8 departments",
    ),
    ({"faculty_per_department": [5] * 7 + [0]}, r"faculty_per_department must be .*got \[5, 5"),
    ({"faculty_per_department": [5] * 7 + [2.5]}, r"faculty_per_department must be .*2.5\]"),
    ({"faculty_per_department": "abc"}, "faculty_per_department must be .*got 'abc'"),
    ({"seed": -4}, "seed must be a non-negative integer, got -4"),
    (
        {"seed": 3.5},
        "seed must be None, a non-negative integer or a numpy.random.Generator, got 3.5",
    ),
]


@pytest.mark.parametrize(("kwargs", "match"), FACULTY_ERRORS)
def test_faculty_validation_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        faculty_salaries(**kwargs)


def test_faculty_arguments_are_keyword_only():
    with pytest.raises(TypeError):
        faculty_salaries(8)  # type: ignore[misc]


def test_faculty_noise_sd_zero_and_numpy_scalars_allowed():
    sim = faculty_salaries(
        n_departments=np.int64(3), noise_sd=0, base_sd=np.float64(10.0), seed=np.int32(1)
    )
    assert len(sim.truth) == 3


def test_faculty_million_rows_shape():
    # Speed is measured by scripts/bench_simdata.py; this only checks the large case works.
    sim = faculty_salaries(n_departments=1_000, faculty_per_department=1_000, seed=0)
    assert len(sim.data) == 1_000_000
    assert sim.data["department"].cat.categories.size == 1_000
