"""Units of the course's columns and how amounts are written, without matplotlib.

Which unit a column is in (``salary`` in $, ``experience`` in years), the axis label and slope
unit that follow from it, and one way to write numbers and amounts of money: the summaries of
fitted models, the tick labels of figures, the readouts of the explorers and the feedback on
exercises all format through :func:`format_number` and :func:`format_amount`.

Example
-------
>>> from multilevel import units
>>> units.unit_of("salary"), units.axis_label("experience")
('$', 'Experience (years)')
>>> units.format_amount(-1_500.0), units.format_amount(60_000, style="short")
('-$1,500', '$60k')
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal

__all__ = [
    "NumberStyle",
    "axis_label",
    "display_name",
    "format_amount",
    "format_number",
    "is_money",
    "money_prefix",
    "per_unit_of",
    "slope_unit",
    "unit_of",
]

# Known columns -> unit shown in the axis label. Keys are normalised (lower case, "_" for
# any run of non-alphanumerics) so "log.radon" and "log_radon" both match.
_UNITS: Mapping[str, str] = MappingProxyType(
    {
        "salary": "$",
        "income": "$",
        "wage": "$",
        "earnings": "$",
        "cost": "$",
        "base": "$",
        "experience": "years",
        "age": "years",
        "years": "years",
        "tenure": "years",
        "log_radon": "log pCi/L",
        "radon": "pCi/L",
        "floor": "0 = basement, 1 = first floor",
        "log_uranium": "log ppm",
        "uranium": "ppm",
        "gpa": "grade points",
        "volunteer": "activities",
        "admitted": "probability",
        "length_of_stay": "days",
        "stay": "days",
        "days": "days",
        "severity": "points",
        "recovery": "days",
        "recovery_days": "days",
        "points": "points",
        "satisfaction": "score",
        "blood_pressure": "mmHg",
        "systolic": "mmHg",
        "weight": "kg",
        "height": "cm",
    }
)

# Nicer names than the column's own for a few known columns.
_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "log_radon": "Log radon",
        "gpa": "GPA",
        "length_of_stay": "Length of stay",
        "recovery_days": "Recovery time",
    }
)

_SINGULAR: Mapping[str, str] = MappingProxyType(
    {
        "years": "year",
        "days": "day",
        "points": "point",
        "grade points": "grade point",
        "activities": "activity",
    }
)

#: How :func:`format_number` writes a number:
#: ``"summary"`` 3 significant digits below 1, cents below 100, whole numbers above;
#: ``"fixed"`` ``digits`` decimals; ``"significant"`` ``digits`` significant digits, whole
#: numbers from ``10 ** (digits - 1)`` on; ``"tick"`` whole numbers or cents;
#: ``"short"`` thousands as ``k`` and millions as ``M``, else as ``"tick"``.
NumberStyle = Literal["summary", "fixed", "significant", "tick", "short"]


def _normalise(column: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", str(column).lower()).strip("_")


def unit_of(column: str | None) -> str | None:
    """Return the unit of a known column (``"$"``, ``"years"``, ...) or ``None``.

    Example
    -------
    >>> unit_of("salary"), unit_of("experience"), unit_of("shoe_size")
    ('$', 'years', None)
    """
    if column is None:
        return None
    return _UNITS.get(_normalise(column))


def is_money(unit: str | None) -> bool:
    """True for a unit in dollars: ``"$"`` or a rate such as ``"$ per year of experience"``.

    Example
    -------
    >>> is_money("$"), is_money("$ per year of experience"), is_money("years"), is_money(None)
    (True, True, False, False)
    """
    return unit is not None and (unit == "$" or unit.startswith("$ "))


def money_prefix(column: str | None) -> str:
    """``"$"`` for a column in dollars, otherwise ``""``: the prefix of its amounts in text.

    Example
    -------
    >>> money_prefix("salary"), money_prefix("log_radon")
    ('$', '')
    """
    return "$" if is_money(unit_of(column)) else ""


def display_name(column: str) -> str:
    """The column's name for people: ``"log.radon"`` -> ``"Log radon"``, ``"gpa"`` -> ``"GPA"``.

    Example
    -------
    >>> display_name("years_of_service")
    'Years of service'
    """
    key = _normalise(column)
    if key in _NAMES:
        return _NAMES[key]
    text = re.sub(r"[_.]+", " ", str(column)).strip()
    return text[:1].upper() + text[1:]


def axis_label(column: str, *, unit: str | None = None) -> str:
    """An axis label from a column name, with its unit: ``"Salary ($)"``.

    Parameters
    ----------
    column : str
        The column name.
    unit : str, optional
        Overrides the known unit.

    Example
    -------
    >>> axis_label("salary"), axis_label("experience"), axis_label("log.radon")
    ('Salary ($)', 'Experience (years)', 'Log radon (log pCi/L)')
    """
    unit = unit if unit is not None else unit_of(column)
    name = display_name(column)
    return f"{name} ({unit})" if unit else name


def slope_unit(y: str, x: str) -> str:
    """The unit of a slope of ``y`` on ``x``: ``"$ per year of experience"``.

    Example
    -------
    >>> slope_unit("salary", "experience"), slope_unit("recovery_days", "severity")
    ('$ per year of experience', 'days per point of severity')
    >>> slope_unit("score", "hours")
    'score per unit of hours'
    """
    return f"{unit_of(y) or y} {per_unit_of(x)}"


def per_unit_of(x: str) -> str:
    """How a rate on ``x`` reads: ``"per year of experience"``, ``"per unit of hours"``.

    Example
    -------
    >>> per_unit_of("experience"), per_unit_of("hours")
    ('per year of experience', 'per unit of hours')
    """
    ux = unit_of(x)
    return f"per {_SINGULAR[ux]} of {x}" if ux in _SINGULAR else f"per unit of {x}"


def _magnitude(v: float, style: NumberStyle, digits: int) -> str:
    """``v >= 0`` written in ``style``."""
    if style == "summary":
        if v >= 100:
            return f"{v:,.0f}"
        if v >= 1:
            return f"{v:,.2f}"
        return f"{v:.3g}"
    if style == "fixed":
        return f"{v:,.{digits}f}"
    if style == "significant":
        return f"{v:,.0f}" if v >= 10 ** (digits - 1) else f"{v:,.{digits}g}"
    if style == "short" and v >= 1_000_000:
        return f"{v / 1_000_000:.{0 if v % 1_000_000 == 0 else 1}f}M"
    if style == "short" and v >= 1_000:
        return f"{v / 1_000:.{0 if v % 1_000 == 0 else 1}f}k"
    if style in ("tick", "short"):
        return f"{v:,.0f}" if v == int(v) else f"{v:,.2f}"
    raise ValueError(
        f"style must be one of 'summary', 'fixed', 'significant', 'tick', 'short', got {style!r}"
    )


def format_number(value: float, *, style: NumberStyle = "summary", digits: int = 0) -> str:
    """Write a number for people, with thousands separators (see :data:`NumberStyle`).

    Parameters
    ----------
    value : float
        A finite number.
    style : {"summary", "fixed", "significant", "tick", "short"}
        How to round it; ``"summary"`` (default) is the style of fitted-model summaries.
    digits : int
        Decimals for ``"fixed"``, significant digits for ``"significant"``.

    Returns
    -------
    str
        With a leading ``-`` for a negative number, unless it rounds to zero.

    Example
    -------
    >>> format_number(61234.5), format_number(12.345), format_number(0.012345)
    ('61,234', '12.35', '0.0123')
    >>> format_number(1234.5, style="fixed", digits=1), format_number(3.14159, style="significant", digits=4)
    ('1,234.5', '3.142')
    """
    text = _magnitude(abs(float(value)), style, digits)
    return f"-{text}" if value < 0 and text.strip("0.,") else text


def format_amount(
    value: float | None,
    *,
    prefix: str = "$",
    suffix: str = "",
    style: NumberStyle = "summary",
    digits: int = 0,
    missing: str | None = None,
) -> str:
    """Write an amount with its unit: ``-1500 -> "-$1,500"``, ``(3.5, suffix=" days") -> "3.50 days"``.

    Parameters
    ----------
    value : float or None
        The amount.
    prefix, suffix : str
        Written before (after the sign) and after the number: ``"$"`` for dollars (default),
        ``""`` and ``" days"`` for a unit that follows the number.
    style, digits
        How to round the number, as in :func:`format_number`.
    missing : str, optional
        Written for None, NaN or an infinite value; default: the value as Python writes it
        (``"nan"``, ``"inf"``).

    Returns
    -------
    str

    Example
    -------
    >>> format_amount(-1500.0), format_amount(8000, style="fixed")
    ('-$1,500', '$8,000')
    >>> format_amount(float("nan"), missing="\u2014"), format_amount(2.5, prefix="", suffix=" days")
    ('\u2014', '2.50 days')
    """
    if value is None or not math.isfinite(value):
        return missing if missing is not None else repr(None if value is None else float(value))
    text = format_number(value, style=style, digits=digits)
    sign, number = ("-", text[1:]) if text.startswith("-") else ("", text)
    return f"{sign}{prefix}{number}{suffix}"
