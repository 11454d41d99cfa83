"""The answer keys, one module per exercise, in an explicit registry (``SPECS``).

The grader mounts an empty folder over this one inside every sandbox: graded notebooks get
``ImportError`` here, so they can neither read nor patch a key.
"""

from __future__ import annotations

from ..feedback import ExerciseSpec
from . import lesson1, lesson2, lesson3, lesson4, lesson5, lesson6, lesson7, lesson8, lesson9

#: Exercise name -> its answer key.
SPECS: dict[str, ExerciseSpec] = {
    module.SPEC.name: module.SPEC
    for module in (lesson1, lesson2, lesson3, lesson4, lesson5, lesson6, lesson7, lesson8, lesson9)
}
