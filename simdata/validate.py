"""Checks at the boundary: each names the parameter, the value and what is allowed.

Public so that every layer of the course (the simulators here, ``multilevel`` on top) refuses bad
input with the same words, as scikit-learn does: ``n_samples must be a positive integer, got 0``.

>>> from simdata import validate
>>> validate.positive_int("n_samples", 200)
200
>>> validate.positive_number("prior_sd", 0)
Traceback (most recent call last):
...
ValueError: prior_sd must be a positive number, got 0
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np

__all__ = [
    "correlation",
    "finite_number",
    "group_sizes",
    "non_negative",
    "number_between",
    "positive_int",
    "positive_number",
    "whole_range",
]


def _is_int(value: object) -> bool:
    # bool is an int subclass, and 8.0 is "whole" but not a count: both are refused.
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _is_real(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def positive_int(name: str, value: object) -> int:
    """A count of at least 1 (groups, observations)."""
    if not _is_int(value) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def finite_number(name: str, value: object) -> float:
    """Any finite real number (a mean, an effect)."""
    if not _is_real(value) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def non_negative(name: str, value: object) -> float:
    """A finite number >= 0 (a standard deviation, a rate)."""
    if not _is_real(value) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a non-negative finite number, got {value!r}")
    return float(value)


def positive_number(name: str, value: object) -> float:
    """A finite number > 0 (a scale, a prior SD)."""
    if not _is_real(value) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return float(value)


def number_between(name: str, value: object, low: float, high: float) -> float:
    """A finite number in the closed interval [low, high]."""
    if not _is_real(value) or not math.isfinite(value) or not low <= value <= high:
        raise ValueError(f"{name} must be a number in [{low:g}, {high:g}], got {value!r}")
    return float(value)


def correlation(name: str, value: object) -> float:
    """A correlation coefficient in [-1, 1]."""
    return number_between(name, value, -1.0, 1.0)


def whole_range(name: str, value: object, *, minimum: int = 0) -> tuple[int, int]:
    """An inclusive range ``(low, high)`` of whole numbers with ``minimum <= low <= high``."""
    allowed = (
        f"{name} must be a pair of whole numbers (low, high) with {minimum} <= low <= high, "
        f"got {value!r}"
    )
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 2:
        raise ValueError(allowed)
    low, high = value
    if not (_is_int(low) and _is_int(high)) or not minimum <= low <= high:
        raise ValueError(allowed)
    return int(low), int(high)


def group_sizes(
    name: str, value: object, n_groups: int, rng: np.random.Generator, *, noun: str = "group"
) -> np.ndarray:
    """Resolve a size specification into one size per group (int64 array).

    ``value`` is an int (every group that size), a tuple ``(low, high)`` (each group's size
    drawn uniformly from the inclusive range) or any other sequence of ``n_groups`` sizes.
    A 2-tuple is always read as a range; pass a list for two explicit sizes.
    """
    allowed = (
        f"{name} must be a positive integer (balanced), a tuple (low, high) of positive "
        f"integers with low <= high (sizes drawn per {noun}), or a list of {n_groups} "
        f"positive integers (one size per {noun}), got {value!r}"
    )
    if _is_int(value):
        if value < 1:
            raise ValueError(allowed)
        return np.full(n_groups, int(value), dtype=np.int64)
    if isinstance(value, tuple) and len(value) == 2:
        low, high = value
        if not (_is_int(low) and _is_int(high)) or not 1 <= low <= high:
            raise ValueError(allowed)
        return rng.integers(int(low), int(high), endpoint=True, size=n_groups, dtype=np.int64)
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
        raise ValueError(allowed)
    sizes = list(value)
    if len(sizes) != n_groups:
        raise ValueError(
            f"{name} gives {len(sizes)} sizes but there are {n_groups} {noun}s; "
            f"a list of sizes must have exactly one positive integer per {noun}, got {value!r}"
        )
    if not all(_is_int(s) and s >= 1 for s in sizes):
        raise ValueError(allowed)
    return np.asarray(sizes, dtype=np.int64)
