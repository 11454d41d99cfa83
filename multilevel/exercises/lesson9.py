"""Lesson 9 exercise data: checking a model, on departments whose raises differ."""

from __future__ import annotations

from simdata import SimulatedData, as_generator, faculty_salaries


def make_data(seed: int) -> SimulatedData:
    """Bases and raises both vary (raise SD $400 to $800 a year), so that varying intercepts
    alone misfit: the question the exercise asks is which model the checks catch."""
    rng = as_generator(seed)
    return faculty_salaries(
        n_departments=int(rng.integers(8, 13)),
        faculty_per_department=(15, 30),
        base_mean=float(rng.integers(50, 71)) * 1000,
        base_sd=float(rng.integers(5, 11)) * 1000,
        raise_mean=float(rng.integers(10, 21)) * 100,
        raise_sd=float(rng.integers(4, 9)) * 100,
        noise_sd=float(rng.integers(3, 6)) * 1000,
        seed=rng,
    )
