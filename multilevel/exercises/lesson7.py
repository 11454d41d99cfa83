"""Lesson 7 exercise data: the radon survey, with a county-level predictor."""

from __future__ import annotations

import numpy as np
import pandas as pd

from multilevel.datasets import radon
from simdata import as_generator

#: How many of the survey's 85 counties a student gets (inclusive).
N_COUNTIES = (70, 80)
#: The model whose county SD must not be estimated at zero (see :func:`make_data`).
URANIUM_MODEL = "log_radon ~ floor + log_uranium + (1 | county)"


def make_data(seed: int) -> pd.DataFrame:
    """The student's data: every home of a random sample of 70 to 80 of the 85 counties.

    Real data, so there is no truth to compare with; each student's sample of counties is
    their own. About one sample in 300 puts the county SD of the model with log uranium at
    zero (a boundary fit, where a share of the county variance explained means nothing); such
    a sample is drawn again from the same generator, so the data still follow from the seed.

    Returns
    -------
    pandas.DataFrame
        One row per home, as :func:`multilevel.datasets.radon` (``county`` categorical with
        only the sampled counties, ``floor``, ``log_radon``, ``log_uranium``), index 0, 1, ...
    """
    from multilevel.models import fit  # the model layer, only when a student's data are made

    rng = as_generator(seed)
    homes = radon()
    counties = np.asarray(homes["county"].cat.categories)
    while True:
        size = int(rng.integers(N_COUNTIES[0], N_COUNTIES[1] + 1))
        chosen = rng.choice(counties, size=size, replace=False)
        sample = homes[homes["county"].isin(chosen)].reset_index(drop=True)
        sample["county"] = sample["county"].cat.remove_unused_categories()
        if not fit(URANIUM_MODEL, sample).boundary:
            return sample
