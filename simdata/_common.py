"""Pieces shared by the simulators: group names and columns, the truth frame, sizes as given."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def group_names(n: int, readable: Sequence[str], fallback: str) -> list[str]:
    """``n`` readable names; past the end of ``readable``, ``"{fallback} {i}"`` (1-based)."""
    names = list(readable[:n])
    names += [f"{fallback} {i}" for i in range(len(names) + 1, n + 1)]
    return names


def group_column(names: list[str], sizes: np.ndarray) -> tuple[pd.Categorical, np.ndarray]:
    """The group column (categorical, categories in ``names`` order) and the integer codes."""
    codes = np.repeat(np.arange(len(names)), sizes)
    return pd.Categorical.from_codes(codes, categories=names), codes


def truth_frame(
    group: str, names: list[str], sizes: np.ndarray, **columns: np.ndarray
) -> pd.DataFrame:
    """One row per group, indexed by group name (index name = ``group``)."""
    frame = pd.DataFrame(
        {
            "n": sizes.astype(np.int64),
            **{k: np.asarray(v, dtype=np.float64) for k, v in columns.items()},
        },
        index=pd.Index(names, name=group),
    )
    return frame


def sizes_as_given(spec: object) -> int | tuple[int, ...]:
    """A validated size specification as the caller gave it, made immutable for ``population``."""
    if isinstance(spec, (int, np.integer)):
        return int(spec)
    return tuple(int(s) for s in spec)  # type: ignore[union-attr]
