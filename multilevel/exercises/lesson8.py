"""Lesson 8 exercise data: admitted or not, students nested in high schools."""

from __future__ import annotations

from simdata import SimulatedData, as_generator, school_admissions

#: The student the exercise asks about: GPA points and volunteer activities.
TYPICAL_GPA = 3.0
TYPICAL_VOLUNTEER = 2


def make_data(seed: int) -> SimulatedData:
    """Admissions in 15 to 25 schools; the effects and the spread of schools vary per student.

    The average school's intercept is set so that a student with GPA 3.0 and two activities
    there has log-odds between -0.5 and 0.5 (a probability of 38% to 62%): where the logistic
    curve is steep and the school a student attends matters most.
    """
    rng = as_generator(seed)
    gpa_effect = float(rng.integers(10, 21)) / 10
    volunteer_effect = float(rng.integers(2, 5)) / 10
    intercept_sd = float(rng.integers(6, 13)) / 10
    typical_log_odds = float(rng.integers(-5, 6)) / 10
    return school_admissions(
        n_schools=int(rng.integers(15, 26)),
        students_per_school=(30, 60),
        intercept_mean=typical_log_odds
        - TYPICAL_GPA * gpa_effect
        - TYPICAL_VOLUNTEER * volunteer_effect,
        intercept_sd=intercept_sd,
        gpa_effect=gpa_effect,
        volunteer_effect=volunteer_effect,
        seed=rng,
    )
