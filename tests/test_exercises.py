"""Graded exercises: the generator, the answer keys and the instant feedback of ``multilevel.checks``."""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from nbclient import NotebookClient

from multilevel import checks
from multilevel.checks import EXERCISES, PLACEHOLDER_STUDENT_ID

REPO = Path(__file__).resolve().parent.parent
SOLUTIONS = sorted((REPO / "solutions").glob("*.ipynb"))
EXERCISE_FILES = sorted((REPO / "exercises").glob("*.ipynb"))


def _load_generator():
    spec = importlib.util.spec_from_file_location(
        "make_exercises", REPO / "scripts" / "make_exercises.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_exercises"] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


make_exercises = _load_generator()


def _code_lines(nb: nbformat.NotebookNode) -> list[str]:
    return [
        line.strip()
        for cell in nb.cells
        if cell.cell_type == "code"
        for line in cell.source.splitlines()
        if line.strip()
    ]


# --------------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------------
def test_there_is_one_exercise_per_lesson() -> None:
    names = {nbformat.read(p, as_version=4).metadata["multilevel"]["exercise"] for p in SOLUTIONS}
    # Exercise lessonN goes with course/0N_*.ipynb; lesson 0 has none.
    lessons = {f"lesson{int(p.name[:2])}" for p in (REPO / "course").glob("*.ipynb")} - {"lesson0"}
    assert names == lessons == set(checks.exercise_names())
    assert [p.name for p in SOLUTIONS] == [p.name for p in EXERCISE_FILES]


def test_committed_exercises_are_what_the_generator_writes(tmp_path: Path) -> None:
    status = make_exercises.main(
        ["--solutions", str(REPO / "solutions"), "--output", str(tmp_path)]
    )
    assert status == 0
    for path in EXERCISE_FILES:
        assert (tmp_path / path.name).read_text(encoding="utf-8") == path.read_text(
            encoding="utf-8"
        ), f"{path.name} is stale: run `make exercises`"
    assert make_exercises.main(["--check"]) == 0


def test_check_mode_fails_on_a_stale_or_missing_exercise(tmp_path: Path) -> None:
    make_exercises.main(["--output", str(tmp_path)])
    assert make_exercises.main(["--check", "--output", str(tmp_path)]) == 0
    target = tmp_path / EXERCISE_FILES[0].name
    target.write_text(target.read_text(encoding="utf-8").replace("Question 1", "Question one"))
    assert make_exercises.main(["--check", "--output", str(tmp_path)]) == 1
    target.unlink()
    assert make_exercises.main(["--check", "--output", str(tmp_path)]) == 1


def test_generation_is_deterministic() -> None:
    first = make_exercises.generate(REPO / "solutions")
    second = make_exercises.generate(REPO / "solutions")
    assert first == second


@pytest.mark.parametrize("solution_path", SOLUTIONS, ids=[p.name for p in SOLUTIONS])
def test_no_solution_code_leaks_into_the_exercise(solution_path: Path) -> None:
    solution = nbformat.read(solution_path, as_version=4)
    exercise = nbformat.read(REPO / "exercises" / solution_path.name, as_version=4)
    exercise_text = "\n".join(cell.source for cell in exercise.cells)
    tagged = [c for c in solution.cells if "solution" in c.metadata.get("tags", [])]
    assert len(tagged) >= 5, "every exercise needs a STUDENT_ID cell and at least 4 answers"
    for cell in tagged:
        for line in cell.source.splitlines():
            code = line.strip()
            if code and not code.startswith("#"):
                assert code not in exercise_text, f"solution line leaked: {code!r}"
    assert all("solution" not in c.metadata.get("tags", []) for c in exercise.cells)


@pytest.mark.parametrize("exercise_path", EXERCISE_FILES, ids=[p.name for p in EXERCISE_FILES])
def test_exercise_has_placeholders_and_a_check_for_every_question(exercise_path: Path) -> None:
    nb = nbformat.read(exercise_path, as_version=4)
    name = nb.metadata["multilevel"]["exercise"]
    spec = EXERCISES[name]
    assert 4 <= len(spec.questions) <= 8
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    assert code_cells[0].source.startswith(f'STUDENT_ID = "{PLACEHOLDER_STUDENT_ID}"')
    lines = _code_lines(nb)
    for q in spec.question_ids:
        assert f"{q} = ...  # YOUR ANSWER HERE" in lines
        assert f'ex.check("{q}", {q})' in lines
    assert all(c.outputs == [] and c.execution_count is None for c in code_cells)


