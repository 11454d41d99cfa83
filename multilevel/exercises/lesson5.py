"""Lesson 5 exercise data: partial pooling and shrinkage."""

from __future__ import annotations

import numpy as np

from simdata import SimulatedData, as_generator, faculty_salaries


def make_data(seed: int) -> SimulatedData:
    """Unbalanced departments of distinct sizes (2 to 40 faculty) and noisy salaries."""
    rng = as_generator(seed)
    n = int(rng.integers(8, 13))
    sizes = [int(s) for s in rng.choice(np.arange(2, 41), size=n, replace=False)]
    return faculty_salaries(
        n_departments=n,
        faculty_per_department=sizes,
        base_mean=float(rng.integers(50, 71)) * 1000,
        base_sd=float(rng.integers(4, 9)) * 1000,
        raise_mean=float(rng.integers(10, 21)) * 100,
        raise_sd=0,
        noise_sd=float(rng.integers(8, 13)) * 1000,
        seed=rng,
    )
