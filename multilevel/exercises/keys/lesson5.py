"""Lesson 5 exercise: partial pooling and shrinkage.

The answer key (questions, reference solution, typical mistakes): hidden from notebooks
while they are graded.
"""

from __future__ import annotations

import multilevel as ml
from simdata import SimulatedData

from ..feedback import Mistake, Question, Solution
from ._common import RAW_MEAN, SMALLEST_GROUP, choice, exercise_spec, unless_right

QUESTIONS = (
    Question(
        "q1",
        1,
        "Which department has the fewest faculty members? Give its name.",
        kind="category",
    ),
    Question(
        "q2",
        2,
        'Fit no pooling with separate intercepts (varying="intercepts"). What is that '
        "department's base salary (intercept) in that fit, in dollars?",
        unit="$",
        rel_tol=0.001,
    ),
    Question(
        "q3",
        2,
        "Fit the varying-intercepts model. What is the same department's base salary there "
        "(partial pooling), in dollars?",
        unit="$",
        rel_tol=0.001,
    ),
    Question(
        "q4",
        1,
        "By how many dollars did partial pooling move that department's base salary? "
        "Give a positive number.",
        unit="$",
        rel_tol=0.01,
        abs_tol=5,
    ),
    Question(
        "q5",
        1,
        "Which department's base salary moved the most between no pooling and partial pooling?",
        kind="category",
    ),
    choice(
        "q6",
        1,
        "Why are small departments pulled a larger share of the way towards the average?",
        right="With few faculty, a department's own estimate is noisy, so the model leans "
        "more on what all departments together say.",
        wrong=[
            (
                "Small departments really pay closer to the average.",
                "The model knows nothing about why a department is small; it only sees how "
                "much data each department has.",
            ),
            (
                "The model leaves small departments out of the fit.",
                "Every department is in the fit; its estimate is a weighted compromise.",
            ),
            (
                "Every department is pulled the same share of the way; it only looks bigger.",
                "The share is the weight n / (n + sigma_y^2 / sigma_alpha^2): it depends on the "
                "department's size.",
            ),
        ],
        at="B",
    ),
    choice(
        "q7",
        1,
        "Where do the partial-pooling base salaries lie, compared with the no-pooling ones?",
        right=(
            "Most lie between the department's no-pooling estimate and the overall average; a "
            "few can land slightly outside, because the two fits estimate the shared raise a "
            "little differently."
        ),
        wrong=[
            (
                "Most lie further from the overall average than the no-pooling estimates.",
                "Partial pooling pulls each estimate toward the average. A department ends up a "
                "little further out only when the shared raise differs between the two fits.",
            ),
            ("Exactly at the no-pooling estimates.", "That is no pooling."),
            ("Exactly at the overall average.", "That is complete pooling."),
        ],
        at="D",
    ),
)


def solve(sim: SimulatedData) -> Solution:
    """The reference solution."""
    no_pool = ml.fit(sim, model="no_pooling", varying="intercepts")
    partial = ml.fit(sim, model="varying_intercepts")
    smallest = str(sim.data["department"].value_counts().idxmin())
    largest = str(sim.data["department"].value_counts().idxmax())
    moved = (no_pool.group_lines["intercept"] - partial.group_lines["intercept"]).abs()
    np_base = float(no_pool.group_lines.loc[smallest, "intercept"])
    pp_base = float(partial.group_lines.loc[smallest, "intercept"])
    mean_salary = sim.data.loc[sim.data["department"] == smallest, "salary"].mean()
    moved_most = str(moved.idxmax())
    return Solution(
        answers={
            "q1": smallest,
            "q2": np_base,
            "q3": pp_base,
            "q4": abs(np_base - pp_base),
            "q5": moved_most,
        },
        mistakes={
            "q1": [Mistake(largest, "That department has the most faculty, not the fewest.")],
            "q2": [
                Mistake(
                    pp_base, "That is the partial-pooling estimate (q3); use the no-pooling fit."
                ),
                Mistake(
                    mean_salary,
                    "That is the department's mean salary; the intercept is the salary at 0 "
                    "years of experience.",
                    RAW_MEAN,
                ),
            ],
            "q3": [
                Mistake(np_base, "That is the no-pooling estimate (q2); use the multilevel fit."),
                Mistake(
                    partial.fixed_effects.loc["intercept", "estimate"],
                    "That is the average base over all departments (the fixed intercept).",
                ),
                Mistake(
                    mean_salary,
                    "That is the department's raw mean salary; the question asks for the "
                    "model's base salary (its line at 0 years of experience).",
                    RAW_MEAN,
                ),
            ],
            "q5": unless_right(
                moved_most,
                Mistake(
                    smallest,
                    "That is the department with the fewest faculty. How far a department moves "
                    "depends on its weight (few faculty: little weight on its own data) and on "
                    "how far its own estimate lies from the average: compare the moves of all "
                    "departments.",
                    SMALLEST_GROUP,
                ),
            ),
        },
        options={"q1": list(sim.truth.index), "q5": list(sim.truth.index)},
    )


SPEC = exercise_spec(__name__, "Partial pooling and shrinkage", QUESTIONS, solve)
