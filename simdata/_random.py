"""The one place where a ``seed`` argument becomes a random-number generator."""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["Seed", "as_generator"]

Seed = int | np.random.Generator | None


def as_generator(seed: Seed = None) -> np.random.Generator:
    """Turn a ``seed`` argument into a :class:`numpy.random.Generator`.

    Every function in the course that draws random numbers takes ``seed`` and passes it
    through this helper, so randomness is handled one way everywhere and no global state
    (``np.random.seed``) is touched.

    Parameters
    ----------
    seed : int, numpy.random.Generator or None
        ``None`` gives fresh, unpredictable randomness. A non-negative integer gives the same
        numbers on every run. A ``Generator`` is returned as it is (not copied), so drawing from
        the result advances the caller's generator.

    Returns
    -------
    numpy.random.Generator

    Raises
    ------
    ValueError
        If ``seed`` is a bool, a float, a negative integer or anything else.

    Examples
    --------
    >>> rng = as_generator(42)
    >>> bool(rng.normal() == as_generator(42).normal())
    True
    """
    if seed is None:
        return np.random.default_rng()
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        hint = ""
        if isinstance(seed, np.random.RandomState):
            hint = " (a legacy RandomState; use numpy.random.default_rng instead)"
        raise ValueError(
            "seed must be None, a non-negative integer or a numpy.random.Generator, "
            f"got {seed!r}{hint}"
        )
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {int(seed)}")
    return np.random.default_rng(int(seed))
