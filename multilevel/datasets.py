"""Real data sets that ship with the course.

The course mostly uses simulated data (``simdata``), where the truth is known. One real data set
lets students check their fits against a published analysis:

- :func:`radon`: Gelman & Hill's Minnesota radon survey (919 homes in 85 counties).
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

__all__ = ["radon"]


def radon() -> pd.DataFrame:
    """Load the Minnesota radon survey analysed by Gelman & Hill (2007, chapter 12).

    Radon is a radioactive gas that seeps into homes from the ground. The US Environmental
    Protection Agency measured it in 919 Minnesota homes in 85 counties. Homes are nested in
    counties, the classic example of partial pooling.

    Returns
    -------
    pandas.DataFrame
        One row per home, 919 rows, columns:

        - ``county`` (category): the county, 85 levels in alphabetical order (``"AITKIN"``, ...).
        - ``floor`` (int64): where radon was measured, 0 = basement, 1 = first floor.
        - ``log_radon`` (float64): natural log of the radon level in picocuries per litre (pCi/L).
          Gelman & Hill replaced readings of 0 by 0.1 pCi/L before taking the log.
        - ``log_uranium`` (float64): natural log of the county's soil uranium level (parts per
          million); a county-level predictor, the same for every home in a county.

        The source (a file shipped in the ArviZ package) is named in ``multilevel/data/README.md``.

    Examples
    --------
    >>> from multilevel.datasets import radon
    >>> homes = radon()
    >>> homes.shape, homes["county"].nunique()
    ((919, 4), 85)
    """
    source = resources.files("multilevel") / "data" / "radon.csv"
    with source.open("r", encoding="utf-8") as handle:
        homes = pd.read_csv(
            handle,
            dtype={"county": "str", "floor": "int64", "log_radon": "float64"},
        )
    homes["county"] = pd.Categorical(homes["county"], categories=sorted(homes["county"].unique()))
    homes["log_uranium"] = homes["log_uranium"].astype("float64")
    return homes
