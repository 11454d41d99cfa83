"""Lesson 9 exercise: checking a model (residual trends, replicated data, quantile plots).

The answer key (questions, reference solution, typical mistakes): hidden from notebooks
while they are graded.
"""

from __future__ import annotations

import pandas as pd

import multilevel as ml
from multilevel import checking
from simdata import SimulatedData

from ..feedback import Mistake, Question, Solution
from ._common import choice, exercise_spec

N_REPLICATES = 200
SEED = 1
CHECK = f"n_replicates={N_REPLICATES}, seed={SEED}"


def spread_of_raises(data: pd.DataFrame) -> float:
    """The replicate checks' statistic: the SD of the departments' own least-squares raises."""
    slopes = checking.least_squares_slopes(data, y="salary", x="experience", group="department")
    return float(slopes.std())


QUESTIONS = (
    Question(
        "q1",
        2,
        "Fit the varying-intercepts model. checking.residuals_by_group(fit, sim) gives each "
        "department's residual trend (the column trend: how its residuals rise or fall with "
        "experience). What is the SD of the departments' trends, in dollars per year?",
        unit="$ per year",
        rel_tol=0.002,
    ),
    Question(
        "q2",
        2,
        "Check the varying-intercepts model with data simulated from it: "
        f"checking.replicate_statistics(fit, sim, spread_of_raises, {CHECK}). What is the "
        "statistic's average over the replicates, in dollars per year (leave out the real data, "
        "at index 0)?",
        unit="$ per year",
        rel_tol=0.002,
    ),
    Question(
        "q3",
        1,
        'Make the same check of the model with varying intercepts and slopes (model="varying_both"'
        f", the same statistic, {CHECK}). What share of its replicates reach the real value "
        "(at or above it)? Give a proportion between 0 and 1.",
        abs_tol=0.001,
    ),
    choice(
        "q4",
        1,
        "Which model do your checks (q2 and q3) show to misfit your data?",
        right="The varying-intercepts model: data simulated from it rarely show departments' "
        "own raises that differ as much as in your data, while the model with varying slopes "
        "reproduces that spread.",
        wrong=[
            (
                "The model with varying slopes: a good share of its replicates reach the real "
                "value.",
                "A model fails a check when the real value lies far in the tail of its "
                "replicates; a share well inside 0 to 1 means the real data look like one of "
                "them.",
            ),
            (
                "Both: no replicate of either model has exactly the real value.",
                "Replicates are random; the check asks whether the real value looks like a "
                "typical replicate, not whether one equals it.",
            ),
            (
                "Neither: the residuals of both models average zero in every department.",
                "The residuals of a fitted model average about zero in each department by "
                "construction; the checks of q2 and q3 are about how much the raises differ.",
            ),
        ],
        at="D",
    ),
    choice(
        "q5",
        1,
        "The normal quantile plot of a model's residuals (ml.plots.qq_plot) bows: both ends "
        "lie above the line. What does it show, and what could you try?",
        right="The residuals are skewed to the right (a long upper tail): model the log of the "
        "outcome.",
        wrong=[
            (
                "Heavy tails on both sides: outliers in both directions.",
                "Heavy tails bend the two ends away in opposite directions; a bow with both "
                "ends above the line is skew.",
            ),
            (
                "The raises differ between departments: fit varying slopes.",
                "Varying slopes show in the residuals against experience, department by "
                "department (lines that fan out), not as a bow in the quantile plot.",
            ),
            (
                "Nothing: quantile plots always bend at the ends.",
                "Normal residuals follow the line up to small wiggles at the very ends; a "
                "bow through the whole plot is skew.",
            ),
        ],
        at="A",
    ),
    choice(
        "q6",
        1,
        'Draw ml.plots.residual_plot(fit, sim, against="x", trend=True) for your '
        "varying-intercepts fit. What does it show, and why?",
        right="Department lines that fan out, some rising and some falling: the shared raise is "
        "too small for some departments and too large for others.",
        wrong=[
            (
                "A band of even width with nearly flat department lines: the model fits.",
                "Look at how the lines tilt, and at q1: their trends differ by hundreds of "
                "dollars a year.",
            ),
            (
                "Points that spread out more with experience, like a funnel: the noise grows "
                "with salary.",
                "The noise in your data has the same SD at every level of experience; the "
                "pattern to look at is the department lines.",
            ),
            (
                "Lines that all rise: the shared raise is too small for every department.",
                "The shared raise is fitted to all departments together, so the lines tilt "
                "both ways.",
            ),
        ],
        at="B",
    ),
)


def solve(sim: SimulatedData) -> Solution:
    """The reference solution."""
    constant = ml.fit(sim, model="varying_intercepts")
    varying = ml.fit(sim, model="varying_both")
    by_group = checking.residuals_by_group(constant, sim)
    residuals = checking.residual_table(constant, sim)["residual"]
    stats = checking.replicate_statistics(
        constant, sim, spread_of_raises, n_replicates=N_REPLICATES, seed=SEED
    )
    stats_both = checking.replicate_statistics(
        varying, sim, spread_of_raises, n_replicates=N_REPLICATES, seed=SEED
    )
    share = float((stats_both.iloc[1:] >= stats_both.iloc[0]).mean())
    trend_sd = float(by_group["trend"].std())
    return Solution(
        answers={"q1": trend_sd, "q2": stats.iloc[1:].mean(), "q3": share},
        mistakes={
            "q1": [
                Mistake(
                    by_group["trend"].mean(),
                    "That is the average trend; the question asks how much the trends vary "
                    "(their SD).",
                ),
                Mistake(
                    by_group["mean"].std(),
                    "That is the SD of the departments' mean residuals (the column mean); the "
                    "question is about the column trend.",
                ),
                Mistake(
                    float(residuals.std()),
                    "That is the SD of the residuals themselves, in dollars; the question asks "
                    "about the departments' trends, in dollars per year.",
                ),
                Mistake(
                    constant.residual_sd,
                    "That is the model's residual SD, in dollars; the question asks about the "
                    "departments' trends, in dollars per year.",
                ),
                Mistake(trend_sd**2, "That is a variance; the question asks for an SD."),
            ],
            "q2": [
                Mistake(
                    stats.iloc[0],
                    "That is the statistic of the real data (index 0); the question asks for "
                    "its average over the replicates: s.iloc[1:].mean().",
                ),
                Mistake(
                    stats.mean(),
                    "That average includes the real data at index 0; leave it out: "
                    "s.iloc[1:].mean().",
                ),
                Mistake(
                    stats_both.iloc[1:].mean(),
                    "That is from the model with varying slopes; this question checks the "
                    "varying-intercepts model.",
                ),
            ],
            "q3": [
                Mistake(
                    1 - share,
                    "That is the share of replicates below the real value; the question asks "
                    "for the share at or above it.",
                ),
                Mistake(
                    float((stats.iloc[1:] >= stats.iloc[0]).mean()),
                    "That is the share for the varying-intercepts model; this question checks "
                    "the model with varying intercepts and slopes.",
                ),
                Mistake(100 * share, "That looks like a percentage; give a proportion (0 to 1)."),
            ],
        },
    )


SPEC = exercise_spec(__name__, "Checking a model", QUESTIONS, solve)
