"""fit_formula agrees with R's lme4 on every number it reports, for several predictors.

lme4 refits the same data on every run (``tests/lme4/fit_formula_lme4.R``, once per session):
simulated salaries with a categorical and a department-level predictor and an interaction,
lme4's own ``sleepstudy``, and Gelman & Hill's radon data. Every reported number must agree to
1e-4 relative, with an absolute floor of 1e-4 of the value's natural scale where a value is
near 0 (as in ``test_lme4.py``). Terms are compared in order (lme4 and formulaic order them the
same way; both names are shown on a mismatch).
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from multilevel.models.glmm import fit_glmm
from multilevel.models.lmm import FormulaFit, fit_formula
from tests.lme4 import formula_reference as ref
from tests.lme4.reference import lme4_missing

pytestmark = pytest.mark.xdist_group("lme4_formula")

RTOL = 1e-4
FLOOR = 1e-4
#: On a singular fit the likelihood is flat in the SD at zero (see test_lme4.py).
BOUNDARY_FLOOR = 1e-3

CASES = ref.cases()
IDS = [case.id for case in CASES]


@pytest.fixture(scope="session")
def formula_data(tmp_path_factory) -> tuple[dict[str, pd.DataFrame], dict[str, dict]]:
    """The data sets and lme4's fits of every case (R runs once per session)."""
    reason = lme4_missing()
    if reason is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but lme4 cannot run: {reason}")
        pytest.skip(f"lme4 comparison skipped: {reason}")
    workdir = tmp_path_factory.mktemp("lme4_formula")
    data = ref.datasets(workdir)
    every = CASES + ref.profile_cases() + ref.boot_cases() + ref.glmm_cases()
    fits = ref.run_lme4(every, data, workdir)
    return data, fits


@pytest.mark.slow
def test_lme4_runs(formula_data):
    """Sets up R once (about 15 s): every case has an lme4 fit."""
    _, fits = formula_data
    missing = [case.id for case in CASES if case.id not in fits]
    assert not missing, missing


_FITS: dict[str, FormulaFit] = {}


def ours(case: ref.Case, data: pd.DataFrame) -> FormulaFit:
    """Our fit of a case, fitted once per session."""
    if case.id not in _FITS:
        _FITS[case.id] = fit_formula(case.formula, data, reml=case.reml)
    return _FITS[case.id]


def check(rows: list[tuple[str, float, float, float]], title: str) -> None:
    """Rows of (quantity, ours, lme4, absolute floor): fail with the whole table on a mismatch."""
    table = pd.DataFrame(rows, columns=["quantity", "ours", "lme4", "floor"]).set_index("quantity")
    table["difference"] = table["ours"] - table["lme4"]
    allowed = np.maximum(RTOL * table["lme4"].abs(), table["floor"])
    table["ok"] = (table["ours"].isna() & table["lme4"].isna()) | (
        table["difference"].abs() <= allowed
    )
    if not table["ok"].all():
        with pd.option_context("display.width", 200, "display.max_rows", 500):
            text = table[~table["ok"]].to_string(float_format="{:.8g}".format)
        pytest.fail(f"{title}: fit_formula disagrees with lme4\n{text}", pytrace=False)


def term_scales(fit: FormulaFit) -> np.ndarray:
    """Natural scale of each varying term's SD: residual SD per RMS of its column."""
    design = fit._internals.design
    rms = np.sqrt(np.mean(design.Z**2, axis=0))
    return fit.residual_sd / rms


@pytest.fixture
def compared(formula_data, case) -> tuple[dict, FormulaFit]:
    """lme4's fit of the case and ours."""
    data, fits = formula_data
    return fits[case.id], ours(case, data[case.dataset])


