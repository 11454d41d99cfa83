"""Tests for simdata: each compares the simulated data with the truth it claims to carry.

Tolerances are multiples ``Z`` of a sampling standard error. With Z = 4 a correct generator
fails a given check with probability about 6e-5; a wrong mean, SD, correlation or link fails.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable
from types import MappingProxyType

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import simdata
from simdata import (
    SimulatedData,
    as_generator,
    faculty_salaries,
    hospital_patients,
    school_admissions,
)

Z = 4.0


def se_mean(sd: float, n: int) -> float:
    return sd / math.sqrt(n)


def se_sd(sd: float, n: int) -> float:
    # Large-sample SE of the SD of a normal sample.
    return sd / math.sqrt(2 * (n - 1))


def se_corr(rho: float, n: int) -> float:
    return (1 - rho**2) / math.sqrt(n - 1)


def logistic(eta: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-eta))


def per_group_ols(sim: SimulatedData) -> pd.DataFrame:
    """Intercept and slope of an OLS line per group, by numpy least squares."""
    rows = {}
    for name, part in sim.data.groupby(sim.group, observed=True):
        x = part[sim.x].to_numpy(dtype=float)
        design = np.column_stack([np.ones_like(x), x])
        coef, *_ = np.linalg.lstsq(design, part[sim.y].to_numpy(), rcond=None)
        rows[name] = coef
    return pd.DataFrame.from_dict(rows, orient="index", columns=["intercept", "slope"])


def true_line_residuals(sim: SimulatedData) -> np.ndarray:
    codes = sim.data[sim.group].cat.codes.to_numpy()
    a = sim.truth["intercept"].to_numpy()[codes]
    b = sim.truth["slope"].to_numpy()[codes]
    return sim.data[sim.y].to_numpy() - (a + b * sim.data[sim.x].to_numpy())


# --------------------------------------------------------------------------- as_generator


def test_as_generator_int_is_reproducible():
    assert as_generator(7).random() == as_generator(7).random()
    assert as_generator(7).random() != as_generator(8).random()


def test_as_generator_passes_generator_through():
    rng = np.random.default_rng(3)
    assert as_generator(rng) is rng


def test_as_generator_none_and_numpy_ints():
    assert isinstance(as_generator(None), np.random.Generator)
    assert as_generator(np.int64(5)).random() == as_generator(5).random()


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


# ------------------------------------------------- the two linear simulators, tested alike


@dataclasses.dataclass(frozen=True)
class Linear:
    """How a linear simulator names its arguments and columns."""

    func: Callable[..., SimulatedData]
    n: str
    size: str
    i_mean: str
    i_sd: str
    s_mean: str
    s_sd: str
    x_range: str
    group: str
    x: str
    y: str
    names: tuple[str, ...]
    fallback: str
    noun: str
    default_groups: int
    default_sizes: tuple[int, int]
    default_x_range: tuple[int, int]

    def __call__(self, **kwargs) -> SimulatedData:
        return self.func(**kwargs)


FACULTY = Linear(
    faculty_salaries,
    "n_departments",
    "faculty_per_department",
    "base_mean",
    "base_sd",
    "raise_mean",
    "raise_sd",
    "experience_range",
    "department",
    "experience",
    "salary",
    simdata.DEPARTMENTS,
    "Department",
    "department",
    8,
    (15, 25),
    (0, 25),
)
HOSPITAL = Linear(
    hospital_patients,
    "n_hospitals",
    "patients_per_hospital",
    "intercept_mean",
    "intercept_sd",
    "slope_mean",
    "slope_sd",
    "severity_range",
    "hospital",
    "severity",
    "recovery_days",
    simdata.HOSPITALS,
    "Hospital",
    "hospital",
    10,
    (20, 40),
    (0, 10),
)
linear = pytest.mark.parametrize("sim_spec", [FACULTY, HOSPITAL], ids=["faculty", "hospital"])


@linear
def test_linear_defaults_layout_and_dtypes(sim_spec):
    sim = sim_spec(seed=1)
    assert isinstance(sim, SimulatedData)
    assert (sim.y, sim.x, sim.group) == (sim_spec.y, sim_spec.x, sim_spec.group)
    assert list(sim.data.columns) == [sim_spec.group, sim_spec.x, sim_spec.y]
    assert isinstance(sim.data[sim.group].dtype, pd.CategoricalDtype)
    assert sim.data[sim.x].dtype == np.int64
    assert sim.data[sim.y].dtype == np.float64
    assert list(sim.truth.columns) == ["n", "intercept", "slope"]
    assert sim.truth["n"].dtype == np.int64
    assert sim.truth["intercept"].dtype == np.float64
    assert sim.truth["slope"].dtype == np.float64
    assert sim.truth.index.name == sim_spec.group
    # Categories follow the truth's order, and the names are the readable ones.
    assert list(sim.data[sim.group].cat.categories) == list(sim.truth.index)
    assert list(sim.truth.index) == list(sim_spec.names[: sim_spec.default_groups])
    assert len(sim.truth) == sim_spec.default_groups
    low, high = sim_spec.default_sizes
    assert sim.truth["n"].between(low, high).all()
    low, high = sim_spec.default_x_range
    assert sim.data[sim.x].between(low, high).all()


@linear
def test_linear_many_groups_fall_back_to_numbered_names(sim_spec):
    k = len(sim_spec.names)
    sim = sim_spec(**{sim_spec.n: k + 2, sim_spec.size: 2}, seed=0)
    names = list(sim.truth.index)
    assert len(set(names)) == len(names) == k + 2
    assert names[:k] == list(sim_spec.names)
    assert names[-2:] == [f"{sim_spec.fallback} {k + 1}", f"{sim_spec.fallback} {k + 2}"]


@linear
def test_linear_truth_counts_match_data(sim_spec):
    sim = sim_spec(**{sim_spec.n: 12}, seed=5)
    counts = sim.data[sim.group].value_counts(sort=False).reindex(sim.truth.index)
    assert counts.tolist() == sim.truth["n"].tolist()


@linear
def test_linear_same_int_seed_gives_identical_frames(sim_spec):
    a, b = sim_spec(seed=123), sim_spec(seed=123)
    pd.testing.assert_frame_equal(a.data, b.data)
    pd.testing.assert_frame_equal(a.truth, b.truth)
    assert dict(a.population) == dict(b.population)


@linear
def test_linear_generator_seed_accepted_and_matches_int(sim_spec):
    a = sim_spec(seed=np.random.default_rng(99))
    b = sim_spec(seed=99)
    pd.testing.assert_frame_equal(a.data, b.data)


@linear
def test_linear_different_seeds_differ(sim_spec):
    assert not sim_spec(seed=1).truth["intercept"].equals(sim_spec(seed=2).truth["intercept"])
    rng = np.random.default_rng(0)
    # Drawing twice from one generator gives two different data sets.
    assert not sim_spec(seed=rng).data.equals(sim_spec(seed=rng).data)


@linear
@pytest.mark.parametrize("rho", [-0.7, 0.0, 0.5])
def test_linear_recovers_population_parameters(sim_spec, rho):
    n = 4000
    i_mean, i_sd, s_mean, s_sd = 55.0, 9.0, -1.2, 0.4
    sim = sim_spec(
        **{
            sim_spec.n: n,
            sim_spec.size: 2,
            sim_spec.i_mean: i_mean,
            sim_spec.i_sd: i_sd,
            sim_spec.s_mean: s_mean,
            sim_spec.s_sd: s_sd,
        },
        correlation=rho,
        seed=11,
    )
    a, b = sim.truth["intercept"], sim.truth["slope"]
    assert abs(a.mean() - i_mean) < Z * se_mean(i_sd, n)
    assert abs(b.mean() - s_mean) < Z * se_mean(s_sd, n)
    assert abs(a.std() - i_sd) < Z * se_sd(i_sd, n)
    assert abs(b.std() - s_sd) < Z * se_sd(s_sd, n)
    assert abs(np.corrcoef(a, b)[0, 1] - rho) < Z * se_corr(rho, n)


@linear
def test_linear_noise_sd_recovered_from_residuals_around_true_lines(sim_spec):
    noise = 3.0
    sim = sim_spec(**{sim_spec.n: 50, sim_spec.size: 400}, noise_sd=noise, seed=4)
    resid = true_line_residuals(sim)
    n = len(resid)
    assert abs(resid.mean()) < Z * se_mean(noise, n)
    assert abs(resid.std(ddof=0) - noise) < Z * se_sd(noise, n)


@linear
def test_linear_exact_recovery_by_ols_without_noise(sim_spec):
    sim = sim_spec(**{sim_spec.n: 30, sim_spec.size: (5, 40)}, noise_sd=0, seed=8)
    # Every point lies exactly on its group's true line...
    assert np.all(true_line_residuals(sim) == 0)
    # ...so per-group least squares returns the true base and raise.
    ols = per_group_ols(sim).reindex(sim.truth.index)
    np.testing.assert_allclose(ols["intercept"], sim.truth["intercept"], rtol=1e-9)
    np.testing.assert_allclose(ols["slope"], sim.truth["slope"], rtol=1e-9)


@linear
@pytest.mark.parametrize("which", ["intercept", "slope"])
def test_linear_sd_zero_gives_identical_effects(sim_spec, which):
    sd_name, mean_name = (
        (sim_spec.i_sd, sim_spec.i_mean)
        if which == "intercept"
        else (sim_spec.s_sd, sim_spec.s_mean)
    )
    mean = 12.345
    sim = sim_spec(**{sim_spec.n: 20, sd_name: 0, mean_name: mean}, correlation=0.6, seed=3)
    assert (sim.truth[which] == mean).all()
    other = "slope" if which == "intercept" else "intercept"
    assert sim.truth[other].nunique() == 20


@linear
def test_linear_balanced_sizes(sim_spec):
    sim = sim_spec(**{sim_spec.n: 6, sim_spec.size: 9}, seed=0)
    assert (sim.truth["n"] == 9).all()
    assert len(sim.data) == 54


@linear
def test_linear_unbalanced_range_sizes_cover_the_inclusive_range(sim_spec):
    sim = sim_spec(**{sim_spec.n: 500, sim_spec.size: (3, 6)}, seed=0)
    assert set(sim.truth["n"]) == {3, 4, 5, 6}
    assert len(sim.data) == sim.truth["n"].sum()


@linear
def test_linear_explicit_sizes_respected_in_order(sim_spec):
    sizes = [3, 50, 1, 7]
    for given in (sizes, np.array(sizes), tuple(sizes)):
        sim = sim_spec(**{sim_spec.n: 4, sim_spec.size: given}, seed=0)
        assert sim.truth["n"].tolist() == sizes
        counts = sim.data[sim.group].value_counts(sort=False).reindex(sim.truth.index)
        assert counts.tolist() == sizes


@linear
def test_linear_x_is_uniform_over_inclusive_range(sim_spec):
    sim = sim_spec(**{sim_spec.n: 100, sim_spec.size: 500, sim_spec.x_range: (2, 7)}, seed=6)
    n = len(sim.data)
    freq = sim.data[sim.x].value_counts(normalize=True).sort_index()
    assert freq.index.tolist() == [2, 3, 4, 5, 6, 7]
    p = 1 / 6
    assert (abs(freq - p) < Z * math.sqrt(p * (1 - p) / n)).all()


@linear
def test_linear_single_x_value_allowed(sim_spec):
    sim = sim_spec(**{sim_spec.x_range: (5, 5)}, seed=0)
    assert (sim.data[sim.x] == 5).all()


@linear
@pytest.mark.parametrize("rho", [-1.0, 1.0])
def test_linear_correlation_plus_minus_one(sim_spec, rho):
    sim = sim_spec(**{sim_spec.n: 50}, correlation=rho, seed=2)
    assert np.corrcoef(sim.truth["intercept"], sim.truth["slope"])[0, 1] == pytest.approx(rho)


@linear
def test_linear_population_is_read_only_and_records_parameters(sim_spec):
    sim = sim_spec(**{sim_spec.i_sd: 1.25}, correlation=0.25, seed=0)
    assert isinstance(sim.population, MappingProxyType)
    assert sim.population[sim_spec.i_sd] == 1.25
    assert sim.population["correlation"] == 0.25
    assert sim.population[sim_spec.size] == sim_spec.default_sizes
    assert sim.population[sim_spec.x_range] == sim_spec.default_x_range
    with pytest.raises(TypeError):
        sim.population["correlation"] = 5  # type: ignore[index]


@linear
def test_linear_noise_sd_zero_and_numpy_scalars_allowed(sim_spec):
    sim = sim_spec(
        **{sim_spec.n: np.int64(3), sim_spec.i_sd: np.float64(10.0)}, noise_sd=0, seed=np.int32(1)
    )
    assert len(sim.truth) == 3


@linear
def test_linear_arguments_are_keyword_only(sim_spec):
    with pytest.raises(TypeError):
        sim_spec.func(8)


@linear
def test_linear_million_rows(sim_spec):
    # Speed is measured by scripts/bench_simdata.py; this only checks the large case works.
    sim = sim_spec(**{sim_spec.n: 1_000, sim_spec.size: 1_000}, seed=0)
    assert len(sim.data) == 1_000_000
    assert sim.data[sim.group].cat.categories.size == 1_000


def linear_errors(s: Linear) -> list[tuple[dict, str]]:
    """Every boundary check of a linear simulator, with the message it must give."""
    return [
        ({s.n: 0}, f"{s.n} must be a positive integer, got 0"),
        ({s.n: -3}, f"{s.n} must be a positive integer, got -3"),
        ({s.n: 8.0}, f"{s.n} must be a positive integer, got 8.0"),
        ({s.n: True}, f"{s.n} must be a positive integer, got True"),
        ({s.n: "8"}, f"{s.n} must be a positive integer, got '8'"),
        ({s.i_sd: -1}, f"{s.i_sd} must be a non-negative finite number, got -1"),
        ({s.s_sd: -0.5}, f"{s.s_sd} must be a non-negative finite number, got -0.5"),
        ({"noise_sd": -5}, "noise_sd must be a non-negative finite number, got -5"),
        ({"noise_sd": math.inf}, "noise_sd must be a non-negative finite number, got inf"),
        ({s.i_sd: math.nan}, f"{s.i_sd} must be a non-negative finite number, got nan"),
        ({s.i_mean: math.nan}, f"{s.i_mean} must be a finite number, got nan"),
        ({s.s_mean: -math.inf}, f"{s.s_mean} must be a finite number, got -inf"),
        ({s.i_mean: True}, f"{s.i_mean} must be a finite number, got True"),
        ({"correlation": 1.5}, r"correlation must be a number in \[-1, 1\], got 1.5"),
        ({"correlation": -1.01}, r"correlation must be a number in \[-1, 1\], got -1.01"),
        ({"correlation": math.nan}, r"correlation must be a number in \[-1, 1\], got nan"),
        (
            {s.x_range: (10, 5)},
            rf"{s.x_range} must be a pair of whole numbers \(low, high\) with 0 <= low <= high, "
            r"got \(10, 5\)",
        ),
        ({s.x_range: ()}, rf"{s.x_range} must be a pair .*got \(\)"),
        ({s.x_range: (-1, 5)}, rf"{s.x_range} .*got \(-1, 5\)"),
        ({s.x_range: (0.5, 5)}, rf"{s.x_range} .*got \(0.5, 5\)"),
        ({s.x_range: (0, math.nan)}, rf"{s.x_range} .*got \(0, nan\)"),
        ({s.x_range: 10}, rf"{s.x_range} .*got 10"),
        ({s.size: 0}, f"{s.size} must be a positive integer .*got 0"),
        ({s.size: 10.0}, f"{s.size} must be .*got 10.0"),
        ({s.size: False}, f"{s.size} must be .*got False"),
        ({s.size: (0, 5)}, rf"{s.size} must be .*got \(0, 5\)"),
        ({s.size: (9, 3)}, rf"{s.size} must be .*got \(9, 3\)"),
        ({s.size: (3.0, 9)}, rf"{s.size} must be .*got \(3.0, 9\)"),
        (
            {s.n: 8, s.size: [5] * 7},
            f"{s.size} gives 7 sizes but there are 8 {s.noun}s",
        ),
        ({s.n: 8, s.size: [5] * 7 + [0]}, rf"{s.size} must be .*got \[5, 5"),
        ({s.n: 8, s.size: [5] * 7 + [2.5]}, rf"{s.size} must be .*2.5\]"),
        ({s.size: "abc"}, f"{s.size} must be .*got 'abc'"),
        ({"seed": -4}, "seed must be a non-negative integer, got -4"),
        ({"seed": 3.5}, "seed must be None, a non-negative integer or a numpy.random.Generator"),
    ]


@pytest.mark.parametrize(
    ("sim_spec", "kwargs", "match"),
    [(s, kw, m) for s in (FACULTY, HOSPITAL) for kw, m in linear_errors(s)],
)
def test_linear_validation_errors(sim_spec, kwargs, match):
    with pytest.raises(ValueError, match=match):
        sim_spec(**kwargs)


# --------------------------------------------------------------------------- faculty_arrays


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"n_departments": 3, "faculty_per_department": 4, "noise_sd": 0.0},
        {"n_departments": 50, "faculty_per_department": (1, 9), "correlation": -0.6},
        {"faculty_per_department": [1, 2, 3, 4, 5, 6, 7, 8], "base_sd": 0, "raise_sd": 0},
        {"experience_range": (3, 3), "correlation": 1.0, "raise_mean": -200},
    ],
)
def test_faculty_arrays_are_faculty_salaries_numbers(settings):
    rng_a, rng_b = np.random.default_rng(11), np.random.default_rng(11)
    for seed_a, seed_b in [(7, 7), (rng_a, rng_b), (rng_a, rng_b)]:  # int, then one generator
        sim = faculty_salaries(**settings, seed=seed_a)
        sample = simdata.faculty_arrays(**settings, seed=seed_b)
        assert isinstance(sample, simdata.FacultyArrays)
        codes = sim.data["department"].cat.codes.to_numpy()
        np.testing.assert_array_equal(sample.department, codes)
        np.testing.assert_array_equal(sample.experience, sim.data["experience"].to_numpy())
        np.testing.assert_array_equal(sample.salary, sim.data["salary"].to_numpy())
        np.testing.assert_array_equal(sample.intercept, sim.truth["intercept"].to_numpy())
        np.testing.assert_array_equal(sample.slope, sim.truth["slope"].to_numpy())
        assert sample.experience.dtype == np.int64 and sample.salary.dtype == np.float64
    assert rng_a.bit_generator.state == rng_b.bit_generator.state


def test_faculty_arrays_salaries_lie_on_their_true_lines_without_noise():
    sample = simdata.faculty_arrays(n_departments=4, noise_sd=0, correlation=0.5, seed=3)
    d = sample.department
    expected = sample.intercept[d] + sample.slope[d] * sample.experience
    np.testing.assert_allclose(sample.salary, expected, rtol=1e-12)
    assert np.unique(d).tolist() == [0, 1, 2, 3]


def test_faculty_arrays_do_not_touch_pandas(monkeypatch):
    def no_pandas(*args, **kwargs):
        raise AssertionError("pandas was used")

    monkeypatch.setattr(pd, "DataFrame", no_pandas)
    monkeypatch.setattr(pd.Categorical, "from_codes", no_pandas)
    sample = simdata.faculty_arrays(n_departments=2, faculty_per_department=3, seed=0)
    assert sample.salary.shape == (6,)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_departments": 0}, ValueError, "n_departments must be a positive integer, got 0"),
        ({"raise_sd": -1}, ValueError, "raise_sd must be a non-negative finite number, got -1"),
        ({"seed": -1}, ValueError, "seed must be a non-negative integer, got -1"),
        ({"n_hospitals": 3}, TypeError, "n_hospitals"),
    ],
)
def test_faculty_arrays_validate_like_faculty_salaries(kwargs, error, match):
    with pytest.raises(error, match=match):
        simdata.faculty_arrays(**kwargs)


# --------------------------------------------------------------------------- faculty extras


def test_faculty_doc_example_names():
    sim = faculty_salaries(n_departments=3, faculty_per_department=4, seed=1)
    assert sim.truth.index.tolist() == ["Anthropology", "Biology", "Chemistry"]
    assert sim.population["base_mean"] == 60_000 and sim.population["raise_mean"] == 1_500


def test_simulated_data_is_frozen_and_describes_itself():
    sim = faculty_salaries(seed=0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        sim.data = sim.data.head()  # type: ignore[misc]
    assert "8 department groups" in repr(sim)
    assert "y='salary'" in repr(sim)
    text = sim.describe()
    assert "base_mean" in text and "Anthropology" in text
    assert str(sim) == text


def test_simulated_data_checks_column_names():
    sim = faculty_salaries(seed=0)
    with pytest.raises(ValueError, match=r"missing \['wage'\]"):
        SimulatedData(
            data=sim.data,
            truth=sim.truth,
            population={},
            y="wage",
            x="experience",
            group="department",
        )


def test_simulated_data_wraps_a_plain_dict_read_only():
    sim = faculty_salaries(seed=0)
    made = SimulatedData(
        data=sim.data,
        truth=sim.truth,
        population={"a": 1.0},
        y="salary",
        x="experience",
        group="department",
    )
    assert isinstance(made.population, MappingProxyType)


# --------------------------------------------------------------------------- schools


def admission_probability(sim: SimulatedData) -> np.ndarray:
    codes = sim.data["school"].cat.codes.to_numpy()
    eta = (
        sim.truth["intercept"].to_numpy()[codes]
        + sim.population["gpa_effect"] * sim.data["gpa"].to_numpy()
        + sim.population["volunteer_effect"] * sim.data["volunteer"].to_numpy()
    )
    return logistic(eta)


def test_schools_layout_and_dtypes():
    sim = school_admissions(seed=1)
    assert (sim.y, sim.x, sim.group) == ("admitted", "gpa", "school")
    assert list(sim.data.columns) == ["school", "gpa", "volunteer", "admitted"]
    assert isinstance(sim.data["school"].dtype, pd.CategoricalDtype)
    assert list(sim.data["school"].cat.categories) == list(sim.truth.index)
    assert sim.data["gpa"].dtype == np.float64
    assert sim.data["volunteer"].dtype == np.int64
    assert sim.data["admitted"].dtype == np.int64
    assert set(sim.data["admitted"].unique()) == {0, 1}
    assert sim.data["gpa"].between(0, 4).all()
    assert (sim.data["volunteer"] >= 0).all()
    assert list(sim.truth.columns) == ["n", "intercept", "slope"]
    assert sim.truth.index.name == "school"
    assert sim.truth["n"].dtype == np.int64
    assert list(sim.truth.index) == list(simdata.SCHOOLS[:20])
    assert sim.truth["n"].between(30, 60).all()
    assert (sim.truth["slope"] == sim.population["gpa_effect"]).all()
    counts = sim.data["school"].value_counts(sort=False).reindex(sim.truth.index)
    assert counts.tolist() == sim.truth["n"].tolist()
    for key in ("intercept_mean", "intercept_sd", "gpa_effect", "volunteer_effect"):
        assert key in sim.population
    # Defaults give a readable picture: neither almost everyone nor almost no one admitted.
    assert 0.3 < sim.data["admitted"].mean() < 0.7


def test_schools_reproducible_by_seed():
    a, b = school_admissions(seed=5), school_admissions(seed=5)
    pd.testing.assert_frame_equal(a.data, b.data)
    pd.testing.assert_frame_equal(a.truth, b.truth)
    pd.testing.assert_frame_equal(school_admissions(seed=np.random.default_rng(5)).data, a.data)
    assert not school_admissions(seed=6).data.equals(a.data)


def test_schools_recover_intercept_population():
    n = 4000
    sim = school_admissions(
        n_schools=n, students_per_school=1, intercept_mean=-2.0, intercept_sd=0.8, seed=2
    )
    a = sim.truth["intercept"]
    assert abs(a.mean() + 2.0) < Z * se_mean(0.8, n)
    assert abs(a.std() - 0.8) < Z * se_sd(0.8, n)


def test_schools_admission_rate_matches_true_probabilities():
    sim = school_admissions(n_schools=200, students_per_school=500, seed=3)
    p = admission_probability(sim)
    n = len(p)
    se = math.sqrt(np.sum(p * (1 - p))) / n
    assert abs(sim.data["admitted"].mean() - p.mean()) < Z * se
    # The link runs the right way: admission is likelier where the true probability is high.
    high = p > 0.8
    low = p < 0.2
    assert sim.data["admitted"][high].mean() > 0.8 - Z * 0.02
    assert sim.data["admitted"][low].mean() < 0.2 + Z * 0.02


def test_schools_logistic_glm_recovers_truth():
    sim = school_admissions(
        n_schools=25,
        students_per_school=2_000,
        intercept_mean=-4.0,
        intercept_sd=0.7,
        gpa_effect=1.2,
        volunteer_effect=0.25,
        seed=21,
    )
    codes = sim.data["school"].cat.codes.to_numpy()
    dummies = np.zeros((len(codes), sim.n_groups))
    dummies[np.arange(len(codes)), codes] = 1.0
    design = np.column_stack([dummies, sim.data["gpa"], sim.data["volunteer"]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = sm.GLM(sim.data["admitted"].to_numpy(), design, family=sm.families.Binomial()).fit()
    est, se = fit.params, fit.bse
    assert abs(est[-2] - 1.2) < Z * se[-2]
    assert abs(est[-1] - 0.25) < Z * se[-1]
    z_schools = (est[:-2] - sim.truth["intercept"].to_numpy()) / se[:-2]
    assert np.all(np.abs(z_schools) < Z)


def test_schools_intercept_sd_zero_gives_identical_intercepts():
    sim = school_admissions(n_schools=15, intercept_sd=0, intercept_mean=-3.3, seed=0)
    assert (sim.truth["intercept"] == -3.3).all()


@pytest.mark.parametrize(("intercept", "expected"), [(60.0, 1), (-60.0, 0)])
def test_schools_extreme_intercepts_admit_all_or_none(intercept, expected):
    sim = school_admissions(intercept_mean=intercept, intercept_sd=0, seed=0)
    assert (sim.data["admitted"] == expected).all()


def test_schools_gpa_distribution_clipping_and_rounding():
    n = 100_000
    sim = school_admissions(
        n_schools=100, students_per_school=1_000, gpa_mean=2.5, gpa_sd=0.3, seed=4
    )
    gpa = sim.data["gpa"]
    # Clipping is 8 SDs away here, rounding to 0.01 adds a negligible 0.003 SD.
    assert abs(gpa.mean() - 2.5) < Z * se_mean(0.3, n)
    assert abs(gpa.std() - 0.3) < Z * se_sd(0.3, n)
    np.testing.assert_allclose(gpa * 100, np.round(gpa * 100), atol=1e-9)
    clipped = school_admissions(
        n_schools=10, students_per_school=1_000, gpa_mean=4.0, gpa_sd=1.0, seed=4
    )
    at_top = (clipped.data["gpa"] == 4.0).mean()
    assert clipped.data["gpa"].between(0, 4).all()
    assert abs(at_top - 0.5) < Z * math.sqrt(0.25 / 10_000)


def test_schools_volunteer_counts():
    sim = school_admissions(n_schools=100, students_per_school=1_000, volunteer_mean=1.7, seed=9)
    v = sim.data["volunteer"]
    assert abs(v.mean() - 1.7) < Z * math.sqrt(1.7 / len(v))
    assert abs(v.var() - 1.7) < 0.05  # Poisson: variance equals mean
    assert (school_admissions(volunteer_mean=0, seed=0).data["volunteer"] == 0).all()


def test_schools_sizes_balanced_and_explicit():
    assert (school_admissions(n_schools=4, students_per_school=7, seed=0).truth["n"] == 7).all()
    sim = school_admissions(n_schools=3, students_per_school=[1, 9, 4], seed=0)
    assert sim.truth["n"].tolist() == [1, 9, 4]


SCHOOL_ERRORS = [
    ({"n_schools": 0}, "n_schools must be a positive integer, got 0"),
    ({"n_schools": 2.0}, "n_schools must be a positive integer, got 2.0"),
    ({"n_schools": True}, "n_schools must be a positive integer, got True"),
    ({"intercept_sd": -1}, "intercept_sd must be a non-negative finite number, got -1"),
    ({"intercept_mean": math.inf}, "intercept_mean must be a finite number, got inf"),
    ({"gpa_effect": math.nan}, "gpa_effect must be a finite number, got nan"),
    ({"volunteer_effect": "big"}, "volunteer_effect must be a finite number, got 'big'"),
    ({"gpa_mean": 4.5}, r"gpa_mean must be a number in \[0, 4\], got 4.5"),
    ({"gpa_mean": -0.1}, r"gpa_mean must be a number in \[0, 4\], got -0.1"),
    ({"gpa_sd": -0.2}, "gpa_sd must be a non-negative finite number, got -0.2"),
    ({"gpa_sd": math.nan}, "gpa_sd must be a non-negative finite number, got nan"),
    ({"volunteer_mean": -1}, "volunteer_mean must be a non-negative finite number, got -1"),
    ({"students_per_school": 0}, "students_per_school must be a positive integer .*got 0"),
    ({"students_per_school": (5, 2)}, r"students_per_school must be .*got \(5, 2\)"),
    (
        {"n_schools": 3, "students_per_school": [5, 5]},
        "students_per_school gives 2 sizes but there are 3 schools",
    ),
    ({"seed": False}, "seed must be None, a non-negative integer or a numpy.random.Generator"),
]


@pytest.mark.parametrize(("kwargs", "match"), SCHOOL_ERRORS)
def test_schools_validation_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        school_admissions(**kwargs)


def test_schools_million_rows():
    sim = school_admissions(n_schools=1_000, students_per_school=1_000, seed=0)
    assert len(sim.data) == 1_000_000


# --------------------------------------------------------------------------- hospitals extras


def test_hospital_defaults_are_plausible_recovery_times():
    sim = hospital_patients(n_hospitals=200, seed=0)
    # Days, mostly positive: a negative recovery time must be rare with the defaults.
    assert (sim.data["recovery_days"] < 0).mean() < 0.01
    assert sim.population["intercept_mean"] == 7.0


def test_validator_is_public_and_names_the_parameter():
    assert simdata.validate.positive_int("n", 3) == 3
    assert simdata.validate.positive_number("prior_sd", 2) == 2.0
    for bad in (0, -1.0, float("nan"), True, "1"):
        with pytest.raises(ValueError, match="prior_sd must be a positive number"):
            simdata.validate.positive_number("prior_sd", bad)


def test_is_simulated_data_recognises_the_shape_not_the_class():
    sim = faculty_salaries(seed=1)
    assert simdata.is_simulated_data(sim)
    assert not simdata.is_simulated_data(sim.data)
    copy = type(
        "Old",
        (),
        {
            "data": sim.data,
            "truth": sim.truth,
            "y": "salary",
            "x": "experience",
            "group": "department",
        },
    )()
    assert simdata.is_simulated_data(copy)
