"""Quick "check your understanding" questions with instant feedback inside a lesson.

A question is one call in a notebook cell; it shows the choices, a *Check* button and, after a
click, whether the choice was right and why. Nothing is graded or stored: graded work lives in the
exercise notebooks (:mod:`multilevel.checks`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

import ipywidgets as widgets

__all__ = ["MultipleChoice", "multiple_choice"]


@dataclass
class MultipleChoice:
    """A multiple-choice question shown as a widget.

    Use :func:`multiple_choice` to make one. ``answer(choice)`` is what the *Check* button calls,
    so a question can also be answered from code (which is how the tests drive it).
    """

    question: str
    choices: tuple[str, ...]
    correct: int
    explanation: str
    hints: dict[int, str] = field(default_factory=dict)
    widget: widgets.VBox = field(init=False, repr=False)
    _options: widgets.RadioButtons = field(init=False, repr=False)
    _feedback: widgets.HTML = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._options = widgets.RadioButtons(
            options=list(self.choices), value=None, layout=widgets.Layout(width="auto")
        )
        button = widgets.Button(description="Check", button_style="primary", icon="check")
        self._feedback = widgets.HTML()
        button.on_click(lambda _: self.answer(self._options.index))
        self.widget = widgets.VBox(
            [
                widgets.HTML(f"<b>Check your understanding.</b> {escape(self.question)}"),
                self._options,
                button,
                self._feedback,
            ]
        )

    def answer(self, choice: int | None) -> bool:
        """Mark ``choice`` (an index into ``choices``) and show the feedback; return whether it is right."""
        if choice is None:
            self._feedback.value = (
                "<span style='color:#0072B2'>Pick one of the answers first.</span>"
            )
            return False
        if not 0 <= choice < len(self.choices):
            raise ValueError(f"choice must be between 0 and {len(self.choices) - 1}, got {choice}")
        self._options.index = choice
        if choice == self.correct:
            message = f"<span style='color:#009E73'><b>Right.</b></span> {escape(self.explanation)}"
        else:
            hint = self.hints.get(
                choice, "Read the question again and think about what varies between groups."
            )
            message = f"<span style='color:#D55E00'><b>Not quite.</b></span> {escape(hint)}"
        self._feedback.value = message
        return choice == self.correct

    @property
    def feedback(self) -> str:
        """The feedback currently shown, as HTML."""
        return self._feedback.value

    def still_html(self) -> str:
        """The question as static HTML: the choices, and the answer behind "Show the answer".

        Jupyter front ends with the widget manager show the live question and ignore this; a
        static page made from the executed notebook (the course's web site) shows it instead
        of buttons that could not answer there.

        Example
        -------
        >>> q = multiple_choice("2 + 2?", ["3", "4"], correct=1, explanation="Count.")
        >>> "<details>" in q.still_html()
        True
        """
        letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        items = "".join(f"<li>{escape(choice)}</li>" for choice in self.choices)
        right = self.correct
        return (
            "<div class='ml-static-quiz'>"
            f"<p><strong>Check your understanding.</strong> {escape(self.question)}</p>"
            f"<ol type='A'>{items}</ol>"
            "<details><summary>Show the answer</summary>"
            f"<p><strong>{letters[right]}</strong>: {escape(self.choices[right])}. "
            f"{escape(self.explanation)}</p></details></div>"
        )

    def _repr_mimebundle_(self, **kwargs):  # noqa: ANN003, ANN202 - Jupyter display protocol
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/html"] = self.still_html()
        return bundle


def multiple_choice(
    question: str,
    choices: Sequence[str],
    *,
    correct: int,
    explanation: str,
    hints: dict[int, str] | None = None,
) -> MultipleChoice:
    """Make a multiple-choice question with instant feedback.

    Parameters
    ----------
    question
        The question, in one or two sentences.
    choices
        The possible answers, in the order shown.
    correct
        Index of the right answer in ``choices``.
    explanation
        Shown after a right answer: why it is right.
    hints
        Optional feedback for particular wrong answers, keyed by their index.

    Returns
    -------
    MultipleChoice
        Displays itself when it is the last expression in a cell.

    Examples
    --------
    >>> q = multiple_choice("Which is nested data?", ["Coin flips", "Pupils in schools"],
    ...                     correct=1, explanation="Each pupil belongs to one school.")
    >>> q.answer(1)
    True
    """
    choices = tuple(choices)
    if len(choices) < 2:
        raise ValueError(f"choices must hold at least two answers, got {len(choices)}")
    if not 0 <= correct < len(choices):
        raise ValueError(
            f"correct must be an index between 0 and {len(choices) - 1}, got {correct}"
        )
    return MultipleChoice(question, choices, correct, explanation, dict(hints or {}))
