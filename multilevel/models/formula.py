"""lme4-style model formulas: ``"y ~ x1 * x2 + C(c) + (1 + x1 | g)"`` to design matrices.

The fixed part goes through formulaic (numeric and categorical predictors with treatment coding,
interactions, ``C()``, transformations such as ``np.log(x)``); the random part is lme4's bar
notation with one grouping factor:

* ``(1 | g)``: a random intercept;
* ``(0 + x | g)``: a random slope without intercept;
* ``(1 + x | g)`` or ``(x | g)``: intercept and slope, correlated;
* ``(1 + x || g)``: the same, uncorrelated (lme4 expands it to ``(1 | g) + (0 + x | g)``);
* ``(1 | g) + (0 + x | g)``, ``(1 + x1 + x2 | g)``: any mix of such terms for the same ``g``.

Each random term is one block of the relative covariance: correlated within a ``|`` term,
independent between terms and between the columns of a ``||`` term.

Examples
--------
>>> parsed = parse_formula("y ~ x * c + (1 + x || g)")
>>> parsed.response, parsed.fixed, parsed.group
('y', 'x * c', 'g')
>>> [(term.expression, term.correlated) for term in parsed.random]
[('1 + x', False)]
"""

from __future__ import annotations

import dataclasses
import functools
import re
import warnings
from typing import Any

import formulaic
import numpy as np
import pandas as pd

from .result import ModelError

__all__ = [
    "Design",
    "ParsedFormula",
    "RandomTerm",
    "build_design",
    "keyword_formula",
    "new_data_matrix",
    "parse_formula",
]

_NAME = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")
_SUPPORTED = (
    "Supported: one grouping factor with random terms such as (1 | g), (0 + x | g), (1 + x | g), "
    "(1 + x || g) or (1 | g) + (0 + x | g), added to the fixed part with +."
)


def _several_groups_message(what: str) -> str:
    return (
        f"{what}: only one grouping factor is supported here. For nested or crossed groups use "
        "statsmodels' variance components, e.g. smf.mixedlm('y ~ x', data, groups='district', "
        "re_formula='1', vc_formula={'school': '0 + C(school)'}), or lme4 in R: "
        "lmer(y ~ x + (1 | district) + (1 | district:school))."
    )


@dataclasses.dataclass(frozen=True, slots=True)
class RandomTerm:
    """One bar term: ``(expression | group)``, or ``||`` when ``correlated`` is False."""

    expression: str
    group: str
    correlated: bool


@dataclasses.dataclass(frozen=True, slots=True)
class ParsedFormula:
    """A formula split into response, fixed part and random terms (all as text)."""

    formula: str
    response: str
    fixed: str
    random: tuple[RandomTerm, ...]
    group: str | None


def _bar_spans(rhs: str) -> list[tuple[int, int]]:
    """Positions ``(start, end)`` of top-level parenthesised groups that contain a bar."""
    spans, depth, start = [], 0, 0
    for i, char in enumerate(rhs):
        if char == "(":
            if depth == 0:
                start = i
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise ModelError(f"unbalanced parentheses in {rhs!r}")
            if depth == 0 and "|" in rhs[start:i]:
                spans.append((start, i + 1))
    if depth != 0:
        raise ModelError(f"unbalanced parentheses in {rhs!r}")
    return spans


def _parse_bar(text: str) -> RandomTerm:
    """``"(1 + x || g)"`` -> RandomTerm; refuses nested bars and compound grouping factors."""
    inner = text[1:-1]
    depth, bars = 0, []
    for i, char in enumerate(inner):
        depth += char == "("
        depth -= char == ")"
        if char == "|" and depth == 0:
            bars.append(i)
    nested = inner.count("|") != len(bars)
    repeated = len(bars) > 2 or (len(bars) == 2 and bars[1] != bars[0] + 1)
    if nested or repeated:
        raise ModelError(f"nested or repeated bars in {text!r} cannot be fitted. {_SUPPORTED}")
    correlated = len(bars) == 1
    expression = inner[: bars[0]].strip()
    group = inner[bars[-1] + 1 :].strip()
    if ":" in group or "/" in group:
        raise ModelError(
            _several_groups_message(f"{text!r} groups by a combination of factors ({group})")
        )
    if not _NAME.match(group):
        raise ModelError(
            f"the grouping factor in {text!r} must be one column name, got {group!r}. {_SUPPORTED}"
        )
    if not expression:
        raise ModelError(f"{text!r} has nothing before the bar; write (1 | {group}). {_SUPPORTED}")
    return RandomTerm(expression=expression, group=group, correlated=correlated)


