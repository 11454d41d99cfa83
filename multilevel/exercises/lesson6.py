"""Lesson 6 exercise data: using a fitted model (existing vs new departments, centring)."""

from __future__ import annotations

from simdata import SimulatedData, as_generator, faculty_salaries


def make_data(seed: int) -> SimulatedData:
    """Varying intercepts; experience up to 30 years."""
    rng = as_generator(seed)
    return faculty_salaries(
        n_departments=int(rng.integers(8, 13)),
        faculty_per_department=(10, 30),
        base_mean=float(rng.integers(50, 71)) * 1000,
        base_sd=float(rng.integers(6, 11)) * 1000,
        raise_mean=float(rng.integers(10, 21)) * 100,
        raise_sd=0,
        noise_sd=float(rng.integers(4, 7)) * 1000,
        experience_range=(0, 30),
        seed=rng,
    )
