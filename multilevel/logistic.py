"""Moved to :mod:`multilevel.models.logistic`; this name stays for lessons that import it."""

from multilevel.models.logistic import LogisticFit, fit_logistic

__all__ = ["LogisticFit", "fit_logistic"]
