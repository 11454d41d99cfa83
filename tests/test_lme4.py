"""multilevel.fit agrees with R's lme4, the reference implementation of mixed models.

lme4 refits the same data on every run (``tests/lme4/fit_lme4.R``, called once per session), so
this is a live comparison, not a frozen copy. Every number lme4 reports must agree to 1e-4
relative: fixed effects and their standard errors, group SDs, correlation, residual SD,
log-likelihood, AIC, BIC, and each group's line with its conditional SDs.

Where a value is near 0, 1e-4 of itself is meaningless (a fixed slope near 0, a group SD on its
boundary), so each comparison also has an absolute floor of 1e-4 of the data's natural scale: the
residual SD for values in units of y, the residual SD / SD of x for slopes. On a mismatch the test
prints the table of ours against lme4.
"""

from __future__ import annotations

import functools
import os

import numpy as np
import pandas as pd
import pytest

import multilevel as ml
from tests.lme4.reference import (
    MODELS,
    NO_PREDICTOR,
    Lme4Fit,
    lme4_missing,
    reference_datasets,
    run_lme4,
)

# One xdist worker runs all of these, so R runs once per test session; R's set-up takes a minute or
# two on a busy machine, so the whole comparison is `slow` (make test runs it, make unit does not).
pytestmark = [pytest.mark.xdist_group("lme4"), pytest.mark.slow]

RTOL = 1e-4
#: Absolute floor, as a fraction of the natural scale (see the module docstring).
SCALE_FLOOR = 1e-4
#: When lme4 finds a group SD on its boundary (isSingular), the likelihood is flat in that SD:
#: it changes with SD**2, so an optimizer that stops 1e-8 short of the maximum in log-likelihood
#: may leave the SD anywhere up to about 1e-3 of the residual SD without being any worse a fit.
#: SDs (and the conditional SDs that follow from them) get that floor in singular fits only.
BOUNDARY_FLOOR = 1e-3

DATASETS = reference_datasets()
CASES = [
    pytest.param(name, model, reml, id=f"{name}-{model}-{'REML' if reml else 'ML'}")
    for name in DATASETS
    for model in MODELS
    for reml in (True, False)
]


@pytest.fixture(scope="session")
def lme4_fits(tmp_path_factory) -> dict[tuple[str, str, bool], Lme4Fit]:
    reason = lme4_missing()
    if reason is not None:
        # CI installs R and lme4 (.ci/run), so there a missing lme4 is a broken build.
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but lme4 cannot run: {reason}")
        pytest.skip(f"lme4 comparison skipped: {reason}")
    return run_lme4(DATASETS, tmp_path_factory.mktemp("lme4"))


@functools.cache
def our_fit(name: str, model: str, reml: bool) -> ml.FitResult:
    dataset = DATASETS[name]
    return ml.fit(
        dataset.data, y=dataset.y, x=dataset.x, group=dataset.group, model=model, reml=reml
    )


def scales(name: str, reference: Lme4Fit) -> dict[str, float]:
    """The natural scale of each kind of value: residual SD (y units) and per unit of x."""
    dataset = DATASETS[name]
    x_sd = float(np.std(dataset.data[dataset.x].to_numpy(dtype=float)))
    return {"intercept": reference.residual_sd, "slope": reference.residual_sd / x_sd}


def comparison(rows: list[tuple[str, float, float, float]]) -> pd.DataFrame:
    """Rows of (quantity, ours, lme4, absolute floor) -> table with the verdict per row."""
    table = pd.DataFrame(rows, columns=["quantity", "ours", "lme4", "floor"]).set_index("quantity")
    table["difference"] = table["ours"] - table["lme4"]
    table["allowed"] = np.maximum(RTOL * table["lme4"].abs(), table["floor"])
    both_missing = table["ours"].isna() & table["lme4"].isna()
    table["ok"] = both_missing | (table["difference"].abs() <= table["allowed"])
    return table.drop(columns="floor")