def parse_formula(formula: str) -> ParsedFormula:
    """Split an lme4-style formula into its response, fixed part and random terms.

    Parameters
    ----------
    formula : str
        For example ``"y ~ x1 * x2 + C(c) + (1 + x1 | g)"``.

    Returns
    -------
    ParsedFormula

    Raises
    ------
    ModelError
        No ``~`` or no response, a bar outside parentheses, nested bars, a grouping factor that
        is a combination (``g1:g2``, ``g1/g2``) or two different grouping factors.

    Examples
    --------
    >>> parse_formula("y ~ 1 + (1 | g)").fixed
    '1'
    """
    if not isinstance(formula, str):
        raise ModelError(f"formula must be a string such as 'y ~ x + (1 | g)', got {formula!r}")
    if formula.count("~") != 1:
        raise ModelError(
            f"a formula needs exactly one ~ with the response on its left, e.g. "
            f"'y ~ x + (1 | g)'; got {formula!r}"
        )
    lhs, rhs = (part.strip() for part in formula.split("~"))
    if not lhs:
        raise ModelError(f"the formula {formula!r} has no response on the left of ~")
    if "|" in lhs:
        raise ModelError(f"the response {lhs!r} cannot contain a random term. {_SUPPORTED}")
    spans = _bar_spans(rhs)
    terms = [_parse_bar(rhs[a:b]) for a, b in spans]
    pieces, last = [], 0
    for a, b in spans:
        before = rhs[last:a].rstrip()
        if before and not before.endswith("+"):
            raise ModelError(
                f"random term {rhs[a:b]!r} must be added to the rest with +. {_SUPPORTED}"
            )
        pieces.append(before.rstrip("+").strip().removeprefix("+"))
        last = b
    rest = rhs[last:].strip()
    if spans and rest and not rest.startswith("+"):
        raise ModelError(f"random terms must be added with +, got {rhs!r}. {_SUPPORTED}")
    pieces.append(rest[1:] if rest.startswith("+") else rest)
    fixed = " + ".join(p.strip() for p in pieces if p.strip()) or "1"
    if "|" in fixed:
        raise ModelError(
            f"a random term must be in parentheses, e.g. (1 | g); got {formula!r}. {_SUPPORTED}"
        )
    groups = sorted({term.group for term in terms})
    if len(groups) > 1:
        raise ModelError(
            _several_groups_message(f"the formula has {len(groups)} grouping factors ({groups})")
        )
    return ParsedFormula(
        formula=formula,
        response=lhs,
        fixed=fixed,
        random=tuple(terms),
        group=groups[0] if groups else None,
    )


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class Design:
    """The numbers a formula asks for, on the rows without missing values.

    Attributes
    ----------
    parsed : ParsedFormula
    y : ndarray, shape (n,)
    X : ndarray, shape (n, p)
        Fixed-effects design, columns named ``fixed_names`` as formulaic writes them
        (``Intercept``, ``x``, ``c[T.b]``, ``x:z``).
    Z : ndarray, shape (n, q)
        Random-effects design, columns ``random_names`` (the varying terms).
    blocks : tuple of tuple of int
        The columns of ``Z`` in each covariance block: correlated within, independent between.
    codes : ndarray of int, shape (n,)
        Group of each row, ``0 .. len(groups) - 1``.
    groups : pandas.Index
        The group labels, named after the grouping column.
    fixed_spec, random_specs
        formulaic model specs that rebuild ``X`` and ``Z`` for new data.
    n_dropped : int
        Rows left out for a missing value in a column the formula uses.
    """

    parsed: ParsedFormula
    y: np.ndarray
    X: np.ndarray
    Z: np.ndarray
    blocks: tuple[tuple[int, ...], ...]
    codes: np.ndarray
    groups: pd.Index
    fixed_names: tuple[str, ...]
    random_names: tuple[str, ...]
    fixed_spec: object
    random_specs: tuple[object, ...]
    n_dropped: int


