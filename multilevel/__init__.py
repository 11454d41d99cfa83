"""The teaching toolkit for the multilevel-models course: models, plots, widgets and checks."""

from . import checks as checks
