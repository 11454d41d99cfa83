"""One table of the course's models: every fact about a model, spelled once.

Each model ``fit`` knows has a :class:`ModelSpec` in :data:`MODELS`: its name, its titles, which
parts of the line vary by group, the engine's code for the random part, the no-pooling fit that
matches it, the pooling family it belongs to (for colours and line styles), its lme4 formula and
the arguments of the matching statsmodels call. Models, plots, widgets and the pooling tables
read these facts from here instead of keeping their own dicts.

The module has no dependencies, so every layer (the engine included) can import it.

Example
-------
>>> from multilevel import specs
>>> spec = specs.MODELS["varying_both"]
>>> spec.title, spec.varying_parts
('Varying intercepts and slopes', ('intercept', 'slope'))
>>> spec.lme4_formula("salary", "experience", "department")
'salary ~ experience + (1 + experience | department)'
>>> specs.model_for_kind("slopes")
'varying_slopes'
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal

__all__ = [
    "KINDS",
    "MODELS",
    "PARTS",
    "VARYING",
    "ModelSpec",
    "model_for_kind",
    "model_varying_only",
    "parts_of_varying",
    "varying_of_parts",
]

#: The two parts of a straight line that can differ between groups.
PARTS: tuple[str, str] = ("intercept", "slope")

#: What a no-pooling fit estimates separately per group (its ``varying`` argument), and the
#: parts of the line that this makes group-specific.
VARYING: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "intercepts": ("intercept",),
        "slopes": ("slope",),
        "both": ("intercept", "slope"),
    }
)

Pooling = Literal["complete", "no", "partial"]


@dataclasses.dataclass(frozen=True, slots=True)
class ModelSpec:
    """Everything the course says about one model.

    Attributes
    ----------
    name : str
        The name ``multilevel.fit`` takes (``model=``).
    title : str
        Plain-English name for figure titles and legends.
    pooling : {"complete", "no", "partial"}
        The family, which sets a line's colour and style in figures.
    varying_parts : tuple of str
        Parts of the line that vary by group (``()`` for complete pooling); for
        ``no_pooling`` those of the default ``varying="both"`` (see :meth:`parts`).
    correlated : bool
        Whether group intercepts and slopes may correlate.
    random : str or None
        The engine's code for the random part (:data:`multilevel.models.engine.RANDOM_PARTS`);
        None for the least-squares models.
    lme4 : str
        lme4-style formula with ``{y}``, ``{x}`` and ``{group}`` placeholders.
    re_formula : str or None
        statsmodels ``mixedlm`` ``re_formula`` (placeholder ``{x}``); None for the
        least-squares models.
    vc_formula : str or None
        statsmodels ``vc_formula`` for a separate, uncorrelated slope variance (``{x}``).
    summary_title : str
        Heading of ``FitResult.summary()`` when it says more than ``title``; may hold
        ``{varying}`` and ``{group}``.
    """

    name: str
    title: str
    pooling: Pooling
    varying_parts: tuple[str, ...]
    lme4: str
    random: str | None = None
    correlated: bool = False
    re_formula: str | None = None
    vc_formula: str | None = None
    summary_title: str = ""

    @property
    def mixed(self) -> bool:
        """True for the partial-pooling (mixed) models, fitted by the exact engine."""
        return self.pooling == "partial"

    @property
    def needs_x(self) -> bool:
        """True when the model cannot be fitted without a predictor (a slope varies)."""
        return self.mixed and "slope" in self.varying_parts

    @property
    def no_pooling_varying(self) -> str | None:
        """The ``varying`` of the no-pooling fit that estimates the same parts separately.

        The comparison a lesson draws next to this model; None for the pooling models.
        """
        return varying_of_parts(self.varying_parts) if self.mixed else None

    def parts(self, varying: str = "both") -> tuple[str, ...]:
        """The parts estimated per group; ``varying`` matters only for ``no_pooling``."""
        return VARYING[varying] if self.pooling == "no" else self.varying_parts

    def lme4_formula(self, y: str, x: str, group: str) -> str:
        """The lme4-style formula students see, e.g. ``salary ~ experience + (1 | department)``."""
        return self.lme4.format(y=y, x=x, group=group)

    def heading(self, group: str, varying: str | None = None) -> str:
        """The heading of a fit's summary, e.g. ``No pooling (separate slopes per department)``."""
        return (self.summary_title or self.title).format(group=group, varying=varying)


