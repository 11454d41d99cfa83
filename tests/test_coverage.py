"""Against the truth: 95% Wald intervals of the fixed effects cover the true values ~95% of the time.

Each replicate simulates a fresh data set with known population intercept and slope, fits the
model, and records whether the 95% interval contains the truth. With 300 replicates the observed
coverage of a correct 95% interval lies in [0.91, 0.98] with probability > 0.998, while an interval
that is too narrow by a third (true coverage ~83%) fails the test almost surely.
"""

from __future__ import annotations

import pytest

import multilevel as ml
from simdata import as_generator, faculty_salaries

N_REPS = 300
LOW, HIGH = 0.91, 0.98

CASES = {
    "varying_intercepts": dict(raise_sd=0),
    "varying_both": dict(correlation=0.3),
}


@pytest.mark.parametrize("model", list(CASES))
def test_wald_intervals_cover_the_truth(model: str) -> None:
    rng = as_generator(20240601)
    hits = {"intercept": 0, "slope": 0}
    for _ in range(N_REPS):
        sim = faculty_salaries(
            n_departments=30, faculty_per_department=(8, 16), seed=rng, **CASES[model]
        )
        fe = ml.fit(sim, model=model).fixed_effects
        truth = {"intercept": sim.population["base_mean"], "slope": sim.population["raise_mean"]}
        for part in hits:
            hits[part] += bool(fe.at[part, "ci_lower"] <= truth[part] <= fe.at[part, "ci_upper"])
    coverage = {part: k / N_REPS for part, k in hits.items()}
    print(f"{model}: 95% interval coverage over {N_REPS} data sets: {coverage}")
    for part, c in coverage.items():
        assert LOW <= c <= HIGH, f"{part} coverage {c:.3f} outside [{LOW}, {HIGH}]"
