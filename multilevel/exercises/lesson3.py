"""Lesson 3 exercise data: varying slopes (each department its own raise)."""

from __future__ import annotations

from simdata import SimulatedData, as_generator, faculty_salaries


def make_data(seed: int) -> SimulatedData:
    """Varying slopes only (``base_sd=0``)."""
    rng = as_generator(seed)
    return faculty_salaries(
        n_departments=int(rng.integers(8, 15)),
        faculty_per_department=(12, 30),
        base_mean=float(rng.integers(45, 66)) * 1000,
        base_sd=0,
        raise_mean=float(rng.integers(10, 26)) * 100,
        raise_sd=float(rng.integers(3, 7)) * 100,
        noise_sd=float(rng.integers(3, 6)) * 1000,
        seed=rng,
    )
