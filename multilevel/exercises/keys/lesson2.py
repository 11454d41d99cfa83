"""Lesson 2 exercise: varying intercepts (each department its own base salary).

The answer key (questions, reference solution, typical mistakes): hidden from notebooks
while they are graded.
"""

from __future__ import annotations

import multilevel as ml
from simdata import SimulatedData

from ..feedback import Mistake, Question, Solution
from ._common import (
    ML_FOR_REML,
    RAW_MEAN,
    REML_HINT,
    choice,
    exercise_spec,
    sd_mistakes,
    share_mistakes,
)

FOCUS = "Chemistry"

QUESTIONS = (
    Question(
        "q1",
        2,
        "Fit the varying-intercepts model (REML, the default). What is its estimate of the "
        "department SD of base salaries, in dollars?",
        unit="$",
        rel_tol=0.005,
    ),
    Question(
        "q2",
        1,
        "What is the model's residual SD (the spread of salaries within a department), in dollars?",
        unit="$",
        rel_tol=0.005,
    ),
    Question(
        "q3",
        1,
        "What is the model's estimate of the raise per year of experience, in dollars per year?",
        unit="$ per year",
        rel_tol=0.002,
    ),
    Question(
        "q4",
        1,
        "What is the intraclass correlation (ICC): the share of the unexplained variance that "
        "lies between departments? Give a proportion between 0 and 1.",
        abs_tol=0.005,
    ),
    Question(
        "q5",
        2,
        f"What is the model's estimate of the base salary (salary at 0 years) in {FOCUS}, "
        "in dollars?",
        unit="$",
        rel_tol=0.001,
    ),
    choice(
        "q6",
        1,
        "What does the department SD of q1 describe?",
        right="How far departments' base salaries typically lie from the average base salary "
        "across departments.",
        wrong=[
            (
                "How far individual salaries typically lie from their department's line.",
                "That is the residual SD (q2): variation within departments.",
            ),
            (
                "How precisely the average base salary is estimated.",
                "That is the standard error of the fixed intercept, not a spread of departments.",
            ),
            (
                "How much the yearly raise differs between departments.",
                "In this model every department has the same raise; only the base varies.",
            ),
        ],
        at="B",
    ),
)


def solve(sim: SimulatedData) -> Solution:
    """The reference solution."""
    res = ml.fit(sim, model="varying_intercepts")
    ml_fit = ml.fit(sim, model="varying_intercepts", reml=False)
    no_pool = ml.fit(sim, model="no_pooling", varying="intercepts")
    pooled = ml.fit(sim, model="complete_pooling")
    sd = float(res.group_sd["intercept"])
    intercept = float(res.fixed_effects.loc["intercept", "estimate"])
    return Solution(
        answers={
            "q1": sd,
            "q2": res.residual_sd,
            "q3": res.fixed_effects.loc["slope", "estimate"],
            "q4": res.icc,
            "q5": res.group_lines.loc[FOCUS, "intercept"],
        },
        mistakes={
            "q1": [
                *sd_mistakes(
                    sd,
                    no_pooling=no_pool.group_lines["intercept"],
                    truth=float(sim.population["base_sd"]),
                    what="intercepts",
                ),
                Mistake(res.residual_sd, "That is the residual SD (within departments)."),
                Mistake(float(ml_fit.group_sd["intercept"]), REML_HINT, ML_FOR_REML),
            ],
            "q2": [
                Mistake(sd, "That is the department SD (between departments), not the residual."),
                Mistake(
                    sim.data["salary"].std(),
                    "That is the SD of all salaries, ignoring departments and experience.",
                ),
            ],
            "q3": [
                Mistake(
                    pooled.fixed_effects.loc["slope", "estimate"],
                    "That is the complete-pooling slope (one line, departments ignored); use the "
                    "varying-intercepts model.",
                ),
                Mistake(
                    sim.population["raise_mean"],
                    "That is the true raise used to simulate; give the model's estimate.",
                ),
            ],
            "q4": share_mistakes(
                res.icc,
                from_sds=sd / (sd + res.residual_sd),
                what="the ICC",
                complement="That is 1 - ICC: the share within departments.",
            ),
            "q5": [
                Mistake(
                    res.random_effects.loc[FOCUS, "intercept"],
                    f"That is {FOCUS}'s deviation from the average base (its random effect); add "
                    "the fixed intercept, or read res.group_lines.",
                ),
                Mistake(
                    no_pool.group_lines.loc[FOCUS, "intercept"],
                    f"That is {FOCUS}'s no-pooling intercept (its own separate fit); the question "
                    "asks for the multilevel model's (partially pooled) estimate.",
                ),
                Mistake(
                    intercept, "That is the average base over all departments (fixed intercept)."
                ),
                Mistake(
                    sim.data.loc[sim.data["department"] == FOCUS, "salary"].mean(),
                    f"That is {FOCUS}'s raw mean salary, over all its faculty and their years of "
                    "experience; the base salary is the model's line at 0 years (res.group_lines).",
                    RAW_MEAN,
                ),
                Mistake(
                    sim.truth.loc[FOCUS, "intercept"],
                    "That is the true base used to simulate; give the model's estimate.",
                ),
            ],
        },
    )


SPEC = exercise_spec(__name__, "Varying intercepts", QUESTIONS, solve)
