"""Lesson 4 exercise: varying intercepts and slopes, and the likelihood-ratio test.

The answer key (questions, reference solution, typical mistakes): hidden from notebooks
while they are graded.
"""

from __future__ import annotations

import multilevel as ml
from simdata import SimulatedData

from ..feedback import Mistake, Question, Solution
from ._common import ML_FOR_REML, REML_HINT, choice, exercise_spec, sd_mistakes

QUESTIONS = (
    Question(
        "q1",
        1,
        "Fit the model with varying intercepts and varying slopes (REML). What is its department "
        "SD of base salaries, in dollars?",
        unit="$",
        rel_tol=0.01,
    ),
    Question(
        "q2",
        1,
        "In the same model, what is the department SD of the yearly raise, in dollars per year?",
        unit="$ per year",
        rel_tol=0.01,
    ),
    Question(
        "q3",
        1,
        "In the same model, what is the estimated correlation between a department's base "
        "salary and its raise?",
        abs_tol=0.02,
    ),
    Question(
        "q4",
        2,
        "Compare the varying-intercepts model with this model by a likelihood-ratio test on "
        "maximum-likelihood (ML) fits, the test lme4's anova makes (ml.likelihood_ratio_test "
        "refits REML fits by ML). What is the test statistic?",
        rel_tol=0.01,
        abs_tol=0.05,
    ),
    Question(
        "q5",
        1,
        "How many degrees of freedom does that test have?",
        abs_tol=0.5,
    ),
    choice(
        "q6",
        1,
        "What does the p-value of this test measure?",
        right="How likely a statistic at least as large as yours would be if the raise were "
        "the same in every department (the smaller model): the smaller the p-value, the "
        "stronger the evidence that raises vary.",
        wrong=[
            (
                "The probability that the larger model is true.",
                "A p-value is not the probability that a model is true; it measures how "
                "surprising the data would be under the smaller model.",
            ),
            (
                "The probability that the raise is the same in every department.",
                "The p-value is computed by assuming that the raise is the same everywhere; it "
                "is not the probability of that assumption.",
            ),
            (
                "How much departments differ in their base salaries.",
                "Both models let the base salary vary; the test is about the raise.",
            ),
        ],
        at="C",
    ),
    Question(
        "q7",
        1,
        "At the 5% level, using the boundary-corrected p-value, which model do you keep: "
        '"varying_intercepts" or "varying_both"?',
        kind="category",
    ),
)

OPTIONS = ("varying_intercepts", "varying_both")


def solve(sim: SimulatedData) -> Solution:
    """The reference solution."""
    both = ml.fit(sim, model="varying_both")
    both_ml = ml.fit(sim, model="varying_both", reml=False)
    intercepts = ml.fit(sim, model="varying_intercepts")
    no_pool = ml.fit(sim, model="no_pooling", varying="both")
    test = ml.likelihood_ratio_test(intercepts, both)
    reml_statistic = 2 * (both.loglik - intercepts.loglik)
    keep = "varying_both" if test.p_value_boundary < 0.05 else "varying_intercepts"
    other = OPTIONS[0] if keep == OPTIONS[1] else OPTIONS[1]

    def group_sd_mistakes(part: str, truth: str, what: str) -> list[Mistake]:
        """The wrong answers for the model's SD of ``part`` (simulated with ``truth``)."""
        return [
            *sd_mistakes(
                float(both.group_sd[part]),
                no_pooling=no_pool.group_lines[part],
                truth=float(sim.population[truth]),
                what=what,
            ),
            Mistake(float(both_ml.group_sd[part]), REML_HINT, ML_FOR_REML),
        ]

    return Solution(
        answers={
            "q1": both.group_sd["intercept"],
            "q2": both.group_sd["slope"],
            "q3": both.correlation,
            "q4": test.statistic,
            "q5": test.df,
            "q7": keep,
        },
        mistakes={
            "q1": [
                Mistake(
                    intercepts.group_sd["intercept"],
                    "That is the department SD from the varying-intercepts model; fit the model "
                    "with varying intercepts and slopes.",
                ),
                *group_sd_mistakes("intercept", "base_sd", "intercepts"),
            ],
            "q2": group_sd_mistakes("slope", "raise_sd", "slopes"),
            "q3": [
                Mistake(
                    sim.population["correlation"], "That is the true correlation used to simulate."
                )
            ],
            "q4": [
                Mistake(
                    reml_statistic,
                    "That is the statistic of the REML fits. With the same fixed effects in both "
                    "models, as here, that is a valid test too, but the question asks for the "
                    "ML one: ml.likelihood_ratio_test(smaller, larger) refits both models by "
                    "maximum likelihood.",
                ),
                Mistake(
                    test.statistic / 2,
                    "That is the difference in log-likelihoods; the statistic is twice that.",
                ),
            ],
            "q5": [
                Mistake(
                    test.df - 1,
                    "The larger model adds two parameters: the SD of the raise and its "
                    "correlation with the base.",
                )
            ],
            "q7": [
                Mistake(
                    other,
                    "Compare the boundary-corrected p-value (test.p_value_boundary) with 0.05: "
                    "below it, keep the larger model; above it, keep the simpler one. The test "
                    "puts the SD of the raise at zero, the edge of what an SD can be, so the "
                    "naive p-value (test.p_value) is too large.",
                )
            ],
        },
        options={"q7": OPTIONS},
    )


SPEC = exercise_spec(
    __name__,
    "Varying intercepts and slopes; the likelihood-ratio test",
    QUESTIONS,
    solve,
)
