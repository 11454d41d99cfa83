"""Benchmark the gradebook: grade 30 generated submissions and print seconds per submission.

Submissions are copies of ``solutions/<exercise>_exercises.ipynb`` (every third one is the
untouched ``exercises/`` notebook instead, which scores zero), each with its own ``STUDENT_ID``,
so every kernel simulates its own data and fits its own models, as in a real class. By default
each notebook runs in a bubblewrap sandbox (one per job, reset after every run) and the
full-marks ones run a second time with a secret variant id (the typed-in check), exactly as
``python -m multilevel.grade`` does.

Run:  .venv/bin/python scripts/bench_grading.py [--n 30] [--exercise lesson2] [--jobs N]
          [--no-sandbox] [--no-variant]

For reference on this 2-core machine: otter-grader's local runner took about 1.8-3.5 s per
notebook and nbgrader's autograde about 2.7 s. Wall-clock numbers depend on what else runs on
the machine, so the load average and CPU seconds per submission are printed too, and the
grader process's own peak memory. docs/benchmarks.md keeps the measured numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _with_student_id(notebook_path: Path, student_id: str) -> str:
    nb = json.loads(notebook_path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["source"] = f"STUDENT_ID = {student_id!r}\n"
            break
    return json.dumps(nb)


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=30, help="number of submissions (default 30)")
    parser.add_argument("--exercise", default="lesson2", help="exercise (default lesson2)")
    parser.add_argument("--jobs", type=int, default=None, help="parallel kernels (default: CPUs)")
    parser.add_argument(
        "--no-sandbox", dest="sandbox", action="store_false", help="run without bubblewrap"
    )
    parser.add_argument(
        "--no-variant", dest="variant", action="store_false", help="skip the typed-in check"
    )
    args = parser.parse_args()

    solution = REPO / "solutions" / f"{args.exercise}_exercises.ipynb"
    blank = REPO / "exercises" / f"{args.exercise}_exercises.ipynb"
    if not solution.exists() or not blank.exists():
        print(f"missing {solution} or {blank}; run `make exercises` first", file=sys.stderr)
        return 2

    from multilevel.grade import grade_submissions  # after argument checks: imports are slow

    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        subs, out = Path(tmp) / "submissions", Path(tmp) / "out"
        subs.mkdir()
        for i in range(args.n):
            source = blank if i % 3 == 2 else solution
            (subs / f"student{i:02d}.ipynb").write_text(
                _with_student_id(source, f"bench-student-{i:02d}"), encoding="utf-8"
            )
        load = os.getloadavg()[0]
        # The fork server is each sandbox's pid 1 and reaps its kernels; bwrap reaps the server
        # and this process reaps bwrap, so every sandboxed process's CPU time ends up in this
        # process's RUSAGE_CHILDREN once the run has stopped its sandboxes.
        own_before, sandboxes_before = _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        run = grade_submissions(
            subs,
            out,
            exercise=args.exercise,
            jobs=args.jobs,
            resume=False,
            progress=False,
            sandbox=args.sandbox,
            variant=args.variant,
            key_file=Path(tmp) / "results.key",
        )
        seconds = time.perf_counter() - started
        grader_cpu = _cpu(resource.RUSAGE_SELF) - own_before
        sandbox_cpu = _cpu(resource.RUSAGE_CHILDREN) - sandboxes_before

    full = sum(r.score == r.max_score for r in run.results)
    zero = sum(r.score == 0 for r in run.results)
    problems = sum(r.status not in ("ok", "unanswered") for r in run.results)
    jobs = args.jobs or os.cpu_count()
    how = "bubblewrap sandbox" if args.sandbox else "no sandbox"
    how += ", variant run" if args.variant else ", no variant run"
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"graded {args.n} {args.exercise} submissions with {jobs} jobs ({how}) in "
        f"{seconds:.1f} s (load average {load:.1f} at start)"
    )
    print(f"  {seconds / args.n:.2f} s per submission (wall clock)")
    cpu = grader_cpu + sandbox_cpu
    print(
        f"  {cpu / args.n:.2f} CPU s per submission ({sandbox_cpu / args.n:.2f} in the "
        f"sandboxes and kernels, {grader_cpu / args.n:.2f} in the grader)"
    )
    print(f"  {cpu / args.n / jobs:.2f} s per submission amortised on {jobs} free cores")
    print(f"  grader process peak memory {peak_mb:.0f} MB")
    print(f"  {full} full marks, {zero} zero, {problems} with problems")
    print("  reference: otter-grader local ~1.8-3.5 s, nbgrader autograde ~2.7 s per notebook")
    if full + zero != args.n or problems:
        print("unexpected grades: check the gradebook", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
