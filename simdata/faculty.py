"""Faculty salaries nested in university departments."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Sequence

import numpy as np

from ._docstrings import simulator_doc
from ._lines import LineModel, simulate_lines
from ._random import Seed
from .result import SimulatedData

__all__ = ["DEPARTMENTS", "FacultyArrays", "faculty_arrays", "faculty_salaries"]

# fmt: off
#: Readable department names, used in this order; more departments get "Department 41", ...
DEPARTMENTS: tuple[str, ...] = (
    "Anthropology", "Biology", "Chemistry", "Economics", "English", "History", "Mathematics",
    "Physics", "Philosophy", "Psychology", "Sociology", "Statistics", "Computer Science",
    "Political Science", "Linguistics", "Geography", "Geology", "Astronomy", "Music",
    "Art History", "Classics", "Education", "Nursing", "Public Health", "Law", "Architecture",
    "Civil Engineering", "Electrical Engineering", "Mechanical Engineering",
    "Chemical Engineering", "Business", "Journalism", "Theatre", "Film Studies",
    "Religious Studies", "Environmental Science", "Marine Biology", "Neuroscience",
    "Oceanography", "Social Work",
)
# fmt: on

FACULTY = LineModel(
    "faculty_salaries",
    group=("department", "faculty_per_department", DEPARTMENTS),  # column, sizes, names
    line=("experience", "salary", "base", "raise"),  # x, y; intercept and slope prefixes
)


@simulator_doc("department", "faculty")
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
    {sizes}
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
    {seed}

    Returns
    -------
    SimulatedData
        ``data`` has columns ``department`` (categorical, categories in the order of
        ``truth``), ``experience`` (int64, years) and ``salary`` (float64, $). ``truth`` is
        indexed by department with columns ``n`` (int64), ``intercept`` (the true base, $)
        and ``slope`` (the true raise, $/year). ``y="salary"``, ``x="experience"``,
        ``group="department"``.

    {raises}

    Examples
    --------
    >>> sim = faculty_salaries(n_departments=3, faculty_per_department=4, seed=1)
    >>> sim.data.shape
    (12, 3)
    >>> sim.truth.index.tolist()
    ['Anthropology', 'Biology', 'Chemistry']
    """
    # locals() here is exactly the arguments, by the names FACULTY gives.
    return simulate_lines(FACULTY, locals()).simulated_data()


@dataclasses.dataclass(frozen=True, eq=False)
class FacultyArrays:
    """One sample of :func:`faculty_salaries` as plain numpy arrays, without pandas.

    Attributes
    ----------
    department : numpy.ndarray of int
        Each faculty member's department, as a 0-based position in the departments
        (``faculty_salaries(...).truth`` row order: ``DEPARTMENTS`` order).
    experience : numpy.ndarray of int64
        Each faculty member's experience, in years.
    salary : numpy.ndarray of float64
        Each faculty member's salary, in $.
    intercept, slope : numpy.ndarray of float64
        Per department: the true base salary ($, at 0 years) and the true raise ($ per year).
    """

    department: np.ndarray
    experience: np.ndarray
    salary: np.ndarray
    intercept: np.ndarray
    slope: np.ndarray


_SIGNATURE = inspect.signature(faculty_salaries)


def faculty_arrays(*, seed: Seed = None, **settings: object) -> FacultyArrays:
    """The numbers of :func:`faculty_salaries`, as numpy arrays and without pandas.

    For code that draws many samples fast or away from the main thread (pandas is neither
    needed nor touched). For the same ``seed`` and settings the numbers are exactly those of
    ``faculty_salaries``, and a ``Generator`` seed is advanced by exactly the same draws, so
    successive samples from one generator match successive ``faculty_salaries`` calls too.

    Parameters
    ----------
    seed : int, numpy.random.Generator or None
        Same int, same data on every run (see :func:`simdata.as_generator`).
    **settings
        Any keyword arguments of :func:`faculty_salaries` (``n_departments``,
        ``faculty_per_department``, ``base_mean``, ... in the same units); the ones left out
        take its defaults.

    Returns
    -------
    FacultyArrays
        ``department`` (codes), ``experience`` (years) and ``salary`` ($) per faculty member;
        ``intercept`` and ``slope`` (the truth) per department.

    Raises
    ------
    ValueError
        If a setting is out of range, with the same message as ``faculty_salaries``.
    TypeError
        If a setting is not a parameter of ``faculty_salaries``.

    Examples
    --------
    >>> sample = faculty_arrays(n_departments=2, faculty_per_department=3, seed=1)
    >>> sample.department.tolist(), sample.experience.dtype.name, sample.slope.shape
    ([0, 0, 0, 1, 1, 1], 'int64', (2,))
    >>> sim = faculty_salaries(n_departments=2, faculty_per_department=3, seed=1)
    >>> bool((sim.data["salary"].to_numpy() == sample.salary).all())
    True
    """
    arguments = _SIGNATURE.bind(**settings, seed=seed)
    arguments.apply_defaults()
    lines = simulate_lines(FACULTY, arguments.arguments)
    return FacultyArrays(lines.codes, lines.x, lines.y, lines.intercepts, lines.slopes)
