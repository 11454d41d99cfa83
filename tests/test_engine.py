"""The exact engine against statsmodels' MixedLM, polished to a tight optimum.

statsmodels is an independent implementation of the same likelihood (dense, per observation), so
agreement at 1e-4 relative on every reported number pins the engine's algebra: the Woodbury and
determinant-lemma shortcuts, the REML term, the back-transformation from the internal scaling,
the BLUPs and the lme4-style log-likelihood constants.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from statsmodels.regression.mixed_linear_model import MixedLMParams

import multilevel as ml
from multilevel.models import engine, likelihood
from simdata import faculty_salaries

RTOL = 1e-4

DATASETS = {
    "balanced": dict(n_departments=8, faculty_per_department=20, seed=11),
    "unbalanced": dict(n_departments=12, faculty_per_department=(4, 30), seed=12),
    "near_boundary": dict(n_departments=10, faculty_per_department=15, raise_sd=20, seed=13),
    "correlated": dict(n_departments=15, faculty_per_department=(10, 25), correlation=0.6, seed=14),
}
MIXED = ["varying_intercepts", "varying_slopes", "varying_both", "varying_both_uncorrelated"]


def _statsmodels_fit(data: pd.DataFrame, model: str, reml: bool, start: ml.FitResult):
    """statsmodels' fit from the engine's answer with a tight gradient tolerance, then
    re-polished from statsmodels' own default start; the better of the two is returned."""
    kwargs = {"groups": "department"}
    rel = start.arrays.engine_fit.rel_cov + 1e-8 * np.eye(len(start.group_sd))
    if model == "varying_intercepts":
        kwargs["re_formula"] = "1"
    elif model == "varying_slopes":
        kwargs["re_formula"] = "0 + experience"
    elif model == "varying_both":
        kwargs["re_formula"] = "1 + experience"
    else:
        kwargs["re_formula"] = "1"
        kwargs["vc_formula"] = {"experience": "0 + experience"}
    fe = start.fixed_effects["estimate"].to_numpy()
    if model == "varying_both_uncorrelated":
        params = MixedLMParams.from_components(fe, cov_re=rel[:1, :1], vcomp=rel[1:, 1])
    else:
        params = MixedLMParams.from_components(fe, cov_re=rel)
    md = smf.mixedlm("salary ~ experience", data, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = md.fit(reml=reml, start_params=params, method=["bfgs"], gtol=1e-10, maxiter=2000)
    return res


def _sm_numbers(res, model: str) -> dict[str, object]:
    scale = res.scale
    if model == "varying_both_uncorrelated":
        cov = np.diag([float(res.cov_re.iloc[0, 0]), float(res.vcomp[0])])
    else:
        cov = np.asarray(res.cov_re, dtype=float)
    return {"fe": res.fe_params.to_numpy(), "cov": cov, "sigma": np.sqrt(scale), "llf": res.llf}


def _gls_se(data: pd.DataFrame, model: str, sm: dict[str, object]) -> np.ndarray:
    info = np.zeros((2, 2))
    for _, d in data.groupby("department", observed=True):
        x = d["experience"].to_numpy(float)
        X = np.column_stack([np.ones_like(x), x])
        Z = {"varying_intercepts": X[:, :1], "varying_slopes": X[:, 1:]}.get(model, X)
        V = sm["sigma"] ** 2 * np.eye(x.size) + Z @ sm["cov"] @ Z.T
        info += X.T @ np.linalg.solve(V, X)
    return np.sqrt(np.diag(np.linalg.inv(info)))


@pytest.mark.parametrize("name", list(DATASETS))
@pytest.mark.parametrize("model", MIXED)
@pytest.mark.parametrize("reml", [True, False])
def test_engine_matches_statsmodels(name: str, model: str, reml: bool) -> None:
    sim = faculty_salaries(**DATASETS[name])
    data = sim.data.assign(department=sim.data["department"].astype(str))
    res = ml.fit(sim, model=model, reml=reml)
    smr = _statsmodels_fit(data, model, reml, res)
    sm = _sm_numbers(smr, model)
    # statsmodels polished from our answer must not find a better optimum.
    assert smr.llf <= res.loglik + 1e-6 * abs(res.loglik)
    np.testing.assert_allclose(res.loglik, sm["llf"], rtol=1e-7)
    np.testing.assert_allclose(res.fixed_effects["estimate"].to_numpy(), sm["fe"], rtol=RTOL)
    np.testing.assert_allclose(res.residual_sd, sm["sigma"], rtol=RTOL)
    sds = np.sqrt(np.diag(sm["cov"]))
    scale_sd = np.maximum(sds, 1e-3 * res.residual_sd)  # relative to something non-zero
    np.testing.assert_allclose(res.group_sd.to_numpy(), sds, rtol=0, atol=RTOL * scale_sd.max())
    if model == "varying_both" and min(sds) > 1e-3 * res.residual_sd:
        corr = sm["cov"][0, 1] / (sds[0] * sds[1])
        assert res.correlation == pytest.approx(corr, abs=RTOL)
    # Fixed-effect standard errors as lme4 computes them, (X' V^-1 X)^-1, with V built densely
    # from statsmodels' estimates (statsmodels' own bse_fe comes from the observed Hessian of
    # all parameters, a different and not lme4's definition).
    np.testing.assert_allclose(
        res.fixed_effects["std_error"].to_numpy(), _gls_se(data, model, sm), rtol=RTOL
    )
    # Per-group lines: fixed effects plus statsmodels' BLUPs.
    re = smr.random_effects
    for grp, row in res.group_lines.iterrows():
        blup = re[str(grp)]
        a = sm["fe"][0] + (blup.iloc[0] if "intercept" in res.group_sd.index else 0.0)
        b = sm["fe"][1]
        if model == "varying_slopes":
            b += blup.iloc[0]
        elif model in ("varying_both", "varying_both_uncorrelated"):
            b += blup.iloc[1]
        scale = max(abs(a), 1.0)
        assert row["intercept"] == pytest.approx(a, rel=RTOL, abs=RTOL * scale)
        assert row["slope"] == pytest.approx(b, rel=RTOL, abs=RTOL * abs(sm["fe"][1]))


def test_gradient_matches_finite_differences() -> None:
    sim = faculty_salaries(
        n_departments=9, faculty_per_department=(5, 20), correlation=-0.4, seed=3
    )
    x = sim.data["experience"].to_numpy(float)
    y = sim.data["salary"].to_numpy(float)
    codes = sim.data["department"].cat.codes.to_numpy()
    for random in ["intercept", "slope", "both", "both_uncorrelated"]:
        parts, correlated = engine.RANDOM_PARTS[random]
        theta = np.array([0.7, 0.2, 0.4] if correlated else [0.7, 0.4][: len(parts)])
        for reml in (True, False):
            st = likelihood.make_stats(x, y, codes, 9, random, reml)
            _, grad = likelihood.evaluate(theta, st)
            num = np.empty_like(theta)
            for k in range(theta.size):
                step = np.zeros_like(theta)
                step[k] = 1e-6
                up = likelihood.evaluate(theta + step, st)[0]
                down = likelihood.evaluate(theta - step, st)[0]
                num[k] = (up - down) / 2e-6
            np.testing.assert_allclose(grad, num, rtol=1e-5, atol=1e-6)


def test_complete_pooling_is_ols() -> None:
    sim = faculty_salaries(seed=21)
    res = ml.fit(sim, model="complete_pooling", reml=False)
    ols = smf.ols("salary ~ experience", sim.data).fit()
    np.testing.assert_allclose(res.fixed_effects["estimate"], ols.params, rtol=1e-10)
    np.testing.assert_allclose(
        res.fixed_effects["std_error"], ols.bse * np.sqrt(ols.df_resid / ols.nobs), rtol=1e-8
    )
    assert res.loglik == pytest.approx(ols.llf, rel=1e-10)


def test_fit_arrays_warm_start_gives_same_answer() -> None:
    sim = faculty_salaries(n_departments=20, faculty_per_department=30, correlation=0.3, seed=5)
    x = sim.data["experience"].to_numpy(float)
    y = sim.data["salary"].to_numpy(float)
    codes = sim.data["department"].cat.codes.to_numpy()
    cold = engine.fit_arrays(x, y, codes, random="both")
    warm = engine.fit_arrays(x, y, codes, random="both", start_rel_cov=cold.rel_cov)
    assert warm.loglik == pytest.approx(cold.loglik, rel=1e-9)
    assert warm.n_evals <= cold.n_evals
    np.testing.assert_allclose(warm.re_cov, cold.re_cov, rtol=1e-4)


def test_newton_started_at_zero_leaves_a_false_boundary() -> None:
    # theta = 0 is a stationary point of the deviance (it is even in theta); with clear group
    # variation it is a maximum along theta, and the optimiser must not stay there.
    sim = faculty_salaries(n_departments=10, faculty_per_department=15, raise_sd=0, seed=31)
    x = sim.data["experience"].to_numpy(float)
    y = sim.data["salary"].to_numpy(float)
    codes = sim.data["department"].cat.codes.to_numpy()
    st = likelihood.make_stats(x, y, codes, 10, "intercept", True)
    stuck = engine._newton(st, np.zeros(1), np.array([True]))
    cold = engine.fit_arrays(x, y, codes, random="intercept")
    assert stuck.x[0] > 0.1
    assert -0.5 * stuck.fun == pytest.approx(
        -0.5 * likelihood.evaluate(cold.theta, st)[0], rel=1e-9
    )
    warm_from_zero = engine.fit_arrays(
        x, y, codes, random="intercept", start_rel_cov=np.zeros((1, 1))
    )
    assert warm_from_zero.loglik == pytest.approx(cold.loglik, rel=1e-10)
