"""Lesson 3 exercise: varying slopes (each department its own raise).

The answer key (questions, reference solution, typical mistakes): hidden from notebooks
while they are graded.
"""

from __future__ import annotations

import multilevel as ml
from simdata import SimulatedData

from ..feedback import ExerciseSpec, Mistake, Question, Solution
from ..lesson3 import make_data
from ._common import choice, sd_mistakes

FOCUS = "Chemistry"
YEARS = 10

QUESTIONS = (
    Question(
        "q1",
        2,
        "Fit the varying-slopes model. What is its estimate of the department SD of the "
        "yearly raise, in dollars per year?",
        unit="$ per year",
        rel_tol=0.01,
    ),
    Question(
        "q2",
        1,
        "What is the model's average raise over departments (the fixed slope), in dollars per year?",
        unit="$ per year",
        rel_tol=0.002,
    ),
    Question(
        "q3",
        2,
        f"What is the model's estimate of the raise in {FOCUS}, in dollars per year?",
        unit="$ per year",
        rel_tol=0.002,
    ),
    Question(
        "q4",
        2,
        f"What salary does the model predict for someone in {FOCUS} with {YEARS} years of "
        "experience, in dollars?",
        unit="$",
        rel_tol=0.001,
    ),
    choice(
        "q5",
        1,
        "In the varying-slopes model, what do all departments share?",
        right="The base salary at 0 years of experience (the intercept).",
        wrong=[
            (
                "The raise per year of experience (the slope).",
                "The raise is what varies in this model: each department has its own slope.",
            ),
            (
                "Both the base salary and the raise.",
                "Then it would be complete pooling; here the slope varies by department.",
            ),
            (
                "Nothing: every part of the line varies.",
                "That would be varying intercepts and slopes (lesson 4).",
            ),
        ],
        at="D",
    ),
)


def solve(sim: SimulatedData) -> Solution:
    """The reference solution."""
    res = ml.fit(sim, model="varying_slopes")
    no_pool = ml.fit(sim, model="no_pooling", varying="slopes")
    sd = float(res.group_sd["slope"])
    slope = float(res.fixed_effects.loc["slope", "estimate"])
    return Solution(
        answers={
            "q1": sd,
            "q2": slope,
            "q3": res.group_lines.loc[FOCUS, "slope"],
            "q4": res.predict([YEARS], group=FOCUS)[0],
        },
        mistakes={
            "q1": sd_mistakes(
                sd,
                no_pooling=no_pool.group_lines["slope"],
                truth=float(sim.population["raise_sd"]),
                what="slopes",
            ),
            "q2": [
                Mistake(
                    no_pool.group_lines["slope"].mean(),
                    "That is the mean of the separate (no-pooling) slopes; give the model's "
                    "fixed slope.",
                ),
                Mistake(sd, "That is the department SD of the raise, not the average raise."),
            ],
            "q3": [
                Mistake(
                    res.random_effects.loc[FOCUS, "slope"],
                    f"That is {FOCUS}'s deviation from the average raise; add the fixed slope.",
                ),
                Mistake(slope, "That is the average raise over all departments (fixed slope)."),
                Mistake(
                    no_pool.group_lines.loc[FOCUS, "slope"],
                    f"That is {FOCUS}'s separate (no-pooling) slope; use the multilevel model.",
                ),
                Mistake(
                    sim.truth.loc[FOCUS, "slope"],
                    "That is the true raise used to simulate; give the model's estimate.",
                ),
            ],
            "q4": [
                Mistake(
                    res.predict([YEARS])[0],
                    "That is the prediction of the average line (a new department); use "
                    f"{FOCUS}'s own line: res.predict(..., group=...).",
                )
            ],
        },
    )


SPEC = ExerciseSpec(
    name="lesson3", title="Varying slopes", questions=QUESTIONS, make_data=make_data, solve=solve
)
