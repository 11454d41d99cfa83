"""Fit the course's models with one call: pooling, varying intercepts, varying slopes, both.

``fit`` validates the data, fits with the exact engine (the same numbers as R's lme4) and
returns a :class:`FitResult` with tidy tables, a boundary flag and plain-English notes instead
of warnings. The matching statsmodels fit, the call students learn to type, is on
``result.statsmodels`` (computed on first access).

Where each part lives:

- :mod:`~multilevel.models.fit`: ``fit`` itself (checks, missing rows, group codes, notes);
- :mod:`~multilevel.models.result`: ``FitResult`` (``summary()``, ``predict()``), ``FitArrays``,
  ``ModelError``;
- :mod:`~multilevel.models.engine` and :mod:`~multilevel.models.likelihood`: the exact REML/ML
  fit of the mixed models from plain arrays (``engine.fit_arrays``, ``engine.boundary_parts``);
- :mod:`~multilevel.models.least_squares`: the no-pooling fit (``no_pooling_estimates``);
- :mod:`~multilevel.models.lrt`: ``likelihood_ratio_test``;
- :mod:`~multilevel.models.statsmodels_fit`: the statsmodels call behind ``result.statsmodels``;
- :mod:`~multilevel.models.logistic`: ``fit_logistic`` for a yes/no outcome (the course's
  quick variational fit);
- the formula form, ``fit("y ~ x1 * x2 + (1 + x1 | g)", data)``:
  :mod:`~multilevel.models.formula` (lme4 formula to design matrices, through formulaic),
  :mod:`~multilevel.models.lmm_engine` (exact profiled REML/ML for several fixed and varying
  columns), :mod:`~multilevel.models.lmm` (``FormulaFit``), :mod:`~multilevel.models.intervals`
  (``confint``: Wald, profile, bootstrap) and :mod:`~multilevel.models.glmm` (logistic model by
  adaptive Gauss-Hermite quadrature, as ``glmer``).

The models themselves (names, titles, formulas) are one table, :data:`multilevel.specs.MODELS`.

Examples
--------
>>> import multilevel as ml
>>> from simdata import faculty_salaries
>>> res = ml.fit(faculty_salaries(seed=1), model="varying_intercepts")
>>> res.fixed_effects.columns.tolist()
['estimate', 'std_error', 'ci_lower', 'ci_upper']
"""

from .fit import MODELS, fit
from .lrt import LikelihoodRatioTest, likelihood_ratio_test
from .result import FitArrays, FitResult, ModelError

__all__ = [
    "MODELS",
    "FitArrays",
    "FitResult",
    "LikelihoodRatioTest",
    "ModelError",
    "fit",
    "likelihood_ratio_test",
]
