"""Patients' recovery times nested in hospitals."""

from __future__ import annotations

from collections.abc import Sequence

from ._docstrings import simulator_doc
from ._lines import LineModel, simulate_lines
from ._random import Seed
from .result import SimulatedData

__all__ = ["HOSPITALS", "hospital_patients"]

# fmt: off
#: Readable hospital names, used in this order; more hospitals get "Hospital 21", ...
HOSPITALS: tuple[str, ...] = (
    "Bayview", "County General", "Eastside", "Good Samaritan", "Harbor", "Hillcrest",
    "Lakeview", "Memorial", "Mercy", "Northside", "Oakwood", "Parkland", "Pinecrest",
    "Riverside", "Sacred Heart", "St. Luke's", "Summit", "University Hospital",
    "Valley Medical", "Westside",
)
# fmt: on

HOSPITAL = LineModel(
    "hospital_patients",
    group=("hospital", "patients_per_hospital", HOSPITALS),
    line=("severity", "recovery_days", "intercept", "slope"),
)


@simulator_doc("hospital", "patients")
def hospital_patients(
    *,
    n_hospitals: int = 10,
    patients_per_hospital: int | tuple[int, int] | Sequence[int] = (20, 40),
    intercept_mean: float = 7.0,
    intercept_sd: float = 1.5,
    slope_mean: float = 1.2,
    slope_sd: float = 0.4,
    correlation: float = 0.0,
    noise_sd: float = 1.5,
    severity_range: tuple[int, int] = (0, 10),
    seed: Seed = None,
) -> SimulatedData:
    """Simulate patients' recovery times nested in hospitals, with known truth.

    Each hospital ``j`` has its own line: a recovery time for the mildest cases (intercept,
    days at severity 0) and an extra time per point of severity (slope, days per point),
    drawn together from a bivariate normal. Patient ``i`` with illness severity
    ``severity_i`` (whole points on a 0-10 style scale) recovers in::

        recovery_days_i = intercept_j[i] + slope_j[i] * severity_i + noise_i,
        noise_i ~ Normal(0, noise_sd)

    The outcome is not clipped at 0 (clipping would bend the true lines); the defaults make
    a negative recovery time very rare.

    Parameters
    ----------
    n_hospitals : int, default 10
        Number of hospitals (positive integer).
    {sizes}
    intercept_mean, intercept_sd : float, default 7.0 and 1.5
        Mean and SD across hospitals of the recovery time at severity 0, in days.
    slope_mean, slope_sd : float, default 1.2 and 0.4
        Mean and SD across hospitals of the extra recovery time per severity point, in days
        per point.
    correlation : float, default 0.0
        Correlation between a hospital's intercept and slope, in [-1, 1].
    noise_sd : float, default 1.5
        SD of patients' recovery times around their hospital's line, in days (0 allowed).
    severity_range : tuple (low, high), default (0, 10)
        Severity in whole points, drawn uniformly from the inclusive range.
    {seed}

    Returns
    -------
    SimulatedData
        ``data`` has columns ``hospital`` (categorical, categories in the order of ``truth``),
        ``severity`` (int64, points) and ``recovery_days`` (float64, days). ``truth`` is
        indexed by hospital with columns ``n`` (int64), ``intercept`` (days) and ``slope``
        (days per point). ``y="recovery_days"``, ``x="severity"``, ``group="hospital"``.

    {raises}

    Examples
    --------
    >>> sim = hospital_patients(n_hospitals=2, patients_per_hospital=[3, 5], seed=1)
    >>> sim.truth["n"].tolist()
    [3, 5]
    >>> sim.y, sim.x, sim.group
    ('recovery_days', 'severity', 'hospital')
    """
    # locals() here is exactly the arguments, by the names HOSPITAL gives.
    return simulate_lines(HOSPITAL, locals()).simulated_data()
