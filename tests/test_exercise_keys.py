"""Every answer key, run for many student ids: each question well posed, each mistake hinted.

For each exercise and each student id, the key's reference solution runs on that student's
data and the test checks that

* every expected answer can be given: a finite number, a letter among the choices (each
  option different, each wrong one with its own hint), a name among the options; and the
  expected answers score full marks;
* what each question takes for granted about the student's data holds (``PREMISES``): exercise
  1's ratio is above 1, exercise 7's county SD falls when uranium enters, exercise 9's checks
  tell the two models apart, exercise 4's decision follows the boundary-corrected p-value, ...;
* every known mistake, given as the answer, gets its own hint, unless it equals the right
  answer within the question's tolerance (then no hint can tell them apart);
* every common mistake that issue 15 names (``NAMED_MISTAKES``) is recognised by some key, and
  where a key offers it, it is told apart from the right answer for nearly every id.

The slow test runs 300 ids per exercise (in chunks, so that the workers share them); the fast
one runs three ids per exercise.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import pytest
import scipy.stats

import multilevel as ml
from multilevel import checking
from multilevel.checks import EXERCISES, ExerciseSpec, Expected, Mistake
from multilevel.exercises.keys import _common
from multilevel.exercises.keys.lesson7 import URANIUM_MODEL
from multilevel.exercises.keys.lesson9 import N_REPLICATES, SEED, spread_of_raises

N_IDS = 300
CHUNK = 100
#: Share of the ids offering a named mistake for which it must differ from the right answer.
TOLD_APART = 0.9

Premise = Callable[[Any, Expected], list[str]]


# --------------------------------------------------------------------------------------------
# What the questions take for granted, checked independently of the keys where it matters
# --------------------------------------------------------------------------------------------
def _failed(premises: list[tuple[bool, str]]) -> list[str]:
    """What each premise that does not hold says: pairs of (holds, what it means if not)."""
    return [problem for holds, problem in premises if not holds]


def _lesson1(sim: Any, expected: Expected) -> list[str]:
    ratio = expected.answers["q7"]
    return _failed([(ratio > 1.05, f"q8 says the ratio is above 1, but q7 = {ratio:.3f}")])


def _lesson3(sim: Any, expected: Expected) -> list[str]:
    change = expected.answers["q6"]
    return _failed([(change > 100, f"q7 says the raise changed (up), but q6 = {change:.1f}")])


def _lesson4(sim: Any, expected: Expected) -> list[str]:
    """q7: the model kept follows the boundary-corrected p-value, recomputed from ML fits."""
    a = expected.answers
    smaller = ml.fit(sim, model="varying_intercepts", reml=False)
    larger = ml.fit(sim, model="varying_both", reml=False)
    statistic = max(2 * (larger.loglik - smaller.loglik), 0.0)
    # Two added parameters, one of them an SD at zero: a 50:50 mixture of chi2(1) and chi2(2).
    p = 0.5 * scipy.stats.chi2.sf(statistic, 1) + 0.5 * scipy.stats.chi2.sf(statistic, 2)
    keep = "varying_both" if p < 0.05 else "varying_intercepts"
    return _failed(
        [
            (a["q7"] == keep, f"q7 expects {a['q7']!r} but p = {p:.4f}"),
            (
                math.isclose(a["q4"], statistic, rel_tol=1e-4, abs_tol=1e-4),
                f"q4 expects {a['q4']:.4f}, the ML statistic is {statistic}",
            ),
        ]
    )


def _lesson5(sim: Any, expected: Expected) -> list[str]:
    """q7: most partial-pooling bases lie between their own estimate and the average, and any
    that land outside do so only slightly (the shared raise differs between the two fits)."""
    separate = ml.fit(sim, model="no_pooling", varying="intercepts")
    partial = ml.fit(sim, model="varying_intercepts")
    average = partial.fixed_effects.at["intercept", "estimate"]
    own, pooled = separate.group_lines["intercept"], partial.group_lines["intercept"]
    excess = (abs(pooled - average) - abs(own - average)) / separate.group_lines["intercept_se"]
    return _failed(
        [
            (
                (excess > 0).mean() < 0.5,
                f"q7: {(excess > 0).mean():.0%} of the departments lie further out",
            ),
            (excess.max() <= 0.25, f"q7: a department lands {excess.max():.2f} SEs further out"),
        ]
    )


def _lesson7(homes: Any, expected: Expected) -> list[str]:
    a = expected.answers
    return _failed(
        [
            (
                not ml.fit(URANIUM_MODEL, homes).boundary,
                "the county SD with log uranium is at the boundary (zero)",
            ),
            (
                0 < a["q3"] < a["q1"],
                f"q7 says the county SD falls, but q1 = {a['q1']:.3f}, q3 = {a['q3']:.3f}",
            ),
            (0.2 < a["q4"] < 1, f"q4's share explained is {a['q4']:.3f}"),
            (a["q5"] > 1, f"q5 says the radon level rises with uranium, but at least by {a['q5']}"),
        ]
    )


def _lesson8(sim: Any, expected: Expected) -> list[str]:
    a = expected.answers
    return _failed(
        [
            (a["q3"] > 0.01, f"q7 asks what the school SD means, but it is {a['q3']:.3f}"),
            (0.05 < a["q5"] < 0.95, f"q5's probability is {a['q5']:.3f}"),
            (a["q4"] > 1, f"q4's lower end {a['q4']:.3f} is not above 1 (GPA helps)"),
        ]
    )


def _lesson9(sim: Any, expected: Expected) -> list[str]:
    """q4 and q6: the checks tell the two models apart; the residual lines fan out."""
    a = expected.answers
    constant = ml.fit(sim, model="varying_intercepts")
    stats = checking.replicate_statistics(
        constant, sim, spread_of_raises, n_replicates=N_REPLICATES, seed=SEED
    )
    reach = float((stats.iloc[1:] >= stats.iloc[0]).mean())
    trends = checking.residuals_by_group(constant, sim)["trend"]
    return _failed(
        [
            (
                not reach > 0.05,
                f"q4: {reach:.3f} of the varying-intercepts replicates reach the data",
            ),
            (
                not a["q3"] < 0.1,
                f"q4: only {a['q3']:.3f} of the varying-slopes replicates reach the data",
            ),
            (
                trends.min() < 0 < trends.max() and a["q1"] > 1.5 * a["q2"],
                "q6: the residual lines do not fan out beyond what the model gives",
            ),
        ]
    )


PREMISES: dict[str, Premise] = {
    "lesson1": _lesson1,
    "lesson3": _lesson3,
    "lesson4": _lesson4,
    "lesson5": _lesson5,
    "lesson7": _lesson7,
    "lesson8": _lesson8,
    "lesson9": _lesson9,
}


# --------------------------------------------------------------------------------------------
# The checks of one key for one id
# --------------------------------------------------------------------------------------------
def _close(spec: ExerciseSpec, question_id: str, value: float, target: float) -> bool:
    return abs(value - target) <= spec.question(question_id).tolerance(target)


def answer_problems(spec: ExerciseSpec, expected: Expected) -> list[str]:
    """Expected answers that cannot be given, and choice questions that are not well formed."""
    problems = []
    for q in spec.questions:
        value = expected.answers[q.id]
        if q.kind == "numeric" and not (isinstance(value, float | int) and math.isfinite(value)):
            problems.append(f"{q.id}: expected answer {value!r} is not a finite number")
        elif q.kind == "choice":
            if value not in q.choices:
                problems.append(f"{q.id}: expected letter {value!r} is not an option")
            if len(set(q.choices.values())) != len(q.choices):
                problems.append(f"{q.id}: two options have the same text")
            if set(q.choice_hints) != set(q.choices) - {value}:
                problems.append(f"{q.id}: every wrong option, and only those, needs a hint")
        elif q.kind == "category" and value not in expected.options.get(q.id, ()):
            problems.append(f"{q.id}: expected name {value!r} is not among the options")
    report = spec.grade_answers(expected.student_id, dict(expected.answers))
    if report.score != report.max_score:
        problems.append(f"the expected answers score {report.score}/{report.max_score}")
    return problems


def hint_problems(spec: ExerciseSpec, expected: Expected, told_apart: Counter) -> list[str]:
    """Known mistakes that do not get their hint; counts named mistakes in ``told_apart``.

    ``told_apart[(question, kind, True)]`` counts the ids where some mistake of a named kind
    differs from the right answer (exercise 2 has the no-pooling SD with ddof 1 and 0),
    ``[(question, kind, False)]`` those where none can be told apart from it.
    """
    problems = []
    for question_id, mistakes in expected.mistakes.items():
        question = spec.question(question_id)
        target = expected.answers[question_id]
        apart: dict[str, bool] = {}
        for mistake in mistakes:
            if question.kind == "numeric":
                if not math.isfinite(float(mistake.value)):
                    problems.append(f"{question_id}: a mistake's value is {mistake.value!r}")
                    continue
                same = _close(spec, question_id, float(mistake.value), float(target))
            else:
                same = str(mistake.value).casefold() == str(target).casefold()
                if str(mistake.value) not in expected.options.get(question_id, ()):
                    problems.append(f"{question_id}: mistake {mistake.value!r} is not an option")
            if mistake.kind:
                apart[mistake.kind] = apart.get(mistake.kind, False) or not same
            if same:
                continue
            feedback = spec.grade(question_id, mistake.value, expected)
            if feedback.status != "incorrect" or mistake.message not in feedback.message:
                problems.append(
                    f"{question_id}: mistake {mistake.value!r} ({mistake.kind or 'unnamed'}) got "
                    f"{feedback.status}: {feedback.message[:90]!r}"
                )
        for kind, told in apart.items():
            told_apart[(question_id, kind, told)] += 1
    return problems


def check_key(name: str, student_ids: Iterable[str]) -> tuple[list[str], Counter]:
    """All problems of one key over ``student_ids``, and the named-mistake counts."""
    spec = EXERCISES[name]
    premise = PREMISES.get(name)
    problems: list[str] = []
    told_apart: Counter = Counter()
    for student_id in student_ids:
        expected = spec.expected(student_id)
        found = answer_problems(spec, expected) + hint_problems(spec, expected, told_apart)
        if premise is not None:
            found += premise(spec.data(student_id), expected)
        problems += [f"{name}, id {student_id!r}: {p}" for p in found]
    return problems, told_apart


def rarely_told_apart(name: str, told_apart: Counter) -> list[str]:
    """Named mistakes that a key offers but that equal the right answer too often."""
    problems = []
    for question_id, kind in {(q, k) for q, k, _ in told_apart}:
        apart, same = told_apart[(question_id, kind, True)], told_apart[(question_id, kind, False)]
        if apart < TOLD_APART * (apart + same):
            problems.append(
                f"{name} {question_id}: the {kind} mistake differs from the right answer for "
                f"only {apart} of {apart + same} ids"
            )
    return problems


# --------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------
NAMES = sorted(EXERCISES)
CHUNKS = [(name, start) for name in NAMES for start in range(0, N_IDS, CHUNK)]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "start"), CHUNKS, ids=[f"{n}-{s}" for n, s in CHUNKS])
def test_every_key_is_well_posed_for_300_ids(name: str, start: int) -> None:
    ids = [f"key-check-{i:03d}" for i in range(start, start + CHUNK)]
    problems, told_apart = check_key(name, ids)
    problems += rarely_told_apart(name, told_apart)
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:20])


@pytest.mark.parametrize("name", NAMES)
def test_every_key_is_well_posed_for_a_few_ids(name: str) -> None:
    problems, _ = check_key(name, ["ada", "alan-turing", "your-student-id"])
    assert not problems, "\n".join(problems[:20])


def test_every_named_mistake_is_recognised_by_a_key() -> None:
    """Each common mistake of issue 15 has a hint in at least one key, told apart for 'ada'."""
    seen = set()
    for name in NAMES:
        _, told_apart = check_key(name, ["ada"])
        seen |= {kind for _, kind, apart in told_apart if apart}
    assert seen == set(_common.NAMED_MISTAKES)


def test_a_broken_key_is_caught() -> None:
    """The checks can fail: a lost hint, an unusable mistake, a wrong letter, a false premise."""
    spec = EXERCISES["lesson2"]
    expected = spec.expected("ada")
    q1 = expected.answers["q1"]
    named = Mistake(q1 * 1.5, "ML, say", _common.ML_FOR_REML)
    one_mistake = dataclasses.replace(expected, mistakes={"q1": (named,)})
    assert hint_problems(spec, one_mistake, Counter()) == []

    class LosesHints:  # grades like the key but never gives a hint
        question = spec.question

        def grade(self, question_id: str, answer: Any, expected: Expected) -> Any:
            return dataclasses.replace(spec.grade(question_id, answer, expected), message="no")

    assert hint_problems(LosesHints(), one_mistake, Counter())
    unusable = dataclasses.replace(expected, mistakes={"q1": (Mistake(float("nan"), "?"),)})
    assert hint_problems(spec, unusable, Counter())
    same = dataclasses.replace(expected, mistakes={"q1": (dataclasses.replace(named, value=q1),)})
    counts: Counter = Counter()
    assert hint_problems(spec, same, counts) == []  # it is graded correct: no hint possible
    assert rarely_told_apart("lesson2", counts)
    wrong_letter = dataclasses.replace(expected, answers={**expected.answers, "q6": "A"})
    assert any(p.startswith("q6") for p in answer_problems(spec, wrong_letter))
    assert _lesson1(None, dataclasses.replace(expected, answers={"q7": 0.9}))
