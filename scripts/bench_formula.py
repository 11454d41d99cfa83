"""Time formula fits: multilevel.models.lmm.fit_formula (and fit_glmm, confint) vs statsmodels vs lme4.

Every time is CPU time (``time.process_time`` in Python; user + system time in R, timed inside R
so R's start-up is not counted) and a median over repetitions. ``rel. dLL`` is
|loglik(ours) - loglik(lme4)| / |loglik(lme4)|. Rows:

- salaries G x n: ``salary ~ experience * rank + (1 + experience | department)`` on
  ``faculty_salaries`` with a three-level rank (6 fixed effects), at several sizes;
- hsb-like: 7,185 students in 160 schools, ``mathach ~ meanses * cses + sector * cses +
  (1 + cses | school)`` (6 fixed effects, two interactions, one categorical), the size of the
  High School and Beyond data lme4 takes about 106 ms for;
- sleepstudy and radon (Gelman & Hill's uranium model);
- logistic: ``admitted ~ gpa + volunteer + (1 | school)`` (glmer, nAGQ 1 and 25);
- profile: ``confint(method = "profile")`` for sleepstudy, radon, and hsb-like with 4 fixed
  effects (the issue's 12.6 s for lme4);
- bootstrap: ``confint(method = "boot", nsim = 200)`` (parametric) for sleepstudy.

Usage: ``python scripts/bench_formula.py [--markdown] [--quick] [--only LABEL]``.
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
import pandas as pd
import statsmodels.formula.api as smf

# Run as a script, this folder is on sys.path: one CPU-time helper and table for both.
from bench_table import Table, cpu_time

from multilevel.datasets import radon
from multilevel.models.glmm import fit_glmm
from multilevel.models.lmm import fit_formula
from simdata import as_generator, faculty_salaries, school_admissions

R_SCRIPT = r"""
suppressMessages(library(lme4))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], stringsAsFactors = FALSE)
f <- as.formula(args[2]); kind <- args[3]; reps <- as.integer(args[4])
cpu <- function() { t <- proc.time(); t[["user.self"]] + t[["sys.self"]] }
run <- switch(kind,
  lmm = function() lmer(f, d, REML = TRUE),
  glmm1 = function() glmer(f, d, family = binomial, nAGQ = 1),
  glmm25 = function() glmer(f, d, family = binomial, nAGQ = 25),
  profile = { m <- lmer(f, d, REML = TRUE)
              function() suppressWarnings(confint(m, method = "profile")) },
  boot = { m <- lmer(f, d, REML = TRUE)
           function() suppressWarnings(confint(m, method = "boot", nsim = 200)) })