def sd_floors(theirs: dict, fit: FormulaFit) -> tuple[np.ndarray, float]:
    """Each varying term's natural scale, and the floor for its SD (looser on a singular fit)."""
    return term_scales(fit), BOUNDARY_FLOOR if theirs["singular"] else FLOOR


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_fixed_effects_agree(compared, case):
    theirs, fit = compared
    table = fit.fixed_effects
    assert len(table) == len(theirs["fixed_names"]), (list(table.index), theirs["fixed_names"])
    rows = []
    for i, (name, r_name) in enumerate(zip(table.index, theirs["fixed_names"], strict=True)):
        se = theirs["std_error"][i]
        rows.append(
            (
                f"{name} ({r_name}) estimate",
                table["estimate"].iloc[i],
                theirs["estimate"][i],
                FLOOR * se,
            )
        )
        rows.append((f"{name} ({r_name}) std_error", table["std_error"].iloc[i], se, 0.0))
    check(rows, case.id)  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_variance_components_and_likelihood_agree(compared, case):
    theirs, fit = compared
    scales, floor = sd_floors(theirs, fit)
    assert len(fit.group_sd) == len(theirs["group_sd"])
    rows = [
        (f"SD {name} ({r_name})", fit.group_sd.iloc[i], theirs["group_sd"][i], floor * scales[i])
        for i, (name, r_name) in enumerate(zip(fit.group_sd.index, theirs["sd_names"], strict=True))
    ]
    rows += [
        ("residual SD", fit.residual_sd, theirs["residual_sd"], 0.0),
        ("loglik", fit.loglik, theirs["loglik"], 0.0),
        ("AIC", fit.aic, theirs["aic"], 0.0),
        ("BIC", fit.bic, theirs["bic"], 0.0),
        ("n_obs", fit.n_obs, theirs["n_obs"], 0.0),
        ("n_groups", fit.n_groups, theirs["n_groups"], 0.0),
    ]
    ours_name = dict(zip(theirs["sd_names"], fit.group_sd.index, strict=True))
    r_names = list(fit.group_sd.index)
    if theirs["correlation"] and not theirs["singular"]:
        for v1, v2, value in zip(
            theirs["cor_var1"], theirs["cor_var2"], theirs["correlation"], strict=True
        ):
            a, b = r_names.index(ours_name[v1]), r_names.index(ours_name[v2])
            corr = fit.correlation
            mine = corr if isinstance(corr, float) else corr.iloc[a, b]
            rows.append((f"correlation {v1} {v2}", mine, value, FLOOR))
    else:
        has_corr = isinstance(fit.correlation, pd.DataFrame) or fit.correlation is not None
        assert has_corr == bool(theirs["correlation"]), fit.correlation
    assert fit.boundary == bool(theirs["singular"]), fit.notes
    check(rows, case.id)  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_group_effects_agree(compared, case):
    """Conditional modes, their conditional SDs (condVar) and each group's coefficients."""
    theirs, fit = compared
    scales, floor = sd_floors(theirs, fit)
    terms = list(fit.random_effects.columns)
    # lme4 spells terms its own way (rankfull for rank[T.full]): map them by position.
    ours_name = dict(zip(theirs["sd_names"], fit.group_sd.index, strict=True))
    r_terms = [ours_name[t] for t in theirs["re_term"]]
    effects = fit.random_effects.set_axis(fit.random_effects.index.astype(str), axis=0)
    lines = fit.group_lines.set_axis(fit.group_lines.index.astype(str), axis=0)
    rows = []
    for group, term, value, sd in zip(
        theirs["re_group"], r_terms, theirs["re_value"], theirs["re_sd"], strict=True
    ):
        j = terms.index(term)
        rows.append((f"{group} {term} mode", effects.loc[group, term], value, FLOOR * scales[j]))
        rows.append(
            (f"{group} {term} condsd", lines.loc[group, f"{term}_se"], sd, floor * scales[j])
        )
    # coef(): one column per fixed or varying term, named lme4's way; map both kinds to ours.
    ours_name.update(zip(theirs["fixed_names"], fit.fixed_effects.index, strict=True))
    se = fit.fixed_effects["std_error"]
    for k, r_name in enumerate(theirs["coef_names"]):
        name = ours_name[r_name]
        floor = FLOOR * se.get(name, 0.0) + (
            FLOOR * scales[terms.index(name)] if name in terms else 0.0
        )
        for g, group in enumerate(theirs["coef_groups"]):
            rows.append(
                (f"{group} coef {name}", lines.loc[group, name], theirs["coef"][g, k], floor)
            )
    check(rows, case.id)  # fmt: skip


PROFILE_CASES = ref.profile_cases()


@pytest.mark.slow
@pytest.mark.parametrize("case", PROFILE_CASES, ids=[c.id for c in PROFILE_CASES])
def test_profile_intervals_agree_to_three_digits(formula_data, case):
    """confint(method="profile") against lme4's, parameter by parameter, in lme4's order."""
    data, fits = formula_data
    theirs = fits[case.id]
    ours_ci = fit_formula(case.formula, data[case.dataset], reml=case.reml).confint("profile")
    assert len(ours_ci) == len(theirs["profile_names"])
    rows = []
    for i, (name, r_name) in enumerate(zip(ours_ci.index, theirs["profile_names"], strict=True)):
        for column, key in (("lower", "profile_lower"), ("upper", "profile_upper")):
            rows.append((f"{name} ({r_name}) {column}", ours_ci[column].iloc[i], theirs[key][i]))
    table = pd.DataFrame(rows, columns=["quantity", "ours", "lme4"]).set_index("quantity")
    digits = np.abs(table["ours"] - table["lme4"]) <= 5e-4 * np.abs(table["lme4"])
    assert digits.all(), table[~digits].to_string()


