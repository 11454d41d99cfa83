"""The grader's parts that need no kernel: bounded reading, signed results, the typed-in check,
the sandbox's command line and its scratch folders."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from multilevel.grade import _kernel, _pool, _sandbox, _store, _worker
from multilevel.grade._results import QuestionResult, SubmissionResult
from multilevel.grade._scoring import Grader
from multilevel.grade._submissions import find_student_id, list_submissions, read_submission
from tests.tiny_exercise import tiny_answers, tiny_exercise

TINY = tiny_exercise("tiny-units")


def answers_for(student_id: str) -> dict:
    return tiny_answers("tiny-units", student_id)


# --------------------------------------------------------------------------------------------
# Reading submissions: bounded work, a row for everything
# --------------------------------------------------------------------------------------------
def test_student_id_comes_from_the_first_code_cell_only():
    assert find_student_id(['STUDENT_ID = "Ada"  # mine']) == "Ada"
    assert find_student_id(["STUDENT_ID = 'x=\"y\"'"]) == 'x="y"'
    assert find_student_id(["STUDENT_ID = 12345"]) == "12345"
    assert find_student_id(["import os", 'STUDENT_ID = "later"']) is None
    assert find_student_id(['STUDENT_ID = "a" + "b"']) is None
    assert find_student_id([]) is None


def test_parser_breaking_cells_never_reach_a_parser():
    # ast.parse raised MemoryError on the first two (the whole run ended without a gradebook)
    # and took gigabytes on a 20 MB cell; a line-anchored search of 10,000 characters does not.
    cells = ["-" * 100_000 + "1", "x" + ".a" * 200_000, "(" * 1_000_000, "-" * 20_000_000]
    for cell in cells:
        assert find_student_id([cell, 'STUDENT_ID = "later"']) is None


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def nb(cells: list[str]) -> str:
    return json.dumps(
        {
            "cells": [{"cell_type": "code", "source": c, "metadata": {}} for c in cells],
            "metadata": {"multilevel": {"exercise": "tiny-units"}},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    )


def test_pathological_files_become_a_reason(tmp_path):
    cases = {
        "deep.ipynb": ('{"cells": ' + "[" * 100_000 + "]" * 100_000 + "}", "not valid JSON"),
        "huge.ipynb": (nb(["STUDENT_ID = 'h'", "x = '" + "y" * 2_000_000 + "'"]), "characters"),
        "many.ipynb": (nb(["STUDENT_ID = 'm'"] + ["x = 1"] * 5_000), "code cells"),
        "text.txt": ("an essay", "not a Jupyter notebook"),
        "list.ipynb": ("[1, 2]", "not a Jupyter notebook"),
        "binary.ipynb": ("\udcff".encode("utf-8", "surrogateescape").decode("latin-1"), "JSON"),
    }
    for name, (text, words) in cases.items():
        sub = read_submission(write(tmp_path / name, text), tmp_path)
        assert sub.problem is not None and words in sub.problem, (name, sub.problem)
    ok = read_submission(
        write(tmp_path / "ok.ipynb", nb(["STUDENT_ID = 'ok'", "q1 = 1"])), tmp_path
    )
    assert ok.problem is None and ok.student_id_literal == "ok" and len(ok.sources) == 2


def test_odd_file_names_are_listed_and_litter_is_not(tmp_path):
    for name in ("..\\..\\evil.ipynb", ".hidden.ipynb", "a b.ipynb", ".DS_Store", "sub/x.ipynb"):
        write(tmp_path / "subs" / name, "{}")
    write(tmp_path / "subs" / ".ipynb_checkpoints" / "x-checkpoint.ipynb", "{}")
    found = [
        p.relative_to(tmp_path / "subs").as_posix()
        for p in list_submissions(tmp_path / "subs", tmp_path / "out")
    ]
    assert sorted(found) == sorted(
        ["..\\..\\evil.ipynb", ".hidden.ipynb", "a b.ipynb", "sub/x.ipynb"]
    )


# --------------------------------------------------------------------------------------------
# Signed results
# --------------------------------------------------------------------------------------------
def result(points: float = 0.0) -> SubmissionResult:
    return SubmissionResult(
        file="a.ipynb",
        sha256="abc",
        student_id="ada",
        exercise="tiny-units",
        questions=(QuestionResult("q1", "correct", points, 2.0, "ok"),),
    )


def test_only_results_signed_with_the_key_are_resumed(tmp_path):
    key = _store.load_key(tmp_path / "state" / "results.key")
    assert (
        key is not None and oct((tmp_path / "state" / "results.key").stat().st_mode)[-3:] == "600"
    )
    path = tmp_path / "out" / ".results" / "a.json"
    assert _store.save_result(path, result(0.0), "tiny-units", "fp", key)
    assert _store.load_result(path, "abc", "tiny-units", "fp", key) == result(0.0)
    # A forged score, with or without a new MAC made up by the forger, is not trusted.
    stored = json.loads(path.read_text())
    stored["payload"]["result"]["questions"][0]["points"] = 2.0
    path.write_text(json.dumps(stored))
    assert _store.load_result(path, "abc", "tiny-units", "fp", key) is None
    other = _store.load_key(tmp_path / "elsewhere.key")
    _store.save_result(path, result(2.0), "tiny-units", "fp", other)
    assert _store.load_result(path, "abc", "tiny-units", "fp", key) is None
    assert _store.load_result(path, "abc", "tiny-units", "fp", None) is None


def test_key_file_location_is_outside_the_output_and_overridable(tmp_path, monkeypatch):
    monkeypatch.delenv(_store.KEY_ENV, raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert _store.default_key_file() == tmp_path / "state" / "multilevel-grade" / "results.key"
    monkeypatch.setenv(_store.KEY_ENV, str(tmp_path / "k"))
    assert _store.default_key_file() == tmp_path / "k"


def test_unwritable_results_folder_only_stops_resume(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / ".results").write_text("a file where the folder should be")
    key = _store.load_key(tmp_path / "k")
    assert not _store.save_result(out / ".results" / "a.json", result(), "tiny-units", "fp", key)


# --------------------------------------------------------------------------------------------
# Answers must be computed
# --------------------------------------------------------------------------------------------
def graded(grader: Grader, student_id: str, answers: dict) -> tuple[QuestionResult, ...]:
    questions, problem = grader.score(answers, student_id)
    assert problem is None
    return questions


@pytest.mark.parametrize("policy", ["flag", "zero"])
def test_typed_in_numbers_are_flagged_and_computed_ones_pass(policy):
    grader = Grader(TINY, policy)
    for student in ("ada", "bob", "cy"):
        own = answers_for(student)
        questions = graded(grader, student, own)
        assert all(q.status == "correct" for q in questions)
        variant = grader.choose_variant(student)
        # Computed: the second run's answers follow the variant's data.
        same, problem = grader.check_variant(questions, answers_for(variant), variant, student)
        assert problem is None and same == questions
        # Typed in: the second run gives the same numbers again.
        after, problem = grader.check_variant(questions, own, variant, student)
        assert problem is not None and problem[0] == "typed_in"
        flagged = {q for q in ("q1", "q3") if q in problem[1]}
        assert flagged and "q2" not in problem[1]  # multiple choice is exempt
        by_id = {q.question: q for q in after}
        assert by_id["q2"].points == 1
        for q in flagged:
            assert by_id[q].points == (0 if policy == "zero" else by_id[q].max_points)


def test_a_variant_that_agrees_on_a_question_does_not_check_it():
    grader = Grader(TINY)
    own = answers_for("ada")
    questions = graded(grader, "ada", own)
    # Find an id whose q3 equals ada's (1 in 7 do) and whose q1 differs.
    twin = next(
        f"twin-{i}"
        for i in range(500)
        if answers_for(f"twin-{i}")["q3"] == own["q3"]
        and answers_for(f"twin-{i}")["q1"] != own["q1"]
    )
    _, problem = grader.check_variant(questions, own, twin, "ada")
    assert problem is not None and "q1" in problem[1] and "q3" not in problem[1]


# --------------------------------------------------------------------------------------------
# The sandbox's command line and scratch folders
# --------------------------------------------------------------------------------------------
def test_sandbox_command_isolates_and_hides_the_keys(tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    keys = _sandbox.keys_folder()
    args = _sandbox.bwrap_command(
        "bwrap",
        work=tmp_path / "w",
        lib=lib,
        limits=_sandbox.Limits(),
        hide=[keys],
    )
    for flag in ("--unshare-net", "--unshare-pid", "--die-with-parent", "--new-session"):
        assert flag in args
    assert args[args.index("--tmpfs", args.index(str(keys)) - 2) + 1] == str(keys)
    assert [a for a in args if a.startswith("--bind")] == []  # no host folder is writable
    assert args[args.index(str(_sandbox.SOCKETS)) - 1] == "--tmpfs"
    shown = {args[i + 2] for i, a in enumerate(args) if a == "--ro-bind"}
    assert str(Path.home()) not in shown and "/" not in shown and "/tmp" not in shown
    assert str(Path(__file__).resolve().parents[1]) not in shown  # not the working tree


def test_limits_apply_in_a_child():
    # The child starts with a worker's data limit (the worker starts the sandboxes): the
    # sandbox's kernels must not inherit it.
    code = (
        "import resource; from multilevel.grade._sandbox import Limits\n"
        "resource.setrlimit(resource.RLIMIT_DATA, (400 * 2**20, resource.RLIM_INFINITY))\n"
        "Limits(memory_mb=1000, cpu_seconds=7, output_mb=3).apply()\n"
        "print(resource.getrlimit(resource.RLIMIT_AS)[0] // 2**20,"
        " resource.getrlimit(resource.RLIMIT_CPU)[0],"
        " resource.getrlimit(resource.RLIMIT_FSIZE)[0] // 2**20,"
        " resource.getrlimit(resource.RLIMIT_DATA)[0] == resource.RLIM_INFINITY)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["1000", "7", "3", "True"]


def test_worker_settings_and_reports_survive_the_trip_between_processes():
    settings = _worker.WorkerSettings(
        run_dir=Path("/r"),
        lib=Path("/r/lib"),
        timeouts=_kernel.Timeouts(cell=3, notebook=9, start=4, interrupt=2),
        limits=_sandbox.Limits(memory_mb=100, reply_mb=2),
        bwrap="/usr/bin/bwrap",
        hide=(Path("/k"),),
        names=("q1", "STUDENT_ID"),
    )
    assert _worker.WorkerSettings.from_json(settings.to_json()) == settings
    report = _kernel.ExecutionReport(
        answers={"q1": {"kind": "number", "value": 1.5}},
        n_cells=3,
        n_run=2,
        problems=(_kernel.CellProblem(2, "error", "NameError: x"),),
        stopped="the kernel stopped",
        seconds=0.5,
        capture_failures=1,
    )
    trip = json.loads(json.dumps(_worker._report_to_json(report)))
    assert _worker._report_from_json(trip) == report


def test_a_worker_has_a_data_limit_and_dies_with_the_grader():
    limits = _sandbox.Limits(reply_mb=8)
    code = (
        "import resource, sys; from multilevel.grade._worker import _worker_preexec\n"
        f"_worker_preexec({_worker.worker_memory_mb(limits)})\n"
        "print(resource.getrlimit(resource.RLIMIT_DATA)[0] // 2**20,"
        " resource.getrlimit(resource.RLIMIT_CORE)[0])\n"
        "import ctypes; sig = ctypes.c_int()\n"
        "ctypes.CDLL(None).prctl(2, ctypes.byref(sig))\n"  # PR_GET_PDEATHSIG
        "print(sig.value)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    data_mb, core, deathsig = out.stdout.split()
    assert (int(data_mb), int(core), int(deathsig)) == (480, 0, int(signal.SIGKILL))


def test_scratch_of_dead_runs_is_removed(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / f"run-{dead.pid}-abc" / "s" / "w").mkdir(parents=True)
    (tmp_path / f"run-{dead.pid}-abc" / "s" / "w").chmod(0o500)
    (tmp_path / f"run-{os.getpid()}-mine").mkdir()
    assert _sandbox.clean_stale_runs(tmp_path) == 1
    assert [p.name for p in tmp_path.iterdir()] == [f"run-{os.getpid()}-mine"]


def test_a_scratch_folder_made_by_someone_else_is_not_used(tmp_path, monkeypatch):
    monkeypatch.setattr(_sandbox, "scratch_base", lambda: tmp_path / "shared")
    (tmp_path / "shared").mkdir(mode=0o777)
    (tmp_path / "shared").chmod(0o777)  # as a hostile user on a shared /tmp would leave it
    run = _sandbox.new_run_dir()
    try:
        assert tmp_path / "shared" not in run.parents
    finally:
        _sandbox.remove_tree(run)
    (tmp_path / "shared").chmod(0o700)
    run = _sandbox.new_run_dir()
    assert run.parent == tmp_path / "shared"


# ------------------------------------------------------------------- Ctrl-C is never lost


async def _cancelled_as_it_finishes(wrapper) -> str:
    """Cancel a task in the very loop step in which what it awaits finishes."""
    loop = asyncio.get_running_loop()
    line = loop.create_future()

    async def readline() -> str:
        return await line

    task = asyncio.create_task(wrapper(readline(), 10))
    for _ in range(3):
        await asyncio.sleep(0)
    line.set_result("ready")
    assert task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        return "cancelled"
    return "cancellation lost"


def test_a_timeout_never_swallows_the_graders_ctrl_c():
    assert asyncio.run(_cancelled_as_it_finishes(_kernel.within)) == "cancelled"


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="asyncio.wait_for was fixed in 3.12")
def test_the_wait_for_that_within_replaces_loses_it():
    """Why ``within`` exists: this is how an interrupted grader went on grading."""
    assert asyncio.run(_cancelled_as_it_finishes(asyncio.wait_for)) == "cancellation lost"


# --------------------------------------------------------------------------------------------
# Sandboxes kept between submissions
# --------------------------------------------------------------------------------------------
class _FakeServer:
    def __init__(self, clean) -> None:
        self.clean, self.requests, self.closed = clean, [], False

    async def request(self, message):
        self.requests.append(message)
        if self.clean is None:
            raise _kernel.KernelStartError("gone")
        return {"clean": self.clean}

    async def close(self) -> None:
        self.closed = True


def _fake_sandbox(tmp_path, name, clean) -> _pool.Sandbox:
    scratch = tmp_path / name
    (scratch / "c").mkdir(parents=True)
    return _pool.Sandbox(_FakeServer(clean), scratch, Path("/w"))


@pytest.mark.parametrize("clean, kept", [(True, True), (False, False), (None, False)])
def test_a_sandbox_is_kept_only_when_its_reset_says_clean(tmp_path, clean, kept):
    started = []

    async def start():
        started.append(_fake_sandbox(tmp_path, f"new{len(started)}", True))
        return started[-1]

    async def scenario():
        pool = _pool.WarmPool(start)
        used = _fake_sandbox(tmp_path, "used", clean)
        await pool.release(used, keep=True)
        after_release = (used.server.closed, used.scratch.exists())
        again = await pool.acquire()
        await pool.release(again, keep=False)  # a run that failed: never reused
        await pool.close()
        return used, again, after_release

    used, again, after_release = asyncio.run(scenario())
    assert (again is used) == kept and len(started) == (0 if kept else 1)
    assert used.server.requests == [{"op": "reset"}]
    # Kept: still running. Not kept: stopped, its folders removed.
    assert after_release == ((False, True) if kept else (True, False))
    assert again.server.closed and not again.scratch.exists()


def test_the_zygote_empties_a_folder_but_keeps_the_way_to_other_mounts(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "zygote_under_test", Path(_pool.__file__).with_name("_zygote.py")
    )
    zygote = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(zygote)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep")
    tmp = tmp_path / "tmp"
    mount = tmp / "grade" / "run" / "w"
    mount.mkdir(parents=True)
    (mount / "inside-the-mount.txt").write_text("emptied separately")
    (tmp / "grade" / "litter.txt").write_text("x")
    locked = tmp / "locked" / "deeper"
    locked.mkdir(parents=True)
    (locked / "f.txt").write_text("x")
    locked.chmod(0)
    locked.parent.chmod(0)
    (tmp / "link").symlink_to(outside)
    zygote._empty(str(tmp), {str(mount)})
    left = sorted(p.relative_to(tmp).as_posix() for p in tmp.rglob("*"))
    assert left == ["grade", "grade/run", "grade/run/w", "grade/run/w/inside-the-mount.txt"]
    assert (outside / "keep.txt").read_text() == "keep"  # a link is removed, not followed


def test_remove_tree_takes_any_depth_and_read_only_parts(tmp_path):
    # A notebook can nest folders deeper than Python's recursion limit; removing them once
    # crashed the grader (RecursionError: no gradebook, and every later run crashed too).
    top = tmp_path / "scratch"
    top.mkdir()
    here = os.open(top, os.O_RDONLY)
    for _ in range(3000):
        os.mkdir("a", dir_fd=here)
        deeper = os.open("a", os.O_RDONLY, dir_fd=here)
        os.close(here)
        here = deeper
    os.close(here)
    (top / "locked").mkdir()
    (top / "locked" / "f").write_text("x")
    (top / "locked").chmod(0)
    (top / "link").symlink_to(tmp_path)  # removed, never followed
    assert _sandbox.remove_tree(top) is True
    assert not top.exists() and tmp_path.exists()
    assert _sandbox.remove_tree(top) is True  # already gone: nothing to do


class _Listening:
    """A fork server's sockets folder on the host (as with --no-sandbox)."""

    def __init__(self, folder: Path) -> None:
        self.sockets_fd, self.client_sockets = None, str(folder)


