"""Lesson 4 exercise data: varying intercepts and slopes, and the likelihood-ratio test."""

from __future__ import annotations

from simdata import SimulatedData, as_generator, faculty_salaries


def make_data(seed: int) -> SimulatedData:
    """Bases and raises both vary, with a per-student correlation."""
    rng = as_generator(seed)
    return faculty_salaries(
        n_departments=int(rng.integers(10, 17)),
        faculty_per_department=(15, 35),
        base_mean=float(rng.integers(50, 71)) * 1000,
        base_sd=float(rng.integers(5, 11)) * 1000,
        raise_mean=float(rng.integers(10, 21)) * 100,
        raise_sd=float(rng.integers(3, 6)) * 100,
        correlation=round(float(rng.uniform(-0.6, 0.6)), 1),
        noise_sd=float(rng.integers(3, 6)) * 1000,
        seed=rng,
    )