GLMM_CASES = ref.glmm_cases()


@pytest.mark.parametrize("case", GLMM_CASES, ids=[c.id for c in GLMM_CASES])
def test_logistic_model_agrees_with_glmer(formula_data, case):
    """Maximum likelihood by adaptive Gauss-Hermite quadrature against glmer (Laplace, 25 points)."""
    data, fits = formula_data
    theirs = fits[case.id]
    fit = fit_glmm(case.formula, data[case.dataset], nAGQ=case.nagq)
    table = fit.fixed_effects
    rows = []
    for i, name in enumerate(table.index):
        se = theirs["std_error"][i]
        rows.append(
            (f"{name} estimate", table["estimate"].iloc[i], theirs["estimate"][i], FLOOR * se)
        )
        rows.append((f"{name} std_error", table["std_error"].iloc[i], se, 0.0))
    rows += [
        ("SD Intercept", fit.group_sd["Intercept"], theirs["group_sd"][0], FLOOR * 1e-2),
        ("loglik", fit.loglik, theirs["loglik"], 0.0),
        ("AIC", fit.aic, theirs["aic"], 0.0),
        ("BIC", fit.bic, theirs["bic"], 0.0),
    ]
    effects = fit.random_effects["Intercept"].set_axis(fit.random_effects.index.astype(str))
    cond_sd = fit.group_lines["Intercept_se"].set_axis(fit.group_lines.index.astype(str))
    for group, value, sd in zip(
        theirs["re_group"], theirs["re_value"], theirs["re_sd"], strict=True
    ):
        rows.append((f"{group} mode", effects[group], value, FLOOR * theirs["group_sd"][0]))
        rows.append((f"{group} condsd", cond_sd[group], sd, FLOOR * theirs["group_sd"][0]))
    assert fit.boundary == bool(theirs["singular"])
    check(rows, case.id)  # fmt: skip


@pytest.mark.slow
def test_bootstrap_matches_bootmer_in_distribution(formula_data):
    """Percentile intervals from 500 parametric bootstrap replicates, ours against bootMer's.

    Two independent bootstraps of 500 differ by Monte Carlo error (a few percent of an
    interval's width at the 2.5% and 97.5% quantiles), so each limit must agree to 15% of
    lme4's width; simulating from the wrong model (a missing or misscaled variance part)
    moves limits by far more.
    """
    data, fits = formula_data
    (case,) = ref.boot_cases()
    theirs = fits[case.id]
    fit = fit_formula(case.formula, data[case.dataset], reml=case.reml)
    ours_ci = fit.confint("bootstrap", n_boot=case.boot, seed=1)
    lower, upper = np.array(theirs["boot_lower"]), np.array(theirs["boot_upper"])
    width = upper - lower
    off = np.maximum(
        np.abs(ours_ci["lower"].to_numpy() - lower), np.abs(ours_ci["upper"].to_numpy() - upper)
    )
    table = ours_ci.assign(lme4_lower=lower, lme4_upper=upper, off_width=off / width)
    assert (off <= 0.15 * width).all(), table.to_string()


@pytest.mark.slow
def test_logistic_profile_intervals_agree_to_three_digits(formula_data):
    """GlmmFit.confint("profile") against glmer's confint(method = "profile") (Laplace)."""
    data, fits = formula_data
    case = next(c for c in GLMM_CASES if c.profile)
    theirs = fits[case.id]
    ours_ci = fit_glmm(case.formula, data[case.dataset], nAGQ=case.nagq).confint("profile")
    assert len(ours_ci) == len(theirs["profile_names"])
    table = ours_ci.assign(lme4_lower=theirs["profile_lower"], lme4_upper=theirs["profile_upper"])
    ok = np.isclose(table["lower"], table["lme4_lower"], rtol=5e-4, atol=0) & np.isclose(
        table["upper"], table["lme4_upper"], rtol=5e-4, atol=0
    )
    assert ok.all(), table.to_string()
