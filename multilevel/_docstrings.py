"""One home for the parameter descriptions that several public functions share.

After seaborn's ``_docstrings.DocstringComponents`` and matplotlib's ``_docstring.interpd``: a
docstring line that holds nothing but ``{name}`` stands for ``SHARED[name]``, and :func:`fill`
writes that text in once, at import, indented like the line. ``help()`` and the documentation
show every description in full; the source holds one copy. Other braces (``{"fitted", "x"}``)
are left alone, and an unknown name fails at import.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

__all__ = ["SHARED", "fill"]

Function = TypeVar("Function", bound=Callable[..., object])

_PLACEHOLDER = re.compile(r"^(?P<indent>[ \t]*)\{(?P<name>\w+)\}[ \t]*$", re.MULTILINE)

#: Shared parameter descriptions, numpy style, by the name a docstring uses for them.
SHARED: dict[str, str] = {
    "ax": "ax : Axes, optional\n    Draw here; default the current axes.",
    "title": "title : str, optional\n    Default: a title that says what is drawn.",
    "columns": (
        "y, x, group : str, optional\n    Column names (taken from a SimulatedData when not given)."
    ),
    "fit_kwargs": (
        "fit_kwargs : mapping, optional\n"
        '    Extra keyword arguments for ``multilevel.fit`` (e.g. ``{"reml": False}``).'
    ),
    "fitted_data": "data : DataFrame or SimulatedData\n    The data ``result`` was fitted to.",
    "x_range": (
        "x_range : (float, float), optional\n    Span of the lines; default the range of the data."
    ),
    "show_data": "show_data : bool\n    Draw the data points.",
    "ncols": "ncols : int\n    Panels per row.",
    "log_n": (
        "log_n : bool\n"
        "    Log scale for the group size (useful when sizes span decades, as in the radon data)."
    ),
    "seed": (
        "seed : int, numpy.random.Generator or None\n"
        "    Same int, same numbers on every run (see :func:`simdata.as_generator`)."
    ),
    "line_kwargs": (
        "**kwargs\n"
        "    Passed on to matplotlib's ``Axes.plot`` for each group's line (e.g. ``alpha``)."
    ),
    "pooling_kwargs": (
        "**kwargs\n"
        "    Passed on to matplotlib's ``Axes.plot`` for each group's no- and partial-pooling "
        "line."
    ),
}


def fill(function: Function) -> Function:
    """Write the shared descriptions into ``function``'s docstring, where it names them.

    Parameters
    ----------
    function : callable
        A function whose docstring has lines such as ``    {ax}``.

    Returns
    -------
    callable
        The same function, its ``__doc__`` filled in.

    Examples
    --------
    >>> @fill
    ... def f(ax=None):
    ...     '''Draw.
    ...
    ...     Parameters
    ...     ----------
    ...     {ax}
    ...     '''
    >>> print(f.__doc__.splitlines()[-2])
            Draw here; default the current axes.
    """

    def shared(match: re.Match[str]) -> str:
        lines = SHARED[match["name"]].splitlines()
        return "\n".join(match["indent"] + line for line in lines)

    if function.__doc__:  # None under python -OO
        function.__doc__ = _PLACEHOLDER.sub(shared, function.__doc__)
    return function
