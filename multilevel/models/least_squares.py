"""No pooling: separate least-squares estimates per group, from per-group sums.

:func:`no_pooling_estimates` is the one implementation of the no-pooling fit: ``multilevel.fit``
builds its tables on it, and code that refits often (the explorers) calls it on plain arrays. It
never raises for thin data: a group whose line cannot be estimated (one observation, or one
value of ``x``) gets NaN, and so does everything when the data hold no information at all.

Examples
--------
>>> import numpy as np
>>> codes = np.array([0, 0, 0, 1, 1, 1])
>>> x = np.array([0.0, 1.0, 2.0, 0.0, 1.0, 2.0])
>>> y = np.array([1.0, 3.0, 5.0, 2.0, 3.0, 4.0])
>>> est = no_pooling_estimates(x, y, codes, 2, "both")
>>> est.intercept.tolist(), est.slope.tolist()
([1.0, 2.0], [2.0, 1.0])
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pandas as pd

from multilevel import specs

from .result import fixed_table

__all__ = ["NoPoolingEstimates", "no_pooling_estimates", "no_pooling_tables"]


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class NoPoolingEstimates:
    """Separate least-squares estimates per group (arrays of one entry per group).

    Attributes
    ----------
    intercept, slope : ndarray
        Each group's line (outcome units; the slope per unit of ``x``); NaN where it cannot be
        estimated. Without predictor: the group means and slope 0.
    estimable : ndarray of bool
        Groups whose separate parts could be estimated.
    rss : float
        Residual sum of squares (an inestimable group's observations count around its mean).
    dof : int
        Residual degrees of freedom.
    var_intercept, var_slope, cov : ndarray
        Sampling (co)variances of each group's intercept and slope, in units of the residual
        variance (multiply by ``rss / dof``).
    common : tuple or None
        ``(part, value, variance)`` of the part shared by all groups (``varying="intercepts"``
        shares the slope, ``"slopes"`` the intercept); None otherwise.
    n : ndarray
        Observations per group (float).
    """

    intercept: np.ndarray
    slope: np.ndarray
    estimable: np.ndarray
    rss: float
    dof: int
    var_intercept: np.ndarray
    var_slope: np.ndarray
    cov: np.ndarray
    common: tuple[str, float, float] | None
    n: np.ndarray


def _group_sums(
    x: np.ndarray | None, y: np.ndarray, codes: np.ndarray, g: int
) -> tuple[np.ndarray, ...]:
    n = np.bincount(codes, minlength=g).astype(float)
    if x is None:
        zeros = np.zeros(g)
        return n, zeros, zeros, np.bincount(codes, y, minlength=g), zeros, None
    return (
        n,
        np.bincount(codes, x, minlength=g),
        np.bincount(codes, x * x, minlength=g),
        np.bincount(codes, y, minlength=g),
        np.bincount(codes, x * y, minlength=g),
        x,
    )


def _ratio(numerator: float, denominator: float) -> float:
    # Only an exact zero is refused, so every other answer is the plain quotient.
    return numerator / denominator if denominator != 0 else math.nan


def _separate(
    x: np.ndarray | None, sums: tuple[np.ndarray, ...], g: int, varying: str
) -> dict[str, Any]:
    """Estimates and (unscaled) variances for one choice of ``varying``."""
    count, sx, sxx, sy, sxy, _ = sums
    n = np.where(count > 0, count, 1.0)  # an empty group divides by 1 and is marked NaN later
    nan = np.full(g, np.nan)
    if x is None:
        return {
            "intercept": sy / n,
            "slope": np.zeros(g),
            "ok": count > 0,
            "dof": int(count.sum()) - g,
            "var": (1.0 / n, nan, nan.copy()),
            "common": None,
        }
    if varying == "both":
        sxx_c = sxx - sx**2 / n
        ok = (sxx_c > 1e-12 * np.maximum(1.0, sxx)) & (count > 0)
        sxx_safe = np.where(ok, sxx_c, 1.0)
        slope = np.where(ok, (sxy - sx * sy / n) / sxx_safe, np.nan)
        return {
            "intercept": np.where(ok, (sy - slope * sx) / n, np.nan),
            "slope": slope,
            "ok": ok,
            "dof": x.size - 2 * int(ok.sum()) - int((~ok & (count > 0)).sum()),
            "var": (
                np.where(ok, (sxx / n) / sxx_safe, np.nan),
                np.where(ok, 1.0 / sxx_safe, np.nan),
                np.where(ok, -(sx / n) / sxx_safe, np.nan),
            ),
            "common": None,
        }
    if varying == "intercepts":
        sxx_w = float((sxx - sx**2 / n).sum())
        b = _ratio(float((sxy - sx * sy / n).sum()), sxx_w)
        xbar = sx / n
        if sxx_w != 0:
            var = (1.0 / n + xbar**2 / sxx_w, np.full(g, 1.0 / sxx_w), -xbar / sxx_w)
        else:  # x never varies within a group: no common slope
            var = (nan, nan.copy(), nan.copy())
        return {
            "intercept": (sy - b * sx) / n,
            "slope": np.full(g, b),
            # Without a common slope no line is estimable; the residuals are then taken
            # around the group means.
            "ok": (count > 0) & math.isfinite(b),
            "dof": x.size - g - 1,
            "var": var,
            "common": ("slope", b, _ratio(1.0, sxx_w)),
        }
    # slopes: a common intercept and separate slopes (arrowhead normal equations)
    ok = sxx > 0
    ratio = np.where(ok, sx / np.where(ok, sxx, 1.0), 0.0)
    s = float(x.size - (sx * ratio).sum())
    a = _ratio(float(sy.sum() - (sxy * ratio).sum()), s)
    sxx_safe = np.where(ok, sxx, 1.0)
    return {
        "intercept": np.full(g, a),
        "slope": np.where(ok, (sxy - a * sx) / sxx_safe, np.nan),
        "ok": ok,
        "dof": x.size - 1 - int(ok.sum()),
        "var": (
            np.full(g, _ratio(1.0, s)),
            np.where(ok, 1.0 / sxx_safe + ratio**2 / s, np.nan) if s != 0 else nan,
            -ratio / s if s != 0 else nan.copy(),
        ),
        "common": ("intercept", a, _ratio(1.0, s)),
    }


def no_pooling_estimates(
    x: np.ndarray | None, y: np.ndarray, codes: np.ndarray, n_groups: int, varying: str
) -> NoPoolingEstimates:
    """Least squares with separate intercepts, slopes or both per group, from group sums.

    Parameters
    ----------
    x : ndarray or None
        Predictor (float, no NaN), or None for no predictor: then the estimates are the group
        means, with flat lines (slope 0).
    y : ndarray
        Outcome (float, no NaN).
    codes : ndarray of int
        Group of each observation, ``0 .. n_groups - 1``; groups without observations are
        allowed (NaN).
    n_groups : int
        Number of groups.
    varying : {"intercepts", "slopes", "both"}
        What is separate per group: intercepts with a common slope, slopes through a common
        intercept, or a whole line per group.

    Returns
    -------
    NoPoolingEstimates

    Examples
    --------
    >>> import numpy as np
    >>> one_each = no_pooling_estimates(np.arange(3.0), np.ones(3), np.arange(3), 3, "intercepts")
    >>> bool(np.isnan(one_each.slope).all())  # no within-group information: NaN, no error
    True
    """
    if varying not in specs.VARYING:
        raise ValueError(f"varying must be one of {list(specs.VARYING)}, got {varying!r}")
    sums = _group_sums(x, y, codes, n_groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        est = _separate(x, sums, n_groups, varying)
        count, sy = sums[0], sums[3]
        ok, inter, slope = est["ok"], est["intercept"], est["slope"]
        empty = count == 0
        if empty.any():
            inter, slope = np.where(empty, np.nan, inter), np.where(empty, np.nan, slope)
        # Residuals directly (sums of squares from group sums lose digits to cancellation).
        group_mean = (sy / count)[codes]
        xv = 0.0 if x is None else x
        fitted = np.where(ok[codes], inter[codes] + slope[codes] * xv, group_mean)
        rss = float(((y - fitted) ** 2).sum())
    var_i, var_s, cov = est["var"]
    return NoPoolingEstimates(
        intercept=inter,
        slope=slope,
        estimable=ok,
        rss=rss,
        dof=est["dof"],
        var_intercept=var_i,
        var_slope=var_s,
        cov=cov,
        common=est["common"],
        n=count,
    )


def no_pooling_tables(
    x: np.ndarray | None, y: np.ndarray, codes: np.ndarray, groups: pd.Index, varying: str
) -> dict[str, Any]:
    """The ``FitResult`` tables of a no-pooling fit (see :func:`multilevel.fit`)."""
    g = len(groups)
    est = no_pooling_estimates(x, y, codes, g, varying)
    dof = max(est.dof, 1)
    sigma2 = est.rss / dof
    ok = est.estimable
    inter, slope = est.intercept, est.slope
    # Population line: the average of the estimable group lines; SE from their independence
    # (a common part has its own least-squares SE).
    k_ok = max(int(ok.sum()), 1)
    fe_est = np.array([np.nanmean(inter[ok]), np.nanmean(slope[ok])])
    fe_var = np.array(
        [np.nansum(est.var_intercept[ok]) / k_ok**2, np.nansum(est.var_slope[ok]) / k_ok**2]
    )
    if est.common is not None:
        part, value, var = est.common
        i = 0 if part == "intercept" else 1
        fe_est[i], fe_var[i] = value, var
    fe_se = np.sqrt(sigma2 * fe_var)
    if x is None:
        fe_est, fe_se = fe_est[:1], fe_se[:1]
    with np.errstate(invalid="ignore"):
        lines = pd.DataFrame(
            {
                "n": est.n.astype(np.int64),
                "intercept": inter,
                "slope": slope,
                "intercept_se": np.where(ok, np.sqrt(sigma2 * est.var_intercept), np.nan),
                "slope_se": np.where(ok, np.sqrt(sigma2 * est.var_slope), np.nan),
            },
            index=groups,
        )
    re = pd.DataFrame(
        {p: lines[p].to_numpy() - fe_est[specs.PARTS.index(p)] for p in specs.VARYING[varying]},
        index=groups,
    )
    n = y.size
    # Parameters: the group parts, the shared part and the residual SD.
    k = g + 1 if x is None else (2 * g if varying == "both" else g + 1) + 1
    return {
        "fixed_effects": fixed_table(fe_est, fe_se),
        "group_sd": pd.Series(dtype=float),
        "correlation": None,
        "residual_sd": math.sqrt(sigma2),
        "loglik": -0.5 * n * (1 + math.log(2 * math.pi * est.rss / n)),
        "k": k,
        "icc": None,
        "group_lines": lines,
        "random_effects": re,
        "converged": True,
        "n_unestimable": int((~ok).sum()),
    }
