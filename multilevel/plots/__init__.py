"""The course's figures: fitted lines by group, the four models, pooling, shrinkage and truth.

Every function works like a seaborn function. The first argument is what is drawn: a data set
(a DataFrame with column names, or a ``simdata.SimulatedData`` that knows its own), a
``FitResult``, or a table of errors; the second, where there is one, is the data that fit came
from (``fitted_lines_plot(fit, data)``, ``truth_plot(fit, sim)``). Everything else is
keyword-only; ``ax=None`` draws on the given axes (or the current one); any other keyword goes
on to the matplotlib call that draws the groups (``alpha=0.5``); and the function returns what
it drew: the :class:`~matplotlib.axes.Axes`, or the :class:`~matplotlib.figure.Figure` for
multi-panel figures. Axis labels come from the column names with their units ("Salary ($)",
"Experience (years)", from :mod:`multilevel.units`), colours from the Okabe-Ito palette in
:mod:`multilevel.style`, model titles and formulas from :mod:`multilevel.specs`.

Lines are drawn from a fit's ``group_lines`` (see ``multilevel.fit``), so any model can be
shown; functions that compare models fit them for you from ``data`` unless you pass fits in.

The functions live in five families; each lesson figure is one call to one of them:

- :mod:`.lines`: :func:`fitted_lines_plot`, :func:`four_models_plot` (and the lower-level
  :func:`draw_fitted_lines` / :func:`update_fitted_lines`);
- :mod:`.pooling`: :func:`pooling_plot`, :func:`pooling_grid`, :func:`shrinkage_plot`;
- :mod:`.estimates`: :func:`truth_plot`, :func:`caterpillar_plot`, :func:`pooling_error_plot`;
- :mod:`.checking`: :func:`residual_plot`, :func:`qq_plot`, :func:`replicates_plot`,
  :func:`replicate_statistic_plot` (checking a model, lesson 9);
- :mod:`.predictors`: :func:`group_predictor_plot`, :func:`within_between_plot` (group-level
  predictors and within- against between-group effects, for fits from a formula, lesson 7).

Examples
--------
>>> import matplotlib.pyplot as plt, simdata
>>> from multilevel import plots
>>> sim = simdata.faculty_salaries(seed=1)
>>> fig = plots.four_models_plot(sim)                     # the 2x2 graph
>>> ax = plots.shrinkage_plot(sim, parameter="intercept")  # no pooling -> partial pooling
>>> plt.close("all")
"""

from __future__ import annotations

from ._common import MODEL_TITLES
from .checking import qq_plot, replicate_statistic_plot, replicates_plot, residual_plot
from .estimates import caterpillar_plot, pooling_error_plot, truth_plot
from .lines import (
    FOUR_MODELS,
    FittedLines,
    draw_fitted_lines,
    fitted_lines_plot,
    four_models_plot,
    update_fitted_lines,
)
from .pooling import pooling_grid, pooling_plot, shrinkage_plot
from .predictors import group_predictor_plot, within_between_plot

__all__ = [
    "MODEL_TITLES",
    "FOUR_MODELS",
    "FittedLines",
    "draw_fitted_lines",
    "update_fitted_lines",
    "fitted_lines_plot",
    "four_models_plot",
    "pooling_plot",
    "pooling_grid",
    "shrinkage_plot",
    "truth_plot",
    "caterpillar_plot",
    "pooling_error_plot",
    "residual_plot",
    "qq_plot",
    "replicates_plot",
    "replicate_statistic_plot",
    "group_predictor_plot",
    "within_between_plot",
]
