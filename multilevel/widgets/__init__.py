"""Explorers: sliders that change how departments differ and refit at once.

Each explorer is one call in a notebook cell and returns a widget that displays itself:

- :func:`varying_intercepts_explorer`: departments differ in base salary;
- :func:`varying_slopes_explorer`: departments differ in their raise per year;
- :func:`varying_both_explorer`: both, with the correlation between base and raise;
- :func:`shrinkage_explorer`: unbalanced departments and precision weights;
- :func:`many_samples_explorer`: truth versus estimate over many simulated samples.

Where the code is: :mod:`.explorers` (explorers 1-3), :mod:`.shrinkage`, :mod:`.many_samples`
(with its simulation study in ``_study``); what they share: ``_base`` (layout, updates, error
notes), ``_controls`` (sliders and readouts), ``_render`` (the fast PNG drawing) and ``_fitting``
(least squares, refits). Colours, sizes and tick formats come from :mod:`multilevel.style`, units
from :mod:`multilevel.units`, model names from :mod:`multilevel.specs`.

Every explorer has ``controls`` (its widgets by name: set ``.value`` or call ``.click()``),
``figure`` (matplotlib, updated in place), ``readout`` and ``note`` (HTML widgets), ``notes``
(the note sentences) and ``update()``. ``presentation=True`` (or
:func:`multilevel.style.presentation_mode`) gives projector-sized type.

>>> import multilevel as ml
>>> explorer = ml.widgets.varying_intercepts_explorer(seed=1)
>>> sorted(explorer.controls)[:3]
['base_sd', 'faculty_per_department', 'n_departments']
"""

from .explorers import (
    PoolingExplorer,
    varying_both_explorer,
    varying_intercepts_explorer,
    varying_slopes_explorer,
)
from .many_samples import ManySamplesExplorer, RunSummary, many_samples_explorer
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
