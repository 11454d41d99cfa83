"""Answers as plain data: what a student stored in ``qN``, described without trusting it.

Self-contained on purpose (numpy and pandas only): the grader loads a copy of this file inside
each sandbox to describe the answers there, and grades the descriptions in its own process.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

# --------------------------------------------------------------------------------------------
# Answers as plain data
# --------------------------------------------------------------------------------------------
AnswerKind = Literal[
    "missing", "placeholder", "none", "number", "bool", "text", "sequence", "other"
]


@dataclass(frozen=True)
class Answer:
    """What a student stored in an answer variable, as plain data (safe to send as JSON).

    Attributes
    ----------
    kind : str
        ``"missing"`` (no such variable), ``"placeholder"`` (``...``), ``"none"``, ``"number"``,
        ``"bool"``, ``"text"``, ``"sequence"`` (list, array, Series; ``values`` holds numbers or
        texts), or ``"other"`` (anything else, e.g. a DataFrame or a model result).
    value : float, bool, str, tuple or None
        The number, flag, text or tuple of values; None for the other kinds.
    type_name : str
        The Python type the student used, for messages (``"DataFrame"``, ``"list"``).
    length : int or None
        Number of values of a sequence or rows of a table.
    """

    kind: AnswerKind
    value: float | bool | str | tuple | None = None
    type_name: str = ""
    length: int | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict (NaN and infinities are written as strings)."""
        value = self.value
        if isinstance(value, float) and not math.isfinite(value):
            value = {"float": repr(value)}
        elif isinstance(value, tuple):
            value = [
                {"float": repr(v)} if isinstance(v, float) and not math.isfinite(v) else v
                for v in value
            ]
        return {
            "kind": self.kind,
            "value": value,
            "type_name": self.type_name,
            "length": self.length,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Answer:
        """Rebuild an :class:`Answer` from :meth:`to_json` output; anything malformed is "other"."""

        def number(v: Any) -> Any:
            if isinstance(v, Mapping) and set(v) == {"float"}:
                return float(v["float"])
            return v

        try:
            kind = data["kind"]
            if kind not in AnswerKind.__args__:  # type: ignore[attr-defined]
                raise ValueError(kind)
            value = data.get("value")
            if isinstance(value, list):
                value = tuple(number(v) for v in value)
            else:
                value = number(value)
            length = data.get("length")
            return cls(
                kind=kind,
                value=value,
                type_name=str(data.get("type_name", "")),
                length=int(length) if isinstance(length, int) else None,
            )
        except (KeyError, TypeError, ValueError):
            return cls(kind="other", type_name="unreadable answer")


def _plain_scalar(value: Any) -> float | str | bool | None:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, str):
        return value
    return None


def describe_answer(value: Any) -> Answer:
    """Turn whatever is stored in an answer variable into an :class:`Answer` (never raises).

    Parameters
    ----------
    value : object
        A student's answer: a number, text, ``...``, ``None``, a list, an array, a Series, ...

    Examples
    --------
    >>> describe_answer(3).kind, describe_answer(3).value
    ('number', 3.0)
    >>> describe_answer(...).kind
    'placeholder'
    """
    try:
        return _describe(value)
    except Exception:  # a student's object may misbehave in any way; describe it and move on
        return Answer(kind="other", type_name=_type_name(value))


def _type_name(value: Any) -> str:
    try:
        return type(value).__name__
    except Exception:
        return "object"


def _describe(value: Any) -> Answer:
    name = _type_name(value)
    if value is Ellipsis:
        return Answer(kind="placeholder", type_name=name)
    if value is None:
        return Answer(kind="none", type_name=name)
    if isinstance(value, (bool, np.bool_)):
        return Answer(kind="bool", value=bool(value), type_name=name)
    if isinstance(value, numbers.Real):
        return Answer(kind="number", value=float(value), type_name=name)
    if isinstance(value, str):
        return Answer(kind="text", value=str(value)[:500], type_name=name)
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return _describe(value.item())
    if isinstance(value, pd.DataFrame):
        return Answer(kind="other", type_name=name, length=len(value))
    if isinstance(value, (list, tuple, np.ndarray, pd.Series, pd.Index)):
        items = list(np.asarray(value, dtype=object).ravel()) if len(value) <= 1000 else None
        if items is None:
            return Answer(kind="other", type_name=name, length=len(value))
        plain = [_plain_scalar(v) for v in items]
        if any(p is None for p in plain):
            return Answer(kind="other", type_name=name, length=len(items))
        return Answer(kind="sequence", value=tuple(plain), type_name=name, length=len(items))
    return Answer(kind="other", type_name=name)
