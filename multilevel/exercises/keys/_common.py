"""What several answer keys share: how a key is named, question shapes, typical wrong answers.

The common mistakes that students make in more than one exercise carry a ``kind``, one of
:data:`NAMED_MISTAKES`, so that a test can check that every key that can recognise one does,
for every student id (``tests/test_exercise_keys.py``).
"""

from __future__ import annotations

import pandas as pd

from ..data import DATA
from ..feedback import ExerciseSpec, Mistake, Question, SolveFunction

LETTERS = "ABCDEFGH"

#: An ICC (or a share of variance) computed from SDs instead of variances.
ICC_FROM_SDS = "icc_from_sds"
#: A maximum-likelihood fit where the question asks for REML.
ML_FOR_REML = "ml_for_reml"
#: A group's raw mean outcome where a model's estimate is asked.
RAW_MEAN = "raw_mean"
#: The SD of the no-pooling estimates taken for the model's group SD.
NO_POOLING_SD = "no_pooling_sd"
#: The smallest group chosen where the answer depends on weight (size) and distance.
SMALLEST_GROUP = "smallest_group"
NAMED_MISTAKES = (ICC_FROM_SDS, ML_FOR_REML, RAW_MEAN, NO_POOLING_SD, SMALLEST_GROUP)

REML_HINT = "That is the maximum-likelihood estimate; use REML (reml=True, the default)."


def exercise_spec(
    module: str,
    title: str,
    questions: tuple[Question, ...],
    solve: SolveFunction,
) -> ExerciseSpec:
    """The answer key defined in ``module``, named after it (``...keys.lesson2`` -> ``"lesson2"``).

    The name is also the notebook's ``metadata["multilevel"]["exercise"]``, so a key module
    passes its ``__name__`` rather than spelling the name again; the student's data come from
    the public registry under that name (:data:`multilevel.exercises.DATA`).
    """
    name = module.rpartition(".")[2]
    return ExerciseSpec(
        name=name, title=title, questions=questions, make_data=DATA[name], solve=solve
    )


def choice(
    qid: str,
    points: float,
    prompt: str,
    *,
    right: str,
    wrong: list[tuple[str, str]],
    at: str,
) -> Question:
    """A multiple-choice question whose right option sits at letter ``at``.

    ``wrong`` lists ``(option text, why it is wrong)`` in the order they are shown.
    """
    texts = [text for text, _ in wrong]
    hints = [hint for _, hint in wrong]
    position = LETTERS.index(at)
    texts.insert(position, right)
    hints.insert(position, "")
    letters = LETTERS[: len(texts)]
    return Question(
        qid,
        points,
        prompt,
        kind="choice",
        choices=dict(zip(letters, texts, strict=True)),
        choice_hints={k: h for k, h in zip(letters, hints, strict=True) if h},
        answer=at,
    )


def unless_right(answer: str, *mistakes: Mistake) -> list[Mistake]:
    """The ``mistakes`` of a choice among names, but for one that names the right ``answer``.

    Which name a mistake gives (the department with the fewest faculty, the highest single
    salary) depends on the student's data, and for some students it is the right one.
    """
    return [mistake for mistake in mistakes if mistake.value != answer]


def sd_mistakes(
    estimate: float,
    *,
    no_pooling: pd.Series,
    truth: float | None,
    what: str,
    group: str = "department",
) -> list[Mistake]:
    """Wrong answers for a model's group SD: the spread of separate fits, truth, variance.

    ``truth`` is the SD used to simulate (None for real data); ``group`` names one group
    (``"department"``, ``"county"``) in the messages.
    """
    spread = (
        f"That is the SD of the no-pooling {what}, not the model's estimate of the {group} SD: "
        "read it from the fitted multilevel model (res.group_sd)."
    )
    mistakes = [
        Mistake(float(no_pooling.std(ddof=1)), spread, NO_POOLING_SD),
        Mistake(float(no_pooling.std(ddof=0)), spread, NO_POOLING_SD),
    ]
    if truth is not None:
        mistakes.append(
            Mistake(
                truth,
                "That is the true SD used to simulate the data (sim.population); the question "
                "asks for the model's estimate from the data.",
            )
        )
    mistakes.append(
        Mistake(estimate**2, "That is a variance; the question asks for a standard deviation.")
    )
    return mistakes


def share_mistakes(
    share: float, *, from_sds: float, what: str, complement: str | None = None
) -> list[Mistake]:
    """Wrong answers for a share of variance (an ICC, a share explained): SDs, 1 - share, %.

    ``from_sds`` is the same share computed from SDs instead of variances; ``what`` names the
    share in the hint (``"the ICC"``); ``complement`` is the hint for ``1 - share`` (no such
    mistake when None).
    """
    mistakes = [
        Mistake(
            from_sds,
            f"That is computed from standard deviations; {what} is a share of the variance: "
            "square the SDs first (variance = SD**2).",
            ICC_FROM_SDS,
        )
    ]
    if complement is not None:
        mistakes.append(Mistake(1 - share, complement))
    mistakes.append(
        Mistake(100 * share, "That looks like a percentage; give a proportion (0 to 1).")
    )
    return mistakes
