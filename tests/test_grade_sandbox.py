"""The grader against a hostile class, run from an installed (non-editable) copy of the course.

A session fixture builds a virtual environment whose ``multilevel`` and ``simdata`` are a
regular (non-editable) install of this repository; the course's dependencies come from the
development environment through a ``.pth`` file. One batch of attacks is graded by the
installed ``multilevel-grade`` command (two sandboxes at a time); each test checks one attack
against the gradebook, the files, and the processes left on the machine.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import nbformat
import pytest

from multilevel import checks
from multilevel.grade import _sandbox
from multilevel.grade._scoring import Grader
from tests.grading_processes import processes_holding, processes_of_run

REPO = Path(__file__).resolve().parents[1]
MARK = "4242.5151"  # in the command line of every process an attack tries to leave behind

pytestmark = [
    pytest.mark.xdist_group("grade"),
    pytest.mark.notebook,
    pytest.mark.skipif(_sandbox.find_bwrap() is None, reason="bubblewrap is not installed"),
]


# --------------------------------------------------------------------------------------------
# An installed course
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def installed(tmp_path_factory) -> Path:
    """Python of a venv holding a non-editable install of the course (deps from .venv)."""
    root = tmp_path_factory.mktemp("installed")
    wheels = root / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q"] + ["-w", str(wheels), str(REPO)],
        check=True,
        timeout=300,
        cwd=root,
    )
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(
        subprocess.check_output(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            text=True,
        ).strip()
    )
    (site / "_course_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    (wheel,) = wheels.glob("*.whl")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), wheel],
        check=True,
        timeout=300,
    )
    where = subprocess.check_output(
        [str(python), "-c", "import multilevel; print(multilevel.__file__)"], text=True, cwd=root
    )
    assert where.startswith(str(site)), where  # the installed copy, not the working tree
    return python


def grade(
    python: Path,
    subs: Path,
    out: Path,
    *options: str,
    timeout: float = 900,
    entry: tuple[str, ...] = ("-m", "multilevel.grade"),
):
    """Run the installed grader's command line (from a folder outside the repository);
    ``entry`` may name another way in (a wrapper that measures it)."""
    env = dict(os.environ, MULTILEVEL_GRADE_KEY=str(out.parent / "results.key"))
    env.pop("PYTHONPATH", None)
    command = [str(python), *entry, str(subs), "--output", str(out), "-q"]
    grader = subprocess.Popen(
        [*command, *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=out.parent,
        env=env,
    )
    try:
        stdout, stderr = grader.communicate(timeout=timeout)  # a hang guard, not a budget
    except subprocess.TimeoutExpired:
        grader.kill()
        raise
    done = subprocess.CompletedProcess(grader.args, grader.returncode, stdout, stderr)
    done.pid = grader.pid  # its scratch folders are run-<pid>-*
    return done


def rows_of(out: Path) -> dict[str, dict[str, str]]:
    with (out / "gradebook.csv").open(encoding="utf-8") as handle:
        return {r["file"]: r for r in csv.DictReader(handle)}


def notebook(cells: list[str], exercise: str = "lesson1") -> str:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["multilevel"] = {"exercise": exercise}
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    return nbformat.writes(nb)


def typed_in(student_id: str) -> list[str]:
    """Lesson 1's expected answers for ``student_id``, typed in as literals."""
    expected = checks.EXERCISES["lesson1"].expected(student_id).answers
    return [f"{q} = {expected[q]!r}" for q in sorted(expected)]  # q1 first


def computed(student_id: str) -> str:
    """The lesson 1 solution notebook with ``student_id`` (answers computed in code)."""
    nb = nbformat.read(REPO / "solutions" / "lesson1_exercises.ipynb", as_version=4)
    next(c for c in nb.cells if c.cell_type == "code").source = f"STUDENT_ID = {student_id!r}"
    return nbformat.writes(nb)


def leftover_processes() -> list[str]:
    """Command lines of processes that carry the attacks' mark."""
    return processes_holding(MARK.encode())