def _shown_questions(nb: nbformat.NotebookNode) -> str:
    """The notebook's markdown with whitespace collapsed (prompts are wrapped differently)."""
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    return " ".join(text.split())


@pytest.mark.parametrize("solution_path", SOLUTIONS, ids=[p.name for p in SOLUTIONS])
def test_notebook_states_each_question_as_its_key_does(solution_path: Path) -> None:
    """The student reads the prompt and options that the key grades (exercise 5 q6's D once
    said 'moves by the same amount' where key and hint said 'the same share of the way')."""
    nb = nbformat.read(solution_path, as_version=4)
    spec = EXERCISES[nb.metadata["multilevel"]["exercise"]]
    shown = _shown_questions(nb)
    for number, q in enumerate(spec.questions, start=1):
        heading = f"## Question {number} ({q.points:g} point{'' if q.points == 1 else 's'})"
        assert heading in shown, f"{q.id}: no heading {heading!r}"
        assert " ".join(q.prompt.split()) in shown, f"{q.id}: the prompt differs from the key"
        for letter, text in q.choices.items():
            option = " ".join(f"- **{letter}.** {text}".split())
            assert option in shown, f"{q.id} option {letter} differs from the key: {text!r}"
    total = f"There are {len(spec.questions)} questions worth {spec.max_points:g} points."
    assert total in shown


def test_placeholder_keeps_instructions_and_blanks_every_answer() -> None:
    source = "# Fit the model first.\nres = ml.fit(sim)\nq2 = res.icc\nq3 = 1 - q2"
    assert make_exercises.placeholder_source(source) == (
        "# Fit the model first.\nq2 = ...  # YOUR ANSWER HERE\nq3 = ...  # YOUR ANSWER HERE"
    )
    assert make_exercises.placeholder_source("print(1)") == "# YOUR CODE HERE"
    assert 'STUDENT_ID = "your-student-id"' in make_exercises.placeholder_source('STUDENT_ID = "x"')


@pytest.mark.parametrize("edit", ["answer", "outputs", "student_id"])
def test_generator_refuses_to_overwrite_student_work(tmp_path: Path, edit: str) -> None:
    make_exercises.main(["--output", str(tmp_path)])
    path = tmp_path / EXERCISE_FILES[1].name
    nb = nbformat.read(path, as_version=4)
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    if edit == "answer":
        cell = next(c for c in code_cells if "q1 = ..." in c.source)
        cell.source = cell.source.replace("q1 = ...", "q1 = 7500.0")
    elif edit == "outputs":
        code_cells[1].execution_count = 1
        code_cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="hi\n")]
    else:
        code_cells[0].source = 'STUDENT_ID = "ada"'
    nbformat.write(nb, path)
    student_text = path.read_text(encoding="utf-8")
    # A newer solution makes the exercise stale, so the generator wants to rewrite it.
    solutions = tmp_path / "solutions"
    shutil.copytree(REPO / "solutions", solutions)
    assert make_exercises.main(["--solutions", str(solutions), "--output", str(tmp_path)]) == 2
    assert path.read_text(encoding="utf-8") == student_text
    assert (
        make_exercises.main(["--solutions", str(solutions), "--output", str(tmp_path), "--force"])
        == 0
    )
    assert path.read_text(encoding="utf-8") == (REPO / "exercises" / path.name).read_text(
        encoding="utf-8"
    )


# --------------------------------------------------------------------------------------------
# Per-student data and expected answers
# --------------------------------------------------------------------------------------------
def _frame(data: object) -> pd.DataFrame:
    """The table of a student's data: SimulatedData.data, or the DataFrame of real data."""
    return data if isinstance(data, pd.DataFrame) else data.data


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_two_students_get_different_data_and_answers(name: str) -> None:
    spec = EXERCISES[name]
    ada, alan = _frame(spec.data("ada")), _frame(spec.data("alan"))
    assert not ada.equals(alan)
    numeric = [q.id for q in spec.questions if q.kind == "numeric"]
    a, b = spec.expected("ada").answers, spec.expected("alan").answers
    assert any(a[q] != b[q] for q in numeric)
    # Spaces and case in an id do not change the data.
    assert _frame(spec.data("  ADA ")).equals(ada)


def test_expected_answers_are_reproducible_in_a_fresh_process() -> None:
    """Same answers in another interpreter with another hash seed (no use of Python's hash())."""
    code = (
        "import json; from multilevel.checks import EXERCISES\n"
        "print(json.dumps([dict(EXERCISES[n].expected('ada').answers) for n in EXERCISES]))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env, cwd=REPO
    )
    here = [dict(EXERCISES[n].expected("ada").answers) for n in EXERCISES]
    assert json.loads(out.stdout) == json.loads(json.dumps(here))