@functools.lru_cache(maxsize=256)
def _formula(expression: str) -> formulaic.Formula:
    """formulaic's parse of an expression, cached: refits of one formula parse it once."""
    try:
        return formulaic.Formula(expression)
    except Exception as error:  # formulaic raises several of its own types
        raise ModelError(f"cannot read {expression!r} as a formula: {error}") from None


def _variables(expression: str) -> set[str]:
    return set(_formula(expression).required_variables)


class _ColumnsSpec:
    """Random-term columns that are just ``1`` and data columns: built without formulaic.

    Has formulaic's ``get_model_matrix`` so that ``predict`` treats both alike.
    """

    def __init__(self, intercept: bool, columns: tuple[str, ...]) -> None:
        self.intercept = intercept
        self.columns = columns
        self.names = (("Intercept",) if intercept else ()) + columns

    def get_model_matrix(self, data: pd.DataFrame, **_: object) -> pd.DataFrame:
        parts = [np.ones(len(data))] if self.intercept else []
        parts += [np.asarray(data[c], dtype=float) for c in self.columns]
        return pd.DataFrame(np.column_stack(parts), columns=list(self.names), index=data.index)


def _simple_columns(expression: str, data: pd.DataFrame) -> _ColumnsSpec | None:
    """A spec for ``1 + x``, ``0 + x``, ``x``, ``1`` with numeric columns; None otherwise."""
    tokens = [t.strip() for t in expression.split("+")]
    intercept = "0" not in tokens and "-1" not in tokens
    names = tuple(t for t in tokens if t not in ("0", "1", "-1"))
    numeric = all(
        t in data.columns and not t.startswith("-") and data[t].dtype.kind in "biuf" for t in names
    )
    if not numeric or (not intercept and not names) or len(set(names)) != len(names):
        return None
    return _ColumnsSpec(intercept, names)


def _check_columns(parsed: ParsedFormula, data: pd.DataFrame) -> list[str]:
    """The data columns the formula uses; ModelError for unknown, repeated or misplaced ones."""
    if not isinstance(data, pd.DataFrame):
        raise ModelError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    duplicated = sorted({str(c) for c in data.columns[data.columns.duplicated()]})
    if duplicated:
        raise ModelError(
            f"the data has more than one column named {duplicated}; rename them so that each "
            f"column name is unique (e.g. data.columns = [...])"
        )
    response = _variables(parsed.response)
    right = _variables(parsed.fixed)
    for term in parsed.random:
        right |= _variables(term.expression)
    if parsed.group is not None:
        right.add(parsed.group)
    used = response | right
    missing = sorted(name for name in used if name not in data.columns)
    if missing:
        raise ModelError(
            f"the formula {parsed.formula!r} uses {missing}, which the data does not have; its "
            f"columns are {[str(c) for c in data.columns]}"
        )
    both = sorted(response & right)
    if both:
        raise ModelError(
            f"{both} is the response (left of ~) and also a predictor or group on the right of ~ "
            f"in {parsed.formula!r}; the response can only be on the left"
        )
    return sorted(used)


def _response(parsed: ParsedFormula, data: pd.DataFrame) -> np.ndarray:
    if parsed.response in data.columns:
        values = data[parsed.response]
    else:
        values = formulaic.model_matrix(_formula(f"{parsed.response} ~ 1"), data).lhs
        if values.shape[1] != 1:
            raise ModelError(f"the response {parsed.response!r} must be one numeric column")
        values = values.iloc[:, 0]
    kind = np.asarray(values).dtype.kind
    if kind == "c":
        raise ModelError(
            f"the response {parsed.response!r} holds complex numbers; a multilevel model needs "
            f"real numbers (use its real part, .real, or its size, abs(), if that is meant)"
        )
    if kind not in "biuf":
        raise ModelError(
            f"the response {parsed.response!r} must be numeric, got dtype {values.dtype}"
        )
    y = np.asarray(values, dtype=float)
    if not np.all(np.isfinite(y)):
        raise ModelError(f"the response {parsed.response!r} has infinite values")
    return y


