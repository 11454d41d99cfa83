"""Moved to :mod:`multilevel.models.engine`; this name stays for code that imports it."""

from multilevel.models.engine import (
    BOUNDARY_TOL,
    RANDOM_PARTS,
    EngineFit,
    boundary_parts,
    fit_arrays,
)

__all__ = ["BOUNDARY_TOL", "RANDOM_PARTS", "EngineFit", "boundary_parts", "fit_arrays"]
