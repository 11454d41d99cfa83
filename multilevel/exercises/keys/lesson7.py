"""Lesson 7 exercise: the radon survey, a county-level predictor, within and between counties.

The answer key (questions, reference solution, typical mistakes): hidden from notebooks
while they are graded.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import multilevel as ml
from multilevel.models.lmm import FormulaFit

from ..data import URANIUM_MODEL
from ..feedback import Mistake, Question, Solution
from ._common import ML_FOR_REML, REML_HINT, choice, exercise_spec, sd_mistakes, share_mistakes

FLOOR_MODEL = "log_radon ~ floor + (1 | county)"
CONTEXT_MODEL = "log_radon ~ floor + floor_mean + log_uranium + (1 | county)"

QUESTIONS = (
    Question(
        "q1",
        2,
        f'Fit varying county intercepts with floor, ml.fit("{FLOOR_MODEL}", homes) (REML, the '
        "default). What is its county SD, on the log scale?",
        rel_tol=0.002,
    ),
    Question(
        "q2",
        1,
        "In that model, what share of the variance that floor leaves unexplained lies between "
        "counties (the ICC)? Give a proportion between 0 and 1.",
        abs_tol=0.005,
    ),
    Question(
        "q3",
        2,
        "Add the county-level predictor log_uranium (one value per county, the same for every "
        f'home in it): ml.fit("{URANIUM_MODEL}", homes). What is the county SD now?',
        rel_tol=0.002,
    ),
    Question(
        "q4",
        1,
        "What share of the county variance of q1's model does log uranium explain? Give a "
        "proportion between 0 and 1.",
        abs_tol=0.005,
    ),
    Question(
        "q5",
        1,
        "log_radon is a log, so a coefficient b multiplies the radon level by e^b. Take the 95% "
        'intervals of the model with log uranium from fit.confint("wald"). What is the lower end '
        "of the 95% interval for the factor e^b by which the radon level rises per unit of "
        "log_uranium?",
        rel_tol=0.002,
    ),
    Question(
        "q6",
        1,
        "Add each county's mean of floor (the share of its homes measured on the first floor) "
        f'as a column floor_mean, and fit ml.fit("{CONTEXT_MODEL}", homes). What is the '
        "coefficient of floor now (the within-county effect)?",
        rel_tol=0.002,
    ),
    choice(
        "q7",
        1,
        "Why does the county SD fall when log uranium enters the model (q1 to q3)?",
        right="Counties differ partly because their soils hold different amounts of uranium: "
        "once the model knows each county's uranium, less of the difference between counties "
        "is left to the county effects.",
        wrong=[
            (
                "Uranium varies from home to home, so it explains part of the variation within "
                "counties.",
                "log_uranium is one number per county, the same for every home in it; compare "
                "the residual SDs of the two models: they hardly differ.",
            ),
            (
                "Adding any predictor makes the group SD smaller, whatever it measures.",
                "A county-level predictor unrelated to radon would leave the county SD where it "
                "was; it falls by as much as the predictor explains differences between counties.",
            ),
            (
                "The county effects are now estimated from more homes.",
                "Both models use the same homes; what changed is how much the model explains.",
            ),
        ],
        at="B",
    ),
    choice(
        "q8",
        1,
        "Why add floor_mean beside floor (q6)?",
        right="The model assumes that the county effects are unrelated to floor. If counties "
        "where more homes were measured on the first floor differ in radon for other reasons, "
        "floor's coefficient mixes that in; floor_mean takes up the difference between "
        "counties, so floor's coefficient compares homes within the same county.",
        wrong=[
            (
                "To give each county its own effect of floor (varying slopes).",
                "That would be (1 + floor | county); floor_mean adds one fixed coefficient, the "
                "same for every county.",
            ),
            (
                "A county-level column cannot change the coefficient of a home-level one: "
                "it only makes the county SD smaller.",
                "Compare your q6 with the floor coefficient of q3's model: it moved.",
            ),
            (
                "To allow for counties with more homes in the survey.",
                "floor_mean is the share of first-floor homes in a county, not its number of "
                "homes; partial pooling already weighs counties by their size.",
            ),
        ],
        at="A",
    ),
)


def solve(homes: pd.DataFrame) -> Solution:
    """The reference solution."""
    floor = ml.fit(FLOOR_MODEL, homes)
    floor_ml = ml.fit(FLOOR_MODEL, homes, reml=False)
    uranium = ml.fit(URANIUM_MODEL, homes)
    uranium_ml = ml.fit(URANIUM_MODEL, homes, reml=False)
    with_mean = homes.assign(
        floor_mean=homes.groupby("county", observed=True)["floor"].transform("mean")
    )
    context = ml.fit(CONTEXT_MODEL, with_mean)
    separate = ml.fit(
        homes, y="log_radon", x="floor", group="county", model="no_pooling", varying="intercepts"
    )
    sd0 = float(floor.group_sd.iloc[0])
    sd1 = float(uranium.group_sd.iloc[0])
    sigma0 = float(floor.residual_sd)
    icc = sd0**2 / (sd0**2 + sigma0**2)
    explained = 1 - sd1**2 / sd0**2
    # Wald: for a fixed effect estimated from hundreds of homes it is close to the profile
    # interval, and it is quick (the grader runs every notebook twice).
    interval = uranium.confint("wald").loc["log_uranium"]
    within = float(context.fixed_effects.loc["floor", "estimate"])
    return Solution(
        answers={
            "q1": sd0,
            "q2": icc,
            "q3": sd1,
            "q4": explained,
            "q5": np.exp(interval["lower"]),
            "q6": within,
        },
        mistakes={
            "q1": [
                *sd_mistakes(
                    sd0,
                    no_pooling=separate.group_lines["intercept"],
                    truth=None,
                    what="county intercepts",
                    group="county",
                ),
                Mistake(float(floor_ml.group_sd.iloc[0]), REML_HINT, ML_FOR_REML),
                Mistake(sigma0, "That is the residual SD (homes within a county)."),
            ],
            "q2": share_mistakes(
                icc,
                from_sds=sd0 / (sd0 + sigma0),
                what="the ICC",
                complement="That is 1 - ICC: the share within counties.",
            ),
            "q3": [
                Mistake(sd0, "That is the county SD of q1's model, without log_uranium."),
                Mistake(float(uranium_ml.group_sd.iloc[0]), REML_HINT, ML_FOR_REML),
                Mistake(sd1**2, "That is a variance; the question asks for a standard deviation."),
                Mistake(uranium.residual_sd, "That is the residual SD (homes within a county)."),
            ],
            "q4": share_mistakes(
                explained,
                from_sds=1 - sd1 / sd0,
                what="the share explained",
                complement="That is the share of the county variance that log uranium leaves "
                "unexplained; the question asks for the share it explains.",
            ),
            **_effect_mistakes(uranium, context, interval),
        },
    )


def _effect_mistakes(
    uranium: FormulaFit, context: FormulaFit, interval: pd.Series
) -> dict[str, list[Mistake]]:
    """The hints of q5 (uranium's factor) and q6 (floor within counties)."""
    effect = float(uranium.fixed_effects.loc["log_uranium", "estimate"])
    within = float(context.fixed_effects.loc["floor", "estimate"])
    contextual = float(context.fixed_effects.loc["floor_mean", "estimate"])
    return {
        "q5": [
            Mistake(
                interval["lower"],
                "That is the lower end on the log scale; the factor on the radon level is e "
                "to its power (np.exp).",
            ),
            Mistake(
                np.exp(effect),
                "That is the factor of the estimate itself; the question asks for the lower "
                "end of its interval.",
            ),
            Mistake(
                np.exp(interval["upper"]),
                "That is the upper end of the interval; the question asks for the lower end.",
            ),
        ],
        "q6": [
            Mistake(
                uranium.fixed_effects.loc["floor", "estimate"],
                "That is floor's coefficient without floor_mean (q3's model), which mixes "
                "the comparison within counties with differences between them.",
            ),
            Mistake(
                contextual,
                "That is the coefficient of floor_mean, the contextual effect: the "
                "between-county effect minus the within-county one. The question asks for "
                "floor's.",
            ),
            Mistake(
                within + contextual,
                "That is the between-county effect of floor (the two coefficients added); "
                "the within-county effect is floor's own coefficient.",
            ),
        ],
    }


SPEC = exercise_spec(__name__, "Real data: a county-level predictor", QUESTIONS, solve)
