"""The same model fitted by statsmodels: the call students learn to type, behind ``result.statsmodels``.

The formulas come from the models' table (:data:`multilevel.specs.MODELS`); the fit starts at the
exact engine's answer, so both agree.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from multilevel import specs

from .result import FitResult

__all__ = ["NO_POOLING_FORMULAS", "fit_statsmodels"]

#: The least-squares formula of each no-pooling fit, by ``varying``.
NO_POOLING_FORMULAS = {
    "intercepts": "{y} ~ 0 + C({group}) + {x}",
    "slopes": "{y} ~ 1 + C({group}):{x}",
    "both": "{y} ~ 0 + C({group}) + C({group}):{x}",
}


def fit_statsmodels(result: FitResult) -> Any:
    """Fit ``result``'s model with ``smf.ols`` or ``smf.mixedlm``, started at its estimates.

    Parameters
    ----------
    result : FitResult
        A fit from :func:`multilevel.fit` (with its ``arrays``).

    Returns
    -------
    statsmodels results
        ``RegressionResults`` for the pooling models, ``MixedLMResults`` for the mixed ones.
    """
    import statsmodels.formula.api as smf
    from statsmodels.regression.mixed_linear_model import MixedLMParams

    arrays = result.arrays
    y, x, group = result.y, result.x, result.group
    columns = {y: arrays.y, group: arrays.rows[group].to_numpy()}
    if x is not None:
        columns[x] = arrays.x  # already centred when center != 0
    frame = pd.DataFrame(columns)
    rhs = "1" if x is None else x
    spec = specs.MODELS[result.model]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if spec.pooling == "complete":
            return smf.ols(f"{y} ~ {rhs}", frame).fit()
        if spec.pooling == "no":
            if x is None:
                return smf.ols(f"{y} ~ 0 + C({group})", frame).fit()
            formula = NO_POOLING_FORMULAS[arrays.varying].format(y=y, x=x, group=group)
            return smf.ols(formula, frame).fit()
        engine_fit = arrays.engine_fit
        rel = engine_fit.rel_cov + 1e-9 * np.eye(len(engine_fit.parts))
        kwargs: dict[str, Any] = {"groups": group, "re_formula": spec.re_formula.format(x=x)}
        if spec.vc_formula is not None:
            kwargs["vc_formula"] = {x: spec.vc_formula.format(x=x)}
            start = MixedLMParams.from_components(
                engine_fit.beta, cov_re=rel[:1, :1], vcomp=np.array([rel[1, 1]])
            )
        else:
            start = MixedLMParams.from_components(engine_fit.beta, cov_re=rel)
        md = smf.mixedlm(f"{y} ~ {rhs}", frame, **kwargs)
        return md.fit(reml=result.reml, start_params=start, method=["lbfgs"])
