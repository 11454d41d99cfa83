"""Each student's data for every exercise: one recipe per lesson, drawn from the student's seed.

A recipe names a simulator and gives each of its settings either as a constant or as a range
that every student draws their own value from. The draws are made in the recipe's order, from
the generator that then simulates the data, so a seed always gives the same data. The order is
part of the data: reordering a recipe's lines changes every student's numbers.

Lesson 7 uses the real radon survey instead (:func:`radon_counties`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from multilevel.datasets import radon
from simdata import (
    SimulatedData,
    as_generator,
    faculty_salaries,
    school_admissions,
)

__all__ = [
    "DATA",
    "FACULTY",
    "N_COUNTIES",
    "RECIPES",
    "TYPICAL_GPA",
    "TYPICAL_VOLUNTEER",
    "URANIUM_MODEL",
    "Recipe",
    "radon_counties",
]


@dataclass(frozen=True)
class Steps:
    """A float drawn uniformly from the whole numbers ``low`` to ``high`` (inclusive), then
    ``* times / per``: ``Steps(50, 70, times=1_000)`` is $50,000 to $70,000 in steps of $1,000,
    ``Steps(10, 20, per=10)`` is 1.0 to 2.0 in tenths (divided, so that 3 tenths is 0.3)."""

    low: int
    high: int
    times: int = 1
    per: int = 1

    def draw(self, rng: np.random.Generator, drawn: Mapping[str, Any]) -> float:
        return float(rng.integers(self.low, self.high + 1)) * self.times / self.per


@dataclass(frozen=True)
class Count:
    """A whole number drawn uniformly from ``low`` to ``high`` (inclusive)."""

    low: int
    high: int

    def draw(self, rng: np.random.Generator, drawn: Mapping[str, Any]) -> int:
        return int(rng.integers(self.low, self.high + 1))


@dataclass(frozen=True)
class Rounded:
    """A float drawn uniformly between ``low`` and ``high``, rounded to ``digits`` decimals."""

    low: float
    high: float
    digits: int

    def draw(self, rng: np.random.Generator, drawn: Mapping[str, Any]) -> float:
        return round(float(rng.uniform(self.low, self.high)), self.digits)


@dataclass(frozen=True)
class DistinctSizes:
    """Group sizes, all different, from ``low`` to ``high``: as many as the setting ``count``
    drawn before them says."""

    low: int
    high: int
    count: str

    def draw(self, rng: np.random.Generator, drawn: Mapping[str, Any]) -> list[int]:
        sizes = rng.choice(
            np.arange(self.low, self.high + 1), size=drawn[self.count], replace=False
        )
        return [int(s) for s in sizes]


Draw = Steps | Count | Rounded | DistinctSizes


@dataclass(frozen=True)
class Recipe:
    """How one exercise's data are made: a simulator and its settings, constant or drawn.

    Attributes
    ----------
    simulate : callable
        The simulator, called with the settings as keywords and ``seed=`` the generator.
    settings : Mapping
        Setting name -> a constant, or a draw (:class:`Steps`, :class:`Count`,
        :class:`Rounded`, :class:`DistinctSizes`), drawn in this order.
    then : callable, optional
        Turns the drawn settings into the simulator's keywords, where a drawn value is not one.
    """

    simulate: Callable[..., SimulatedData]
    settings: Mapping[str, Any]
    then: Callable[[dict[str, Any]], dict[str, Any]] | None = field(default=None)

    def make_data(self, seed: int) -> SimulatedData:
        """The data of the student whose seed this is."""
        rng = as_generator(seed)
        drawn: dict[str, Any] = {}
        for name, setting in self.settings.items():
            drawn[name] = setting.draw(rng, drawn) if isinstance(setting, Draw) else setting
        if self.then is not None:
            drawn = self.then(drawn)
        return self.simulate(**drawn, seed=rng)


#: The columns of :data:`FACULTY` that students draw from, and the unit a (low, high) cell
#: counts in: base salaries and residual SDs in $1,000, raises in $100 a year.
FACULTY_UNITS = {
    "base_mean": 1_000,
    "base_sd": 1_000,
    "raise_mean": 100,
    "raise_sd": 100,
    "noise_sd": 1_000,
}

# The faculty-salary lessons, a row each. In a drawn column a (low, high) pair is a range that
# each student draws their own whole number of units from (inclusive); a number is the same for
# every student; None leaves faculty_salaries' default. "Faculty each" and the last column are
# passed on as they are (a draw object in them is drawn too). Values are drawn in the order of
# faculty_salaries' keywords, and that order is part of every student's data.
# fmt: off
FACULTY: dict[str, tuple[Any, ...]] = {
    #            depart-   faculty   base      base     raise     raise    noise    other
    #            ments     each      mean      SD       mean      SD       SD
    #                                ($1,000)  ($1,000) ($100/yr) ($100/yr) ($1,000)
    # Lesson 1: the number of departments and the spread of pay vary per student.
    "lesson1": ((5, 10),  (8, 30),  (50, 70), (5, 10), (10, 20), (2, 4),  None,    {}),
    # Lesson 2: varying intercepts only; sizes and spreads vary per student.
    "lesson2": ((8, 14),  (10, 30), (50, 70), (5, 12), (10, 20), 0,       (4, 7),  {}),
    # Lesson 3: varying slopes only.
    "lesson3": ((8, 14),  (12, 30), (45, 65), 0,       (10, 25), (3, 6),  (3, 5),  {}),
    # Lesson 4: bases and raises both vary, with a per-student correlation.
    "lesson4": ((10, 16), (15, 35), (50, 70), (5, 10), (10, 20), (3, 5),  (3, 5),
                {"correlation": Rounded(-0.6, 0.6, digits=1)}),
    # Lesson 5: unbalanced departments of distinct sizes (2 to 40 faculty), noisy salaries.
    "lesson5": ((8, 12), DistinctSizes(2, 40, count="n_departments"),
                                    (50, 70), (4, 8),  (10, 20), 0,       (8, 12), {}),
    # Lesson 6: varying intercepts; experience up to 30 years.
    "lesson6": ((8, 12),  (10, 30), (50, 70), (6, 10), (10, 20), 0,       (4, 6),
                {"experience_range": (0, 30)}),
    # Lesson 9: raises vary ($400 to $800 a year), so that varying intercepts alone misfit.
    "lesson9": ((8, 12),  (15, 30), (50, 70), (5, 10), (10, 20), (4, 8),  (3, 5),  {}),
}
# fmt: on


def _faculty_recipe(row: tuple[Any, ...]) -> Recipe:
    """The recipe of one row of :data:`FACULTY`, its settings in faculty_salaries' order."""
    departments, sizes, *drawn, other = row
    given = {
        "n_departments": Count(*departments),
        "faculty_per_department": sizes,
        **{
            name: Steps(*cell, times=unit) if isinstance(cell, tuple) else cell
            for (name, unit), cell in zip(FACULTY_UNITS.items(), drawn, strict=True)
        },
        **other,
    }
    order = inspect.signature(faculty_salaries).parameters
    return Recipe(faculty_salaries, {k: given[k] for k in order if given.get(k) is not None})


