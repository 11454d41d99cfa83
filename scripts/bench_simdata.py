"""Time the simdata simulators on 1,000,000 rows (median of 5 runs).

Run with ``.venv/bin/python scripts/bench_simdata.py``. There is no timed test: timings depend
on the machine, so this script is the place to measure before and after a change.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import simdata

ROWS = 1_000_000
REPEATS = 5


def median_seconds(make: Callable[[], simdata.SimulatedData]) -> tuple[float, int]:
    times = []
    rows = 0
    for _ in range(REPEATS):
        start = time.perf_counter()
        sim = make()
        times.append(time.perf_counter() - start)
        rows = len(sim.data)
    return statistics.median(times), rows


def main() -> None:
    groups = 1_000
    cases: dict[str, Callable[[], simdata.SimulatedData]] = {
        "faculty_salaries": lambda: simdata.faculty_salaries(
            n_departments=groups, faculty_per_department=ROWS // groups, seed=0
        ),
        "school_admissions": lambda: simdata.school_admissions(
            n_schools=groups, students_per_school=ROWS // groups, seed=0
        ),
        "hospital_patients": lambda: simdata.hospital_patients(
            n_hospitals=groups, patients_per_hospital=ROWS // groups, seed=0
        ),
    }
    for name, make in cases.items():
        seconds, rows = median_seconds(make)
        print(f"{name} {rows:,} rows: {seconds:.3f} s (median of {REPEATS})")


if __name__ == "__main__":
    main()
