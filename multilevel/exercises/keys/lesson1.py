"""Lesson 1 exercise: nested data and the vocabulary of multilevel models.

The answer key (questions, reference solution, typical mistakes): hidden from notebooks
while they are graded.
"""

from __future__ import annotations

from simdata import SimulatedData

from ..feedback import ExerciseSpec, Mistake, Question, Solution
from ..lesson1 import make_data
from ._common import choice

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
)


def solve(sim: SimulatedData) -> Solution:
    """The reference solution."""
    data = sim.data
    means = data.groupby("department", observed=True)["salary"].mean()
    medians = data.groupby("department", observed=True)["salary"].median()
    top_single = str(data.loc[data["salary"].idxmax(), "department"])
    best = str(means.idxmax())
    mistakes_q4 = []
    if top_single != best:
        mistakes_q4.append(
            Mistake(
                top_single,
                "That department has the highest single salary; the question asks for the "
                "highest mean salary (group by department, then take the mean).",
            )
        )
    return Solution(
        answers={
            "q1": data["department"].nunique(),
            "q2": len(data),
            "q3": means[FOCUS],
            "q4": best,
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
            "q4": mistakes_q4,
        },
        options={"q4": [str(d) for d in sim.truth.index]},
    )


SPEC = ExerciseSpec(
    name="lesson1",
    title="Nested data and vocabulary",
    questions=QUESTIONS,
    make_data=make_data,
    solve=solve,
)
