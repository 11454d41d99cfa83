"""Lesson 1 exercise: nested data and the vocabulary of multilevel models.

The answer key (questions, reference solution, typical mistakes): hidden from notebooks
while they are graded.
"""

from __future__ import annotations

import multilevel as ml
from simdata import SimulatedData

from ..feedback import Mistake, Question, Solution
from ._common import choice, exercise_spec, unless_right

FOCUS = "Chemistry"

QUESTIONS = (
    Question("q1", 1, "How many departments are in your data?", abs_tol=0.5),
    Question("q2", 1, "How many faculty members (observations) are there in total?", abs_tol=0.5),
    Question(
        "q3",
        2,
        f"What is the mean salary of the faculty in {FOCUS}, in dollars?",
        unit="$",
        abs_tol=1.0,
    ),
    Question(
        "q4",
        2,
        "Which department has the highest mean salary? Give its name.",
        kind="category",
    ),
    choice(
        "q5",
        1,
        "In these data, what are the observations and what are the groups?",
        right="Faculty members are the observations, nested in departments (the groups).",
        wrong=[
            (
                "Departments are the observations, nested in faculty members (the groups).",
                "The nesting goes the other way: each faculty member belongs to one department.",
            ),
            (
                "Salaries are the groups and years of experience are the observations.",
                "Salary and experience are variables measured on each faculty member.",
            ),
            (
                "There are no groups: every row is independent of every other row.",
                "Faculty in the same department share that department's pay scale: "
                "that is exactly what makes the data nested.",
            ),
        ],
        at="A",
    ),
    choice(
        "q6",
        1,
        "A model gives every department its own base salary but one raise per year of "
        "experience shared by all departments. What does it have?",
        right="Varying intercepts and a constant slope (a fixed effect).",
        wrong=[
            (
                "Varying slopes and a constant intercept.",
                "The base salary is the intercept (salary at 0 years); the raise is the slope.",
            ),
            (
                "Varying intercepts and varying slopes.",
                "The raise is shared by all departments, so the slope does not vary.",
            ),
            (
                "No group-level variation at all.",
                "Each department has its own base salary: that is group-level variation.",
            ),
        ],
        at="C",
    ),
    Question(
        "q7",
        2,
        'Fit the one-line regression (model="complete_pooling") and the varying-intercepts '
        'model (model="varying_intercepts"). Divide the varying-intercepts model\'s standard '
        "error of the average base salary (the intercept) by the one-line regression's. What "
        "is the ratio?",
        rel_tol=0.01,
    ),
    choice(
        "q8",
        1,
        "Your ratio in q7 is above 1: the one-line regression reports the smaller standard "
        "error, and the lesson's simulation showed that it is smaller than the real spread of "
        "its estimate. Why is it too small?",
        right="It counts every faculty member as an independent piece of information, though "
        "colleagues share their department's base salary: the data say less about the average "
        "base than their number suggests.",
        wrong=[
            (
                "It estimates fewer parameters than the multilevel model, so its estimate is "
                "more precise.",
                "It reports more precision than it has: the real spread of its estimate is "
                "larger than the standard error it reports (the lesson's simulation).",
            ),
            (
                "The multilevel model counts the department variation twice, so its standard "
                "error is too large.",
                "The lesson's simulation showed that the multilevel model's standard error is "
                "close to the real spread of its estimate; it is the one-line regression's that "
                "falls short.",
            ),
            (
                "The salaries are not normally distributed.",
                "The simulated noise is normal, and the one-line regression's standard error is "
                "too small all the same. What do colleagues in one department share?",
            ),
        ],
        at="D",
    ),
)


def solve(sim: SimulatedData) -> Solution:
    """The reference solution."""
    data = sim.data
    means = data.groupby("department", observed=True)["salary"].mean()
    medians = data.groupby("department", observed=True)["salary"].median()
    top_single = str(data.loc[data["salary"].idxmax(), "department"])
    pooled = ml.fit(sim, model="complete_pooling").fixed_effects.loc["intercept"]
    multilevel = ml.fit(sim, model="varying_intercepts").fixed_effects.loc["intercept"]
    ratio = multilevel["std_error"] / pooled["std_error"]
    best = str(means.idxmax())
    return Solution(
        answers={
            "q1": data["department"].nunique(),
            "q2": len(data),
            "q3": means[FOCUS],
            "q4": best,
            "q7": ratio,
        },
        mistakes={
            "q1": [Mistake(len(data), "That is the number of faculty members, not departments.")],
            "q2": [
                Mistake(
                    data["department"].nunique(),
                    "That is the number of departments; count the faculty members (rows).",
                )
            ],
            "q3": [
                Mistake(
                    data["salary"].mean(),
                    f"That is the mean over all departments; use only the rows of {FOCUS}.",
                ),
                Mistake(medians[FOCUS], "That is the median; the question asks for the mean."),
            ],
            "q4": unless_right(
                best,
                Mistake(
                    top_single,
                    "That department has the highest single salary; the question asks for the "
                    "highest mean salary (group by department, then take the mean).",
                ),
            ),
            "q7": [
                Mistake(
                    1 / ratio,
                    "That is the one-line regression's standard error divided by the "
                    "multilevel model's; divide the other way round.",
                ),
                Mistake(
                    multilevel["estimate"] / pooled["estimate"],
                    "That is the ratio of the two estimates of the average base salary; the "
                    "question asks about their standard errors (the std_error column).",
                ),
            ],
        },
        options={"q4": [str(d) for d in sim.truth.index]},
    )


SPEC = exercise_spec(__name__, "Nested data and vocabulary", QUESTIONS, solve)
