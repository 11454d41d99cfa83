"""Pieces shared by the simulators: readable group names and correlated group effects."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def group_names(n: int, readable: Sequence[str], fallback: str) -> list[str]:
    """``n`` readable names; past the end of ``readable``, ``"{fallback} {i}"`` (1-based)."""
    names = list(readable[:n])
    names += [f"{fallback} {i}" for i in range(len(names) + 1, n + 1)]
    return names


def varying_lines(
    rng: np.random.Generator,
    n: int,
    *,
    intercept_mean: float,
    intercept_sd: float,
    slope_mean: float,
    slope_sd: float,
    correlation: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n`` (intercept, slope) pairs from a bivariate normal.

    Built from two independent standard normals so that an SD of 0 gives exactly the mean
    (no round-off from a Cholesky factor) and a correlation of +-1 needs no special case.
    """
    z_intercept = rng.standard_normal(n)
    z_other = rng.standard_normal(n)
    z_slope = correlation * z_intercept + np.sqrt(1.0 - correlation**2) * z_other
    intercepts = intercept_mean + intercept_sd * z_intercept
    slopes = slope_mean + slope_sd * z_slope
    if intercept_sd == 0:
        intercepts = np.full(n, intercept_mean)
    if slope_sd == 0:
        slopes = np.full(n, slope_mean)
    return intercepts, slopes


def group_column(names: list[str], sizes: np.ndarray) -> tuple[pd.Categorical, np.ndarray]:
    """The group column (categorical, categories in ``names`` order) and the integer codes."""
    codes = np.repeat(np.arange(len(names)), sizes)
    return pd.Categorical.from_codes(codes, categories=names), codes


def truth_frame(
    group: str, names: list[str], sizes: np.ndarray, **columns: np.ndarray
) -> pd.DataFrame:
    """One row per group, indexed by group name (index name = ``group``)."""
    frame = pd.DataFrame(
        {
            "n": sizes.astype(np.int64),
            **{k: np.asarray(v, dtype=np.float64) for k, v in columns.items()},
        },
        index=pd.Index(names, name=group),
    )
    return frame


def linear_nested(
    rng: np.random.Generator,
    *,
    names: list[str],
    sizes: np.ndarray,
    group: str,
    x: str,
    y: str,
    intercept_mean: float,
    intercept_sd: float,
    slope_mean: float,
    slope_sd: float,
    correlation: float,
    noise_sd: float,
    x_range: tuple[int, int],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Data and truth for ``y = intercept_j + slope_j * x + Normal(0, noise_sd)``.

    ``x`` is whole numbers drawn uniformly from the inclusive ``x_range``. Inputs are assumed
    validated by the caller. Vectorised: one draw per column, no loop over groups.
    """
    intercepts, slopes = varying_lines(
        rng,
        len(names),
        intercept_mean=intercept_mean,
        intercept_sd=intercept_sd,
        slope_mean=slope_mean,
        slope_sd=slope_sd,
        correlation=correlation,
    )
    group_values, codes = group_column(names, sizes)
    n_rows = len(codes)
    low, high = x_range
    x_values = rng.integers(low, high, endpoint=True, size=n_rows, dtype=np.int64)
    y_values = intercepts[codes] + slopes[codes] * x_values + noise_sd * rng.standard_normal(n_rows)
    data = pd.DataFrame({group: group_values, x: x_values, y: y_values})
    truth = truth_frame(group, names, sizes, intercept=intercepts, slope=slopes)
    return data, truth


def sizes_as_given(spec: object) -> int | tuple[int, ...]:
    """A validated size specification as the caller gave it, made immutable for ``population``."""
    if isinstance(spec, (int, np.integer)):
        return int(spec)
    return tuple(int(s) for s in spec)  # type: ignore[union-attr]