def test_student_seed_depends_on_exercise_and_id_only() -> None:
    assert checks.student_seed("lesson2", "ada") == checks.student_seed("lesson2", " Ada\n")
    assert checks.student_seed("lesson2", "ada") != checks.student_seed("lesson3", "ada")
    assert checks.student_seed("lesson2", "ada") != checks.student_seed("lesson2", "ada2")
    with pytest.raises(ValueError, match="student_id"):
        checks.student_seed("lesson2", "  ")
    with pytest.raises(ValueError, match="exercise must be one of"):
        checks.start("lesson99", "ada")


# --------------------------------------------------------------------------------------------
# Verdicts and hints
# --------------------------------------------------------------------------------------------
STUDENT = "grace-hopper"


@pytest.fixture(scope="module")
def lesson2() -> checks.Exercise:
    return checks.start("lesson2", STUDENT)


def test_statsmodels_fit_of_the_students_data_passes(lesson2: checks.Exercise) -> None:
    """The key agrees with an independent statsmodels REML fit of the same data."""
    data = lesson2.data.data.assign(department=lambda d: d["department"].astype(str))
    result = smf.mixedlm("salary ~ experience", data, groups="department").fit(reml=True)
    sd = float(np.sqrt(result.cov_re.iloc[0, 0]))
    assert lesson2.check("q1", sd).correct
    assert lesson2.check("q2", float(np.sqrt(result.scale))).correct
    assert lesson2.check("q3", float(result.fe_params["experience"])).correct
    chemistry = result.fe_params["Intercept"] + result.random_effects["Chemistry"].iloc[0]
    assert lesson2.check("q5", float(chemistry)).correct


def test_sd_of_no_pooling_intercepts_gets_the_specific_hint(lesson2: checks.Exercise) -> None:
    data = lesson2.data.data.assign(department=lambda d: d["department"].astype(str))
    ols = smf.ols("salary ~ 0 + C(department) + experience", data).fit()
    separate = ols.params.filter(like="C(department)")
    feedback = lesson2.check("q1", float(separate.std()))
    assert feedback.status == "incorrect" and feedback.points == 0
    assert "SD of the no-pooling intercepts" in feedback.message


def test_typical_numeric_mistakes_get_specific_hints(lesson2: checks.Exercise) -> None:
    expected = EXERCISES["lesson2"].expected(STUDENT).answers
    cases = {
        "thousands": (expected["q5"] / 1000, "thousands"),
        "sign": (-expected["q3"], "sign"),
        "variance": (expected["q1"] ** 2, "variance"),
        "truth": (lesson2.data.population["base_sd"], "true"),
        "percent": (100 * expected["q4"], "percentage"),
    }
    question = {"thousands": "q5", "sign": "q3", "variance": "q1", "truth": "q1", "percent": "q4"}
    for case, (answer, words) in cases.items():
        feedback = lesson2.check(question[case], answer)
        assert feedback.status == "incorrect", case
        assert words in feedback.message, (case, feedback.message)


def test_answer_from_the_placeholder_ids_data_is_recognised(lesson2: checks.Exercise) -> None:
    other = EXERCISES["lesson2"].expected(PLACEHOLDER_STUDENT_ID).answers["q5"]
    feedback = lesson2.check("q5", other)
    assert feedback.status == "incorrect" and "STUDENT_ID" in feedback.message


def test_neighbours_answers_fail(lesson2: checks.Exercise) -> None:
    neighbour = EXERCISES["lesson2"].expected("alan-turing").answers
    assert sum(lesson2.check(q, neighbour[q]).correct for q in ("q1", "q2", "q3", "q5")) == 0


@pytest.mark.parametrize(
    ("answer", "status", "words"),
    [
        (..., "unanswered", "Replace the ..."),
        (None, "invalid", "None"),
        ("7500", "invalid", "without quotes"),
        ([1.0, 2.0], "invalid", "single number"),
        (np.array([1.0, 2.0, 3.0]), "invalid", "single number"),
        (pd.DataFrame({"a": [1, 2]}), "invalid", "DataFrame"),
        (float("nan"), "invalid", "nan"),
        (True, "invalid", "yes/no"),
        (object(), "invalid", "object"),
    ],
)
def test_wrong_types_get_a_friendly_message(
    lesson2: checks.Exercise, answer: object, status: str, words: str
) -> None:
    feedback = lesson2.check("q1", answer)
    assert feedback.status == status and feedback.points == 0
    assert words in feedback.message
    assert "Traceback" not in str(feedback)


