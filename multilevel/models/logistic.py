"""Logistic regression with varying intercepts: a yes/no outcome of individuals nested in groups.

The model, for student ``i`` in school ``j[i]`` (lme4: ``admitted ~ gpa + volunteer + (1 | school)``)::

    log-odds(y_i = 1) = alpha_j[i] + beta_1 x_1i + ... ,    alpha_j ~ Normal(mu_alpha, sigma_alpha^2)

statsmodels has no maximum-likelihood fit of this model (nothing like lme4's ``glmer``). It has
``BinomialBayesMixedGLM``, a Bayesian model fitted approximately: by variational Bayes
(``fit_vb``) or at the joint posterior mode of the fixed effects, the group deviations and the
group SD (``fit_map``). :func:`fit_logistic` uses ``fit_vb`` with a nearly flat prior on the
fixed effects, so its estimates come close to ``glmer``'s (see ``tests/test_logistic.py``), and
reports standard errors from the curvature of the likelihood with the group SD held at its
estimate (as lme4 does for a fixed SD; ``glmer`` by default also lets the SD vary), because the
posterior SDs that variational Bayes reports for the fixed effects are far too small. It does not offer
``fit_map``: depending on its random start, the joint mode can collapse to a group SD of
practically 0 (a known pathology of joint modes in hierarchical models).

Examples
--------
>>> from simdata import school_admissions
>>> from multilevel.models.logistic import fit_logistic
>>> sim = school_admissions(n_schools=10, seed=1)
>>> fit = fit_logistic(sim.data, y="admitted", x=["gpa", "volunteer"], group="school", seed=1)
>>> fit.fixed_effects.index.tolist()
['intercept', 'gpa', 'volunteer']
"""

from __future__ import annotations

import dataclasses
import re
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit
from statsmodels.genmod.bayes_mixed_glm import BinomialBayesMixedGLM

from simdata import as_generator, is_simulated_data, validate

from .result import Z95

