"""The check-your-understanding questions give the right verdict and a useful message."""

import pytest

from multilevel.quiz import multiple_choice


def _question():
    return multiple_choice(
        "Which is nested data?",
        ["Coin flips", "Pupils in schools", "A single thermometer"],
        correct=1,
        explanation="Each pupil belongs to one school.",
        hints={0: "Coin flips do not belong to groups."},
    )


def test_right_answer_is_praised_with_the_explanation():
    q = _question()
    assert q.answer(1) is True
    assert "Right" in q.feedback and "belongs to one school" in q.feedback


def test_wrong_answer_gets_its_specific_hint_or_a_general_one():
    q = _question()
    assert q.answer(0) is False
    assert "do not belong to groups" in q.feedback
    assert q.answer(2) is False
    assert "Not quite" in q.feedback


def test_no_choice_asks_for_one():
    q = _question()
    assert q.answer(None) is False
    assert "Pick one" in q.feedback


def test_bad_definitions_are_refused_in_plain_english():
    with pytest.raises(ValueError, match="correct must be an index between 0 and 1, got 5"):
        multiple_choice("?", ["a", "b"], correct=5, explanation="")
    with pytest.raises(ValueError, match="at least two answers"):
        multiple_choice("?", ["a"], correct=0, explanation="")


def test_still_html_shows_the_choices_and_hides_the_answer_behind_a_summary():
    q = multiple_choice(
        "Is <b>this</b> nested?",
        ["No", "Yes, pupils & schools"],
        correct=1,
        explanation="Pupils belong to schools.",
    )
    bundle = q._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle  # JupyterLab keeps the widget
    still = bundle["text/html"]
    assert "Is &lt;b&gt;this&lt;/b&gt; nested?" in still
    assert still.count("<li>") == 2
    answer = still.split("<details>", 1)[1]
    assert "<summary>Show the answer</summary>" in answer
    assert "<strong>B</strong>: Yes, pupils &amp; schools. Pupils belong to schools." in answer
    assert "Pupils belong" not in still.split("<details>", 1)[0]
