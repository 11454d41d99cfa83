"""Time per fit of each mixed model: the exact engine vs plain statsmodels vs lme4 (R).

Usage: ``python scripts/bench_models.py [--quick]``. Prints one row per model and size
(groups x observations per group) with milliseconds per fit and the ratios to lme4, plus the
largest relative difference in log-likelihood between the engine and lme4. lme4 is timed inside
R (a loop of fits around ``system.time``), so R's start-up is not counted. Not a test: timings
depend on the machine; rerun it after changing the engine.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import statsmodels.formula.api as smf

import multilevel as ml
from simdata import faculty_salaries

SIZES = [(8, 15), (20, 30), (50, 50), (200, 50), (1000, 20)]
MODELS = {
    "varying_intercepts": ("(1 | department)", {"re_formula": "1"}),
    "varying_slopes": ("(0 + experience | department)", {"re_formula": "0 + experience"}),
    "varying_both": ("(1 + experience | department)", {"re_formula": "1 + experience"}),
    "varying_both_uncorrelated": (
        "(1 + experience || department)",
        {"re_formula": "1", "vc_formula": {"experience": "0 + experience"}},
    ),
}
R_SCRIPT = r"""
suppressMessages(library(lme4))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1]); d$department <- factor(d$department)
reps <- as.integer(args[3])
f <- as.formula(paste("salary ~ experience +", args[2]))
m <- lmer(f, d, REML = TRUE)
t <- system.time(for (i in seq_len(reps)) lmer(f, d, REML = TRUE))[["elapsed"]] / reps
cat(sprintf('{"seconds": %.9g, "loglik": %.12g}', t, as.numeric(logLik(m))))
"""


def _time(fn, min_seconds: float = 0.3, max_reps: int = 200) -> float:
    fn()
    reps, start = 0, time.perf_counter()
    while reps < max_reps and (reps < 3 or time.perf_counter() - start < min_seconds):
        fn()
        reps += 1
    return (time.perf_counter() - start) / reps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, no statsmodels")
    args = parser.parse_args()
    sizes = SIZES[:2] if args.quick else SIZES
    rscript = shutil.which("Rscript")
    tmp = Path(tempfile.mkdtemp())
    (tmp / "bench.R").write_text(R_SCRIPT)
    header = f"{'model':27s} {'size':>8s} {'engine ms':>10s} {'statsm ms':>10s} {'lme4 ms':>9s} "
    print(header + f"{'sm/lme4':>8s} {'eng/lme4':>9s} {'|dLL|/LL':>9s}")
    for model, (lme4_term, sm_kwargs) in MODELS.items():
        for n_groups, size in sizes:
            sim = faculty_salaries(
                n_departments=n_groups, faculty_per_department=size, correlation=0.3, seed=1
            )
            data = sim.data.assign(department=sim.data["department"].astype(str))
            res = ml.fit(sim, model=model)
            t_engine = _time(lambda sim=sim, model=model: ml.fit(sim, model=model))
            t_sm = float("nan")
            if not args.quick:

                def sm_fit(data=data, sm_kwargs=sm_kwargs):
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        smf.mixedlm(
                            "salary ~ experience", data, groups="department", **sm_kwargs
                        ).fit(reml=True)

                t_sm = _time(sm_fit, min_seconds=0.5, max_reps=5)
            t_r, ll_r = float("nan"), float("nan")
            if rscript:
                csv = tmp / "d.csv"
                data.to_csv(csv, index=False)
                reps = max(2, int(200 / n_groups))
                out = subprocess.run(
                    [rscript, str(tmp / "bench.R"), str(csv), lme4_term, str(reps)],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                r = json.loads(out.stdout.strip().splitlines()[-1])
                t_r, ll_r = r["seconds"], r["loglik"]
            dll = abs(res.loglik - ll_r) / abs(ll_r) if np.isfinite(ll_r) else float("nan")
            print(
                f"{model:27s} {f'{n_groups}x{size}':>8s} {t_engine * 1e3:10.2f} {t_sm * 1e3:10.1f} "
                f"{t_r * 1e3:9.1f} {t_sm / t_r:8.2f} {t_engine / t_r:9.3f} {dll:9.1e}",
                flush=True,
            )


if __name__ == "__main__":
    main()
