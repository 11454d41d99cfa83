"""Lesson 8 exercise: a logistic model with varying intercepts (odds ratios, the school SD).

The answer key (questions, reference solution, typical mistakes): hidden from notebooks
while they are graded.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit

import multilevel as ml
from simdata import SimulatedData

from ..data import TYPICAL_GPA, TYPICAL_VOLUNTEER
from ..feedback import Mistake, Question, Solution
from ._common import choice, exercise_spec

FORMULA = "admitted ~ gpa + volunteer + (1 | school)"

QUESTIONS = (
    Question(
        "q1",
        2,
        f'Fit the logistic model with varying school intercepts, ml.fit("{FORMULA}", '
        'sim.data, family="binomial"). What is its coefficient of gpa, on the log-odds scale '
        "(per GPA point)?",
        rel_tol=0.005,
    ),
    Question(
        "q2",
        1,
        "What is the odds ratio for one more volunteer activity?",
        rel_tol=0.005,
    ),
    Question(
        "q3",
        1,
        "What is the school SD, on the log-odds scale?",
        rel_tol=0.01,
    ),
    Question(
        "q4",
        2,
        'Compute the 95% profile-likelihood intervals with fit.confint("profile"). What is '
        "the lower end of the interval for the odds ratio of one GPA point?",
        rel_tol=0.002,
    ),
    Question(
        "q5",
        1,
        f"What probability of admission does the model give a student with a GPA of "
        f"{TYPICAL_GPA:.1f} and {TYPICAL_VOLUNTEER} volunteer activities in an average school "
        "(a school deviation of 0)? Give a proportion between 0 and 1.",
        abs_tol=0.005,
    ),
    choice(
        "q6",
        1,
        "What does your odds ratio for volunteering (q2) mean?",
        right="Each extra volunteer activity multiplies a student's odds of admission by that "
        "factor, whatever the student's school and GPA.",
        wrong=[
            (
                "Each extra activity multiplies the probability of admission by that factor.",
                "That would be a ratio of probabilities (a risk ratio); the model's ratios act "
                "on the odds, p / (1 - p).",
            ),
            (
                "Each extra activity adds that many percentage points to the probability of "
                "admission.",
                "An odds ratio multiplies odds; how much the probability changes depends on "
                "where the student starts.",
            ),
            (
                "Averaged over all schools, students with one more activity are admitted that "
                "many times as often.",
                "The coefficients describe a student in a given school; the admission rate "
                "averaged over schools follows another, flatter curve.",
            ),
        ],
        at="C",
    ),
    choice(
        "q7",
        1,
        "What does the school SD (q3) say about a student's chances?",
        right="A school one SD above average multiplies every student's odds of admission by "
        "e to the power of the SD; the probability changes most for students whose chances "
        "are near 50%.",
        wrong=[
            (
                "Schools' admission rates differ by about that many percentage points.",
                "The SD is on the log-odds scale, not the probability scale.",
            ),
            (
                "Students' log-odds vary around their school's line with that SD.",
                "A logistic model has no residual SD: given its probability p, a yes/no outcome "
                "has variance p(1 - p). The SD is the spread between schools.",
            ),
            (
                "Every student's probability of admission changes by the same amount from one "
                "school to the next.",
                "The same step on the log-odds scale moves a probability most near 50% and "
                "little near 0 or 1.",
            ),
        ],
        at="B",
    ),
)


def solve(sim: SimulatedData) -> Solution:
    """The reference solution."""
    data = sim.data
    fit = ml.fit(FORMULA, data, family="binomial")
    beta = fit.fixed_effects["estimate"]
    sd = float(fit.group_sd.iloc[0])
    profile = fit.confint("profile")
    wald = fit.confint("wald")
    log_odds = float(
        beta["Intercept"] + TYPICAL_GPA * beta["gpa"] + TYPICAL_VOLUNTEER * beta["volunteer"]
    )
    odds_ratio = float(np.exp(beta["volunteer"]))
    rates = data.groupby("school", observed=True)["admitted"].mean()
    return Solution(
        answers={
            "q1": beta["gpa"],
            "q2": odds_ratio,
            "q3": sd,
            "q4": np.exp(profile.loc["gpa", "lower"]),
            "q5": expit(log_odds),
        },
        mistakes={
            "q1": [
                Mistake(
                    np.exp(beta["gpa"]),
                    "That is the odds ratio (e to the coefficient); the question asks for the "
                    "coefficient itself, on the log-odds scale.",
                )
            ],
            "q2": [
                Mistake(
                    beta["volunteer"],
                    "That is the coefficient on the log-odds scale; the odds ratio is e to its "
                    "power (np.exp).",
                ),
                Mistake(
                    100 * (odds_ratio - 1),
                    "That is the percentage change in the odds; give the ratio itself.",
                ),
                Mistake(
                    odds_ratio - 1,
                    "That is the odds ratio minus 1 (the proportional change in the odds); give "
                    "the ratio itself.",
                ),
            ],
            "q3": [
                Mistake(
                    np.exp(sd),
                    "That is e to the power of the SD, the factor on the odds of a school one SD "
                    "above average; the question asks for the SD on the log-odds scale.",
                ),
                Mistake(sd**2, "That is a variance; the question asks for a standard deviation."),
                Mistake(
                    float(rates.std()),
                    "That is the SD of the schools' raw admission rates, on the probability "
                    "scale; read the model's school SD (fit.group_sd), on the log-odds scale.",
                ),
            ],
            **_interval_and_probability_mistakes(profile, wald, log_odds, data),
        },
    )


def _interval_and_probability_mistakes(
    profile: pd.DataFrame, wald: pd.DataFrame, log_odds: float, data: pd.DataFrame
) -> dict[str, list[Mistake]]:
    """The hints of q4 (GPA's odds-ratio interval) and q5 (one student's probability)."""
    return {
        "q4": [
            Mistake(
                profile.loc["gpa", "lower"],
                "That is the lower end on the log-odds scale; the odds ratio's interval is "
                "e to the power of each end (np.exp).",
            ),
            Mistake(
                np.exp(wald.loc["gpa", "lower"]),
                "That is the Wald interval (estimate - 1.96 SE); the question asks for the "
                'profile-likelihood one: fit.confint("profile").',
            ),
            Mistake(
                np.exp(profile.loc["gpa", "upper"]),
                "That is the upper end of the interval; the question asks for the lower end.",
            ),
        ],
        "q5": [
            Mistake(
                log_odds,
                "That is the log-odds; turn it into a probability with 1 / (1 + e^-x) "
                "(scipy.special.expit).",
            ),
            Mistake(
                float(np.exp(log_odds)),
                "That is the odds, p / (1 - p); the question asks for the probability p.",
            ),
            Mistake(
                float(data["admitted"].mean()),
                "That is the share of all students admitted; the question asks for the "
                "model's probability for this one student in an average school.",
            ),
        ],
    }


SPEC = exercise_spec(
    __name__,
    "Admitted or not: a logistic model with varying intercepts",
    QUESTIONS,
    solve,
)
