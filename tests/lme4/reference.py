"""Run R's lme4 on the course's data sets and read back what it reports.

``fit_lme4.R`` (next to this file) does the fitting; this module chooses the data sets, writes
them as CSV, calls ``Rscript`` once and parses its JSON into :class:`Lme4Fit` records. The
comparison is live: lme4 refits on every test run, so nothing here is a frozen copy of its output.

Example
-------
>>> datasets = reference_datasets()
>>> fits = run_lme4(datasets, tmp_path)                       # doctest: +SKIP
>>> sorted(fits["balanced", "varying_both", True].group_sd)   # doctest: +SKIP
['intercept', 'slope']
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from multilevel.datasets import radon
from simdata import faculty_salaries

SCRIPT = Path(__file__).with_name("fit_lme4.R")
INSTALL_HINT = "apt-get install r-cran-lme4"

#: The models fitted by fit_lme4.R, named as in multilevel.MODELS.
MODELS: tuple[str, ...] = (
    "varying_intercepts",
    "varying_slopes",
    "varying_both",
    "varying_both_uncorrelated",
)
#: Fitted by fit_lme4.R as well: y ~ 1 + (1 | group), no predictor at all.
NO_PREDICTOR = "varying_intercepts_no_predictor"


@dataclass(frozen=True)
class Dataset:
    """One data set to fit: the data and which columns are outcome, predictor and group."""

    data: pd.DataFrame
    y: str
    x: str
    group: str
    description: str


@dataclass(frozen=True)
class Lme4Fit:
    """What lme4 reports for one fit (``REML`` or ML), in the names of ``multilevel.FitResult``."""

    dataset: str
    model: str
    reml: bool
    fixed_effects: pd.DataFrame  # index intercept, slope; columns estimate, std_error
    group_sd: dict[str, float]  # keys intercept and/or slope
    correlation: float | None
    residual_sd: float
    loglik: float
    aic: float
    bic: float
    singular: bool  # lme4's isSingular(): a group SD (or a correlation) on its boundary
    n_obs: int
    n_groups: int
    group_lines: pd.DataFrame  # index group; intercept, slope, intercept_se, slope_se


def reference_datasets() -> dict[str, Dataset]:
    """The fixed, seeded data sets that ``multilevel.fit`` is compared on with lme4.

    Salaries are in $, experience in years. Each one stresses a different part of the fit.
    """
    salaries = {"y": "salary", "x": "experience", "group": "department"}
    return {
        "balanced": Dataset(
            faculty_salaries(n_departments=8, faculty_per_department=20, seed=101).data,
            **salaries,
            description="8 departments of 20, the course's default population",
        ),
        "unbalanced": Dataset(
            faculty_salaries(n_departments=12, faculty_per_department=(3, 40), seed=202).data,
            **salaries,
            description="12 departments of 3 to 40: shrinkage differs by group size",
        ),
        "near_boundary": Dataset(
            faculty_salaries(
                n_departments=10, faculty_per_department=15, base_sd=50, raise_sd=20, seed=303
            ).data,
            **salaries,
            description="department SDs tiny next to the $5,000 noise: estimates at or near 0",
        ),
        "small_sd": Dataset(
            faculty_salaries(
                n_departments=10, faculty_per_department=15, base_sd=1500, raise_sd=80, seed=506
            ).data,
            **salaries,
            description="small but non-zero department SDs; varying_both puts the correlation at +1",
        ),
        "correlated": Dataset(
            faculty_salaries(
                n_departments=15,
                faculty_per_department=(10, 30),
                raise_sd=400,
                correlation=0.6,
                seed=404,
            ).data,
            **salaries,
            description="15 departments, base and raise correlated at 0.6",
        ),
        "radon": Dataset(
            radon(),
            y="log_radon",
            x="floor",
            group="county",
            description="Gelman & Hill's radon: 919 homes in 85 counties, a 0/1 predictor",
        ),
    }


def lme4_missing() -> str | None:
    """Why lme4 cannot be run here, or None when it can."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        return f"Rscript is not installed; install R and lme4 with `{INSTALL_HINT}`"
    check = subprocess.run(
        [rscript, "-e", "library(lme4); library(jsonlite)"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check.returncode != 0:
        return f"R cannot load lme4 or jsonlite ({check.stderr.strip()}); `{INSTALL_HINT}`"
    return None


def run_lme4(datasets: dict[str, Dataset], workdir: Path) -> dict[tuple[str, str, bool], Lme4Fit]:
    """Fit every model to every data set with lme4, by REML and by ML.

    Returns a mapping ``(dataset, model, reml) -> Lme4Fit``.
    """
    data_dir = workdir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    for name, dataset in datasets.items():
        table = pd.DataFrame(
            {
                "y": dataset.data[dataset.y].to_numpy(dtype=float),
                "x": dataset.data[dataset.x].to_numpy(dtype=float),
                "group": dataset.data[dataset.group].astype(str).to_numpy(),
            }
        )
        # 17 significant digits: R reads back exactly the doubles that Python fits.
        table.to_csv(data_dir / f"{name}.csv", index=False, float_format="%.17g")
    out = workdir / "lme4.json"
    completed = subprocess.run(
        ["Rscript", str(SCRIPT), str(data_dir), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{SCRIPT.name} failed:\n{completed.stdout}\n{completed.stderr}")
    return parse_lme4_json(json.loads(out.read_text()))


def parse_lme4_json(raw: dict) -> dict[tuple[str, str, bool], Lme4Fit]:
    """Turn fit_lme4.R's JSON into :class:`Lme4Fit` records."""
    fits = {}
    for fit in raw["fits"]:
        fixed = pd.DataFrame(fit["fixed_effects"]).set_index("term")
        lines = pd.DataFrame(fit["group_lines"]).set_index("group")
        for column in ["intercept", "slope", "intercept_se", "slope_se"]:
            # jsonlite leaves out missing values; they are NaN here as in FitResult.group_lines.
            if column not in lines:
                lines[column] = np.nan
            lines[column] = lines[column].astype(float)
        correlation = fit.get("correlation")
        record = Lme4Fit(
            dataset=fit["dataset"],
            model=fit["model"],
            reml=bool(fit["reml"]),
            fixed_effects=fixed[["estimate", "std_error"]].astype(float),
            group_sd={part: float(sd) for part, sd in fit["group_sd"].items()},
            correlation=None if correlation is None else float(correlation),
            residual_sd=float(fit["residual_sd"]),
            loglik=float(fit["loglik"]),
            aic=float(fit["aic"]),
            bic=float(fit["bic"]),
            singular=bool(fit["singular"]),
            n_obs=int(fit["n_obs"]),
            n_groups=int(fit["n_groups"]),
            group_lines=lines[["intercept", "slope", "intercept_se", "slope_se"]],
        )
        fits[record.dataset, record.model, record.reml] = record
    return fits