def test_misbehaving_objects_never_raise(lesson2: checks.Exercise) -> None:
    class Evil:
        def __eq__(self, other: object) -> bool:
            return True

        def __float__(self) -> float:
            raise RuntimeError("boom")

    feedback = lesson2.check("q1", Evil())
    assert feedback.status == "invalid" and not feedback.correct
    assert lesson2.check("q42", 1.0).status == "invalid"


def test_numpy_and_one_element_answers_are_accepted(lesson2: checks.Exercise) -> None:
    expected = EXERCISES["lesson2"].expected(STUDENT).answers["q1"]
    assert lesson2.check("q1", np.float64(expected)).correct
    assert lesson2.check("q1", pd.Series([expected])).correct
    assert lesson2.check("q1", np.array(expected)).correct


def test_tolerance_suits_the_statistic(lesson2: checks.Exercise) -> None:
    expected = EXERCISES["lesson2"].expected(STUDENT).answers
    assert lesson2.check("q1", round(expected["q1"])).correct  # whole dollars are fine
    assert not lesson2.check("q1", expected["q1"] * 1.02).correct
    assert lesson2.check("q4", round(expected["q4"], 3)).correct
    assert not lesson2.check("q4", expected["q4"] + 0.03).correct


def test_choice_and_category_questions() -> None:
    ex = checks.start("lesson1", STUDENT)
    spec = EXERCISES["lesson1"]
    right = spec.question("q6").answer
    assert ex.check("q6", right.lower()).correct
    assert ex.check("q6", f"({right})").correct
    wrong = next(k for k in spec.question("q6").choices if k != right)
    feedback = ex.check("q6", wrong)
    assert (
        feedback.status == "incorrect"
        and feedback.message == spec.question("q6").choice_hints[wrong]
    )
    assert ex.check("q6", "Z").status == "invalid"
    assert ex.check("q6", 3).status == "invalid"
    # Category: the department with the highest mean salary, checked against pandas directly.
    means = ex.data.data.groupby("department", observed=True)["salary"].mean()
    assert ex.check("q4", str(means.idxmax()).upper()).correct
    assert ex.check("q4", "Quidditch").status == "invalid"
    # Counts compared exactly.
    assert ex.check("q2", len(ex.data.data)).correct
    assert ex.check("q1", len(ex.data.data)).status == "incorrect"


def test_feedback_shows_as_html_and_text() -> None:
    ex = checks.start("lesson1", STUDENT)
    feedback = ex.check("q3", "<b>")
    assert "q3" in str(feedback) and "cannot check" in repr(feedback)
    html = feedback._repr_html_()
    assert "&lt;b&gt;" in html and "<b>" in html  # the answer is escaped, the headline bold
    progress = ex.progress()
    assert progress.max_score == EXERCISES["lesson1"].max_points
    assert "q3" in progress._repr_html_() and "q3" in str(progress)


def test_answers_survive_the_json_round_trip() -> None:
    spec = EXERCISES["lesson3"]
    expected = spec.expected(STUDENT).answers
    raw = {q: expected[q] for q in spec.question_ids}
    as_json = {
        q: json.loads(json.dumps(checks.describe_answer(v).to_json())) for q, v in raw.items()
    }
    assert checks.grade_answers("lesson3", STUDENT, as_json).score == spec.max_points
    nan = checks.Answer.from_json(json.loads(json.dumps(checks.describe_answer(np.nan).to_json())))
    assert nan.kind == "number" and np.isnan(nan.value)
    assert checks.Answer.from_json({"kind": "nonsense"}).kind == "other"
    report = checks.grade_answers("lesson3", STUDENT, {})
    assert report.score == 0 and {f.status for f in report.feedback} == {"unanswered"}


# --------------------------------------------------------------------------------------------
# Executing the notebooks: solutions score full marks, untouched exercises zero
# --------------------------------------------------------------------------------------------
_PREFIX = "TEST-ANSWERS-JSON:"


