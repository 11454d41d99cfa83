"""Explorers: sliders that change how departments differ and refit at once.

Each explorer is one call in a notebook cell and returns a widget that displays itself:

>>> import multilevel as ml
>>> explorer = ml.widgets.varying_intercepts_explorer(seed=1)
>>> sorted(explorer.controls)[:3]
['base_sd', 'faculty_per_department', 'n_departments']
"""

from .many_samples import ManySamplesExplorer, RunSummary, many_samples_explorer
from .pooling import (
    PoolingExplorer,
    varying_both_explorer,
    varying_intercepts_explorer,
    varying_slopes_explorer,
)
from .shrinkage import ShrinkageExplorer, shrinkage_explorer

__all__ = [
    "ManySamplesExplorer",
    "RunSummary",
    "many_samples_explorer",
    "ShrinkageExplorer",
    "shrinkage_explorer",
    "PoolingExplorer",
    "varying_both_explorer",
    "varying_intercepts_explorer",
    "varying_slopes_explorer",
]