def _random_design(
    parsed: ParsedFormula, data: pd.DataFrame
) -> tuple[np.ndarray, tuple[str, ...], tuple[tuple[int, ...], ...], tuple[object, ...]]:
    columns, names, blocks, specs = [], [], [], []
    for term in parsed.random:
        simple = _simple_columns(term.expression, data)
        if simple is not None:
            matrix = simple.get_model_matrix(data)
        else:
            matrix = formulaic.model_matrix(_formula(term.expression), data)
        if matrix.shape[1] == 0:
            raise ModelError(f"the random term ({term.expression} | {term.group}) has no columns")
        start = len(names)
        indices = tuple(range(start, start + matrix.shape[1]))
        blocks.extend([indices] if term.correlated else [(i,) for i in indices])
        names.extend(str(c) for c in matrix.columns)
        columns.append(np.asarray(matrix, dtype=float))
        specs.append(simple if simple is not None else matrix.model_spec)
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ModelError(
            f"{repeated} varies in more than one random term of {parsed.formula!r}; each varying "
            f"term can appear once"
        )
    return np.hstack(columns), tuple(names), tuple(blocks), tuple(specs)


def build_design(parsed: ParsedFormula, data: pd.DataFrame) -> Design:
    """Design matrices for ``parsed`` on ``data`` (rows with a missing value are dropped).

    Raises
    ------
    ModelError
        Unknown or duplicated columns, a response on the right, a non-numeric or complex
        response, no random term, fewer than two groups, or fixed effects that cannot be
        separated (a column that is a combination of others).

    Examples
    --------
    >>> data = pd.DataFrame({"y": [1.0, 2, 4, 3, 5, 7], "x": [0, 1, 2, 0, 1, 2], "g": list("aaabbb")})
    >>> design = build_design(parse_formula("y ~ x + (1 | g)"), data)
    >>> design.fixed_names, design.random_names, list(design.groups)
    (('Intercept', 'x'), ('Intercept',), ['a', 'b'])
    """
    used = _check_columns(parsed, data)
    if not parsed.random:
        raise ModelError(
            f"the formula {parsed.formula!r} has no random term such as (1 | g); for a model "
            f"without groups use statsmodels.formula.api.ols"
        )
    subset = data[used]
    complete = subset.notna().to_numpy().all(axis=1)
    if not complete.all():
        subset = subset.loc[complete].reset_index(drop=True)
    y = _response(parsed, subset)
    try:
        fixed = formulaic.model_matrix(_formula(parsed.fixed), subset)
        Z, random_names, blocks, random_specs = _random_design(parsed, subset)
    except ModelError:
        raise
    except Exception as error:  # formulaic's own errors: show them with the formula
        raise ModelError(f"cannot build {parsed.formula!r}: {error}") from None
    X = np.asarray(fixed, dtype=float)
    codes, labels = pd.factorize(subset[parsed.group], sort=True)
    groups = pd.Index(labels, name=parsed.group)
    if len(groups) < 2:
        raise ModelError(f"the grouping factor {parsed.group!r} needs at least two groups")
    if len(groups) >= y.size:
        raise ModelError(
            f"{len(groups)} groups for {y.size} observations: each group needs more than one "
            f"observation on average to separate group variation from noise"
        )
    _check_rank(X, tuple(str(c) for c in fixed.columns))
    return Design(
        parsed=parsed,
        y=y,
        X=X,
        Z=Z,
        blocks=blocks,
        codes=codes.astype(np.intp),
        groups=groups,
        fixed_names=tuple(str(c) for c in fixed.columns),
        random_names=random_names,
        fixed_spec=fixed.model_spec,
        random_specs=random_specs,
        n_dropped=int((~complete).sum()),
    )


