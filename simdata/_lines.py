"""The model behind ``faculty_salaries`` and ``hospital_patients``: a straight line per group.

Group ``j`` has an intercept and a slope drawn together from a bivariate normal; observation
``i`` in group ``j[i]`` has a whole-number predictor ``x_i``, drawn uniformly from an inclusive
range, and ``y_i = intercept_j[i] + slope_j[i] * x_i + Normal(0, noise_sd)``. The two public
simulators differ only in names and units, which a :class:`LineModel` holds; the validation,
the draws and the result are written once, here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np
import pandas as pd

from . import validate as check
from ._common import group_names, sizes_as_given, truth_frame
from ._random import as_generator
from .result import SimulatedData


@dataclasses.dataclass(frozen=True)
class LineModel:
    """The names under which one public simulator shows the shared model.

    The other names follow from these: ``n_{group}s`` (number of groups), ``{x}_range``,
    ``{intercept}_mean`` and ``{intercept}_sd``, ``{slope}_mean`` and ``{slope}_sd``, and
    ``"{Group} 41"`` for groups past the end of ``readable``.
    """

    name: str  # the public function, e.g. "faculty_salaries"
    group: tuple[str, str, tuple[str, ...]]  # column, sizes parameter, readable names
    line: tuple[str, str, str, str]  # x column, y column, intercept and slope prefixes


@dataclasses.dataclass(frozen=True)
class Lines:
    """One sample as numpy arrays, with the validated parameters (no pandas)."""

    model: LineModel
    population: dict[str, object]
    sizes: np.ndarray  # rows per group (int64)
    intercepts: np.ndarray  # true intercept per group
    slopes: np.ndarray  # true slope per group
    codes: np.ndarray  # group of each row, 0-based (intp)
    x: np.ndarray  # int64
    y: np.ndarray  # float64

    def simulated_data(self) -> SimulatedData:
        """The sample as the tidy ``data`` and per-group ``truth`` of a :class:`SimulatedData`."""
        group, _, readable = self.model.group
        x, y, _, _ = self.model.line
        names = group_names(len(self.sizes), readable, group.capitalize())
        groups = pd.Categorical.from_codes(self.codes, categories=names)
        return SimulatedData(
            data=pd.DataFrame({group: groups, x: self.x, y: self.y}),
            truth=truth_frame(
                group, names, self.sizes, intercept=self.intercepts, slope=self.slopes
            ),
            population=self.population,
            y=y,
            x=x,
            group=group,
            name=self.model.name,
        )


def simulate_lines(model: LineModel, arguments: Mapping[str, object]) -> Lines:
    """Validate ``arguments`` (keyword arguments by ``model``'s names, ``seed`` included), then draw.

    Checks run in the order of the public signature, so the first bad parameter is the one
    named. Draws, in order: group sizes (for a range), the lines, ``x``, the noise; the draws
    are vectorised (one per column, no loop over groups).
    """
    group, sizes_name, _ = model.group
    x, _, intercept, slope = model.line
    n_name, range_name = f"n_{group}s", f"{x}_range"
    n_groups = check.positive_int(n_name, arguments[n_name])
    population: dict[str, object] = {}
    lines = []
    for prefix in (intercept, slope):
        mean = check.finite_number(f"{prefix}_mean", arguments[f"{prefix}_mean"])
        sd = check.non_negative(f"{prefix}_sd", arguments[f"{prefix}_sd"])
        population |= {f"{prefix}_mean": mean, f"{prefix}_sd": sd}
        lines.append((mean, sd))
    correlation = check.correlation("correlation", arguments["correlation"])
    noise_sd = check.non_negative("noise_sd", arguments["noise_sd"])
    x_range = check.whole_range(range_name, arguments[range_name], minimum=0)
    rng = as_generator(arguments["seed"])  # type: ignore[arg-type]
    sizes_spec = arguments[sizes_name]
    sizes = check.group_sizes(sizes_name, sizes_spec, n_groups, rng, noun=group)
    population |= {
        "correlation": correlation,
        "noise_sd": noise_sd,
        n_name: n_groups,
        sizes_name: sizes_as_given(sizes_spec),
        range_name: x_range,
    }

    (intercept_mean, intercept_sd), (slope_mean, slope_sd) = lines
    intercepts, slopes = varying_lines(
        rng,
        n_groups,
        intercept_mean=intercept_mean,
        intercept_sd=intercept_sd,
        slope_mean=slope_mean,
        slope_sd=slope_sd,
        correlation=correlation,
    )
    codes = np.repeat(np.arange(n_groups), sizes)
    low, high = x_range
    x_values = rng.integers(low, high, endpoint=True, size=codes.size, dtype=np.int64)
    noise = noise_sd * rng.standard_normal(codes.size)
    y_values = intercepts[codes] + slopes[codes] * x_values + noise
    return Lines(model, population, sizes, intercepts, slopes, codes, x_values, y_values)


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
