"""Lesson 3 exercise: varying slopes (each department its own raise).

The answer key (questions, reference solution, typical mistakes): hidden from notebooks
while they are graded.
"""

from __future__ import annotations

import multilevel as ml
from simdata import SimulatedData

from ..feedback import Mistake, Question, Solution
from ._common import choice, exercise_spec, sd_mistakes

FOCUS = "Chemistry"
YEARS = 10
#: Dollars added to every salary in FOCUS for q6: a higher base, the same raise.
HIGHER_BASE = 10_000

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
    Question(
        "q6",
        2,
        f"Make a copy of your data in which every salary in {FOCUS} is ${HIGHER_BASE:,} higher "
        "(a higher base salary, the same raise) and fit the varying-slopes model to it. By how "
        f"many dollars per year does {FOCUS}'s estimated raise change (new minus old)?",
        unit="$ per year",
        rel_tol=0.01,
        abs_tol=1,
    ),
    choice(
        "q7",
        1,
        f"You changed only {FOCUS}'s base salary, yet its raise changed. Why, and where does "
        "that make the varying-slopes model misfit?",
        right="Every department's line must start from the same base salary, so the model can "
        f"reach {FOCUS}'s higher salaries only by tilting its line: the raise absorbs the "
        "difference in base. Wherever departments' bases differ, their raises come out wrong.",
        wrong=[
            (
                f"Partial pooling moved {FOCUS}'s raise towards the average raise.",
                "Partial pooling pulls towards the average raise; here the raise moved because "
                "the salaries rose at every level of experience. What does the model share "
                "between departments?",
            ),
            (
                "Departments that pay more also give larger raises.",
                f"You added the same ${HIGHER_BASE:,} at every level of experience: a higher "
                "base, not a larger raise. The data say nothing about larger raises.",
            ),
            (
                f"The model gave {FOCUS} a higher intercept, and the raise changed by chance.",
                "The varying-slopes model has no department intercepts: every department "
                "shares one, so the change cannot go there.",
            ),
        ],
        at="A",
    ),
)


def solve(sim: SimulatedData) -> Solution:
    """The reference solution."""
    res = ml.fit(sim, model="varying_slopes")
    no_pool = ml.fit(sim, model="no_pooling", varying="slopes")
    sd = float(res.group_sd["slope"])
    higher = sim.data.copy()
    higher.loc[higher["department"] == FOCUS, "salary"] += HIGHER_BASE
    moved = ml.fit(higher, y="salary", x="experience", group="department", model="varying_slopes")
    change = moved.group_lines.loc[FOCUS, "slope"] - res.group_lines.loc[FOCUS, "slope"]
    slope = float(res.fixed_effects.loc["slope", "estimate"])
    return Solution(
        answers={
            "q1": sd,
            "q2": slope,
            "q3": res.group_lines.loc[FOCUS, "slope"],
            "q4": res.predict([YEARS], group=FOCUS)[0],
            "q6": change,
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
            "q6": [
                Mistake(
                    0.0,
                    "Did you refit the model to the changed copy of the data? The raise does "
                    "change.",
                ),
                Mistake(
                    moved.fixed_effects.loc["slope", "estimate"] - slope,
                    f"That is the change in the average raise (the fixed slope); the question "
                    f"asks about {FOCUS}'s own raise (group_lines).",
                ),
                Mistake(
                    moved.group_lines.loc[FOCUS, "slope"],
                    f"That is {FOCUS}'s new raise; subtract its raise in your own data.",
                ),
            ],
        },
    )


SPEC = exercise_spec(__name__, "Varying slopes", QUESTIONS, solve)