def new_data_matrix(spec: Any, data: pd.DataFrame, what: str) -> np.ndarray:
    """A design matrix for new data from a fitted formulaic spec; new categories are an error.

    Parameters
    ----------
    spec : formulaic ModelSpec
        The spec of a fitted design's fixed or random columns (``Design.fixed_spec``, ...).
    data : pandas.DataFrame
        The new data.
    what : str
        What the columns are, for the message (``"fixed effects"``).

    Returns
    -------
    numpy.ndarray
        The columns for ``data`` (float).

    Raises
    ------
    ModelError
        If the new data cannot make these columns (a new category, a missing column).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            matrix = spec.get_model_matrix(data, na_action="ignore")
        except Warning as warning:
            raise ModelError(f"new data do not fit the model's {what}: {warning}") from None
        except Exception as error:
            raise ModelError(f"cannot build the {what} for the new data: {error}") from None
    return np.asarray(matrix, dtype=float)


def _check_rank(X: np.ndarray, names: tuple[str, ...]) -> None:
    """Refuse fixed effects that the data cannot separate (lme4 would drop columns)."""
    if X.shape[1] == 0:
        return
    size = np.abs(X).max(0)
    scale = size * np.sqrt(((X / np.where(size > 0, size, 1.0)) ** 2).mean(0))
    constant = np.flatnonzero(scale == 0)
    if constant.size:
        raise ModelError(f"the fixed-effect column(s) {[names[i] for i in constant]} are all zero")
    spread = size * (X / np.where(size > 0, size, 1.0)).std(0)
    if np.sum(spread == 0) > 1:
        raise ModelError(
            f"the fixed-effect columns {[names[i] for i in np.flatnonzero(spread == 0)]} are "
            f"all constant: only one intercept can be estimated"
        )
    # With an intercept in the model, centring the other columns spans the same space and keeps
    # x + 1e8 well conditioned; without one, centring would make dummies for every category
    # (which sum to one) look collinear, so columns are only scaled.
    if np.any(spread == 0):
        centred = np.where(spread > 0, X - X.mean(0), X) / np.where(spread > 0, spread, scale)
    else:
        centred = X / scale
    singular = np.linalg.svd(centred, compute_uv=False)
    if singular[-1] < 1e-8 * singular[0]:
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        involved = [names[i] for i in np.flatnonzero(np.abs(vt[-1]) > 1e-6)]
        raise ModelError(
            f"the fixed effects {involved} cannot be told apart in these data (one is a "
            f"combination of the others); drop one of them from the formula"
        )


#: The keyword form's mixed models (``ml.fit(..., model=)``) as lme4 random terms.
KEYWORD_RANDOM = {
    "varying_intercepts": "(1 | {group})",
    "varying_slopes": "(0 + {x} | {group})",
    "varying_both": "(1 + {x} | {group})",
    "varying_both_uncorrelated": "(1 + {x} || {group})",
}


def keyword_formula(y: str, x: str | None, group: str, model: str) -> str:
    """The lme4 formula of the lessons' keyword call ``ml.fit(data, y=, x=, group=, model=)``.

    Examples
    --------
    >>> keyword_formula("salary", "experience", "department", "varying_both_uncorrelated")
    'salary ~ experience + (1 + experience || department)'
    """
    if model not in KEYWORD_RANDOM:
        raise ModelError(f"model must be one of {list(KEYWORD_RANDOM)}, got {model!r}")
    for role, name in (("y", y), ("x", x), ("group", group)):
        if name is not None and not _NAME.match(str(name)):
            raise ModelError(
                f"{role}={name!r} is not a plain column name; rename the column (letters, "
                f"digits, _ and .) to use it in a formula"
            )
    if x is None and model != "varying_intercepts":
        raise ModelError(f"model={model!r} needs a predictor x")
    random = KEYWORD_RANDOM[model].format(x=x, group=group)
    return f"{y} ~ {x if x is not None else 1} + {random}"
