"""Nested data with known truth for the multilevel-models course.

Three simulators, one return type. Each returns a :class:`SimulatedData` holding the tidy
``data``, the per-group ``truth`` and the ``population`` parameters used, so a lesson can
compare any estimate with the truth that produced the data.

- :func:`faculty_salaries`: faculty in departments; salary ($) against experience (years).
- :func:`school_admissions`: students in high schools; admitted (0/1) from GPA and volunteering.
- :func:`hospital_patients`: patients in hospitals; recovery time (days) against severity.

:func:`faculty_arrays` gives the numbers of :func:`faculty_salaries` as plain numpy arrays,
without pandas, for code that draws many samples fast (or in a background thread).

>>> from simdata import faculty_salaries
>>> sim = faculty_salaries(seed=2024)
>>> sim.data.columns.tolist()
['department', 'experience', 'salary']
"""

from . import validate
from ._random import Seed, as_generator
from .faculty import DEPARTMENTS, FacultyArrays, faculty_arrays, faculty_salaries
from .hospitals import HOSPITALS, hospital_patients
from .result import SimulatedData, is_simulated_data
from .schools import SCHOOLS, school_admissions

__all__ = [
    "DEPARTMENTS",
    "FacultyArrays",
    "HOSPITALS",
    "SCHOOLS",
    "Seed",
    "SimulatedData",
    "as_generator",
    "faculty_arrays",
    "faculty_salaries",
    "hospital_patients",
    "is_simulated_data",
    "school_admissions",
    "validate",
]
