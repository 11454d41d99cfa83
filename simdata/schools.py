"""College admissions of students nested in high schools (a yes/no outcome)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from . import validate as check
from ._common import group_column, group_names, sizes_as_given, truth_frame
from ._docstrings import simulator_doc
from ._random import Seed, as_generator
from .result import SimulatedData

__all__ = ["SCHOOLS", "school_admissions"]

# fmt: off
#: Readable school names, used in this order; more schools get "School 31", ...
SCHOOLS: tuple[str, ...] = (
    "Adams High", "Brookside High", "Central High", "Douglass High", "Eastwood High",
    "Franklin High", "Garfield High", "Hamilton High", "Irving High", "Jefferson High",
    "Kennedy High", "Lincoln High", "Madison High", "Northgate High", "Oak Ridge High",
    "Parkview High", "Quincy High", "Roosevelt High", "Southside High", "Truman High",
    "Union High", "Valley High", "Washington High", "Westlake High", "Wilson High",
    "Yorktown High", "Cedar Grove High", "Hillside High", "Lakeside High", "Riverside High",
)
# fmt: on

GPA_MAX = 4.0


@simulator_doc("school", "students")
def school_admissions(
    *,
    n_schools: int = 20,
    students_per_school: int | tuple[int, int] | Sequence[int] = (30, 60),
    intercept_mean: float = -5.0,
    intercept_sd: float = 1.0,
    gpa_effect: float = 1.5,
    volunteer_effect: float = 0.3,
    gpa_mean: float = 3.0,
    gpa_sd: float = 0.5,
    volunteer_mean: float = 2.0,
    seed: Seed = None,
) -> SimulatedData:
    """Simulate college admissions of students nested in high schools, with known truth.

    Each school ``j`` has its own intercept on the log-odds scale, drawn from
    ``Normal(intercept_mean, intercept_sd)``; GPA and volunteering have the same effect in
    every school. Student ``i`` is admitted (1) or not (0) with probability::

        log-odds_i = intercept_j[i] + gpa_effect * gpa_i + volunteer_effect * volunteer_i
        P(admitted_i = 1) = 1 / (1 + exp(-log-odds_i))

    The intercept is the log-odds of admission for a student with GPA 0 and no volunteer
    activities, an extrapolation: with the defaults a student with GPA 3.0 and 2 activities
    in an average school has log-odds 0.1, a probability of about 52%.

    Parameters
    ----------
    n_schools : int, default 20
        Number of high schools (positive integer).
    {sizes}
    intercept_mean, intercept_sd : float, default -5.0 and 1.0
        Mean and SD across schools of the intercept, in log-odds.
    gpa_effect : float, default 1.5
        Change in the log-odds of admission per GPA point (the same in every school).
    volunteer_effect : float, default 0.3
        Change in the log-odds of admission per volunteer activity.
    gpa_mean, gpa_sd : float, default 3.0 and 0.5
        Students' GPAs are drawn from ``Normal(gpa_mean, gpa_sd)``, clipped to the 0-4 scale
        and rounded to two decimals (GPA points). ``gpa_mean`` must lie in [0, 4].
    volunteer_mean : float, default 2.0
        Mean number of volunteer activities per student (Poisson counts).
    {seed}

    Returns
    -------
    SimulatedData
        ``data`` has columns ``school`` (categorical, categories in the order of ``truth``),
        ``gpa`` (float64, 0-4), ``volunteer`` (int64, count of activities) and ``admitted``
        (int64, 0 or 1). ``truth`` is indexed by school with columns ``n`` (int64),
        ``intercept`` (log-odds) and ``slope`` (the GPA effect, the same for every school).
        ``y="admitted"``, ``x="gpa"``, ``group="school"``.

    {raises}

    Examples
    --------
    >>> sim = school_admissions(n_schools=3, students_per_school=10, seed=1)
    >>> sim.data.columns.tolist()
    ['school', 'gpa', 'volunteer', 'admitted']
    >>> sorted(sim.data["admitted"].unique().tolist()) in ([0], [1], [0, 1])
    True
    """
    n_schools = check.positive_int("n_schools", n_schools)
    intercept_mean = check.finite_number("intercept_mean", intercept_mean)
    intercept_sd = check.non_negative("intercept_sd", intercept_sd)
    gpa_effect = check.finite_number("gpa_effect", gpa_effect)
    volunteer_effect = check.finite_number("volunteer_effect", volunteer_effect)
    gpa_mean = check.number_between("gpa_mean", gpa_mean, 0.0, GPA_MAX)
    gpa_sd = check.non_negative("gpa_sd", gpa_sd)
    volunteer_mean = check.non_negative("volunteer_mean", volunteer_mean)
    rng = as_generator(seed)
    sizes = check.group_sizes(
        "students_per_school", students_per_school, n_schools, rng, noun="school"
    )

    intercepts = intercept_mean + intercept_sd * rng.standard_normal(n_schools)
    if intercept_sd == 0:
        intercepts = np.full(n_schools, intercept_mean)  # exactly equal, no round-off
    names = group_names(n_schools, SCHOOLS, "School")
    school, codes = group_column(names, sizes)
    n_rows = len(codes)
    gpa = np.round(np.clip(rng.normal(gpa_mean, gpa_sd, size=n_rows), 0.0, GPA_MAX), 2)
    volunteer = rng.poisson(volunteer_mean, size=n_rows).astype(np.int64)
    log_odds = intercepts[codes] + gpa_effect * gpa + volunteer_effect * volunteer
    # exp(-log(1 + exp(-eta))) is the logistic function without overflow warnings.
    probability = np.exp(-np.logaddexp(0.0, -log_odds))
    admitted = (rng.random(n_rows) < probability).astype(np.int64)

    data = pd.DataFrame(
        {"school": school, "gpa": gpa, "volunteer": volunteer, "admitted": admitted}
    )
    truth = truth_frame(
        "school", names, sizes, intercept=intercepts, slope=np.full(n_schools, gpa_effect)
    )
    population = {
        "intercept_mean": intercept_mean,
        "intercept_sd": intercept_sd,
        "gpa_effect": gpa_effect,
        "volunteer_effect": volunteer_effect,
        "gpa_mean": gpa_mean,
        "gpa_sd": gpa_sd,
        "volunteer_mean": volunteer_mean,
        "n_schools": n_schools,
        "students_per_school": sizes_as_given(students_per_school),
    }
    return SimulatedData(
        data=data,
        truth=truth,
        population=population,
        y="admitted",
        x="gpa",
        group="school",
        name="school_admissions",
    )
