"""Lesson 6 exercise: using a fitted model (existing vs new departments, centring).

The answer key (questions, reference solution, typical mistakes): hidden from notebooks
while they are graded.
"""

from __future__ import annotations

import multilevel as ml
from simdata import SimulatedData

from ..feedback import Mistake, Question, Solution
from ._common import choice, exercise_spec

FOCUS = "Chemistry"
YEARS = 12

QUESTIONS = (
    Question(
        "q1",
        2,
        f"Fit the varying-intercepts model. What salary does it predict for someone in {FOCUS} "
        f"with {YEARS} years of experience, in dollars?",
        unit="$",
        rel_tol=0.001,
    ),
    Question(
        "q2",
        2,
        f"What salary does it predict for someone with {YEARS} years of experience in a new "
        "department that is not in the data, in dollars?",
        unit="$",
        rel_tol=0.001,
    ),
    choice(
        "q3",
        1,
        "Which of the two predictions is more uncertain, and why?",
        right="The new department's: its base salary is unknown and could lie anywhere in "
        "the spread of department bases.",
        wrong=[
            (
                f"{FOCUS}'s: it has less data than the whole university.",
                f"{FOCUS}'s own data pin down its base salary; a new department has none.",
            ),
            (
                "Both are equally uncertain: they use the same raise.",
                "They share the raise, but the new department's base is unknown.",
            ),
            (
                "The new department's, because its raise is larger.",
                "In this model every department has the same raise.",
            ),
        ],
        at="A",
    ),
    Question(
        "q4",
        1,
        "Refit with experience centred at its mean (center=True). By how many years is "
        "experience shifted (the value subtracted)?",
        unit="years",
        abs_tol=0.01,
    ),
    Question(
        "q5",
        2,
        "What is the fixed intercept of the centred model, in dollars?",
        unit="$",
        rel_tol=0.001,
    ),
    choice(
        "q6",
        1,
        "What does the centred model's intercept mean?",
        right="The expected salary of someone with average experience in a typical department.",
        wrong=[
            (
                "The expected salary of someone with 0 years of experience.",
                "That is the intercept of the uncentred model.",
            ),
            (
                "The average raise per year of experience.",
                "That is the slope, which centring does not change.",
            ),
            (
                "The salary of the most experienced faculty member.",
                "Centring moves the zero of experience to its mean, not to its maximum.",
            ),
        ],
        at="C",
    ),
)


def solve(sim: SimulatedData) -> Solution:
    """The reference solution."""
    res = ml.fit(sim, model="varying_intercepts")
    centred = ml.fit(sim, model="varying_intercepts", center=True)
    pooled = ml.fit(sim, model="complete_pooling")
    existing = float(res.predict([YEARS], group=FOCUS)[0])
    new = float(res.predict([YEARS])[0])
    return Solution(
        answers={
            "q1": existing,
            "q2": new,
            "q4": centred.center,
            "q5": centred.fixed_effects.loc["intercept", "estimate"],
        },
        mistakes={
            "q1": [
                Mistake(
                    new,
                    "That is the prediction for a new department (the average line); use "
                    f"{FOCUS}'s own line: res.predict(..., group=...).",
                ),
                Mistake(
                    pooled.predict([YEARS])[0],
                    "That is the complete-pooling prediction; use the varying-intercepts model.",
                ),
            ],
            "q2": [
                Mistake(
                    existing,
                    f"That is {FOCUS}'s prediction. A new department has no base salary of its "
                    "own in the model: use the average line (group=None).",
                ),
                Mistake(
                    pooled.predict([YEARS])[0],
                    "That is the complete-pooling prediction; use the varying-intercepts model.",
                ),
            ],
            "q4": [
                Mistake(
                    sim.data["experience"].median(),
                    "That is the median experience; centring subtracts the mean.",
                )
            ],
            "q5": [
                Mistake(
                    res.fixed_effects.loc["intercept", "estimate"],
                    "That is the intercept of the uncentred model (salary at 0 years).",
                )
            ],
        },
    )


SPEC = exercise_spec(__name__, "Using a fitted model: prediction and centring", QUESTIONS, solve)