#: The student the lesson 8 exercise asks about: GPA points and volunteer activities.
TYPICAL_GPA = 3.0
TYPICAL_VOLUNTEER = 2


def _typical_student_intercept(drawn: dict[str, Any]) -> dict[str, Any]:
    """Lesson 8: the average school's intercept, from the log-odds of the typical student."""
    settings = dict(drawn)
    typical_log_odds = settings.pop("typical_log_odds")
    settings["intercept_mean"] = (
        typical_log_odds
        - TYPICAL_GPA * settings["gpa_effect"]
        - TYPICAL_VOLUNTEER * settings["volunteer_effect"]
    )
    return settings


#: Exercise name -> its recipe (lesson 7 is real data: :func:`radon_counties`).
RECIPES: dict[str, Recipe] = {
    **{name: _faculty_recipe(row) for name, row in FACULTY.items()},
    # Lesson 8: admissions in 15 to 25 schools; the effects (in tenths) and the spread of
    # schools vary per student. The average school's intercept puts a student with GPA 3.0 and
    # two activities there at log-odds -0.5 to 0.5 (a probability of 38% to 62%): where the
    # logistic curve is steep and the school a student attends matters most.
    "lesson8": Recipe(
        school_admissions,
        {
            "gpa_effect": Steps(10, 20, per=10),
            "volunteer_effect": Steps(2, 4, per=10),
            "intercept_sd": Steps(6, 12, per=10),
            "typical_log_odds": Steps(-5, 5, per=10),
            "n_schools": Count(15, 25),
            "students_per_school": (30, 60),
        },
        then=_typical_student_intercept,
    ),
}

#: How many of the survey's 85 counties a student gets in lesson 7 (inclusive).
N_COUNTIES = (70, 80)
#: The model whose county SD must not be estimated at zero (see :func:`radon_counties`).
URANIUM_MODEL = "log_radon ~ floor + log_uranium + (1 | county)"


def radon_counties(seed: int) -> pd.DataFrame:
    """Lesson 7: every home of a random sample of 70 to 80 of the survey's 85 counties.

    Real data, so there is no truth to compare with; each student's sample of counties is
    their own. About one sample in 300 puts the county SD of the model with log uranium at
    zero (a boundary fit, where a share of the county variance explained means nothing); such
    a sample is drawn again from the same generator, so the data still follow from the seed.

    Parameters
    ----------
    seed : int
        The student's seed (:func:`multilevel.exercises.feedback.student_seed`).

    Returns
    -------
    pandas.DataFrame
        One row per home, as :func:`multilevel.datasets.radon` (``county`` categorical with
        only the sampled counties, ``floor``, ``log_radon``, ``log_uranium``), index 0, 1, ...
    """
    from multilevel.models import fit  # the model layer, only when a student's data are made

    rng = as_generator(seed)
    homes = radon()
    counties = np.asarray(homes["county"].cat.categories)
    while True:
        size = int(rng.integers(N_COUNTIES[0], N_COUNTIES[1] + 1))
        chosen = rng.choice(counties, size=size, replace=False)
        sample = homes[homes["county"].isin(chosen)].reset_index(drop=True)
        sample["county"] = sample["county"].cat.remove_unused_categories()
        if not fit(URANIUM_MODEL, sample).boundary:
            return sample


def _data_maker(name: str, recipe: Recipe) -> Callable[[int], SimulatedData]:
    """``make_data(seed)`` of one exercise: a function (not the recipe's bound method), so that
    the grader's key fingerprint reads this file and a changed recipe regrades."""

    def make_data(seed: int) -> SimulatedData:
        return recipe.make_data(seed)

    make_data.__qualname__ = make_data.__name__ = f"make_{name}_data"
    make_data.__doc__ = f"The student's data for {name}, from ``RECIPES[{name!r}]``."
    return make_data


#: Exercise name -> ``make_data(seed)`` (public: a graded notebook needs its data).
DATA: dict[str, Callable[[int], Any]] = {
    name: radon_counties if name == "lesson7" else _data_maker(name, RECIPES[name])
    for name in sorted([*RECIPES, "lesson7"])
}
