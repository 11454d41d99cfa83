"""Faculty salaries nested in university departments."""

from __future__ import annotations

from collections.abc import Sequence

from . import _validate as check
from ._common import group_names, linear_nested, sizes_as_given
from ._random import Seed, as_generator
from .result import SimulatedData

__all__ = ["DEPARTMENTS", "faculty_salaries"]

#: Readable department names, used in this order; more departments get "Department 41", ...
DEPARTMENTS: tuple[str, ...] = (
    "Anthropology",
    "Biology",
    "Chemistry",
    "Economics",
    "English",
    "History",
    "Mathematics",
    "Physics",
    "Philosophy",
    "Psychology",
    "Sociology",
    "Statistics",
    "Computer Science",
    "Political Science",
    "Linguistics",
    "Geography",
    "Geology",
    "Astronomy",
    "Music",
    "Art History",
    "Classics",
    "Education",
    "Nursing",
    "Public Health",
    "Law",
    "Architecture",
    "Civil Engineering",
    "Electrical Engineering",
    "Mechanical Engineering",
    "Chemical Engineering",
    "Business",
    "Journalism",
    "Theatre",
    "Film Studies",
    "Religious Studies",
    "Environmental Science",
    "Marine Biology",
    "Neuroscience",
    "Oceanography",
    "Social Work",
)


def faculty_salaries(
    *,
    n_departments: int = 8,
    faculty_per_department: int | tuple[int, int] | Sequence[int] = (15, 25),
    base_mean: float = 60_000,
    base_sd: float = 8_000,
    raise_mean: float = 1_500,
    raise_sd: float = 300,
    correlation: float = 0.0,
    noise_sd: float = 5_000,
    experience_range: tuple[int, int] = (0, 25),
    seed: Seed = None,
) -> SimulatedData:
    """Simulate faculty salaries nested in departments, with known truth.

    Each department ``j`` has a base salary (what it pays at 0 years of experience) and a raise
    (dollars per year of experience), drawn together from a bivariate normal. A faculty member
    ``i`` with ``experience_i`` whole years earns::

        salary_i = base_j[i] + raise_j[i] * experience_i + noise_i,  noise_i ~ Normal(0, noise_sd)

    One generator covers the three cases of the course: varying intercepts (``raise_sd=0``),
    varying slopes (``base_sd=0``) and both.

    Parameters
    ----------
    n_departments : int, default 8
        Number of departments (positive integer).
    faculty_per_department : int, tuple (low, high) or list of int, default (15, 25)
        An int gives every department that many faculty (balanced). A tuple ``(low, high)``
        draws each department's size uniformly from the inclusive range (unbalanced). A list
        gives each department's size explicitly (length ``n_departments``); a 2-tuple is
        always read as a range, so pass a list for two explicit sizes.
    base_mean, base_sd : float, default 60,000 and 8,000
        Mean and SD across departments of the base salary, in $ (the intercept at 0 years).
    raise_mean, raise_sd : float, default 1,500 and 300
        Mean and SD across departments of the yearly raise, in $ per year (the slope).
    correlation : float, default 0.0
        Correlation between a department's base and its raise, in [-1, 1].
    noise_sd : float, default 5,000
        SD of individual salaries around their department's line, in $. 0 puts every
        faculty member exactly on the line.
    experience_range : tuple (low, high), default (0, 25)
        Experience in whole years, drawn uniformly from the inclusive range.
    seed : int, numpy.random.Generator or None
        Same int, same data on every run (see :func:`simdata.as_generator`).

    Returns
    -------
    SimulatedData
        ``data`` has columns ``department`` (categorical, categories in the order of
        ``truth``), ``experience`` (int64, years) and ``salary`` (float64, $). ``truth`` is
        indexed by department with columns ``n`` (int64), ``intercept`` (the true base, $)
        and ``slope`` (the true raise, $/year). ``y="salary"``, ``x="experience"``,
        ``group="department"``.

    Raises
    ------
    ValueError
        If a parameter is out of range; the message names it, its value and what is allowed.

    Examples
    --------
    >>> sim = faculty_salaries(n_departments=3, faculty_per_department=4, seed=1)
    >>> sim.data.shape
    (12, 3)
    >>> sim.truth.index.tolist()
    ['Anthropology', 'Biology', 'Chemistry']
    """
    n_departments = check.positive_int("n_departments", n_departments)
    base_mean = check.finite_number("base_mean", base_mean)
    base_sd = check.non_negative("base_sd", base_sd)
    raise_mean = check.finite_number("raise_mean", raise_mean)
    raise_sd = check.non_negative("raise_sd", raise_sd)
    correlation = check.correlation("correlation", correlation)
    noise_sd = check.non_negative("noise_sd", noise_sd)
    experience_range = check.whole_range("experience_range", experience_range, minimum=0)
    rng = as_generator(seed)
    sizes = check.group_sizes(
        "faculty_per_department", faculty_per_department, n_departments, rng, noun="department"
    )

    data, truth = linear_nested(
        rng,
        names=group_names(n_departments, DEPARTMENTS, "Department"),
        sizes=sizes,
        group="department",
        x="experience",
        y="salary",
        intercept_mean=base_mean,
        intercept_sd=base_sd,
        slope_mean=raise_mean,
        slope_sd=raise_sd,
        correlation=correlation,
        noise_sd=noise_sd,
        x_range=experience_range,
    )
    population = {
        "base_mean": base_mean,
        "base_sd": base_sd,
        "raise_mean": raise_mean,
        "raise_sd": raise_sd,
        "correlation": correlation,
        "noise_sd": noise_sd,
        "n_departments": n_departments,
        "faculty_per_department": sizes_as_given(faculty_per_department),
        "experience_range": experience_range,
    }
    return SimulatedData(
        data=data,
        truth=truth,
        population=population,
        y="salary",
        x="experience",
        group="department",
        name="faculty_salaries",
    )
