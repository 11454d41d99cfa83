"""Against the truth: 95% Wald intervals of the fixed effects cover the true values ~95% of the time.

Each replicate simulates a fresh data set with known population intercept and slope, fits the
model, and records whether the 95% interval contains the truth. The observed coverage is a
binomial proportion, so the accepted range comes from binomial quantiles, not from a guess:
Wald intervals with 30 groups are known to run a little below nominal, so true coverage anywhere
in [0.93, 0.96] passes, and the bounds are the 0.05% quantile of Binomial(N_REPS, 0.93) and the
99.95% quantile of Binomial(N_REPS, 0.96) (a correct interval fails with probability < 0.001).

The test can fail: in the same replicates, intervals too narrow by a third (true coverage ~81%)
are counted as well, and they must fall below the accepted range.
"""

from __future__ import annotations

import pytest
import scipy.stats

import multilevel as ml
from simdata import as_generator, faculty_salaries

N_REPS = 400
PLAUSIBLE = (0.93, 0.96)
LOW = float(scipy.stats.binom.ppf(0.0005, N_REPS, PLAUSIBLE[0])) / N_REPS
HIGH = float(scipy.stats.binom.ppf(0.9995, N_REPS, PLAUSIBLE[1])) / N_REPS
#: Intervals narrowed to this fraction of their width: the power check.
NARROW = 2 / 3

CASES = {
    "varying_intercepts": dict(raise_sd=0),
    "varying_both": dict(correlation=0.3),
}


@pytest.mark.slow
@pytest.mark.parametrize("model", list(CASES))
def test_wald_intervals_cover_the_truth(model: str) -> None:
    rng = as_generator(20240601)
    parts = ("intercept", "slope")
    hits = dict.fromkeys(parts, 0)
    narrow_hits = dict.fromkeys(parts, 0)
    for _ in range(N_REPS):
        sim = faculty_salaries(
            n_departments=30, faculty_per_department=(8, 16), seed=rng, **CASES[model]
        )
        fe = ml.fit(sim, model=model).fixed_effects
        truth = {"intercept": sim.population["base_mean"], "slope": sim.population["raise_mean"]}
        for part in parts:
            estimate = fe.at[part, "estimate"]
            hits[part] += bool(fe.at[part, "ci_lower"] <= truth[part] <= fe.at[part, "ci_upper"])
            half = NARROW * (fe.at[part, "ci_upper"] - estimate)
            narrow_hits[part] += bool(abs(truth[part] - estimate) <= half)
    coverage = {part: k / N_REPS for part, k in hits.items()}
    narrow = {part: k / N_REPS for part, k in narrow_hits.items()}
    print(f"{model}: coverage over {N_REPS} data sets {coverage}, narrowed {narrow}")
    for part in parts:
        assert LOW <= coverage[part] <= HIGH, (
            f"{part} coverage {coverage[part]:.3f} outside [{LOW:.3f}, {HIGH:.3f}]"
        )
        assert narrow[part] < LOW, (
            f"intervals narrowed to {NARROW:.2f} of their width still cover "
            f"{narrow[part]:.3f} >= {LOW:.3f}: the test could not tell them from correct ones"
        )