m <- if (kind %in% c("lmm", "profile", "boot")) lmer(f, d, REML = TRUE) else run()
times <- sapply(seq_len(reps), function(i) { t0 <- cpu(); run(); cpu() - t0 })
cat(sprintf('{"seconds": %.9g, "loglik": %.12g}', median(times), as.numeric(logLik(m))))
"""


def salaries(n_groups: int, size: int) -> pd.DataFrame:
    data = faculty_salaries(
        n_departments=n_groups, faculty_per_department=size, correlation=0.3, seed=1
    ).data
    rng = as_generator(2)
    rank = rng.choice(["assistant", "associate", "full"], size=len(data))
    bonus = pd.Series(rank).map({"assistant": 0.0, "associate": 4000.0, "full": 9000.0})
    return data.assign(
        department=data["department"].astype(str), rank=rank, salary=data["salary"] + bonus.values
    )


def hsb_like() -> pd.DataFrame:
    """Simulated data the size and shape of High School and Beyond (7,185 in 160 schools)."""
    rng = as_generator(3)
    sizes = rng.integers(20, 70, 160)
    sizes = (sizes * 7185 / sizes.sum()).astype(int)
    sizes[-1] += 7185 - sizes.sum()
    g = np.repeat(np.arange(160), sizes)
    meanses = rng.normal(0, 0.4, 160)
    public = rng.random(160) < 0.56
    ses = meanses[g] + rng.normal(0, 0.7, g.size)
    cses = ses - pd.Series(ses).groupby(g).transform("mean").to_numpy()
    a, b = rng.normal(0, 1.6, 160), rng.normal(0, 0.3, 160)
    y = (12.1 + 5.3 * meanses[g] + (2.9 + 1.0 * meanses[g] - 1.6 * public[g] + b[g]) * cses
         - 1.2 * public[g] + a[g] + rng.normal(0, 6, g.size))  # fmt: skip
    return pd.DataFrame({
        "mathach": y, "meanses": meanses[g], "cses": cses,
        "sector": np.where(public[g], "Public", "Catholic"), "school": g.astype(str),
    })  # fmt: skip


def sleepstudy(tmp: Path) -> pd.DataFrame | None:
    if shutil.which("Rscript") is None:
        return None
    path = tmp / "sleepstudy.csv"
    subprocess.run(
        ["Rscript", "-e", f"write.csv(lme4::sleepstudy, '{path}', row.names = FALSE)"],
        check=True, capture_output=True,
    )  # fmt: skip
    return pd.read_csv(path).assign(Subject=lambda d: d["Subject"].astype(str))


def cases(tmp: Path, quick: bool) -> list[tuple]:
    """(label, data, formula, kind, statsmodels call or None, repetitions)."""
    rows = []
    formula = "salary ~ experience * rank + (1 + experience | department)"
    sizes = [(8, 15), (50, 50)] if quick else [(8, 15), (20, 30), (50, 50), (200, 50), (1000, 20)]
    for n_groups, size in sizes:
        data = salaries(n_groups, size)
        sm = ("salary ~ experience * rank", "department", "~experience")
        rows.append((f"salaries {n_groups}x{size}", data, formula, "lmm", sm, 20))
    rows.append(("hsb-like 160 schools", hsb_like(),
                 "mathach ~ meanses * cses + sector * cses + (1 + cses | school)", "lmm",
                 ("mathach ~ meanses * cses + sector * cses", "school", "~cses"), 10))  # fmt: skip
    sleep = sleepstudy(tmp)
    if sleep is not None:
        rows.append(("sleepstudy", sleep, "Reaction ~ Days + (Days | Subject)", "lmm",
                     ("Reaction ~ Days", "Subject", "~Days"), 20))  # fmt: skip
    uranium = "log_radon ~ floor + log_uranium + (1 | county)"
    rows.append(("radon uranium", radon(), uranium, "lmm",
                 ("log_radon ~ floor + log_uranium", "county", "~1"), 20))  # fmt: skip
    admissions = school_admissions(seed=21).data.assign(school=lambda d: d["school"].astype(str))
    for k in (1, 25):
        rows.append((f"logistic nAGQ={k}", admissions, "admitted ~ gpa + volunteer + (1 | school)",
                     f"glmm{k}", None, 5))  # fmt: skip
    if not quick:
        if sleep is not None:
            rows.append(("profile sleepstudy", sleep, "Reaction ~ Days + (Days | Subject)",
                         "profile", None, 3))  # fmt: skip
        rows.append(("profile radon uranium", radon(), uranium, "profile", None, 3))
        rows.append(("profile hsb-like 4 fixed", hsb_like(),
                     "mathach ~ meanses + cses + sector + meanses:cses + (1 + cses | school)",
                     "profile", None, 1))  # fmt: skip
        if sleep is not None:
            rows.append(("bootstrap sleepstudy 200", sleep, "Reaction ~ Days + (Days | Subject)",
                         "boot", None, 1))  # fmt: skip
    return rows


def ours(data: pd.DataFrame, formula: str, kind: str):
    if kind == "lmm":
        return lambda: fit_formula(formula, data)
    if kind.startswith("glmm"):
        return lambda: fit_glmm(formula, data, nAGQ=int(kind[4:]))
    fit = fit_formula(formula, data)
    if kind == "boot":
        return lambda: fit.confint("bootstrap", n_boot=200)
    return lambda: fit.confint("profile")


def loglik(data: pd.DataFrame, formula: str, kind: str) -> float:
    if kind.startswith("glmm"):
        return fit_glmm(formula, data, nAGQ=int(kind[4:])).loglik
    return fit_formula(formula, data).loglik


def lme4(tmp: Path, data: pd.DataFrame, formula: str, kind: str, reps: int) -> tuple[float, float]:
    if shutil.which("Rscript") is None:
        return float("nan"), float("nan")
    csv = tmp / "data.csv"
    data.to_csv(csv, index=False, float_format="%.17g")
    out = subprocess.run(
        ["Rscript", str(tmp / "bench.R"), str(csv), formula, kind, str(reps)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return result["seconds"], result["loglik"]


def statsmodels_time(data: pd.DataFrame, sm: tuple | None, reps: int) -> float:
    if sm is None:
        return float("nan")
    fixed, group, re_formula = sm

    def fit():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            smf.mixedlm(fixed, data, groups=group, re_formula=re_formula).fit(reml=True)

    return cpu_time(fit, reps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer sizes, no profiles")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--only", default="", help="run only the cases whose label has this")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    (tmp / "bench.R").write_text(R_SCRIPT)
    columns = ["case", "ours ms", "statsm ms", "lme4 ms", "ours/lme4", "sm/lme4", "rel. dLL"]
    table = Table(columns, markdown=args.markdown, first_width=26)
    for label, data, formula, kind, sm, reps in cases(tmp, args.quick):
        if args.only not in label:
            continue
        t_ours = cpu_time(ours(data, formula, kind), reps)
        big = len(data) > 5000
        t_sm = statsmodels_time(data, sm, 1 if big or args.quick else 3)
        t_r, ll_r = lme4(tmp, data, formula, kind, reps)
        dll = abs(loglik(data, formula, kind) - ll_r) / abs(ll_r)
        row = [label, f"{t_ours * 1e3:.1f}", f"{t_sm * 1e3:.1f}", f"{t_r * 1e3:.1f}",
               f"{t_ours / t_r:.3f}", f"{t_sm / t_r:.2f}", f"{dll:.1e}"]  # fmt: skip
        table.row(row)


if __name__ == "__main__":
    main()