def snapshot(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# --------------------------------------------------------------------------------------------
# The attacks, graded as one class
# --------------------------------------------------------------------------------------------
DAEMON = """\
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(3)
        for target in {targets!r}:
            try:
                with open(target, "w") as handle:
                    handle.write("student,total\\nforged,100\\n")
            except OSError:
                pass
        os.execv("/bin/sleep", ["sleep", "{mark}"])
    os._exit(0)
"""

PATCH_KEY = """\
import importlib.metadata, importlib.util, pathlib
files = [pathlib.Path(importlib.util.find_spec("multilevel").origin).parent]
files += [p.locate() for p in importlib.metadata.files("multilevel-course") or []]
patched = 0
for path in files:
    path = pathlib.Path(path)
    for target in [path] if path.is_file() else path.rglob("*.py"):
        try:
            target.write_text(target.read_text() + "\\nraise SystemExit('patched')\\n")
            patched += 1
        except Exception:
            pass
"""

READ_KEY = """\
import multilevel as ml
ex = ml.checks.start("lesson1", STUDENT_ID)
try:
    answers = dict(ex.spec.expected(STUDENT_ID).answers)
except Exception:
    answers = {}
try:
    answers = answers or dict(ml.checks.EXERCISES["lesson1"].expected(STUDENT_ID).answers)
except Exception:
    pass
try:
    from multilevel.exercises.keys import SPECS
    answers = answers or dict(SPECS["lesson1"].expected(STUDENT_ID).answers)
except Exception:
    pass
globals().update(answers)
"""

MOUNT = """\
import ctypes, importlib.util, pathlib
libc = ctypes.CDLL(None, use_errno=True)
package = pathlib.Path(importlib.util.find_spec("multilevel").origin).parent
keys = package / "exercises" / "keys"
libc.umount2(str(keys).encode(), 2)  # MNT_DETACH: show the real keys again
libc.mount(None, str(package).encode(), None, 32 | 4096, None)  # MS_REMOUNT | MS_BIND, rw
for target in (package / "escaped.py", keys / "escaped.py"):
    try:
        target.write_text("escaped = True")
    except OSError:
        pass
"""

SANDBOX_PROBE = """\
import os, socket, subprocess
outcomes = {{}}
for target in {targets!r}:
    try:
        with open(target, "w") as handle:
            handle.write("escaped")
        outcomes[target] = "written"
    except OSError as error:
        outcomes[target] = type(error).__name__
for address in {addresses!r}:
    try:
        socket.create_connection(address, timeout=2).close()
        outcomes[str(address)] = "connected"
    except OSError as error:
        outcomes[str(address)] = type(error).__name__
subprocess.Popen(["/bin/sleep", "{mark}"], start_new_session=True)
"""


@pytest.fixture(scope="module")
def attacked(installed, tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    subs, out, outside = root / "subs", root / "out", root / "outside"
    for folder in (subs, out, outside):
        folder.mkdir()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.setblocking(False)
    targets = [
        str(outside / "escaped.txt"),
        str(subs / "victim.ipynb"),
        str(out / "gradebook.csv"),
        str(Path.home() / f"escaped-{MARK}.txt"),
        "/usr/escaped.txt",
        str(REPO / "escaped.txt"),
    ]
    addresses = [("127.0.0.1", listener.getsockname()[1]), ("1.1.1.1", 53)]
    huge = "STUDENT_ID = 'huge'\nx = '" + "y" * 5_000_000 + "'"
    deep = '{"cells": ' + "[" * 100_000 + "]" * 100_000 + "}"
    many = notebook(["STUDENT_ID = 'many'", *(["x = 1"] * 1_999)])
    too_many = notebook(["STUDENT_ID = 'too-many'", *(["x = 1"] * 5_000)])
    files = {
        "honest.ipynb": computed("honest"),
        "victim.ipynb": computed("victim"),
        "typed.ipynb": notebook(["STUDENT_ID = 'typed'", *typed_in("typed")]),
        "minus.ipynb": notebook(["-" * 100_000 + "1", "STUDENT_ID = 'minus'"]),
        "dots.ipynb": notebook(["x" + ".a" * 200_000, "STUDENT_ID = 'dots'"]),
        "huge_cell.ipynb": notebook([huge]),
        "deep.ipynb": deep,
        "many.ipynb": many,
        "too_many.ipynb": too_many,
        "big.ipynb": notebook(["STUDENT_ID = 'big'", "# " + "z" * 50_000_000]),
        "later_id.ipynb": notebook(["import math", "STUDENT_ID = 'later'"]),
        "..\\..\\evil.ipynb": computed("evil"),
        "daemon.ipynb": notebook(
            [
                "STUDENT_ID = 'daemon'",
                DAEMON.format(targets=targets, mark=MARK),
                *typed_in("daemon")[:1],
            ]
        ),
        "patch_key.ipynb": notebook(["STUDENT_ID = 'patcher'", PATCH_KEY]),
        "read_key.ipynb": notebook(["STUDENT_ID = 'reader'", READ_KEY]),
        "mount.ipynb": notebook(["STUDENT_ID = 'mounter'", MOUNT, READ_KEY]),
        "probe.ipynb": notebook(
            [
                "STUDENT_ID = 'probe'",
                SANDBOX_PROBE.format(targets=targets, addresses=addresses, mark=MARK),
            ]
        ),
        "huge_reply.ipynb": notebook(
            [
                "STUDENT_ID = 'reply'",
                "import _multilevel_grade_capture as g\ng.dump = lambda names: 'x' * 300_000_000",
            ]
        ),
        "slow_float.ipynb": notebook(
            [
                "STUDENT_ID = 'slowfloat'",
                "class Slow(float):\n    def __float__(self):\n        while True:\n"
                "            pass\nq1 = Slow(1)",
                *typed_in("slowfloat")[1:],
            ]
        ),
    }
    for name, text in files.items():
        (subs / name).write_text(text, encoding="utf-8")
    before = snapshot(subs)
    installed_before = snapshot(installed.parents[1])
    result = grade(installed, subs, out, "--jobs", "2", "--cell-timeout", "20", "--timeout", "60")
    time.sleep(4)  # a daemon would have written by now
    connected = []
    try:
        connected.append(listener.accept())
    except BlockingIOError:
        pass
    listener.close()
    return {
        "result": result,
        "rows": rows_of(out) if (out / "gradebook.csv").exists() else {},
        "subs": subs,
        "out": out,
        "outside": outside,
        "targets": targets,
        "before": before,
        "installed": installed,
        "installed_before": installed_before,
        "connected": connected,
        "gradebook": (out / "gradebook.csv").read_text()
        if (out / "gradebook.csv").exists()
        else "",
    }


@pytest.mark.slow
def test_every_submission_gets_a_row_and_the_run_ends_well(attacked):
    assert attacked["result"].returncode == 0, attacked["result"].stderr
    names = {p.relative_to(attacked["subs"]).as_posix() for p in attacked["subs"].iterdir()}
    assert set(attacked["rows"]) == names
    assert {r["sandbox"] for r in attacked["rows"].values()} == {"bubblewrap"}


@pytest.mark.slow
def test_pathological_notebooks_get_a_reason(attacked):
    rows = attacked["rows"]
    for name in ("huge_cell.ipynb", "too_many.ipynb", "big.ipynb"):
        assert rows[name]["status"] == "unreadable", rows[name]
        assert "not run" in rows[name]["reason"] or "MB" in rows[name]["reason"], rows[name]
    assert rows["deep.ipynb"]["status"] == "unreadable"
    # The parser-breaking cells come first, so the id is not in the first code cell; they run
    # in the kernel (where they fail or stall until the cell timeout), never in the grader.
    for name in ("minus.ipynb", "dots.ipynb", "later_id.ipynb"):
        assert rows[name]["status"] in ("missing_student_id", "incomplete"), rows[name]
        assert "No student id found" in rows[name]["reason"], rows[name]
        assert float(rows[name]["total"]) == 0
    assert rows["many.ipynb"]["student_id"] == "many"


@pytest.mark.slow
def test_honest_work_scores_and_odd_file_names_get_a_row(attacked):
    rows = attacked["rows"]
    for name in ("honest.ipynb", "victim.ipynb", "..\\..\\evil.ipynb"):
        assert rows[name]["status"] == "ok", rows[name]
        assert rows[name]["total"] == rows[name]["max"], rows[name]


@pytest.mark.slow
def test_nothing_outside_the_sandbox_changes(attacked):
    assert snapshot(attacked["subs"]) == attacked["before"]
    assert snapshot(attacked["installed"].parents[1]) == attacked["installed_before"]
    assert list(attacked["outside"].iterdir()) == []
    for target in attacked["targets"]:
        if "gradebook" not in target:
            assert not Path(target).exists() or Path(target).read_text() != "escaped", target
    assert "forged" not in (attacked["out"] / "gradebook.csv").read_text()
    assert attacked["connected"] == []
    assert leftover_processes() == []


@pytest.mark.slow
def test_patching_the_installed_key_changes_nothing(attacked, tmp_path):
    # The same class graded again from scratch gives the same scores: nothing was patched.
    out = tmp_path / "again"
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("honest.ipynb", "patch_key.ipynb"):
        (subs / name).write_bytes((attacked["subs"] / name).read_bytes())
    result = grade(attacked["installed"], subs, out, "--fresh")
    assert result.returncode == 0, result.stderr
    assert rows_of(out)["honest.ipynb"]["total"] == attacked["rows"]["honest.ipynb"]["total"]


@pytest.mark.slow
def test_reading_the_key_scores_nothing(attacked):
    # mount.ipynb first tries, with mount(2), to uncover the keys and make the course writable.
    for name in ("read_key.ipynb", "mount.ipynb"):
        row = attacked["rows"][name]
        assert float(row["total"]) == 0, row
        assert row["status"] in ("unanswered", "cell_errors"), row


def test_the_sandbox_has_no_capabilities_and_a_read_only_root(tmp_path):
    """Whoever runs the grader (root included), nothing in the sandbox may mount or write,
    nor reach the host user's kernel keyring or make a message queue that outlives it."""
    lib = tmp_path / "lib"
    lib.mkdir()
    work = tmp_path / "w"
    keys = _sandbox.keys_folder()
    seccomp = _sandbox.seccomp_fd()
    command = _sandbox.bwrap_command(
        _sandbox.find_bwrap(),
        work=work,
        lib=lib,
        limits=_sandbox.Limits(),
        hide=[keys],
        seccomp=seccomp,
    )
    calls = (
        "import ctypes, os; libc = ctypes.CDLL(None, use_errno=True); "
        "key = libc.syscall(248, b'user', b'probe', b'v', 1, -4); e1 = ctypes.get_errno(); "
        "queue = libc.syscall(240, b'/probe', os.O_CREAT | os.O_RDWR, 0o600, None); "
        "print(key, e1, queue, ctypes.get_errno())"
    )
    probe = (
        "echo planted > /proc/sys/kernel/core_pattern 2>/dev/null && echo sysctl written; "
        "grep CapEff /proc/self/status; hostname; cat /proc/keys 2>/dev/null | wc -l; "
        f"umount {keys} 2>/dev/null && echo unmounted; ls {keys} | wc -l; "
        f'{sys.executable} -c "{calls}"; '
        "for d in / /dev /usr /etc /tmp /dev/shm "
        + f"{work} {_sandbox.SOCKETS} {tmp_path} {REPO}; do "
        'touch "$d/probe" 2>/dev/null && echo "writable $d"; done; true'
    )
    done = subprocess.run(
        [*command, "sh", "-c", probe], capture_output=True, text=True, pass_fds=(seccomp,)
    )
    os.close(seccomp)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["CapEff:", "0000000000000000"], lines
    assert lines[1:3] == ["sandbox", "0"], lines  # not the host's name, nor its keyrings
    lines = lines[:1] + lines[3:]
    assert "unmounted" not in lines and lines[1] == "0", lines  # the keys stay hidden
    assert lines[2].split() == ["-1", "1", "-1", "1"], lines  # add_key, mq_open: EPERM
    writable = sorted(line.split()[1] for line in lines[3:])
    # tmp_path lies below the sandbox's private /tmp: written there, never on the host.
    private = ["/tmp", "/dev/shm", str(work), str(_sandbox.SOCKETS), str(tmp_path)]
    assert writable == sorted(private), lines
    assert list(tmp_path.rglob("probe")) == [] and not (REPO / "probe").exists()


@pytest.mark.skipif(
    os.geteuid() != 0 or not Path("/etc/shadow").exists(), reason="needs a grader run as root"
)
def test_a_notebook_graded_by_root_cannot_read_what_only_root_may(tmp_path):
    """As root, a notebook keeps uid 0 (without capabilities): enough to read /etc/shadow."""
    hidden = _sandbox.root_only_entries()
    assert Path("/etc/shadow") in hidden and Path("/etc/passwd") not in hidden
    private_dirs = [p for p in hidden if p.is_dir()]
    lib, work = tmp_path / "lib", tmp_path / "w"
    lib.mkdir()
    command = _sandbox.bwrap_command(
        _sandbox.find_bwrap(), work=work, lib=lib, limits=_sandbox.Limits(), hide=list(hidden)
    )
    probe = "cat /etc/shadow || echo refused; wc -c < /etc/passwd; " + "".join(
        f"ls -A {d} | wc -l; " for d in private_dirs
    )
    done = subprocess.run([*command, "sh", "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    shadow, passwd, *listed = done.stdout.split()
    assert shadow == "refused" and int(passwd) > 0, done.stdout  # what everyone may read stays
    assert listed == ["0"] * len(private_dirs), done.stdout


@pytest.mark.slow
def test_typed_in_numbers_are_flagged_and_computed_ones_are_not(attacked):
    typed = attacked["rows"]["typed.ipynb"]
    assert typed["status"] == "typed_in", typed
    assert typed["total"] == typed["max"]  # flagged, not zeroed (the default policy)
    spec = checks.EXERCISES["lesson1"]
    same_for_all = Grader(spec).id_independent_questions()
    numeric = [q.id for q in spec.questions if q.kind == "numeric" and q.id not in same_for_all]
    assert numeric and all(q in typed["reason"].lower() for q in numeric), typed["reason"]
    assert "typed in" not in attacked["rows"]["honest.ipynb"]["reason"]


@pytest.mark.slow
def test_a_huge_reply_and_a_hanging_answer_cost_one_row(attacked):
    reply = attacked["rows"]["huge_reply.ipynb"]
    assert reply["status"] == "incomplete", reply
    slow = attacked["rows"]["slow_float.ipynb"]
    assert float(slow["q1"]) == 0 and slow["status"] != "grader_error", slow
    q1_points = checks.EXERCISES["lesson1"].question("q1").points
    assert float(slow["total"]) == float(slow["max"]) - q1_points  # only q1 was lost


@pytest.mark.slow
def test_forged_results_are_regraded_and_typed_in_zero_policy(attacked, tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    (subs / "typed.ipynb").write_bytes((attacked["subs"] / "typed.ipynb").read_bytes())
    (subs / "blank.ipynb").write_text(notebook(["STUDENT_ID = 'blank'", "q1 = ..."]))
    first = grade(attacked["installed"], subs, out, "--typed-in", "zero")
    assert first.returncode == 0, first.stderr
    rows = rows_of(out)
    choice = [q for q in checks.EXERCISES["lesson1"].questions if q.kind != "numeric"]
    assert float(rows["typed.ipynb"]["total"]) == sum(q.points for q in choice)
    # Forge the blank notebook's stored result: full marks, a plausible but wrong MAC.
    (stored,) = [p for p in (out / ".results").iterdir() if p.name.startswith("blank")]
    data = json.loads(stored.read_text())
    for q in data["payload"]["result"]["questions"]:
        q["points"], q["status"] = q["max_points"], "correct"
    data["mac"] = hashlib.sha256(b"forged").hexdigest()
    stored.write_text(json.dumps(data))
    second = grade(attacked["installed"], subs, out, "--typed-in", "zero")
    assert second.returncode == 0, second.stderr
    assert float(rows_of(out)["blank.ipynb"]["total"]) == 0


@pytest.mark.slow
def test_unwritable_results_folder_still_writes_a_gradebook(attacked, tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    out.mkdir()
    (out / ".results").write_text("not a folder")
    (subs / "blank.ipynb").write_text(notebook(["STUDENT_ID = 'blank'", "q1 = ..."]))
    result = grade(attacked["installed"], subs, out)
    assert result.returncode == 0, result.stderr
    assert rows_of(out)["blank.ipynb"]["status"] == "unanswered"


PLANT = """\
import ctypes, os, pathlib, subprocess
for folder in (".", "/tmp", "/dev/shm"):
    pathlib.Path(folder, "planted.py").write_text("PLANTED = True")
startup = pathlib.Path(os.environ["IPYTHONDIR"], "profile_default", "startup")
startup.mkdir(parents=True, exist_ok=True)
(startup / "00-planted.py").write_text("PLANTED = True")
locked = pathlib.Path("locked")
locked.mkdir()
(locked / "planted.py").write_text("PLANTED = True")
locked.chmod(0)
subprocess.Popen(["/bin/sleep", "{mark}"], start_new_session=True)
if {ipc}:
    ctypes.CDLL(None).shmget(0, 4096, 0o1600)  # IPC_PRIVATE, IPC_CREAT | 0600
"""

TAMPER = """\
import os, resource
server = os.getppid()  # the fork server: every later kernel would inherit what is set here
resource.prlimit(server, resource.RLIMIT_CPU, (2, resource.prlimit(server, resource.RLIMIT_CPU)[1]))
os.setpriority(os.PRIO_PROCESS, server, 15)
for folder in ("/tmp", "/dev/shm", "."):
    os.setxattr(folder, "user.planted", b"1")
    os.chmod(folder, 0o701)
"""

NEST = """\
import os
from ipykernel.kernelapp import IPKernelApp
sockets = os.path.dirname(IPKernelApp.instance().connection_file)  # once a host folder
here = os.open(sockets, os.O_RDONLY)
for _ in range(3000):  # deeper than Python's recursion limit
    os.mkdir("a", dir_fd=here)
    deeper = os.open("a", os.O_RDONLY, dir_fd=here)
    os.close(here)
    here = deeper
"""

RENAME = """\
import os
work = os.getcwd()
os.rename(os.path.dirname(work), os.path.dirname(work) + "-moved")
os.makedirs(work)
open(os.path.join(work, "planted.py"), "w").write("PLANTED = True")
"""

OBSERVE = """\
import glob, os, resource
seen = [p for p in ("planted.py", "locked", "/tmp/planted.py", "/dev/shm/planted.py")
        if os.path.lexists(p)]
seen += ["startup file ran"] if "PLANTED" in globals() else []
seen += [p for p in glob.glob("/proc/[0-9]*/cmdline") if b"{mark}" in open(p, "rb").read()]
seen += open("/proc/sysvipc/shm").readlines()[1:]
seen += [f for f in ("/tmp", "/dev/shm", ".") if os.listxattr(f) or os.stat(f).st_mode & 0o777 != 0o755]
seen += ["server changed"] if resource.getrlimit(resource.RLIMIT_CPU)[0] != 300 else []
seen += ["server changed"] if os.getpriority(os.PRIO_PROCESS, 0) != 0 else []
try:  # pid 1 is the fork server, which no kernel may read (or write, or trace)
    open("/proc/1/mem", "rb").close()
    seen.append("the fork server's memory is readable")
except OSError:
    pass
assert not seen, seen
# A fresh sandbox's first kernel is its pid 2 (after the fork server, its pid 1).
assert (os.getpid() == 2) == {fresh}, ("fresh" if {fresh} else "reused") + " sandbox expected"
"""


@pytest.mark.slow
def test_a_sandbox_serves_the_next_notebook_only_once_it_is_as_new(installed, tmp_path):
    # One job: a notebook runs in the sandbox the one before it used, once reset, or in a fresh
    # one when the reset could not make it as new. Each observer fails a cell if anything the
    # notebook before it left is still there, or if the sandbox was (not) replaced as expected.
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    cells = {
        "a_plant.ipynb": PLANT.format(mark=MARK, ipc=False),  # all undone by the reset
        "b_observe.ipynb": OBSERVE.format(mark=MARK, fresh=False),
        "c_plant.ipynb": PLANT.format(mark=MARK, ipc=True),  # System V IPC: replaced
        "d_observe.ipynb": OBSERVE.format(mark=MARK, fresh=True),
        "e_tamper.ipynb": TAMPER,  # the server's limits changed: replaced
        "f_observe.ipynb": OBSERVE.format(mark=MARK, fresh=True),
        "g_nest.ipynb": NEST,  # too deep to empty: replaced
        "h_observe.ipynb": OBSERVE.format(mark=MARK, fresh=True),
        "i_rename.ipynb": RENAME,  # the mounts moved: replaced
        "j_observe.ipynb": OBSERVE.format(mark=MARK, fresh=True),
    }
    for name, cell in cells.items():
        (subs / name).write_text(notebook([f"STUDENT_ID = {name[:1]!r}", cell]))
    result = grade(installed, subs, out, "--jobs", "1", "--cpu-seconds", "300")
    assert result.returncode == 0, result.stderr
    rows = rows_of(out)
    for name in cells:
        assert rows[name]["status"] == "unanswered", rows[name]  # no cell failed
    assert leftover_processes() == []
    assert not list(_sandbox.scratch_base().glob(f"run-{result.pid}-*"))  # deep ones too


@pytest.mark.slow
def test_killed_grader_leaves_no_process_and_the_rerun_resumes(installed, tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    out.mkdir()
    linger = (
        f"import subprocess, time\nsubprocess.Popen(['/bin/sleep', '{MARK}'], "
        "start_new_session=True)\ntime.sleep(1)"
    )
    for i in range(4):
        cells = [f"STUDENT_ID = 's{i}'", linger, "q1 = ..."]
        (subs / f"s{i}.ipynb").write_text(notebook(cells))
    env = dict(os.environ, MULTILEVEL_GRADE_KEY=str(tmp_path / "results.key"))
    command = [str(installed), "-m", "multilevel.grade", str(subs), "-o", str(out), "-q", "-j", "1"]
    for how in (signal.SIGTERM, signal.SIGKILL):
        proc = subprocess.Popen(command, cwd=tmp_path, env=env, stderr=subprocess.PIPE)
        deadline = time.time() + 300
        while time.time() < deadline and not leftover_processes():
            time.sleep(0.1)
        assert leftover_processes(), "the notebook never started"
        proc.send_signal(how)
        proc.communicate(timeout=120)
        assert proc.returncode == (130 if how == signal.SIGTERM else -signal.SIGKILL)
        for _ in range(50):  # die-with-parent acts within moments; this is a hang guard
            if not leftover_processes():
                break
            time.sleep(0.1)
        assert leftover_processes() == []
        run_dirs = list(_sandbox.scratch_base().glob(f"run-{proc.pid}-*"))
        if how == signal.SIGTERM:
            assert run_dirs == []  # removed on the way out
    done = len(list((out / ".results").glob("*.json")))
    finished = subprocess.run(
        command[:-3], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert finished.returncode == 0, finished.stderr
    assert f"{done} resumed" in finished.stderr
    assert list(_sandbox.scratch_base().glob(f"run-{proc.pid}-*")) == []  # cleaned by the rerun
    assert len(rows_of(out)) == 4


@pytest.mark.slow
def test_no_sandbox_run_says_so_in_every_row(installed, tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    (subs / "blank.ipynb").write_text(notebook(["STUDENT_ID = 'blank'", "q1 = ..."]))
    result = grade(installed, subs, out, "--no-sandbox")
    assert result.returncode == 0, result.stderr
    assert rows_of(out)["blank.ipynb"]["sandbox"] == "none"


def test_missing_bubblewrap_is_refused_unless_asked(tmp_path, monkeypatch, capsys):
    from multilevel.grade import EXIT_BAD_USAGE, main

    monkeypatch.setattr("multilevel.grade._run.find_bwrap", lambda: None)
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "a.ipynb").write_text(notebook(["STUDENT_ID = 'a'"]))
    assert main([str(subs), "-o", str(tmp_path / "out")]) == EXIT_BAD_USAGE
    err = capsys.readouterr().err
    assert "bubblewrap" in err and "--no-sandbox" in err and "apt-get install" in err
    assert not (tmp_path / "out" / "gradebook.csv").exists()


#: Endless frames, each marked "more to come", on the kernel's own shell socket: the side that
#: reads them buffers the whole message before anyone sees it (MAXMSGSIZE bounds single frames).
FLOOD = """\
import zmq
kernel = get_ipython().kernel
ident = kernel._parent_ident["shell"]
shell = kernel.shell_stream.socket
for part in ident if isinstance(ident, list) else [ident]:
    shell.send(part, zmq.SNDMORE)
chunk = b"x" * 1_000_000
for _ in range(3_000):
    shell.send(chunk, zmq.SNDMORE)
"""

#: A capture helper replaced by the notebook: names nobody asked for, and a huge type name,
#: within the reply limit (a hostile review grew the grader by 170 MB per job this way, and
#: wrote 16 MB feedback files).
BLOAT = """\
import json
import _multilevel_grade_capture as capture
def dump(names):
    answers = {f"zz{i}": ["ab"] * 250_000 for i in range(2)}  # within 5 MB of text
    answers["q1"] = {"kind": "other", "type_name": "T" * 1_000_000}
    return json.dumps(answers)
capture.dump = dump
"""

#: The grader's command line, reporting the grader process's own peak memory on exit.
MEASURED_GRADER = """\
import atexit, resource, runpy, sys
peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
atexit.register(lambda: sys.stderr.write(f"\\nPEAK_MB {peak()}\\n"))
runpy.run_module("multilevel.grade", run_name="__main__", alter_sys=True)
"""


@pytest.mark.slow
def test_kernels_flooding_or_bloating_the_grader_cost_one_row_not_its_memory(installed, tmp_path):
    # Before the kernels' client had a process of its own, this notebook took the grader from
    # about 150 MB to 2.3 GB; a worker, limited to about 500 MB, now takes the blow.
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    (subs / "a_flood.ipynb").write_text(notebook(["STUDENT_ID = 'flood'", FLOOD, "q1 = 1"]))
    (subs / "b_honest.ipynb").write_text(computed("after-flood"))
    (subs / "c_bloat.ipynb").write_text(notebook(["STUDENT_ID = 'bloat'", BLOAT, "pass"]))
    result = grade(installed, subs, out, "-j", "1", entry=("-c", MEASURED_GRADER))
    assert result.returncode == 0, result.stderr
    peak_mb = int(result.stderr.rsplit("PEAK_MB", 1)[1])
    assert peak_mb < 500, result.stderr
    rows = rows_of(out)
    assert rows["b_honest.ipynb"]["status"] == "ok", rows["b_honest.ipynb"]
    assert rows["b_honest.ipynb"]["total"] == rows["b_honest.ipynb"]["max"]
    flood = rows["a_flood.ipynb"]
    assert flood["status"] in ("cell_errors", "incomplete") and float(flood["total"]) == 0, flood
    bloat = rows["c_bloat.ipynb"]
    assert float(bloat["total"]) == 0 and bloat["status"] != "grader_error", bloat
    assert len(bloat["reason"]) < 1000, bloat
    largest = max(p.stat().st_size for p in (out / "feedback").iterdir())
    assert largest < 20_000, largest  # a type name is cut to 100 characters
    assert processes_of_run(result.pid) == []


#: Three children of 800 MB each: under a 2000 MB limit per process, over it together.
FORKED_MEMORY = """\
import os, time
for _ in range(3):
    if os.fork() == 0:
        block = bytearray(800 * 2**20)
        for i in range(0, len(block), 4096):
            block[i] = 1
        time.sleep(60)
        os._exit(0)
time.sleep(30)
"""

#: Empty files cost no space in the 64 MB folder, only the machine's kernel memory. The server
#: looks twice a second; files made between two looks by a kernel that has ended by the second
#: cost nothing for longer than that (the reset removes them), so this kernel stays a while.
MANY_FILES = """\
import time
for i in range(150_000):
    open(f"/tmp/f{i}", "w").close()
time.sleep(3)
"""


@pytest.mark.slow
def test_a_sandbox_limits_what_its_processes_use_together(installed, tmp_path):
    # A hostile review took 6.6 GB of the machine with three children under a 3 GB limit per
    # process, and 0.5 GB of kernel memory with 400,000 files; the fork server now stops them.
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    (subs / "a_memory.ipynb").write_text(notebook(["STUDENT_ID = 'm'", FORKED_MEMORY, "q1 = 1"]))
    (subs / "b_files.ipynb").write_text(notebook(["STUDENT_ID = 'f'", MANY_FILES, "q1 = 1"]))
    (subs / "c_honest.ipynb").write_text(computed("after-limits"))
    result = grade(installed, subs, out, "-j", "1", "--memory-mb", "2000", "--cell-timeout", "40")
    assert result.returncode == 0, result.stderr
    rows = rows_of(out)
    memory, files = rows["a_memory.ipynb"], rows["b_files.ipynb"]
    assert memory["status"] == "incomplete", memory
    assert "used more than 2000 MB of memory together" in memory["reason"], memory
    assert files["status"] == "incomplete", files
    assert "made more than 100,000 files" in files["reason"], files
    honest = rows["c_honest.ipynb"]  # in the same sandbox, once reset, or a fresh one
    assert honest["status"] == "ok" and honest["total"] == honest["max"], honest
