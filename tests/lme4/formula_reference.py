"""Run lme4 on formula models (``fit_formula_lme4.R``) and read back what it reports.

The data sets: simulated faculty salaries with several predictors (a categorical one, a
department-level one, an interaction), lme4's own ``sleepstudy`` (exported from R here), the
shipped radon data (Gelman & Hill ch. 12), and simulated admissions for the logistic model.
Each case pairs our formula with lme4's spelling of the same model (they differ only in
transformations, e.g. ``np.log`` against ``log``).
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from multilevel.datasets import radon
from simdata import as_generator, faculty_salaries, school_admissions

SCRIPT = Path(__file__).with_name("fit_formula_lme4.R")


@dataclass(frozen=True)
class Case:
    """One fit: our formula, lme4's, the data set, REML or ML, and the family."""

    id: str
    dataset: str
    formula: str
    r_formula: str
    reml: bool = True
    family: str = "gaussian"
    nagq: int = 1
    profile: bool = False
    boot: int = 0


def salaries() -> pd.DataFrame:
    """Faculty salaries with a rank (categorical), publications, and a department's size."""
    sim = faculty_salaries(
        n_departments=20, faculty_per_department=(10, 30), raise_sd=400, correlation=0.5, seed=11
    )
    data = sim.data.copy()
    rng = as_generator(12)
    n, codes = len(data), data["department"].cat.codes.to_numpy()
    data["rank"] = rng.choice(["assistant", "associate", "full"], size=n)
    data["publications"] = rng.poisson(6, size=n).astype(float)
    size = rng.integers(10, 60, size=20).astype(float)
    data["size"] = size[codes]
    pub_slopes = rng.normal(0, 150, size=20)[codes]
    bonus = data["rank"].map({"assistant": 0.0, "associate": 4000.0, "full": 9000.0})
    data["salary"] = (
        data["salary"]
        + bonus
        + (300 + pub_slopes) * data["publications"]
        + 80 * data["size"]
        + 40 * data["experience"] * (data["rank"] == "full")
    )
    data["department"] = data["department"].astype(str)
    return data


def admissions() -> pd.DataFrame:
    sim = school_admissions(seed=21)
    data = sim.data.copy()
    data[sim.group] = data[sim.group].astype(str)
    return data


