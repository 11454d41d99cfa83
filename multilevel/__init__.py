"""The teaching toolkit for the multilevel-models course: models, plots, widgets and checks.

``import multilevel as ml`` gives the model layer at once (``ml.fit``); the other parts load on
first use (``ml.plots``, ``ml.style``, ``ml.widgets``, ``ml.quiz``, ``ml.checks``, ``ml.datasets``),
so that the grader and the engine do not pay for matplotlib and ipywidgets they never use.
``ml.specs`` is the table of the models and ``ml.units`` the units of the columns; the old names
``ml.engine`` and ``ml.logistic`` point to ``ml.models.engine`` and ``ml.models.logistic``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from multilevel.models import (
    MODELS,
    FitResult,
    LikelihoodRatioTest,
    ModelError,
    fit,
    likelihood_ratio_test,
)

_SUBMODULES = (
    "checking",
    "checks",
    "datasets",
    "engine",
    "grade",
    "logistic",
    "plots",
    "pooling",
    "quiz",
    "specs",
    "style",
    "tables",
    "units",
    "widgets",
)

__all__ = [
    "MODELS",
    "FitResult",
    "LikelihoodRatioTest",
    "ModelError",
    "fit",
    "likelihood_ratio_test",
    *_SUBMODULES,
]


def __getattr__(name: str) -> ModuleType:
    if name in _SUBMODULES:
        return importlib.import_module(f"multilevel.{name}")
    raise AttributeError(f"module 'multilevel' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_SUBMODULES))
