"""The instructor's gradebook: grade a folder of submitted exercise notebooks.

Command line (also installed as ``multilevel-grade``)::

    python -m multilevel.grade SUBMISSIONS_DIR --output OUT_DIR [--exercise lesson2]
        [--jobs N] [--timeout 120] [--cell-timeout 60] [--fresh] [--quiet]
        [--no-sandbox] [--memory-mb 3072] [--cpu-seconds 300] [--output-mb 64] [--reply-mb 8]
        [--typed-in flag|zero] [--no-variant] [--key-file PATH]

writes ``OUT_DIR/gradebook.csv`` (one row per submitted file: ``student_id, exercise, file``,
one column of points per question, ``total, max, status, reason, sandbox``) and
``OUT_DIR/feedback/<student_id>.md`` (per question pass/fail with a hint, and what went wrong
when the notebook ran). Stored results in ``OUT_DIR/.results/``, authenticated with a key kept
outside ``OUT_DIR``, let an interrupted run resume: unchanged submissions are not graded again
unless ``--fresh`` is given; a result file the grader did not write is ignored.

Every notebook runs in a bubblewrap sandbox (read-only system and course, no network, no
capabilities, its own processes, private scratch, memory/CPU/file/reply limits; see
:mod:`._sandbox`), in a kernel forked from one process per sandbox that imported the course's
libraries once. Each job keeps its sandbox and resets it to as new after every run (every
process killed, every writable folder emptied), or replaces it (see :mod:`._pool`). The
grader's process never talks to a kernel: a memory-limited worker per job does (see
:mod:`._worker`). The kernel only reports the answer variables (``q1``, ``q2``, ...); the
scores are computed in the grader's process, from answer keys the sandbox cannot read. A
notebook whose numeric answers are right runs a second time with the data of a secret id: an
answer that does not follow the data (typed in) is flagged (``typed_in``), or scores 0 with
``--typed-in zero``. Without bubblewrap (macOS, Windows) the grader refuses unless
``--no-sandbox`` is given; the gradebook's ``sandbox`` column then says ``none``.

A bad submission (invalid JSON, not a notebook, huge, a cell that raises or loops forever,
``sys.exit``/``os._exit``, gigantic output, the wrong exercise, no student id) gets a row with
what could be graded and a ``status`` and ``reason``; everyone else is graded as usual.

``status`` is one of (most severe first): ``unreadable``, ``wrong_exercise``, ``grader_error``,
``incomplete`` (kernel died, notebook timeout), ``missing_student_id``,
``placeholder_student_id``, ``cell_timeout``, ``cell_errors``, ``typed_in``,
``duplicate_student_id``, ``unanswered``, ``ok``.

Exit codes
----------
0
    The gradebook was written (problems with single submissions are in its rows).
1
    The grader itself failed unexpectedly (a bug; the message says what happened).
2
    Bad command line: a missing, empty or misplaced folder, an unknown exercise, a bad option,
    no bubblewrap without ``--no-sandbox``, an unwritable gradebook.
130
    Interrupted (Ctrl-C or SIGTERM); finished students are stored and the same command resumes.

Examples
--------
>>> from multilevel.grade import grade_submissions
>>> run = grade_submissions("submissions/", "grades/")  # doctest: +SKIP
>>> run.gradebook[["student_id", "total", "max", "status"]]  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import faulthandler
import signal
import sys
from collections.abc import Sequence

from ._results import STATUS_ORDER, GradingRun, QuestionResult, SubmissionResult
from ._run import DEFAULT_CELL_TIMEOUT, DEFAULT_NOTEBOOK_TIMEOUT, GradingError, grade_submissions
from ._sandbox import Limits

__all__ = [
    "DEFAULT_CELL_TIMEOUT",
    "DEFAULT_NOTEBOOK_TIMEOUT",
    "EXIT_BAD_USAGE",
    "EXIT_INTERNAL_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "STATUS_ORDER",
    "GradingError",
    "GradingRun",
    "Limits",
    "QuestionResult",
    "SubmissionResult",
    "grade_submissions",
    "main",
]

EXIT_OK = 0
EXIT_INTERNAL_ERROR = 1
EXIT_BAD_USAGE = 2
EXIT_INTERRUPTED = 130

_EPILOG = """\
exit codes:
  0    the gradebook was written (problems with single submissions are in its rows)
  1    the grader itself failed unexpectedly
  2    bad command line: missing, empty or misplaced folder, unknown exercise, bad option,
       no bubblewrap (without --no-sandbox), unwritable gradebook
  130  interrupted (Ctrl-C, SIGTERM); finished students are stored and the same command resumes
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own errors: same exit code, plain words
        self.print_usage(sys.stderr)
        sys.stderr.write(f"multilevel-grade: error: {message}\n")
        raise SystemExit(EXIT_BAD_USAGE)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="multilevel-grade",
        description="Grade a folder of submitted exercise notebooks into a gradebook CSV "
        "and one feedback file per student.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("submissions", help="folder of submitted notebooks (read only)")
    parser.add_argument(
        "-o", "--output", required=True, help="folder for gradebook.csv and feedback/"
    )
    parser.add_argument(
        "--exercise", help="exercise to grade (default: the one most notebooks name)"
    )
    parser.add_argument(
        "-j", "--jobs", type=int, default=None, help="notebooks run at once (default: CPU count)"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_NOTEBOOK_TIMEOUT,
        help=f"seconds per notebook (default {DEFAULT_NOTEBOOK_TIMEOUT:g})",
    )
    parser.add_argument(
        "--cell-timeout",
        type=float,
        default=DEFAULT_CELL_TIMEOUT,
        help=f"seconds per cell before it is interrupted (default {DEFAULT_CELL_TIMEOUT:g})",
    )
    resume = parser.add_mutually_exclusive_group()
    resume.add_argument(
        "--resume",
        dest="resume",
        action="store_true",
        default=True,
        help="reuse stored results of unchanged submissions (default)",
    )
    resume.add_argument(
        "--fresh", dest="resume", action="store_false", help="regrade every submission"
    )
    parser.add_argument(
        "--no-sandbox",
        dest="sandbox",
        action="store_false",
        help="run notebooks without bubblewrap (machines without it; the gradebook says so)",
    )
    defaults = Limits()
    for flag, field, what in (
        ("--memory-mb", "memory_mb", "memory per sandbox, MB"),
        ("--cpu-seconds", "cpu_seconds", "CPU seconds per process"),
        ("--output-mb", "output_mb", "largest file a notebook may write, MB"),
        ("--reply-mb", "reply_mb", "largest message read from a kernel, MB"),
    ):
        parser.add_argument(
            flag,
            dest=field,
            type=int,
            default=getattr(defaults, field),
            help=f"{what} (default {getattr(defaults, field)})",
        )
    parser.add_argument(
        "--typed-in",
        choices=("flag", "zero"),
        default="flag",
        help="numeric answers that do not follow the data of a second run: flag them "
        "(default) or score them 0",
    )
    parser.add_argument(
        "--no-variant",
        dest="variant",
        action="store_false",
        help="skip the second run with other data (no check for typed-in numbers)",
    )
    parser.add_argument(
        "--key-file", help="key that authenticates stored results (default in ~/.local/state)"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    return parser


def _stacks_on_sigusr1() -> None:
    """``kill -USR1 <pid>`` prints where every thread of a grader that seems stuck is."""
    stderr = sys.__stderr__
    if not hasattr(signal, "SIGUSR1") or stderr is None:
        return
    try:
        faulthandler.register(signal.SIGUSR1, file=stderr, all_threads=True)
    except (AttributeError, ValueError):  # no real stderr (an embedding host): no stack dumps
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run the gradebook command; returns the exit code (see the module docstring).

    Examples
    --------
    >>> main(["submissions/", "--output", "grades/"])  # doctest: +SKIP
    0
    """
    args = _parser().parse_args(argv)
    _stacks_on_sigusr1()
    try:
        run = grade_submissions(
            args.submissions,
            args.output,
            exercise=args.exercise,
            jobs=args.jobs,
            notebook_timeout=args.timeout,
            cell_timeout=args.cell_timeout,
            resume=args.resume,
            progress=not args.quiet,
            sandbox=args.sandbox,
            limits=Limits(args.memory_mb, args.cpu_seconds, args.output_mb, args.reply_mb),
            variant=args.variant,
            typed_in=args.typed_in,
            key_file=args.key_file,
        )
    except GradingError as error:
        sys.stderr.write(f"multilevel-grade: error: {error}\n")
        return EXIT_BAD_USAGE
    except KeyboardInterrupt:
        sys.stderr.write(
            "\nmultilevel-grade: interrupted. Finished students are stored; run the same "
            "command again to resume.\n"
        )
        return EXIT_INTERRUPTED
    except Exception as error:  # the last line of defence: a message, not a traceback wall
        sys.stderr.write(
            f"multilevel-grade: internal error: {type(error).__name__}: {error}\n"
            "Please report this with the command you ran.\n"
        )
        return EXIT_INTERNAL_ERROR
    problems = sum(r.status != "ok" for r in run.results)
    if not args.quiet:
        sys.stderr.write(
            f"Wrote {run.csv_path} ({len(run.results)} submissions: {run.n_graded} graded, "
            f"{run.n_resumed} resumed, {problems} with problems) in {run.seconds:.1f} s.\n"
        )
        if run.sandbox == "none":
            sys.stderr.write("Notebooks ran WITHOUT a sandbox (--no-sandbox).\n")
    return EXIT_OK
