"""Time per fit of each mixed model: the exact engine vs plain statsmodels vs lme4 (R).

Usage: ``python scripts/bench_models.py [--quick] [--markdown]``. Prints one row per model and
size (groups x observations per group): CPU milliseconds per fit for ``multilevel.fit`` (the
whole call: validation, engine, tables), for the bare engine (``engine.fit_arrays``), for plain
``statsmodels`` MixedLM (default optimiser) and for R's lme4 (``lmer``, REML), the ratios to
lme4, and the largest relative difference in log-likelihood between ``multilevel.fit`` and
lme4. Every time is CPU time (``time.process_time`` in Python, user + system time in R) and a
median over repetitions, so a busy machine slows the wall clock but not the comparison. lme4 is
timed inside R, so R's start-up is not counted. statsmodels at 200 and 1000 groups takes seconds
per fit, so it gets a single repetition there. Not a test: timings depend on the machine; rerun
it after changing the engine.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path

import numpy as np
import statsmodels.formula.api as smf

# Run as a script, this folder is on sys.path.
from bench_table import Table, cpu_time

import multilevel as ml
from multilevel import specs
from multilevel.models import engine
from simdata import faculty_salaries

SIZES = [(8, 15), (20, 30), (50, 50), (200, 50), (1000, 20)]
#: The mixed models, with their lme4 formula and statsmodels arguments from the one table.
MODELS = {
    name: (
        spec.lme4_formula("salary", "experience", "department"),
        {"re_formula": spec.re_formula.format(x="experience")}
        | ({"vc_formula": {"experience": spec.vc_formula.format(x="experience")}}
           if spec.vc_formula else {}),
        spec.random,
    )
    for name, spec in specs.MODELS.items()
    if spec.mixed
}  # fmt: skip
R_SCRIPT = r"""
suppressMessages(library(lme4))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1]); d$department <- factor(d$department)
reps <- as.integer(args[3])
f <- as.formula(args[2])
m <- lmer(f, d, REML = TRUE)
cpu <- function() { t <- proc.time(); t[["user.self"]] + t[["sys.self"]] }
block <- max(1L, reps %/% 5L)
times <- sapply(1:5, function(b) {
  t0 <- cpu(); for (i in seq_len(block)) lmer(f, d, REML = TRUE); (cpu() - t0) / block
})
cat(sprintf('{"seconds": %.9g, "loglik": %.12g}', median(times), as.numeric(logLik(m))))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two small sizes, no statsmodels")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args()
    sizes = SIZES[:2] if args.quick else SIZES
    rscript = shutil.which("Rscript")
    tmp = Path(tempfile.mkdtemp())
    (tmp / "bench.R").write_text(R_SCRIPT)
    columns = ["model", "size", "fit ms", "engine ms", "statsm ms", "lme4 ms", "sm/lme4",
               "fit/lme4", "rel. dLL"]  # fmt: skip
    table = Table(columns, markdown=args.markdown, first_width=27)
    for model, (lme4_formula, sm_kwargs, random) in MODELS.items():
        for n_groups, size in sizes:
            sim = faculty_salaries(
                n_departments=n_groups, faculty_per_department=size, correlation=0.3, seed=1
            )
            data = sim.data.assign(department=sim.data["department"].astype(str))
            res = ml.fit(sim, model=model)
            x = sim.data["experience"].to_numpy(float)
            y = sim.data["salary"].to_numpy(float)
            codes = sim.data["department"].cat.codes.to_numpy()
            reps = 200 if n_groups <= 50 else 20
            t_fit = cpu_time(lambda sim=sim, model=model: ml.fit(sim, model=model), reps)
            t_engine = cpu_time(
                lambda x=x, y=y, codes=codes, random=random: engine.fit_arrays(
                    x, y, codes, random=random
                ),
                reps,
            )
            t_sm = float("nan")
            if not args.quick:

                def sm_fit(data=data, sm_kwargs=sm_kwargs):
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        smf.mixedlm(
                            "salary ~ experience", data, groups="department", **sm_kwargs
                        ).fit(reml=True)

                t_sm = cpu_time(sm_fit, 3 if n_groups <= 50 else 1)
            t_r, ll_r = float("nan"), float("nan")
            if rscript:
                csv = tmp / "d.csv"
                data.to_csv(csv, index=False)
                out = subprocess.run(
                    [rscript, str(tmp / "bench.R"), str(csv), lme4_formula,
                     str(max(5, int(2000 / n_groups)))],
                    capture_output=True, text=True, check=True,
                )  # fmt: skip
                r = json.loads(out.stdout.strip().splitlines()[-1])
                t_r, ll_r = r["seconds"], r["loglik"]
            dll = abs(res.loglik - ll_r) / abs(ll_r) if np.isfinite(ll_r) else float("nan")
            row = [model, f"{n_groups}x{size}", f"{t_fit * 1e3:.2f}", f"{t_engine * 1e3:.2f}",
                   f"{t_sm * 1e3:.1f}", f"{t_r * 1e3:.1f}", f"{t_sm / t_r:.2f}",
                   f"{t_fit / t_r:.3f}", f"{dll:.1e}"]  # fmt: skip
            table.row(row)


if __name__ == "__main__":
    main()
