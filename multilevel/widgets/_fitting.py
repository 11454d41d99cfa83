"""The fits behind the explorers: numpy least squares for the pooling lines, ml.fit for the rest.

Complete pooling (one line) and no pooling (a separate least-squares fit per department, by
:mod:`multilevel.models.least_squares`) are closed-form sums over groups, well under a
millisecond.
Partial pooling always goes through :func:`multilevel.fit`, warm-started from the previous fit.
Every refit runs inside :func:`single_threaded_blas`.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from threadpoolctl import ThreadpoolController

import multilevel as ml
import simdata
from multilevel.models import FitResult
from multilevel.models.least_squares import no_pooling_estimates

__all__ = [
    "arrays",
    "Lines",
    "complete_pooling",
    "no_pooling",
    "fit_partial",
    "PartialFit",
    "single_threaded_blas",
    "spread_looks_zero",
]

_TINY = 1e-12

_controller: ThreadpoolController | None = None
_blas_lock = threading.Lock()
_blas_users = 0
_blas_limit: Any = None


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """A context in which BLAS (OpenBLAS) runs on one thread.

    The refits are many tiny linear-algebra problems; with a multi-threaded BLAS they spend
    most of their wall time waking and parking BLAS threads (on a busy 2-core machine a fit
    measured several times slower). Entering the context costs about 0.03 ms.

    The BLAS thread count is process-wide, and the kernel's thread and a background run may be
    inside the context at once: the first one in sets the limit and the last one out restores
    the previous count, so overlapping uses never leave the wrong count behind.
    """
    global _controller, _blas_users, _blas_limit
    with _blas_lock:
        if _controller is None:
            import scipy.optimize  # noqa: F401 - load scipy's BLAS so the controller sees it

            _controller = ThreadpoolController()
        if _blas_users == 0:
            _blas_limit = _controller.limit(limits=1, user_api="blas")
        _blas_users += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_users -= 1
            if _blas_users == 0:
                _blas_limit.restore_original_limits()
                _blas_limit = None


def arrays(sim: simdata.SimulatedData) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """``x``, ``y`` (float arrays), integer group codes and the number of groups of a simulation."""
    data = sim.data
    x = np.array(data[sim.x], dtype=float)
    y = np.array(data[sim.y], dtype=float)
    codes = np.array(data[sim.group].cat.codes, dtype=np.intp)
    return x, y, codes, len(sim.truth)


@dataclass(frozen=True)
class Lines:
    """One line per group: ``intercept`` ($ at 0 years) and ``slope`` ($ per year) arrays.

    NaN marks a line that the data cannot determine (for example a department with one person).
    """

    intercept: np.ndarray
    slope: np.ndarray

    @property
    def defined(self) -> np.ndarray:
        return np.isfinite(self.intercept) & np.isfinite(self.slope)


def complete_pooling(x: np.ndarray, y: np.ndarray, n_groups: int) -> Lines:
    """One least-squares line for everybody, repeated for each of ``n_groups`` groups."""
    xm, ym = x.mean(), y.mean()
    sxx = float(((x - xm) ** 2).sum())
    slope = float(((x - xm) * (y - ym)).sum() / sxx) if sxx > _TINY else np.nan
    intercept = ym - slope * xm if np.isfinite(slope) else np.nan
    return Lines(np.full(n_groups, intercept), np.full(n_groups, slope))


def no_pooling(
    x: np.ndarray, y: np.ndarray, codes: np.ndarray, n_groups: int, varying: str
) -> Lines:
    """Separate least-squares fits per group (the ``no_pooling`` model of :func:`multilevel.fit`).

    ``varying="intercepts"``: a separate intercept per group and one common slope (the
    department-dummy regression). ``"slopes"``: one common intercept and a separate slope per
    group. ``"both"``: a separate line per group. The fit is
    :func:`multilevel.models.least_squares.no_pooling_estimates`, from group sums.
    """
    estimates = no_pooling_estimates(x, y, codes, n_groups, varying)
    return Lines(estimates.intercept, estimates.slope)


def spread_looks_zero(sd: float, residual_sd: float, part: str = "intercept") -> bool:
    """Whether an estimated spread between departments is "no difference" in the notes.

    The explorers' one rule, in dollars: below a thousandth of the residual SD (of $1 at least)
    for base salaries, and a twentieth of that for raises ($ per year of about 20 years).

    Example
    -------
    >>> spread_looks_zero(0.5, 5_000.0), spread_looks_zero(800.0, 5_000.0)
    (True, False)
    """
    scale = 1.0 if part == "intercept" else 0.05
    return bool(np.isfinite(sd)) and sd <= 1e-3 * max(residual_sd, 1.0) * scale


@dataclass(frozen=True)
class PartialFit:
    """The outcome of one partial-pooling fit: the result (or None) and notes for the learner."""

    result: FitResult | None
    notes: tuple[str, ...]
    lines: Lines | None


def fit_partial(
    sim: simdata.SimulatedData, model: str, start: FitResult | None = None
) -> PartialFit:
    """Fit ``model`` with :func:`multilevel.fit`, catching errors and warnings as notes."""
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = ml.fit(sim, model=model, start=start)
        except ValueError as exc:
            if start is None:
                return PartialFit(
                    None, (f"The partial-pooling model could not be fitted: {exc}",), None
                )
            try:
                result = ml.fit(sim, model=model)
            except ValueError as exc2:
                return PartialFit(
                    None, (f"The partial-pooling model could not be fitted: {exc2}",), None
                )
    for w in caught:
        message = str(w.message).split("\n")[0]
        notes.append(
            f"The fit reported a numerical difficulty ({w.category.__name__}: {message}); "
            "treat the partial-pooling estimates with care."
        )
    notes.extend(result.notes)
    lines = result.group_lines.reindex(sim.truth.index)
    return PartialFit(
        result,
        tuple(notes),
        Lines(lines["intercept"].to_numpy(float), lines["slope"].to_numpy(float)),
    )