def fail(message: str) -> None:
    """Fail with just the message: the locals (whole data sets) would bury it."""
    pytest.fail(message, pytrace=False)


def assert_agrees(table: pd.DataFrame, title: str, *, only_failures: bool = False) -> None:
    if table["ok"].all():
        return
    shown = table[~table["ok"]] if only_failures else table
    note = f"{(~table['ok']).sum()} of {len(table)} values differ" if only_failures else ""
    with pd.option_context("display.width", 200, "display.max_rows", 400):
        text = shown.to_string(float_format="{:.8g}".format)
    fail(f"{title}: multilevel.fit disagrees with lme4 {note}\n{text}")


def label(name: str, model: str, reml: bool) -> str:
    return f"{name} / {model} / {'REML' if reml else 'ML'} ({DATASETS[name].description})"


@pytest.mark.parametrize(("name", "model", "reml"), CASES)
def test_fixed_effects_agree_with_lme4(lme4_fits, name, model, reml):
    reference = lme4_fits[name, model, reml]
    ours = our_fit(name, model, reml).fixed_effects
    scale = scales(name, reference)
    rows = [
        (f"{term} {column}", ours.loc[term, column], reference.fixed_effects.loc[term, column],
         SCALE_FLOOR * scale[term])
        for term in ("intercept", "slope")
        for column in ("estimate", "std_error")
    ]  # fmt: skip
    assert_agrees(comparison(rows), label(name, model, reml))


@pytest.mark.parametrize(("name", "model", "reml"), CASES)
def test_variance_components_agree_with_lme4(lme4_fits, name, model, reml):
    reference = lme4_fits[name, model, reml]
    ours = our_fit(name, model, reml)
    scale = scales(name, reference)
    sd_floor = BOUNDARY_FLOOR if reference.singular else SCALE_FLOOR
    if set(ours.group_sd.index) != set(reference.group_sd):
        fail(
            f"varying parts: ours {sorted(ours.group_sd.index)}, lme4 {sorted(reference.group_sd)}"
        )
    rows = [
        (f"group SD of {part}", ours.group_sd[part], sd, sd_floor * scale[part])
        for part, sd in reference.group_sd.items()
    ]
    rows.append(("residual SD", ours.residual_sd, reference.residual_sd, SCALE_FLOOR * scale["intercept"]))  # fmt: skip
    if model != "varying_both":
        if ours.correlation is not None:
            fail(
                f"{label(name, model, reml)}: no correlation is estimated, ours {ours.correlation}"
            )
    elif not reference.singular:
        # In a singular fit one SD is 0 and the correlation is not identified (lme4 reports NaN
        # or +-1); elsewhere it is a number in [-1, 1], so 1e-4 absolute.
        rows.append(("correlation", ours.correlation, reference.correlation, SCALE_FLOOR))
    assert_agrees(comparison(rows), label(name, model, reml))


@pytest.mark.parametrize(("name", "model", "reml"), CASES)
def test_likelihood_agrees_with_lme4(lme4_fits, name, model, reml):
    reference = lme4_fits[name, model, reml]
    ours = our_fit(name, model, reml)
    if (ours.n_obs, ours.n_groups, ours.reml) != (reference.n_obs, reference.n_groups, reml):
        fail(
            f"{label(name, model, reml)}: (n_obs, n_groups, reml) ours "
            f"{(ours.n_obs, ours.n_groups, ours.reml)}, lme4 {(reference.n_obs, reference.n_groups, reml)}"
        )
    rows = [
        ("loglik", ours.loglik, reference.loglik, 0.0),
        ("AIC", ours.aic, reference.aic, 0.0),
        ("BIC", ours.bic, reference.bic, 0.0),
    ]
    assert_agrees(comparison(rows), label(name, model, reml))