# One row per model: name, title, pooling family, the parts that vary by group and the lme4
# formula, then what only some models have (the engine's code, statsmodels' formulas, ...).
# fmt: off
_SPECS = (
    ModelSpec("complete_pooling", "Complete pooling", "complete", (), "{y} ~ {x}",
              summary_title="Complete pooling (one line for everyone)"),
    ModelSpec("no_pooling", "No pooling", "no", ("intercept", "slope"),
              "{y} ~ {x}, one fit per {group}",
              summary_title="No pooling (separate {varying} per {group})"),
    ModelSpec("varying_intercepts", "Varying intercepts", "partial", ("intercept",),
              "{y} ~ {x} + (1 | {group})", random="intercept", re_formula="1"),
    ModelSpec("varying_slopes", "Varying slopes", "partial", ("slope",),
              "{y} ~ {x} + (0 + {x} | {group})", random="slope", re_formula="0 + {x}"),
    ModelSpec("varying_both", "Varying intercepts and slopes", "partial", ("intercept", "slope"),
              "{y} ~ {x} + (1 + {x} | {group})", random="both", correlated=True,
              re_formula="1 + {x}", summary_title="Varying intercepts and slopes (correlated)"),
    ModelSpec("varying_both_uncorrelated", "Varying intercepts and slopes (uncorrelated)",
              "partial", ("intercept", "slope"), "{y} ~ {x} + (1 + {x} || {group})",
              random="both_uncorrelated", re_formula="1", vc_formula="0 + {x}"),
)
# fmt: on

#: The models ``multilevel.fit`` knows, by name, in the order lessons introduce them.
MODELS: Mapping[str, ModelSpec] = MappingProxyType({spec.name: spec for spec in _SPECS})

#: The explorers' kinds of group variation and the mixed model that fits each.
KINDS: Mapping[str, str] = MappingProxyType(
    {kind: f"varying_{kind}" for kind in ("intercepts", "slopes", "both")}
)


def model_for_kind(kind: str) -> str:
    """The mixed model for a kind of group variation (``"intercepts"``, ``"slopes"``, ``"both"``).

    Examples
    --------
    >>> model_for_kind("intercepts")
    'varying_intercepts'
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {list(KINDS)}, got {kind!r}")
    return KINDS[kind]


def model_varying_only(part: str) -> str:
    """The mixed model in which exactly ``part`` (``"intercept"`` or ``"slope"``) varies.

    Examples
    --------
    >>> model_varying_only("slope")
    'varying_slopes'
    """
    for spec in _SPECS:
        if spec.mixed and spec.varying_parts == (part,):
            return spec.name
    raise ValueError(f"part must be one of {list(PARTS)}, got {part!r}")


def varying_of_parts(parts: tuple[str, ...]) -> str:
    """The no-pooling ``varying`` that estimates ``parts`` separately per group.

    Examples
    --------
    >>> varying_of_parts(("intercept",)), varying_of_parts(("intercept", "slope"))
    ('intercepts', 'both')
    """
    for varying, its_parts in VARYING.items():
        if its_parts == tuple(parts):
            return varying
    raise ValueError(f"parts must be one of {list(VARYING.values())}, got {parts!r}")


def parts_of_varying(varying: str) -> tuple[str, ...]:
    """The parts a no-pooling fit with this ``varying`` estimates separately per group.

    Examples
    --------
    >>> parts_of_varying("slopes")
    ('slope',)
    """
    if varying not in VARYING:
        raise ValueError(f"varying must be one of {list(VARYING)}, got {varying!r}")
    return VARYING[varying]
