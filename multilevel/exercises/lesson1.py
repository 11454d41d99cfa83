"""Lesson 1 exercise data: nested data and the vocabulary of multilevel models."""

from __future__ import annotations

from simdata import SimulatedData, as_generator, faculty_salaries


def make_data(seed: int) -> SimulatedData:
    """The student's data: the number of departments and the spread of pay vary per student."""
    rng = as_generator(seed)
    return faculty_salaries(
        n_departments=int(rng.integers(5, 11)),
        faculty_per_department=(8, 30),
        base_mean=float(rng.integers(50, 71)) * 1000,
        base_sd=float(rng.integers(5, 11)) * 1000,
        raise_mean=float(rng.integers(10, 21)) * 100,
        raise_sd=float(rng.integers(2, 5)) * 100,
        seed=rng,
    )
