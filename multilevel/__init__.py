"""The teaching toolkit for the multilevel-models course: models, plots, widgets and checks."""

from multilevel.models import (
    MODELS,
    FitResult,
    LikelihoodRatioTest,
    ModelError,
    fit,
    likelihood_ratio_test,
)

from . import checks as checks

__all__ = [
    "MODELS",
    "FitResult",
    "LikelihoodRatioTest",
    "ModelError",
    "fit",
    "likelihood_ratio_test",
]