def test_the_grader_connects_only_to_real_sockets_and_never_reconnects(tmp_path):
    import socket

    class Alive:
        async def is_alive(self) -> bool:
            return True

    good, bad = tmp_path / "good", tmp_path / "bad"
    good.mkdir()
    bad.mkdir()
    listeners = []
    for name in ("k-1", "k-4"):
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(str(good / name))
        listener.listen()
        listeners.append(listener)
    (bad / "k-1").symlink_to(good / "k-1")  # a kernel pointing the grader elsewhere
    (bad / "k-4").symlink_to(good / "k-4")
    asyncio.run(_kernel._sockets_listening(_Listening(good), Alive(), 60))
    with pytest.raises(_kernel.KernelStartError, match="not a socket"):
        asyncio.run(_kernel._sockets_listening(_Listening(bad), Alive(), 60))
    for listener in listeners:
        listener.close()
    context = _kernel._client_context(1024)
    assert context.getsockopt(_kernel.zmq.RECONNECT_IVL) == -1
    context.destroy()


def test_answers_lost_to_failed_captures_are_mentioned_in_the_row():
    # A hostile review saw a row read "ok, 7/11" with three answers silently lost.
    from multilevel.grade import _runner

    number = {"kind": "number", "value": 1.0, "type_name": "int", "length": None}
    some = _kernel.ExecutionReport(answers={"q1": number}, n_cells=3, n_run=3, capture_failures=2)
    none = _kernel.ExecutionReport(answers={}, n_cells=3, n_run=3, capture_failures=3)
    assert _runner._run_problems(some, 60) == [
        (
            "ok",
            "the answers could not be read after 2 code cells (did a cell change the grader's "
            "capture helper?); the answers read last were graded",
        )
    ]
    assert [code for code, _ in _runner._run_problems(none, 60)] == ["grader_error"]
    clean = _kernel.ExecutionReport(answers={"q1": number}, n_cells=3, n_run=3)
    assert _runner._run_problems(clean, 60) == []
