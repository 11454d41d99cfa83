"""The simulation study behind the many-samples explorer: one sample's fit, many samples' summary.

:func:`fit_sample` fits one simulated sample with the exact engine behind
:func:`multilevel.fit` (numpy only, so a background thread may call it); :func:`summarise` turns
the rows of many samples into a :class:`RunSummary`; :func:`design_problem` and
:func:`why_unfittable` say in plain words why a design cannot be fitted.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

import multilevel as ml
import simdata

from .. import engine, specs

__all__ = [
    "BOUNDARY_FRACTION",
    "Z95",
    "RunSummary",
    "design_problem",
    "fit_sample",
    "summarise",
    "why_unfittable",
]

#: The normal quantile of a two-sided 95% interval.
Z95 = 1.959963984540054
#: A spread counts as "on the boundary" when it is below this fraction of the noise (for
#: slopes: of the noise per SD of experience), the same scale-free idea as ``multilevel.fit``.
BOUNDARY_FRACTION = 1e-3


@dataclass(frozen=True)
class RunSummary:
    """What one run of many samples found.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per quantity (``average base``, ``average raise``, ``spread of bases``, ...),
        columns ``truth, mean, bias, sd, coverage`` (coverage of the 95% interval, NaN where the
        model gives no interval).
    n_samples : int
        Samples fitted.
    boundary_share : float
        Share of fits whose estimated spread (of any varying part) is 0.
    stopped : bool
        True when the run was stopped before it finished.
    seconds : float
        Wall-clock time of the run.
    """

    table: pd.DataFrame
    n_samples: int
    boundary_share: float
    stopped: bool
    seconds: float


def fit_sample(
    x: np.ndarray,
    y: np.ndarray,
    codes: np.ndarray,
    *,
    kind: str,
    previous: engine.EngineFit | None = None,
    n_groups: int | None = None,
) -> tuple[dict[str, float], engine.EngineFit]:
    """Fit one sample with the exact REML engine behind :func:`multilevel.fit`.

    Parameters
    ----------
    x, y : ndarray
        Experience (years) and salary ($), one entry per faculty member.
    codes : ndarray of int
        Each faculty member's department, 0 to ``n_groups - 1``.
    kind : {"intercepts", "slopes", "both"}
        What varies between departments (see :data:`multilevel.specs.KINDS`).
    previous : EngineFit, optional
        The fit of the previous sample: its variance parameters start this fit.
    n_groups : int, optional
        Number of departments; default ``codes.max() + 1``.

    Returns
    -------
    row : dict
        ``intercept, intercept_se, slope, slope_se, sd_intercept, sd_slope, correlation,
        residual_sd, boundary, converged``: one row of :attr:`ManySamplesExplorer.estimates`.
    fit : EngineFit
        The engine's fit, to warm-start the next sample.

    Example
    -------
    >>> import simdata
    >>> from multilevel.widgets._fitting import arrays
    >>> x, y, codes, n = arrays(simdata.faculty_salaries(seed=9))
    >>> row, _ = fit_sample(x, y, codes, kind="intercepts", n_groups=n)
    >>> sorted(row)[:3]
    ['boundary', 'converged', 'correlation']
    """
    model = specs.MODELS[specs.model_for_kind(kind)]
    parts = model.varying_parts
    fit = engine.fit_arrays(
        x,
        y,
        codes,
        n_groups,
        random=model.random,
        start_rel_cov=None if previous is None else previous.rel_cov,
    )
    sd = dict(zip(fit.parts, np.sqrt(np.clip(np.diag(fit.re_cov), 0, None)), strict=True))
    se = np.sqrt(np.diag(fit.beta_cov))
    x_sd = float(x.std()) or 1.0
    boundary = any(
        sd[p] < BOUNDARY_FRACTION * fit.sigma / (x_sd if p == "slope" else 1.0) for p in parts
    )
    corr = np.nan
    if len(parts) == 2 and sd["intercept"] > 0 and sd["slope"] > 0:
        corr = float(fit.re_cov[0, 1] / (sd["intercept"] * sd["slope"]))
    row = {
        "intercept": float(fit.beta[0]),
        "intercept_se": float(se[0]),
        "slope": float(fit.beta[1]),
        "slope_se": float(se[1]),
        "sd_intercept": float(sd.get("intercept", np.nan)),
        "sd_slope": float(sd.get("slope", np.nan)),
        "correlation": corr,
        "residual_sd": float(fit.sigma),
        "boundary": bool(boundary),
        "converged": bool(fit.converged),
    }
    return row, fit


def design_problem(sim: simdata.SimulatedData, kind: str) -> str | None:
    """Why :func:`multilevel.fit` refuses this design, or None when it can be fitted."""
    try:
        ml.fit(sim, model=specs.model_for_kind(kind))
    except ValueError as reason:
        return str(reason)
    return None


def why_unfittable(
    settings: dict[str, Any], kind: str, state: dict[str, Any], exc: Exception
) -> str:
    """A plain-English reason why a sample cannot be fitted (``multilevel.fit``'s, if it has one).

    The sample is drawn again, with ``simdata``, from the generator ``state`` it was drawn
    from, in the kernel's thread.
    """
    rng = np.random.default_rng()
    rng.bit_generator.state = state
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            sim = simdata.faculty_salaries(**settings, seed=rng)
            ml.fit(sim, model=specs.model_for_kind(kind))
    except ValueError as reason:
        return str(reason)
    except Exception:  # noqa: BLE001 - any other failure: fall back to the engine's message
        pass
    return (
        "with these settings the model has nothing to estimate the spreads from "
        f"({type(exc).__name__}: {exc})."
    )


def summarise(
    est: pd.DataFrame, settings: dict[str, Any], kind: str, stopped: bool, seconds: float
) -> RunSummary:
    parts = specs.MODELS[specs.model_for_kind(kind)].varying_parts
    quantities = [
        ("average base salary", "intercept", settings["base_mean"], True),
        ("average raise per year", "slope", settings["raise_mean"], True),
    ]
    if "intercept" in parts:
        quantities.append(
            ("spread of base salaries (SD)", "sd_intercept", settings["base_sd"], False)
        )
    if "slope" in parts:
        quantities.append(("spread of raises (SD)", "sd_slope", settings["raise_sd"], False))
    if kind == "both":
        quantities.append(("correlation of base and raise", "correlation", 0.0, False))
    quantities.append(
        ("spread within a department (SD)", "residual_sd", settings["noise_sd"], False)
    )
    records = {}
    for name, column, truth, has_interval in quantities:
        values = est[column].to_numpy(float) if len(est) else np.empty(0)
        finite = values[np.isfinite(values)]
        mean = float(finite.mean()) if finite.size else np.nan
        coverage = np.nan
        if has_interval and len(est):
            se = est[f"{column}_se"].to_numpy(float)
            coverage = float(np.mean(np.abs(values - truth) <= Z95 * se))
        records[name] = {
            "truth": float(truth),
            "mean": mean,
            "bias": mean - float(truth),
            "sd": float(finite.std(ddof=1)) if finite.size > 1 else np.nan,
            "coverage": coverage,
        }
    table = pd.DataFrame.from_dict(records, orient="index")
    boundary_share = float(est["boundary"].mean()) if len(est) else 0.0
    return RunSummary(table, len(est), boundary_share, stopped, seconds)