__all__ = ["LogisticFit", "fit_logistic"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class LogisticFit:
    """A logistic regression with varying intercepts, fitted by :func:`fit_logistic`.

    Attributes
    ----------
    y : str
        The 0/1 outcome column.
    x : tuple of str
        The predictor columns (the same effect in every group: constant slopes).
    group : str
        The grouping column.
    n_obs, n_groups : int
    fixed_effects : pandas.DataFrame
        Index ``["intercept", *x]``. Columns ``estimate, std_error, ci_lower, ci_upper`` on the
        log-odds scale (95% Wald interval, standard errors as lme4 computes them: from the
        curvature of the likelihood at the estimates, given the group SD) and ``odds_ratio,
        odds_ratio_lower, odds_ratio_upper`` (the same, exponentiated). The intercept's "odds
        ratio" is the odds at all predictors 0 in an average group.
    group_sd : float
        SD of the group intercepts on the log-odds scale (sigma_alpha).
    group_intercepts : pandas.DataFrame
        Index: the groups (name = ``group``). Columns ``n`` (observations), ``intercept`` (the
        group's intercept, log-odds: fixed intercept + deviation), ``deviation`` (the random
        effect) and ``deviation_se`` (its posterior SD, like lme4's conditional SD).
    notes : tuple of str
        Plain-English remarks about the fit (approximations, convergence).
    statsmodels : statsmodels BayesMixedGLMResults
        The fitted statsmodels result (``print(fit.statsmodels.summary())``).
    """

    y: str
    x: tuple[str, ...]
    group: str
    n_obs: int
    n_groups: int
    fixed_effects: pd.DataFrame
    group_sd: float
    group_intercepts: pd.DataFrame
    notes: tuple[str, ...]
    statsmodels: Any = dataclasses.field(repr=False)

    def predict(self, data: pd.DataFrame) -> np.ndarray:
        """Predicted probability that ``y`` is 1, for each row of ``data``.

        Rows whose group was in the fit use that group's intercept; rows of a new group (or
        without a group column) use the average intercept, the best guess for an unseen group.

        Parameters
        ----------
        data : pandas.DataFrame
            Must hold the predictor columns ``x``; the group column is optional.

        Returns
        -------
        ndarray
            Probabilities between 0 and 1, one per row.

        Examples
        --------
        >>> import pandas as pd
        >>> from simdata import school_admissions
        >>> from multilevel.models.logistic import fit_logistic
        >>> fit = fit_logistic(school_admissions(n_schools=10, seed=1), seed=1)
        >>> fit.predict(pd.DataFrame({"gpa": [3.5], "volunteer": [2]})).shape
        (1,)
        """
        if not isinstance(data, pd.DataFrame):
            raise ValueError(f"data must be a pandas DataFrame, got {type(data).__name__}")
        missing = [c for c in self.x if c not in data.columns]
        if missing:
            raise ValueError(
                f"data lacks the predictor column(s) {missing}; it has {list(data.columns)}"
            )
        est = self.fixed_effects["estimate"]
        intercept = np.full(len(data), float(est["intercept"]))
        if self.group in data.columns:
            known = data[self.group].map(self.group_intercepts["intercept"].to_dict())
            known = pd.to_numeric(known.astype(object), errors="coerce").to_numpy(dtype=float)
            intercept = np.where(np.isnan(known), intercept, known)
        slopes = est[list(self.x)].to_numpy(dtype=float)
        eta = intercept + data[list(self.x)].to_numpy(dtype=float) @ slopes
        return expit(eta)


def _columns(data: pd.DataFrame, y: Any, x: Any, group: Any) -> tuple[str, tuple[str, ...], str]:
    names = {"y": y, "group": group}
    for role, name in names.items():
        if not isinstance(name, str) or name not in data.columns:
            raise ValueError(
                f"{role} must name a column of data {list(data.columns)}, got {name!r}"
            )
    xs = (x,) if isinstance(x, str) else tuple(x) if isinstance(x, Sequence) else None
    if not xs or any(not isinstance(c, str) or c not in data.columns for c in xs):
        raise ValueError(
            f"x must be a column name or a non-empty list of column names of data "
            f"{list(data.columns)}, got {x!r}"
        )
    for name in (y, *xs, group):
        if not _NAME.match(name):
            raise ValueError(
                f"column {name!r} must be a plain name (letters, digits, underscores) to be used "
                "in a statsmodels formula; rename it first"
            )
    if len({y, *xs, group}) != len(xs) + 2:
        raise ValueError(
            f"y, x and group must be different columns, got y={y!r}, x={x!r}, group={group!r}"
        )
    return y, xs, group


def _clean(
    data: pd.DataFrame, y: str, xs: tuple[str, ...], group: str
) -> tuple[pd.DataFrame, list[str]]:
    notes = []
    frame = data[[y, *xs, group]]
    numeric = {}
    for name in (y, *xs):
        try:
            numeric[name] = pd.to_numeric(frame[name]).to_numpy(dtype=float, na_value=np.nan)
        except (TypeError, ValueError) as err:
            raise ValueError(
                f"column {name!r} must be numeric, got dtype {frame[name].dtype}"
            ) from err
    bad = frame[group].isna().to_numpy() | np.any(
        [~np.isfinite(v) for v in numeric.values()], axis=0
    )
    if bad.all():
        raise ValueError(
            f"every row has a missing value in {y!r}, {list(xs)} or {group!r}; nothing to fit"
        )
    if bad.any():
        notes.append(
            f"{int(bad.sum())} of {len(frame)} rows had a missing value and were left out."
        )
    clean = pd.DataFrame({name: values[~bad] for name, values in numeric.items()})
    groups = frame[group].loc[~bad]
    if isinstance(groups.dtype, pd.CategoricalDtype):
        groups = groups.cat.remove_unused_categories()
    else:
        groups = pd.Categorical(groups.astype(str), categories=sorted(groups.astype(str).unique()))
    clean[group] = pd.Categorical(groups)
    outcome = clean[y].to_numpy()
    if not np.isin(outcome, (0.0, 1.0)).all():
        raise ValueError(
            f"y={y!r} must hold only 0 and 1, got values such as {sorted(set(outcome))[:5]}"
        )
    if outcome.min() == outcome.max():
        raise ValueError(f"y={y!r} is {int(outcome[0])} in every row; there is nothing to model")
    for name in xs:
        if np.ptp(clean[name].to_numpy()) == 0:
            raise ValueError(
                f"x column {name!r} has the same value in every row; choose a predictor that varies"
            )
    if len(clean[group].cat.categories) < 2:
        raise ValueError(
            f"group={group!r} has only one group; varying intercepts need at least two"
        )
    return clean, notes


def _lme4_standard_errors(
    model: BinomialBayesMixedGLM, beta: np.ndarray, u: np.ndarray, sd: float
) -> np.ndarray:
    """Standard errors of the fixed effects as lme4 reports them for a GLMM, given the group SD.

    The inverse of the curvature of the joint log density of the fixed effects and the group
    deviations, at the estimates, keeping the fixed-effects block.
    """
    x = np.asarray(model.exog, dtype=float)
    z = model.exog_vc.toarray() if hasattr(model.exog_vc, "toarray") else np.asarray(model.exog_vc)
    p = expit(x @ beta + z @ u)
    w = p * (1 - p)
    design = np.hstack([x, z])
    info = design.T @ (design * w[:, None])
    k = x.shape[1]
    info[k:, k:] += np.eye(z.shape[1]) / max(sd, 1e-8) ** 2
    return np.sqrt(np.diag(np.linalg.inv(info))[:k])


def _unpack(data: Any, y: Any, x: Any, group: Any) -> tuple[pd.DataFrame, Any, Any, Any]:
    """The DataFrame and column names, defaulting to a SimulatedData's own."""
    if is_simulated_data(data):
        sim = data
        data = sim.data
        y = sim.y if y is None else y
        group = sim.group if group is None else group
        if x is None:
            x = [
                c
                for c in data.columns
                if c not in (y, group) and pd.api.types.is_numeric_dtype(data[c])
            ]
    if not isinstance(data, pd.DataFrame):
        raise ValueError(
            f"data must be a pandas DataFrame or a SimulatedData, got {type(data).__name__}"
        )
    return data, y, x, group


def _fixed_effects(beta: np.ndarray, se: np.ndarray, xs: tuple[str, ...]) -> pd.DataFrame:
    """Fixed effects with 95% intervals, on the log-odds scale and as odds ratios."""
    fixed = pd.DataFrame(
        {
            "estimate": beta,
            "std_error": se,
            "ci_lower": beta - Z95 * se,
            "ci_upper": beta + Z95 * se,
        },
        index=pd.Index(["intercept", *xs], name="term"),
    )
    for col in ("estimate", "ci_lower", "ci_upper"):
        name = "odds_ratio" if col == "estimate" else f"odds_ratio_{col.split('_')[1]}"
        fixed[name] = np.exp(fixed[col])
    return fixed


def _group_intercepts(
    model: BinomialBayesMixedGLM,
    result: Any,
    clean: pd.DataFrame,
    group: str,
    beta: np.ndarray,
    u: np.ndarray,
) -> pd.DataFrame:
    """Each group's intercept and deviation, in the order of the group categories."""
    categories = clean[group].cat.categories
    by_label = {f"C({group})[{c}]": c for c in categories}
    order = [by_label[name] for name in model.vc_names]
    counts = clean[group].value_counts().reindex(order)
    groups = pd.CategoricalIndex(order, categories=list(categories), name=group)
    return pd.DataFrame(
        {
            "n": counts.to_numpy(dtype=np.int64),
            "intercept": beta[0] + u,
            "deviation": u,
            "deviation_se": np.asarray(result.vc_sd, dtype=float),
        },
        index=groups,
    ).sort_index()


def fit_logistic(
    data: Any,
    y: str | None = None,
    x: str | Sequence[str] | None = None,
    group: str | None = None,
    *,
    prior_sd: float = 100.0,
    seed: int | np.random.Generator | None = None,
) -> LogisticFit:
    """Fit a logistic regression with varying intercepts (``y ~ x + (1 | group)`` in lme4).

    Parameters
    ----------
    data : pandas.DataFrame or simdata.SimulatedData
        One row per individual. With a ``SimulatedData`` (e.g. from
        :func:`simdata.school_admissions`), ``y``, ``x`` and ``group`` default to its outcome,
        all its other numeric columns, and its group.
    y : str
        The outcome column, 0 or 1 (e.g. ``"admitted"``).
    x : str or list of str
        Predictor columns with the same effect in every group (e.g. ``["gpa", "volunteer"]``:
        GPA points, number of activities).
    group : str
        The grouping column (e.g. ``"school"``).
    prior_sd : float
        SD of the normal prior statsmodels puts on each fixed effect (log-odds). The default,
        100, makes it nearly flat, so the data decide; statsmodels' own default (2) pulls a
        large intercept such as -5 towards 0. The log of the group SD keeps statsmodels'
        prior, Normal(0, 1), weak on the log-odds scale (its middle 95% spans group SDs of
        about 0.14 to 7).
    seed : int, numpy.random.Generator or None
        statsmodels starts its optimiser from random values; the same int gives the same fit.

    Returns
    -------
    LogisticFit

    Raises
    ------
    ValueError
        For data that cannot be fitted or bad options; the message names the parameter.

    Examples
    --------
    >>> from simdata import school_admissions
    >>> fit = fit_logistic(school_admissions(n_schools=10, seed=1), seed=1)
    >>> fit.x
    ('gpa', 'volunteer')
    """
    prior_sd = validate.positive_number("prior_sd", prior_sd)
    rng = as_generator(seed)
    data, y, x, group = _unpack(data, y, x, group)
    y, xs, group = _columns(data, y, x, group)
    clean, notes = _clean(data, y, xs, group)

    formula = f"{y} ~ " + " + ".join(xs)
    model = BinomialBayesMixedGLM.from_formula(
        formula, {group: f"0 + C({group})"}, clean, vcp_p=1.0, fe_p=prior_sd
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = model.fit_vb(rng=rng)
    if caught:
        notes.append(
            "statsmodels' optimiser did not confirm that it converged "
            f"({len(caught)} warning(s)); treat the estimates with caution."
        )
    beta = np.asarray(result.fe_mean, dtype=float)
    sd = float(np.exp(result.vcp_mean[0]))
    u = np.asarray(result.vc_mean, dtype=float)
    fixed = _fixed_effects(beta, _lme4_standard_errors(model, beta, u, sd), xs)
    intercepts = _group_intercepts(model, result, clean, group, beta, u)
    categories = clean[group].cat.categories
    notes.append(
        "Fitted by variational Bayes, an approximation: estimates are close to lme4's glmer, "
        "but the posterior SDs statsmodels prints for the fixed effects are far too small; "
        "use std_error instead."
    )
    if sd < 1e-4:
        notes.append(
            f"The {group} SD is practically 0: the data show no clear variation between "
            f"{group}s beyond chance."
        )
    return LogisticFit(
        y=y,
        x=xs,
        group=group,
        n_obs=len(clean),
        n_groups=len(categories),
        fixed_effects=fixed,
        group_sd=sd,
        group_intercepts=intercepts,
        notes=tuple(notes),
        statsmodels=result,
    )
