"""The instructor's gradebook: bad submissions, cheating attempts, resume, and the command line.

Most cases run as one graded batch (one kernel per submission, two at a time) against a tiny
test-only answer key whose expected answers the tests derive on their own from
``student_seed``; the command-line tests use the real ``lesson1`` key.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import nbformat
import pytest

from multilevel import checks
from multilevel.checks import student_seed
from multilevel.grade import (
    EXIT_BAD_USAGE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    grade_submissions,
    main,
)
from multilevel.grade._kernel import Timeouts
from multilevel.grade._worker import KernelWorker
from tests.grading_processes import processes_of_run
from tests.tiny_exercise import tiny_answers, tiny_exercise

REPO = Path(__file__).resolve().parents[1]

# One worker grades the shared batch once; the tests that start kernels are marked "notebook".
pytestmark = pytest.mark.xdist_group("grade")
kernels = pytest.mark.notebook


@pytest.fixture(scope="module", autouse=True)
def results_key(tmp_path_factory):
    """The key of stored results in a folder of the test's own, not the user's state folder."""
    with pytest.MonkeyPatch.context() as patch:
        path = tmp_path_factory.mktemp("key") / "results.key"
        patch.setenv("MULTILEVEL_GRADE_KEY", str(path))
        yield path


# --------------------------------------------------------------------------------------------
# A tiny answer key: q1 and q3 depend on the student's seed, q2 is the same for everyone.
# --------------------------------------------------------------------------------------------
TINY = tiny_exercise("tiny")
TINY_EXERCISES = {"tiny": TINY}
MAX = 6.0


def truth(student_id: str) -> dict[str, float | str]:
    """Expected answers derived independently of the grader."""
    return tiny_answers("tiny", student_id)


def seed_cell(student_id: str) -> str:
    """The student's seed as a literal, so test kernels need not import the course packages."""
    return f"s = {student_seed('tiny', student_id)}"


Q1 = "q1 = s % 1000"
Q2 = 'q2 = "B"'
Q3 = "q3 = s % 7 * 10 + 3"


def notebook(cells: list[str], exercise: str | None = "tiny") -> str:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    if exercise is not None:
        nb.metadata["multilevel"] = {"exercise": exercise}
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    return nbformat.writes(nb)


def honest(student_id: str, *middle: str) -> list[str]:
    return [f"STUDENT_ID = {student_id!r}", seed_cell(student_id), Q1, *middle, Q2, Q3]


def snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    return {
        p.relative_to(folder).as_posix(): (
            hashlib.sha256(p.read_bytes()).hexdigest(),
            p.stat().st_mtime_ns,
        )
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


CHECKS_FILE = Path(checks.__file__)
SECRET = "lms-token-5f1d"

BATCH = {
    "alice.ipynb": notebook(honest("alice")),
    "bob.ipynb": notebook(["STUDENT_ID = 'bob'", seed_cell("bob"), "q1 = s % 1000 + 17", Q2, Q3]),
    "broken.ipynb": '{"cells": [ {"cell_type": "code", "source": "q1 = 1"',
    "essay.txt": "I did the exercise on paper.",
    "json_list.ipynb": "[1, 2, 3]",
    # q3's cell deleted and the rest moved around: q3 raises NameError before the seed exists.
    "dave.ipynb": notebook(["STUDENT_ID = 'dave'", Q2, Q3, seed_cell("dave"), Q1]),
    "erin.ipynb": notebook(
        honest("erin", "1 / 0", "raise RuntimeError('oops')", "import sys\nsys.exit(3)")
    ),
    "frank.ipynb": notebook(honest("frank", "while True:\n    pass")),
    "hank.ipynb": notebook(honest("hank", "import os\nos._exit(0)")),
    "ivan.ipynb": notebook(
        honest("ivan", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")
    ),
    "jack.ipynb": notebook(
        honest(
            "jack",
            "print('x' * 20_000_000)\nfor i in range(20_000):\n    print(i, 'spam' * 20)",
        )
    ),
    # Kernels are forked from one preloaded process: state set in one must not reach another.
    "aaa_marker.ipynb": notebook(
        honest("aaa", "import numpy, multilevel.checks as c\nnumpy.leaked = c.leaked = True")
    ),
    # The fork server (the kernel's parent) is the sandbox's pid 1: a kernel cannot kill it.
    "zy_kill_parent.ipynb": notebook(
        honest(
            "zy",
            "import os, pathlib, signal\n"
            "parent = pathlib.Path(f'/proc/{os.getppid()}/cmdline').read_bytes()\n"
            "assert b'_multilevel_grade_zygote' in parent and os.getppid() == 1\n"
            "os.kill(os.getppid(), signal.SIGKILL)\n"
            "os.kill(os.getppid(), signal.SIGSTOP)",
        )
    ),
    "zzz_fresh.ipynb": notebook(
        [
            "STUDENT_ID = 'zzz'",
            seed_cell("zzz"),
            Q1,
            "import numpy, multilevel.checks as c\n"
            "q2 = 'A' if hasattr(numpy, 'leaked') or hasattr(c, 'leaked') else 'B'",
            Q3,
        ]
    ),
    "kate.ipynb": notebook(honest("kate"), exercise="lesson9"),
    "leo.ipynb": notebook(["s = 12345", Q1, Q2, Q3]),
    "mia.ipynb": notebook(honest(checks.PLACEHOLDER_STUDENT_ID)),
    # No exercise in the metadata, and an id a spreadsheet would run as a formula.
    "no_metadata.ipynb": notebook(honest('=HYPERLINK("http://x")'), exercise=None),
    "sub/dup1.ipynb": notebook(honest("omar")),
    "sub/dup2.ipynb": notebook(honest("  OMAR ")),
    # ---- attacks: each one answers q1 wrongly and tries to get the points anyway ----
    "att_combo.ipynb": notebook(
        [
            "STUDENT_ID = 'att-combo'",
            seed_cell("att-combo"),
            # an answer that claims to equal everything
            "class Anything(float):\n"
            "    def __eq__(self, other):\n        return True\n"
            "    def __ne__(self, other):\n        return False\n"
            "    def __sub__(self, other):\n        return 0.0\n"
            "    __rsub__ = __sub__\n"
            "q1 = Anything(-1)",
            # redefine the checker and the answer description, print fake results
            "import multilevel.checks as c\n"
            "c.ExerciseSpec.grade = lambda *a, **k: c.Feedback('q1', 'correct', 99, 2, 'passed')\n"
            "c.describe_answer = lambda v: c.Answer('number', float(s % 1000))\n"
            "c.Exercise.check = lambda *a, **k: 'passed'\n"
            "print('q1 passed\\nq2 passed\\nq3 passed\\nScore: 6/6')",
            # read the instructor's environment into an answer that the feedback would echo
            "import os\nleak = os.environ.get('MULTILEVEL_TEST_SECRET', 'absent')",
            # edit package files (the grader's copy) and write fake result files
            "import pathlib, _multilevel_grade_capture as g\n"
            "pathlib.Path(c.__file__).write_text('raise SystemExit')\n"
            "pathlib.Path(g.__file__).write_text('def dump(names):\\n    return \"{}\"\\n')\n"
            "for name in ['results.json', 'gradebook.csv', 'answers.json']:\n"
            '    pathlib.Path(name).write_text(\'{"q1": 2, "score": 6}\')',
            "q2 = 'B' if leak == 'absent' else leak",
            Q3,
        ]
    ),
    "att_json.ipynb": notebook(
        [
            "STUDENT_ID = 'att-json'",
            seed_cell("att-json"),
            "q1 = -1",
            "import json\n"
            "good = {'kind': 'number', 'value': float(s % 1000)}\n"
            "json.dumps = lambda *a, **k: '{\"q1\": %s}' % json.JSONEncoder().encode(good)\n"
            'json.JSONEncoder.encode = lambda self, o: \'{"q1": {"kind": "number", '
            '"value": %d}}\' % (s % 1000)',
            Q2,
            Q3,
        ]
    ),
}


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("batch")
    subs = root / "submissions"
    for name, text in BATCH.items():
        path = subs / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    past = time.time() - 3600  # mtimes an accidental write would change
    for path in subs.rglob("*"):
        os.utime(path, (past, past))
    before = snapshot(subs)
    os.environ["MULTILEVEL_TEST_SECRET"] = SECRET
    checks_before = hashlib.sha256(CHECKS_FILE.read_bytes()).hexdigest()
    out = root / "out"
    started = time.perf_counter()
    run = grade_submissions(
        subs,
        out,
        exercise="tiny",
        jobs=2,
        cell_timeout=5,
        notebook_timeout=30,
        progress=False,
        exercises=TINY_EXERCISES,
        variant=False,  # these notebooks hold their seed as a literal: nothing to vary
    )
    seconds = time.perf_counter() - started
    del os.environ["MULTILEVEL_TEST_SECRET"]
    rows = {r["file"]: r for r in csv.DictReader((out / "gradebook.csv").open(encoding="utf-8"))}
    return {
        "run": run,
        "rows": rows,
        "subs": subs,
        "out": out,
        "before": before,
        "checks_before": checks_before,
        "seconds": seconds,
    }


def points(row: dict[str, str]) -> dict[str, float]:
    return {q: float(row[q]) for q in ("q1", "q2", "q3", "total", "max")}


@kernels
def test_gradebook_has_one_row_per_file_with_lms_columns(batch):
    rows = batch["rows"]
    assert set(rows) == set(BATCH)
    header = next(csv.reader((batch["out"] / "gradebook.csv").open(encoding="utf-8")))
    assert header == [
        "student_id",
        "exercise",
        "file",
        "q1",
        "q2",
        "q3",
        "total",
        "max",
        "status",
        "reason",
        "sandbox",
    ]
    for row in rows.values():
        assert row["sandbox"] == "bubblewrap"
        assert float(row["max"]) == MAX
        assert float(row["total"]) == pytest.approx(sum(float(row[q]) for q in ("q1", "q2", "q3")))
    frame = batch["run"].gradebook
    assert len(frame) == len(BATCH)
    assert frame["total"].dtype.kind == "f"


@kernels
def test_honest_submissions_score_from_the_grader_own_key(batch):
    rows = batch["rows"]
    alice = rows["alice.ipynb"]
    assert alice["student_id"] == "alice"
    assert alice["status"] == "ok" and alice["reason"] == ""
    assert points(alice) == {"q1": 2, "q2": 1, "q3": 3, "total": 6, "max": 6}
    bob = rows["bob.ipynb"]
    assert points(bob)["q1"] == 0 and points(bob)["total"] == 4
    # The truth used here does not come from the grader.
    assert truth("alice") != truth("bob")


@kernels
def test_submissions_are_never_modified(batch):
    assert snapshot(batch["subs"]) == batch["before"]
    assert not any(p.name in ("results.json", "answers.json") for p in batch["subs"].rglob("*"))


@kernels
@pytest.mark.parametrize(
    "name, words",
    [
        ("broken.ipynb", "not valid json"),
        ("essay.txt", "not a jupyter notebook"),
        ("json_list.ipynb", "not a jupyter notebook"),
    ],
)
def test_unreadable_files_get_a_row_and_a_reason(batch, name, words):
    row = batch["rows"][name]
    assert row["status"] == "unreadable"
    assert words in row["reason"].lower()
    assert float(row["total"]) == 0


@kernels
def test_deleted_and_reordered_cells_score_what_is_there(batch):
    dave = batch["rows"]["dave.ipynb"]
    assert points(dave) == {"q1": 2, "q2": 1, "q3": 0, "total": 3, "max": 6}
    assert dave["status"] == "cell_errors" and "NameError" in dave["reason"]
    feedback = (batch["out"] / "feedback" / "dave.md").read_text()
    assert "**q3** NOT ANSWERED (0/3)" in feedback


@kernels
def test_errors_and_sys_exit_do_not_stop_later_cells(batch):
    erin = batch["rows"]["erin.ipynb"]
    assert points(erin)["total"] == MAX
    assert erin["status"] == "cell_errors"
    assert "3 code cells raised" in erin["reason"] and "ZeroDivisionError" in erin["reason"]


@kernels
def test_infinite_loop_is_interrupted_and_the_rest_runs(batch):
    frank = batch["rows"]["frank.ipynb"]
    assert points(frank)["total"] == MAX
    assert frank["status"] == "cell_timeout"
    assert "Code cell 4 ran longer than 5 s" in frank["reason"]


@kernels
def test_dead_kernel_keeps_the_answers_captured_before(batch):
    rows = batch["rows"]
    for name in ("hank.ipynb", "ivan.ipynb"):
        row = rows[name]
        assert row["status"] == "incomplete", row
        assert "kernel stopped" in row["reason"]
        # q1 was answered before the crash, q2 and q3 after it.
        assert points(row) == {"q1": 2, "q2": 0, "q3": 0, "total": 2, "max": 6}


@kernels
def test_kernels_do_not_share_state(batch):
    for name in ("aaa_marker.ipynb", "zzz_fresh.ipynb"):
        assert points(batch["rows"][name])["total"] == MAX, batch["rows"][name]
    # The kill and the stop had no effect: every cell ran, and the next notebook was graded.
    zy = batch["rows"]["zy_kill_parent.ipynb"]
    assert zy["status"] == "ok" and points(zy)["total"] == MAX, zy


@kernels
def test_gigantic_output_is_not_kept(batch):
    jack = batch["rows"]["jack.ipynb"]
    assert points(jack)["total"] == MAX and jack["status"] == "ok"
    out = batch["out"]
    total_bytes = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    assert total_bytes < 200_000


@kernels
def test_wrong_exercise_and_missing_metadata(batch):
    rows = batch["rows"]
    kate = rows["kate.ipynb"]
    assert kate["status"] == "wrong_exercise" and float(kate["total"]) == 0
    assert kate["student_id"] == "kate"
    assert "'lesson9'" in kate["reason"] and "--exercise lesson9" in kate["reason"]
    no_metadata = rows["no_metadata.ipynb"]
    assert points(no_metadata)["total"] == MAX and no_metadata["status"] == "ok"
    assert "does not say which exercise" in no_metadata["reason"]


@kernels
@pytest.mark.parametrize(
    "name, status", [("leo.ipynb", "missing_student_id"), ("mia.ipynb", "placeholder_student_id")]
)
def test_missing_or_placeholder_id_grades_only_id_independent_questions(batch, name, status):
    row = batch["rows"][name]
    assert row["status"] == status
    assert row["student_id"] == ""
    # q2 has the same answer for everyone; q1 and q3 depend on the student's own data.
    assert points(row) == {"q1": 0, "q2": 1, "q3": 0, "total": 1, "max": 6}
    assert (batch["out"] / "feedback" / "no-id-leo.md").exists()


@kernels
def test_duplicate_ids_and_formula_ids_are_flagged(batch):
    rows = batch["rows"]
    for name in ("sub/dup1.ipynb", "sub/dup2.ipynb"):
        assert rows[name]["student_id"] == "omar"
        assert rows[name]["status"] == "duplicate_student_id"
        assert points(rows[name])["total"] == MAX
    formula = rows["no_metadata.ipynb"]
    assert formula["student_id"] == '\'=hyperlink("http://x")'
    assert points(formula)["total"] == MAX  # graded against the id as written


@kernels
def test_attacks_cannot_raise_the_score(batch):
    row = batch["rows"]["att_combo.ipynb"]
    # q1 is wrong (-1 dressed up as anything); q2 and q3 are honest.
    assert points(row) == {"q1": 0, "q2": 1, "q3": 3, "total": 4, "max": 6}, row
    # The package copy is read-only: the file edit raises unless the tests run as root.
    assert row["status"] in ("ok", "cell_errors")


@kernels
def test_patching_json_in_the_kernel_only_loses_answers(batch):
    row = batch["rows"]["att_json.ipynb"]
    # Patching json garbles the kernel's own replies: the grader stops reading that kernel and
    # keeps what it captured before (a wrong q1), instead of believing the forged answer.
    assert points(row)["q1"] == 0 and points(row)["total"] <= 4
    assert row["status"] == "incomplete" and "unreadable reply" in row["reason"]


@kernels
def test_attacks_leave_the_package_and_output_intact(batch):
    assert hashlib.sha256(CHECKS_FILE.read_bytes()).hexdigest() == batch["checks_before"]
    out = batch["out"]
    assert not (out / "results.json").exists()
    feedback = (out / "feedback" / "att-combo.md").read_text()
    assert "q1** FAIL (0/2)" in feedback
    assert SECRET not in feedback and "**q2** PASS" in feedback  # the kernel never saw it


@kernels
def test_feedback_file_per_student_with_pass_fail_and_hints(batch):
    feedback_dir = batch["out"] / "feedback"
    names = sorted(p.name for p in feedback_dir.iterdir())
    assert len(names) == len(BATCH)
    bob = (feedback_dir / "bob.md").read_text()
    assert "Score: 4 / 6" in bob
    assert "**q1** FAIL (0/2)" in bob and "**q2** PASS (1/1)" in bob
    assert "Re-read the question" in bob  # a hint, not just pass/fail
    assert "±" not in bob and str(truth("bob")["q1"]) not in bob  # but never the answer
    frank = (feedback_dir / "frank.md").read_text()
    assert "Problems found" in frank and "interrupted" in frank


@kernels
def test_resume_reuses_every_stored_result(batch, monkeypatch):
    async def no_kernel(*args, **kwargs):
        raise AssertionError("a resumed run must not start a kernel")

    monkeypatch.setattr("multilevel.grade._runner.KernelWorker.start", no_kernel)
    again = grade_submissions(
        batch["subs"], batch["out"], exercise="tiny", progress=False, exercises=TINY_EXERCISES
    )
    assert again.n_graded == 0 and again.n_resumed == len(BATCH)
    assert again.gradebook.equals(batch["run"].gradebook)


@kernels
def test_resume_regrades_changed_and_tampered_submissions_only(tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    (subs / "bob.ipynb").write_text(BATCH["bob.ipynb"])
    (subs / "essay.txt").write_text(BATCH["essay.txt"])

    def grade(**options):
        return grade_submissions(
            subs, out, exercise="tiny", progress=False, exercises=TINY_EXERCISES, **options
        )

    first = grade()
    assert (first.n_graded, first.n_resumed) == (2, 0)
    assert first.gradebook.set_index("file").loc["bob.ipynb", "total"] == 4

    (subs / "bob.ipynb").write_text(notebook(honest("bob")))  # bob fixes q1 and resubmits
    stored = [p for p in (out / ".results").iterdir() if p.name.startswith("essay")]
    (essay_result,) = stored
    essay_result.write_text(essay_result.read_text().replace('"sha256": "', '"sha256": "0'))
    second = grade()
    assert (second.n_graded, second.n_resumed) == (2, 0)
    assert second.gradebook.set_index("file").loc["bob.ipynb", "total"] == MAX

    third = grade()
    assert (third.n_graded, third.n_resumed) == (0, 2)
    fresh = grade(resume=False)
    assert (fresh.n_graded, fresh.n_resumed) == (2, 0)
    assert fresh.gradebook.equals(second.gradebook)
    assert list(out.rglob("*.tmp")) == []

    (subs / "essay.txt").unlink()  # a file that is no longer submitted leaves no feedback behind
    fourth = grade()
    assert len(fourth.gradebook) == 1
    assert [p.name for p in (out / "feedback").iterdir()] == ["bob.md"]


@kernels
def test_notebook_timeout_and_a_kernel_that_ignores_interrupts(tmp_path, monkeypatch):
    # The kernels run in the grader's worker process: the shorter grace travels in Timeouts.
    monkeypatch.setattr("multilevel.grade._run.Timeouts", partial(Timeouts, interrupt=2.0))
    subs = tmp_path / "subs"
    subs.mkdir()
    slow = ["import time\ntime.sleep(2)"] * 3
    (subs / "slow.ipynb").write_text(notebook(honest("slow", *slow)))
    stubborn = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"
    (subs / "stubborn.ipynb").write_text(notebook(honest("stubborn", stubborn)))
    run = grade_submissions(
        subs,
        tmp_path / "out",
        exercise="tiny",
        cell_timeout=10,
        notebook_timeout=3,
        progress=False,
        exercises=TINY_EXERCISES,
    )
    rows = run.gradebook.set_index("file")
    slow_row, stubborn_row = rows.loc["slow.ipynb"], rows.loc["stubborn.ipynb"]
    assert slow_row["status"] == "incomplete"
    assert "whole notebook ran longer than 3 s" in slow_row["reason"]
    assert stubborn_row["status"] == "incomplete"
    assert "did not respond to an interrupt" in stubborn_row["reason"]
    for row in (slow_row, stubborn_row):  # q1 came before the trouble, q2 and q3 after it
        assert (row["q1"], row["q2"], row["q3"]) == (2, 0, 0)


# --------------------------------------------------------------------------------------------
# The command line, with the real lesson1 key
# --------------------------------------------------------------------------------------------
def lesson1_notebook(student_id: str, correct: bool = True) -> str:
    """A lesson1 submission; the correct one holds the key's answers as literals (fast kernels)."""
    expected = checks.EXERCISES["lesson1"].expected(student_id).answers
    answers = [f"{q} = {v!r}" for q, v in expected.items()] if correct else ["q1 = -5"]
    return notebook([f"STUDENT_ID = {student_id!r}", *answers], exercise="lesson1")


def with_student_id(path: Path, student_id: str) -> str:
    nb = nbformat.read(path, as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code")
    first.source = f"STUDENT_ID = {student_id!r}"
    return nbformat.writes(nb)


@kernels
def test_real_solution_scores_full_marks_and_untouched_exercise_zero(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "solution.ipynb").write_text(
        with_student_id(REPO / "solutions" / "lesson2_exercises.ipynb", "grade-e2e")
    )
    shutil.copy(REPO / "exercises" / "lesson2_exercises.ipynb", subs / "untouched.ipynb")
    run = grade_submissions(subs, tmp_path / "out", progress=False)
    rows = run.gradebook.set_index("file")
    max_points = checks.EXERCISES["lesson2"].max_points
    assert rows.loc["solution.ipynb", "total"] == rows.loc["solution.ipynb", "max"] == max_points
    assert rows.loc["solution.ipynb", "status"] == "ok"
    assert rows.loc["solution.ipynb", "exercise"] == "lesson2"  # read from the metadata
    assert rows.loc["untouched.ipynb", "total"] == 0
    assert rows.loc["untouched.ipynb", "status"] == "placeholder_student_id"
    # Handed in with an id but nothing answered: a status of its own, not "ok" with 0 points.
    (subs / "untouched.ipynb").write_text(
        with_student_id(REPO / "exercises" / "lesson2_exercises.ipynb", "grade-blank")
    )
    rows = grade_submissions(subs, tmp_path / "out", progress=False).gradebook.set_index("file")
    assert rows.loc["untouched.ipynb", "status"] == "unanswered"
    assert rows.loc["solution.ipynb", "status"] == "ok"


def test_cli_errors_are_plain_english_with_exit_code_2(tmp_path, capsys):
    assert main([str(tmp_path / "nowhere"), "--output", str(tmp_path / "out")]) == EXIT_BAD_USAGE
    assert "does not exist" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / ".hidden").write_text("x")
    assert main([str(empty), "--output", str(tmp_path / "out")]) == EXIT_BAD_USAGE
    assert "is empty" in capsys.readouterr().err
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "a.ipynb").write_text(lesson1_notebook("a"))
    assert main([str(subs), "--output", str(subs / "grades")]) == EXIT_BAD_USAGE
    assert "inside the submissions folder" in capsys.readouterr().err
    assert main([str(subs), "-o", str(tmp_path / "o"), "--exercise", "nope"]) == EXIT_BAD_USAGE
    assert "exercise must be one of" in capsys.readouterr().err
    assert main([str(subs), "-o", str(tmp_path / "o"), "--jobs", "0"]) == EXIT_BAD_USAGE
    assert "jobs must be a positive" in capsys.readouterr().err
    assert main([str(subs), "-o", str(tmp_path / "o"), "--timeout", "-1"]) == EXIT_BAD_USAGE
    assert "notebook_timeout must be a positive" in capsys.readouterr().err
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    (mixed / "a.ipynb").write_text(notebook(["STUDENT_ID = 'a'"], exercise="lesson1"))
    (mixed / "b.ipynb").write_text(notebook(["STUDENT_ID = 'b'"], exercise="lesson2"))
    assert main([str(mixed), "-o", str(tmp_path / "o")]) == EXIT_BAD_USAGE
    assert "split evenly between exercises lesson1, lesson2" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main([str(subs)])
    assert exit_info.value.code == EXIT_BAD_USAGE
    assert not (subs / "grades").exists()


@kernels
def test_cli_interrupted_run_resumes_without_regrading(tmp_path):
    """Interrupted while the second notebook runs, a rerun resumes the first and grades the rest.

    The second notebook waits in a cell until the signal comes, so the interruption lands at
    the same point however busy the machine is (no race between the signal and the grader).
    Before the rerun it is replaced by one that does not wait; it was never finished, so it
    is graded either way.
    """
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    for i in range(3):
        (subs / f"s{i}.ipynb").write_text(lesson1_notebook(f"student-{i}", correct=i != 1))
    waiting = notebook(
        ["STUDENT_ID = 'student-1'", "import time\ntime.sleep(600)", "q1 = -5"],
        exercise="lesson1",
    )
    (subs / "s1.ipynb").write_text(waiting)
    command = [sys.executable, "-m", "multilevel.grade", str(subs), "--output", str(out), "-j", "1"]
    proc = subprocess.Popen(
        [*command, "--cell-timeout", "900", "--timeout", "900"],
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    results = out / ".results"
    while proc.poll() is None and not (results.exists() and any(results.glob("*.json"))):
        time.sleep(0.1)
    assert proc.poll() is None, "the grader ended before it reached the waiting notebook"
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:  # say where it was stuck before failing
        proc.send_signal(signal.SIGUSR1)
        time.sleep(2)
        proc.kill()
        _, err = proc.communicate()
        pytest.fail(f"the grader did not stop within 120 s of Ctrl-C; its threads:\n{err}")
    assert proc.returncode == EXIT_INTERRUPTED, err
    assert "resume" in err
    done_before = len(list(results.glob("*.json")))
    assert done_before == 1
    assert not (out / "gradebook.csv").exists()

    (subs / "s1.ipynb").write_text(lesson1_notebook("student-1", correct=False))

    finished = subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=120)
    assert finished.returncode == EXIT_OK, finished.stderr
    assert f"{3 - done_before} graded, {done_before} resumed" in finished.stderr
    rows = list(csv.DictReader((out / "gradebook.csv").open(encoding="utf-8")))
    spec = checks.EXERCISES["lesson1"]
    totals = {r["student_id"]: float(r["total"]) for r in rows}
    assert totals == {
        "student-0": spec.max_points,
        "student-1": 0.0,
        "student-2": spec.max_points,
    }
    assert sorted(p.name for p in (out / "feedback").iterdir()) == [
        f"student-{i}.md" for i in range(3)
    ]


def test_console_script_is_installed():
    script = Path(sys.executable).parent / "multilevel-grade"
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert "exit codes" in result.stdout and "--cell-timeout" in result.stdout


@kernels
def test_a_worker_that_dies_costs_its_notebook_only_until_the_rerun(tmp_path, monkeypatch):
    # The kernels' client runs in a worker process with a memory limit; a kernel that floods
    # it, or the machine's out-of-memory killer, may kill it. Here the test kills it while a
    # cell sleeps.
    original = KernelWorker.run

    async def run(self, sources, variant=None):
        if any("time.sleep(8)" in source for source in sources):
            asyncio.get_running_loop().call_later(3, os.kill, self.process.pid, signal.SIGKILL)
        return await original(self, sources, variant)

    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    (subs / "a_killed.ipynb").write_text(notebook(honest("killed", "import time; time.sleep(8)")))
    (subs / "b_next.ipynb").write_text(notebook(honest("next")))
    options = dict(exercise="tiny", jobs=1, progress=False, exercises=TINY_EXERCISES)
    # The tiny notebooks' seeds are literals: a variant run would flag them.
    with monkeypatch.context() as patch:
        patch.setattr(KernelWorker, "run", run)
        first = grade_submissions(subs, out, variant=False, **options)
    rows = first.gradebook.set_index("file")
    killed, following = rows.loc["a_killed.ipynb"], rows.loc["b_next.ipynb"]
    assert killed["status"] == "grader_error" and killed["total"] == 0
    assert "worker stopped while it ran this notebook" in killed["reason"]
    # SIGKILL reads -9, or 255 when asyncio's child watcher lost the race to another waiter.
    assert "exit status" in killed["reason"] and "run the grader again" in killed["reason"]
    assert following["status"] == "ok" and following["total"] == MAX
    # The killed worker's sandbox and kernel went with it.
    assert processes_of_run() == []
    # Not stored: the rerun grades the notebook again (the machine may have been short of memory).
    again = grade_submissions(subs, out, variant=False, **options)
    assert (again.n_graded, again.n_resumed) == (1, 1)
    assert again.gradebook.set_index("file").loc["a_killed.ipynb", "total"] == MAX