@pytest.mark.parametrize(("name", "model", "reml"), CASES)
def test_group_lines_agree_with_lme4(lme4_fits, name, model, reml):
    reference = lme4_fits[name, model, reml]
    ours = our_fit(name, model, reml).group_lines
    ours = ours.set_axis(ours.index.astype(str), axis=0)
    expected = reference.group_lines
    if set(ours.index) != set(expected.index):
        fail(f"the groups differ: ours {sorted(ours.index)}, lme4 {sorted(expected.index)}")
    scale = scales(name, reference)
    se_floor = BOUNDARY_FLOOR if reference.singular else SCALE_FLOOR
    floors = {
        "intercept": SCALE_FLOOR * scale["intercept"],
        "slope": SCALE_FLOOR * scale["slope"],
        "intercept_se": se_floor * scale["intercept"],
        "slope_se": se_floor * scale["slope"],
    }
    rows = [
        (f"{group}: {column}", ours.loc[group, column], expected.loc[group, column], floor)
        for group in expected.index
        for column, floor in floors.items()
    ]
    assert_agrees(comparison(rows), label(name, model, reml), only_failures=True)


#: A fit is clearly inside the parameter space when every group SD is above this fraction of its
#: natural scale and the correlation is within +-(1 - this): no boundary note should appear then.
CLEARLY_INSIDE = 0.05


@pytest.mark.parametrize(("name", "model", "reml"), CASES)
def test_boundary_flag_agrees_with_lme4(lme4_fits, name, model, reml):
    reference = lme4_fits[name, model, reml]
    ours = our_fit(name, model, reml)
    scale = scales(name, reference)
    relative_sds = {part: sd / scale[part] for part, sd in reference.group_sd.items()}
    if reference.singular:
        # lme4 calls a fit singular when a relative SD is below 1e-4 (or a correlation is +-1):
        # any sensible boundary rule must flag that.
        if not ours.boundary:
            fail(
                f"{label(name, model, reml)}: lme4 finds a group SD at its boundary "
                f"({reference.group_sd}), ours says boundary=False with SDs {dict(ours.group_sd)}"
            )
    elif min(relative_sds.values()) > CLEARLY_INSIDE and (
        reference.correlation is None or abs(reference.correlation) < 1 - CLEARLY_INSIDE
    ):
        if ours.boundary:
            fail(
                f"{label(name, model, reml)}: ours says boundary=True, but every group SD is well "
                f"away from 0 (SD / natural scale: {relative_sds}; correlation "
                f"{reference.correlation}); notes: {ours.notes}"
            )
    else:
        pytest.skip(
            f"close to the boundary but not on it (SD / scale {relative_sds}): either is fine"
        )


@pytest.mark.parametrize("reml", [True, False], ids=["REML", "ML"])
@pytest.mark.parametrize("name", list(DATASETS))
def test_model_without_predictor_agrees_with_lme4(lme4_fits, name, reml):
    dataset = DATASETS[name]
    reference = lme4_fits[name, NO_PREDICTOR, reml]
    # x=None (no predictor) is a documented feature: an error here fails the test, never skips.
    ours = ml.fit(
        dataset.data, y=dataset.y, x=None, group=dataset.group,
        model="varying_intercepts", reml=reml,
    )  # fmt: skip
    y_scale = reference.residual_sd
    sd_floor = BOUNDARY_FLOOR if reference.singular else SCALE_FLOOR
    fixed = reference.fixed_effects
    rows = [
        ("intercept estimate", ours.fixed_effects.loc["intercept", "estimate"],
         fixed.loc["intercept", "estimate"], SCALE_FLOOR * y_scale),
        ("intercept std_error", ours.fixed_effects.loc["intercept", "std_error"],
         fixed.loc["intercept", "std_error"], SCALE_FLOOR * y_scale),
        ("group SD of intercept", ours.group_sd["intercept"], reference.group_sd["intercept"],
         sd_floor * y_scale),
        ("residual SD", ours.residual_sd, reference.residual_sd, SCALE_FLOOR * y_scale),
        ("loglik", ours.loglik, reference.loglik, 0.0),
    ]  # fmt: skip
    assert_agrees(comparison(rows), label(name, NO_PREDICTOR, reml))
