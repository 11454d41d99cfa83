"""Typical wrong answers shared by several answer keys."""

from __future__ import annotations

import pandas as pd

from ..feedback import Mistake, Question

LETTERS = "ABCDEFGH"


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


def sd_mistakes(
    estimate: float, *, no_pooling: pd.Series, truth: float, what: str
) -> list[Mistake]:
    """Wrong answers for a model's department SD: the spread of separate fits, truth, variance."""
    return [
        Mistake(
            float(no_pooling.std(ddof=1)),
            f"That is the SD of the no-pooling {what}, not the model's estimate of the "
            "department SD: read it from the fitted multilevel model (res.group_sd).",
        ),
        Mistake(
            float(no_pooling.std(ddof=0)),
            f"That is the SD of the no-pooling {what}, not the model's estimate of the "
            "department SD: read it from the fitted multilevel model (res.group_sd).",
        ),
        Mistake(
            truth,
            "That is the true SD used to simulate the data (sim.population); the question "
            "asks for the model's estimate from the data.",
        ),
        Mistake(estimate**2, "That is a variance; the question asks for a standard deviation."),
    ]