def _run_and_collect_answers(nb: nbformat.NotebookNode, folder: Path) -> dict:
    nb = copy.deepcopy(nb)
    name = nb.metadata["multilevel"]["exercise"]
    ids = list(EXERCISES[name].question_ids)
    nb.cells.append(
        nbformat.v4.new_code_cell(
            "import json as _j\nfrom multilevel.checks import describe_answer as _d\n"
            f"print({_PREFIX!r} + _j.dumps({{q: _d(globals()[q]).to_json() "
            f"for q in {ids!r} if q in globals()}}))"
        )
    )
    NotebookClient(
        nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    ).execute()
    for output in nb.cells[-1].outputs:
        for line in output.get("text", "").splitlines():
            if line.startswith(_PREFIX):
                return json.loads(line[len(_PREFIX) :])
    raise AssertionError("the answers were not printed")


def _student_id(nb: nbformat.NotebookNode) -> str:
    first = next(c for c in nb.cells if c.cell_type == "code")
    return first.source.split('"')[1]


@pytest.mark.notebook
@pytest.mark.parametrize("solution_path", SOLUTIONS, ids=[p.name for p in SOLUTIONS])
def test_solution_scores_full_marks_and_exercise_scores_zero(solution_path: Path) -> None:
    solution = nbformat.read(solution_path, as_version=4)
    name = solution.metadata["multilevel"]["exercise"]
    answers = _run_and_collect_answers(solution, solution_path.parent)
    report = checks.grade_answers(name, _student_id(solution), answers)
    assert report.score == report.max_score, str(report)

    exercise_path = REPO / "exercises" / solution_path.name
    exercise = nbformat.read(exercise_path, as_version=4)
    answers = _run_and_collect_answers(exercise, exercise_path.parent)
    report = checks.grade_answers(name, _student_id(exercise), answers)
    assert report.score == 0 and {f.status for f in report.feedback} == {"unanswered"}


@pytest.mark.notebook
def test_solution_is_right_for_any_student() -> None:
    """The solution code computes each student's own answers, not one fixed set."""
    path = REPO / "solutions" / "lesson5_exercises.ipynb"
    nb = nbformat.read(path, as_version=4)
    next(c for c in nb.cells if c.cell_type == "code").source = 'STUDENT_ID = "someone-else"'
    report = checks.grade_answers(
        "lesson5", "someone-else", _run_and_collect_answers(nb, path.parent)
    )
    assert report.score == report.max_score, str(report)


# --------------------------------------------------------------------------------------------
# Keys stay with the grader; answers must follow the data
# --------------------------------------------------------------------------------------------
def test_feedback_never_shows_the_expected_value_or_a_range(lesson2: checks.Exercise) -> None:
    expected = EXERCISES["lesson2"].expected(STUDENT).answers
    for q in ("q1", "q2", "q3", "q5"):
        for answer in (expected[q] * 1.37 + 11, expected[q] * 1.02):
            message = lesson2.check(q, answer).message
            assert "±" not in message and "tolerance" not in message, message
            for shown in (f"{expected[q]:,.0f}", f"{expected[q]:.0f}"):
                assert shown not in message, (q, message)


def test_registry_is_explicit_and_lists_every_lesson() -> None:
    from multilevel import exercises
    from multilevel.exercises import keys

    for path in [Path(checks.__file__), *Path(exercises.__file__).parent.rglob("*.py")]:
        source = path.read_text(encoding="utf-8")
        assert "pkgutil" not in source and "import_module" not in source, path
    assert set(exercises.DATA) == set(keys.SPECS) == set(checks.exercise_names())
    for name, spec in keys.SPECS.items():
        assert spec.make_data is exercises.DATA[name]  # one data maker, public


_HIDDEN_KEYS = """\
import sys
sys.modules["multilevel.exercises.keys"] = None  # what the grader's sandbox does: no keys
import multilevel as ml
ex = ml.checks.start("lesson2", "ada")
feedback = ex.check("q1", 1.0)
print(len(ml.checks.EXERCISES), ex.spec, feedback.points, len(ex.data.data) > 0)
print(feedback.message)
"""


def test_hidden_keys_leave_the_data_and_say_the_grader_checks() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _HIDDEN_KEYS], capture_output=True, text=True, check=True, cwd=REPO
    ).stdout.splitlines()
    assert out[0] == "0 None 0.0 True"
    assert "grader checks" in out[1]


def test_variant_id_changes_the_data_but_not_the_student(monkeypatch) -> None:
    own = checks.start("lesson2", "ada")
    monkeypatch.setenv(checks.VARIANT_ENV, "variant-secret")
    variant = checks.start("lesson2", "ada")
    assert variant.student_id == own.student_id == "ada"
    assert variant.seed == checks.student_seed("lesson2", "variant-secret") != own.seed
    assert not variant.data.data.equals(own.data.data)
