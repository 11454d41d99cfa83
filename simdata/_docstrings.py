"""What the simulators' docstrings share, written once: the group sizes, the seed and the errors.

A simulator's docstring names a shared part as a line ``{sizes}``, ``{seed}`` or ``{raises}``;
:func:`simulator_doc` fills them in at import, in the words of that simulator's groups, so
``help()`` shows the whole text.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TypeVar

Function = TypeVar("Function", bound=Callable[..., object])

SEED = """seed : int, numpy.random.Generator or None
        Same int, same data on every run (see :func:`simdata.as_generator`)."""

RAISES = """Raises
    ------
    ValueError
        If a parameter is out of range; the message names it, its value and what is allowed."""

_SIZES = """{sizes} : int, tuple (low, high) or list of int, default {default}
        An int gives every {group} that many {members} (balanced). A tuple ``(low, high)``
        draws each {group}'s size uniformly from the inclusive range (unbalanced). A list
        gives each {group}'s size explicitly (length ``n_{group}s``); a 2-tuple is
        always read as a range, so pass a list for two explicit sizes."""


def simulator_doc(group: str, members: str) -> Callable[[Function], Function]:
    """Fill a simulator's docstring: ``{sizes}`` for ``{members}_per_{group}``, ``{seed}``,
    ``{raises}`` (the docstring holds no other braces).

    Parameters
    ----------
    group, members : str
        What the groups and their members are called, e.g. ``"hospital"``, ``"patients"``.

    Returns
    -------
    callable
        A decorator that returns the simulator with its ``__doc__`` filled in.
    """

    def fill(simulator: Function) -> Function:
        sizes = f"{members}_per_{group}"
        default = inspect.signature(simulator).parameters[sizes].default
        text = _SIZES.format(sizes=sizes, default=default, group=group, members=members)
        if simulator.__doc__:  # None under python -OO
            simulator.__doc__ = simulator.__doc__.format(sizes=text, seed=SEED, raises=RAISES)
        return simulator

    return fill
