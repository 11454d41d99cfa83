"""Nested data with known truth for the multilevel-models course.

Every simulator returns a :class:`SimulatedData`: the tidy ``data``, the per-group ``truth``
and the ``population`` parameters used, so lessons can compare any estimate with the truth.

>>> from simdata import faculty_salaries
>>> sim = faculty_salaries(seed=2024)
>>> sim.data.columns.tolist()
['department', 'experience', 'salary']
"""

from ._random import as_generator
from .faculty import DEPARTMENTS, faculty_salaries
from .result import SimulatedData

__all__ = [
    "DEPARTMENTS",
    "SimulatedData",
    "as_generator",
    "faculty_salaries",
]