def sleepstudy(workdir: Path) -> pd.DataFrame:
    """lme4's sleepstudy, exported by R itself."""
    path = workdir / "sleepstudy.csv"
    subprocess.run(
        ["Rscript", "-e", f"write.csv(lme4::sleepstudy, '{path}', row.names = FALSE)"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    data = pd.read_csv(path)
    data["Subject"] = data["Subject"].astype(str)
    return data


#: Where lme4 spells one of :data:`FORMULAS` differently (R's functions for numpy's).
IN_R = {
    "salary ~ C(rank) + np.log(experience + 1) + (1 | department)":
        "salary ~ rank + log(experience + 1) + (1 | department)",
    "np.log(salary) ~ experience + (1 | department)":
        "log(salary) ~ experience + (1 | department)",
    "salary ~ C(rank, Treatment('full')) + I(experience**2) + (1 | department)":
        "salary ~ relevel(factor(rank), 'full') + I(experience^2) + (1 | department)",
}  # fmt: skip

#: The formulas compared with lme4, by data set.
FORMULAS = {
    "salaries": [
        "salary ~ experience * rank + size + (1 + experience | department)",
        "salary ~ experience + size + (1 | department)",
        "salary ~ experience + rank + (1 + experience || department)",
        "salary ~ experience + (1 | department) + (0 + experience | department)",
        "salary ~ experience + publications + (1 + experience + publications | department)",
        "salary ~ C(rank) + np.log(experience + 1) + (1 | department)",
        "np.log(salary) ~ experience + (1 | department)",
        "salary ~ 0 + experience + rank + (1 | department)",
        "salary ~ experience + (1 + rank | department)",
        "salary ~ experience + (0 + rank | department)",
        "salary ~ rank/experience + (1 | department)",
        "salary ~ C(rank, Treatment('full')) + I(experience**2) + (1 | department)",
    ],
    "salaries_na": [
        "salary ~ experience + publications + (1 + experience + publications || department)",
    ],
    "sleepstudy": [
        "Reaction ~ Days + (Days | Subject)",
        "Reaction ~ Days + (Days || Subject)",
        "Reaction ~ 1 + (1 | Subject)",
    ],
    "radon": [
        "log_radon ~ floor + log_uranium + (1 | county)",
        "log_radon ~ floor + (1 | county)",
        "log_radon ~ floor + log_uranium + (1 + floor | county)",
        # Lesson 7's within- and between-county model (floor_mean: the county mean of floor).
        "log_radon ~ floor + floor_mean + log_uranium + (1 | county)",
    ],
}


def cases() -> list[Case]:
    """The formulas compared with lme4, each by REML and by ML (numbered across data sets)."""
    every = [(dataset, formula) for dataset, formulas in FORMULAS.items() for formula in formulas]
    out = []
    for i, (dataset, formula) in enumerate(every):
        for reml in (True, False):
            out.append(
                Case(
                    id=f"{dataset}{i}-{'REML' if reml else 'ML'}: {formula}",
                    dataset=dataset,
                    formula=formula,
                    r_formula=IN_R.get(formula, formula),
                    reml=reml,
                )
            )
    return out


def profile_cases() -> list[Case]:
    """Models whose profile intervals are compared (lme4 takes a second or two for each)."""
    return [
        Case("profile sleepstudy", "sleepstudy", "Reaction ~ Days + (Days | Subject)",
             "Reaction ~ Days + (Days | Subject)", profile=True),
        Case("profile radon", "radon", "log_radon ~ floor + log_uranium + (1 | county)",
             "log_radon ~ floor + log_uranium + (1 | county)", profile=True),
        # Lesson 7's county SD before uranium (the one after is the case above).
        Case("profile radon, floor only", "radon", "log_radon ~ floor + (1 | county)",
             "log_radon ~ floor + (1 | county)", profile=True),
        Case("profile salaries ||", "salaries",
             "salary ~ experience + rank + (1 + experience || department)",
             "salary ~ experience + rank + (1 + experience || department)", profile=True),
    ]  # fmt: skip


def boot_cases() -> list[Case]:
    """A parametric bootstrap with lme4's bootMer (500 replicates, a few seconds in R)."""
    formula = "Reaction ~ Days + (Days | Subject)"
    return [Case("boot sleepstudy", "sleepstudy", formula, formula, boot=500)]


def glmm_cases() -> list[Case]:
    """Logistic models with a random intercept, by Laplace and by 25-point quadrature."""
    formula = "admitted ~ gpa + volunteer + (1 | school)"
    # Profile intervals for the Laplace fit only: glmer's profile takes 10 to 20 s per fit.
    return [
        Case(f"glmm nAGQ={k}", "admissions", formula, formula, family="binomial", nagq=k,
             profile=k == 1)
        for k in (1, 25)
    ]  # fmt: skip


def datasets(workdir: Path) -> dict[str, pd.DataFrame]:
    with_gaps = salaries()
    # Every 17th publications count missing: both sides must drop the same 24 rows.
    with_gaps.loc[with_gaps.index[::17], "publications"] = np.nan
    return {
        "salaries": salaries(),
        "salaries_na": with_gaps,
        "sleepstudy": sleepstudy(workdir),
        # With lesson 7's county mean of floor, the share of a county's homes measured on the
        # first floor.
        "radon": radon().assign(
            floor_mean=lambda d: d.groupby("county", observed=True)["floor"].transform("mean")
        ),
        "admissions": admissions(),
    }


def run_lme4(
    all_cases: list[Case], data: dict[str, pd.DataFrame], workdir: Path
) -> dict[str, dict]:
    """Fit every case with lme4 (one R session); returns id -> what lme4 reports."""
    spec = []
    for name, frame in data.items():
        # 17 significant digits: R reads back exactly the doubles that Python fits.
        frame.to_csv(workdir / f"{name}.csv", index=False, float_format="%.17g")
    for case in all_cases:
        spec.append(
            {
                "id": case.id,
                "csv": str(workdir / f"{case.dataset}.csv"),
                "formula": case.r_formula,
                "reml": case.reml,
                "family": case.family,
                "nAGQ": case.nagq,
                "profile": case.profile,
                "boot": case.boot,
            }
        )
    (workdir / "cases.json").write_text(json.dumps(spec, indent=1))
    out = workdir / "lme4_formula.json"
    completed = subprocess.run(
        ["Rscript", str(SCRIPT), str(workdir / "cases.json"), str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{SCRIPT.name} failed:\n{completed.stdout}\n{completed.stderr}")
    fits = json.loads(out.read_text())["fits"]
    for fit in fits.values():
        for key, value in fit.items():
            if isinstance(value, list) and len(value) == 1 and key in _SCALARS:
                fit[key] = value[0]
        fit["coef"] = np.array(fit["coef"], dtype=float)
    return fits


_SCALARS = {"residual_sd", "loglik", "aic", "bic", "singular", "n_obs", "n_groups"}
