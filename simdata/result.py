"""The return type of every simulator: the data and the truth that produced it, together."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType

import pandas as pd

__all__ = ["SimulatedData", "is_simulated_data"]


# eq=False: comparing DataFrames with == gives a frame, not a bool; identity is the honest equality.
@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class SimulatedData:
    """Simulated nested data together with the truth that generated it.

    A frozen dataclass rather than ``DataFrame.attrs``: pandas drops ``attrs`` on many
    ordinary operations, and the truth must not get lost.

    Attributes
    ----------
    data : pandas.DataFrame
        Tidy data, one row per observation: the group column (categorical), the predictor
        ``x`` and the outcome ``y``, plus any extra predictors.
    truth : pandas.DataFrame
        One row per group, indexed by group (index name = ``group``): ``n`` (int64, rows in
        the group) and the group's true ``intercept`` and, where it has one, ``slope``.
    population : Mapping
        Read-only mapping of the population parameters used (means, SDs, correlation,
        noise SD, design settings).
    y, x, group : str
        Column names of the outcome, the predictor and the grouping variable in ``data``.
    name : str
        The simulator that made the data, e.g. ``"faculty_salaries"``.

    Examples
    --------
    >>> from simdata import faculty_salaries
    >>> sim = faculty_salaries(seed=1)
    >>> sim.y, sim.x, sim.group
    ('salary', 'experience', 'department')
    >>> sim.truth.columns.tolist()
    ['n', 'intercept', 'slope']
    """

    data: pd.DataFrame
    truth: pd.DataFrame
    population: Mapping[str, object]
    y: str
    x: str
    group: str
    name: str = ""

    def __post_init__(self) -> None:
        # A frozen dataclass still holds a mutable dict unless we wrap it.
        if not isinstance(self.population, MappingProxyType):
            object.__setattr__(self, "population", MappingProxyType(dict(self.population)))
        missing = [c for c in (self.y, self.x, self.group) if c not in self.data.columns]
        if missing:
            raise ValueError(
                f"y, x and group must be columns of data; missing {missing}, "
                f"data has {list(self.data.columns)}"
            )

    @property
    def n_groups(self) -> int:
        """Number of groups (rows of ``truth``)."""
        return len(self.truth)

    @property
    def n_obs(self) -> int:
        """Number of observations (rows of ``data``)."""
        return len(self.data)

    def __repr__(self) -> str:
        label = f"{self.name}: " if self.name else ""
        return (
            f"SimulatedData({label}{self.n_obs:,} rows in {self.n_groups:,} {self.group} groups; "
            f"y={self.y!r}, x={self.x!r}, group={self.group!r}; "
            f"attributes .data, .truth, .population)"
        )

    def describe(self) -> str:
        """A short plain-English summary for students: the design and the true parameters."""
        sizes = self.truth["n"]
        if sizes.min() == sizes.max():
            size_text = f"{int(sizes.min())} each"
        else:
            size_text = f"{int(sizes.min())} to {int(sizes.max())} each"
        lines = [
            f"{self.name or 'Simulated data'}: {self.n_obs:,} rows in {self.n_groups:,} "
            f"{self.group} groups ({size_text}).",
            f"Outcome y = {self.y!r}, predictor x = {self.x!r}, group = {self.group!r}.",
            "Population parameters used:",
        ]
        width = max((len(k) for k in self.population), default=0)
        for key, value in self.population.items():
            shown = f"{value:,.6g}" if isinstance(value, float) else str(value)
            lines.append(f"  {key:<{width}}  {shown}")
        lines.append("True group-level values (first rows of .truth):")
        lines.append(self.truth.head().to_string())
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.describe()


def is_simulated_data(obj: object) -> bool:
    """True for a :class:`SimulatedData`, or anything shaped like one.

    A structural test rather than ``isinstance``: a notebook that reloads ``simdata`` makes
    objects of an older class, which still carry their data, truth and column names.

    Examples
    --------
    >>> from simdata import faculty_salaries
    >>> is_simulated_data(faculty_salaries(seed=1)), is_simulated_data(faculty_salaries(seed=1).data)
    (True, False)
    """
    return (
        isinstance(getattr(obj, "data", None), pd.DataFrame)
        and hasattr(obj, "truth")
        and all(isinstance(getattr(obj, name, None), str) for name in ("y", "x", "group"))
    )
