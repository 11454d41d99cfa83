"""Side-by-side tables of fitted parameters, for comparing models with each other or with a book.

A lesson that sets several fits against published numbers needs each fit's headline numbers as
one column; :func:`parameter_table` gives exactly that, named in the words of the data
("county SD" for a fit grouped by county).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from multilevel.models import FitResult

__all__ = ["parameter_summary", "parameter_table"]


def parameter_summary(result: FitResult) -> pd.Series:
    """The headline numbers of one fit as a Series.

    Parameters
    ----------
    result
        A fit from :func:`multilevel.fit`.

    Returns
    -------
    pandas.Series
        ``intercept`` and ``slope`` (fixed effects; no slope for a fit without a predictor),
        ``"<group> SD"`` (the SD of the varying intercepts), ``"slope SD"``, ``correlation``
        where the model estimates them, and ``residual SD``. Units are those of the data.

    Examples
    --------
    >>> import multilevel as ml
    >>> from simdata import faculty_salaries
    >>> fit = ml.fit(faculty_salaries(seed=1), model="varying_intercepts")
    >>> parameter_summary(fit).index.tolist()
    ['intercept', 'slope', 'department SD', 'residual SD']
    """
    values: dict[str, float] = {}
    for name in ("intercept", "slope"):
        if name in result.fixed_effects.index:
            values[name] = float(result.fixed_effects.at[name, "estimate"])
    if "intercept" in result.group_sd.index:
        values[f"{result.group} SD"] = float(result.group_sd["intercept"])
    if "slope" in result.group_sd.index:
        values["slope SD"] = float(result.group_sd["slope"])
    if result.correlation is not None and np.isfinite(result.correlation):
        values["correlation"] = float(result.correlation)
    values["residual SD"] = float(result.residual_sd)
    return pd.Series(values, name=result.model, dtype=float)


def parameter_table(fits: Mapping[str, FitResult]) -> pd.DataFrame:
    """Stack the headline numbers of several fits into one long table.

    Parameters
    ----------
    fits
        Fits keyed by the name to show for each, in the order given.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``(model, quantity)`` with one column ``estimate``; join it with published
        numbers indexed the same way to compare.

    Examples
    --------
    >>> import multilevel as ml
    >>> from simdata import faculty_salaries
    >>> sim = faculty_salaries(seed=1)
    >>> table = parameter_table({"pooled": ml.fit(sim, model="complete_pooling"),
    ...                          "multilevel": ml.fit(sim, model="varying_intercepts")})
    >>> table.loc["pooled"].index.tolist()
    ['intercept', 'slope', 'residual SD']
    """
    if not fits:
        raise ValueError("fits must name at least one fit, got an empty mapping")
    pieces = {name: parameter_summary(result) for name, result in fits.items()}
    table = pd.concat(pieces, names=["model", "quantity"]).to_frame("estimate")
    return table
