"""Lesson 2 exercise data: varying intercepts (each department its own base salary)."""

from __future__ import annotations

from simdata import SimulatedData, as_generator, faculty_salaries


def make_data(seed: int) -> SimulatedData:
    """Varying intercepts only (``raise_sd=0``); sizes and spreads vary per student."""
    rng = as_generator(seed)
    return faculty_salaries(
        n_departments=int(rng.integers(8, 15)),
        faculty_per_department=(10, 30),
        base_mean=float(rng.integers(50, 71)) * 1000,
        base_sd=float(rng.integers(5, 13)) * 1000,
        raise_mean=float(rng.integers(10, 21)) * 100,
        raise_sd=0,
        noise_sd=float(rng.integers(4, 8)) * 1000,
        seed=rng,
    )
