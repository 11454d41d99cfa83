"""Complete, no and partial pooling: on one panel, in small multiples, and as shrinkage."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from .. import specs, style, units
from .._docstrings import fill
from ..models import FitResult
from ._common import (
    DASHED,
    MANY_GROUPS,
    Data,
    center_of,
    check_parameter,
    check_result,
    colors_or_one,
    fit_model,
    format_group_size_axis,
    format_parameter_axis,
    fresh_figure,
    get_ax,
    group_handles,
    group_line_y,
    group_noun,
    label_axes,
    legend_key,
    line_span,
    line_width,
    marker_size,
    model_title,
    parameter_label,
    place_legend,
    population_line_y,
    population_reference,
    resolve_data,
    scatter_groups,
)

#: The partial-pooling models, each with the no-pooling fit that estimates the same parts.
_NO_POOLING_FOR = {
    name: spec.no_pooling_varying for name, spec in specs.MODELS.items() if spec.mixed
}


# ------------------------------------------------------------------------------- pooling


def _pooling_fits(
    data: Data | None,
    y: str | None,
    x: str | None,
    group: str | None,
    model: str,
    fit_kwargs: Mapping[str, Any] | None,
    **given: FitResult | None,
) -> tuple[pd.DataFrame | None, dict[str, FitResult]]:
    """The data frame and the fits named in ``given``, fitting from ``data`` those passed as None.

    ``given`` holds ``complete_pooling``, ``no_pooling`` and/or ``partial_pooling``; no pooling
    is fitted to vary what ``model`` (the partial-pooling model) varies.
    """
    if model not in _NO_POOLING_FOR:
        raise ValueError(
            f"model must be one of {sorted(_NO_POOLING_FOR)} (the partial-pooling model), got {model!r}"
        )
    frame = None
    if data is not None:
        frame, y, x, group = resolve_data(data, y, x, group)
    elif any(r is None for r in given.values()):
        names = list(given)
        listed = ", ".join(names[:-1]) + f" and {names[-1]}"
        raise ValueError(f"data must be given unless {listed} fits are all passed")
    how = {
        "complete_pooling": {"model": "complete_pooling"},
        "no_pooling": {"model": "no_pooling", "varying": _NO_POOLING_FOR[model]},
        "partial_pooling": {"model": model},
    }
    fits = {
        name: fit_model(frame, y, x, group, **how[name], **dict(fit_kwargs or {}))
        if r is None
        else r
        for name, r in given.items()
    }
    for name, r in fits.items():
        check_result(r, name)
    return frame, fits


_POOLING_FITS = ("complete_pooling", "no_pooling", "partial_pooling")


@dataclass(frozen=True)
class _PoolingPicture:
    """What :func:`pooling_plot` and :func:`pooling_grid` draw: three fits, the groups, the span."""

    frame: pd.DataFrame | None
    complete: FitResult
    no: FitResult
    partial: FitResult
    shown: list[Any]
    styles: dict[Any, style.GroupStyle]
    x_ends: np.ndarray


def _pooling_picture(
    data: Data | None,
    y: str | None,
    x: str | None,
    group: str | None,
    model: str,
    groups: Sequence[Any] | None,
    fits: Mapping[str, FitResult | None],
    fit_kwargs: Mapping[str, Any] | None,
    x_range: tuple[float, float] | None,
) -> _PoolingPicture:
    frame, made = _pooling_fits(data, y, x, group, model, fit_kwargs, **fits)
    partial = made["partial_pooling"]
    all_groups = list(partial.group_lines.index)
    return _PoolingPicture(
        frame=frame,
        complete=made["complete_pooling"],
        no=made["no_pooling"],
        partial=partial,
        shown=_select_groups(all_groups, groups),
        styles=style.group_styles(all_groups),
        x_ends=line_span(frame, partial.x, x_range),
    )


def _select_groups(all_groups: Sequence[Any], groups: Sequence[Any] | None) -> list[Any]:
    if groups is None:
        return list(all_groups)
    if isinstance(groups, str):
        groups = [groups]
    unknown = [g for g in groups if g not in set(all_groups)]
    if unknown:
        raise ValueError(
            f"groups has unknown groups {unknown}; known groups are {list(all_groups)}"
        )
    return list(groups)


_POOLING_STYLE = {
    "complete": {"color": style.POPULATION_COLOR, "linestyle": "-", "scale": 1.9},
    "no": {"linestyle": DASHED, "scale": 0.9},
    "partial": {"linestyle": "-", "scale": 1.2},
}


def _pooling_key_handles() -> list[Line2D]:
    return [
        legend_key(
            "No pooling (own line)",
            color="0.35",
            linestyle=_POOLING_STYLE["no"]["linestyle"],
            linewidth=line_width(_POOLING_STYLE["no"]["scale"]),
        ),
        legend_key(
            "Partial pooling (multilevel)",
            color="0.35",
            linestyle="-",
            linewidth=line_width(_POOLING_STYLE["partial"]["scale"]),
        ),
        legend_key(
            "Complete pooling (one line)",
            color=style.POPULATION_COLOR,
            linewidth=line_width(_POOLING_STYLE["complete"]["scale"]),
        ),
    ]


def _draw_pooling_lines(
    ax: Axes, g: Any, picture: _PoolingPicture, **kwargs: Any
) -> tuple[Line2D, Line2D]:
    """Group ``g``'s own line (no pooling) and its multilevel line (partial pooling)."""
    out = []
    x_ends = picture.x_ends
    for key, res in (("no", picture.no), ("partial", picture.partial)):
        (line,) = ax.plot(
            x_ends,
            group_line_y(res, g, x_ends),
            **{
                "color": picture.styles[g].color,
                "linestyle": _POOLING_STYLE[key]["linestyle"],
                "linewidth": line_width(_POOLING_STYLE[key]["scale"]),
                "label": str(g),
                "gid": f"{key}-pooling-line",
                "zorder": 3 if key == "no" else 4,
                **kwargs,
            },
        )
        out.append(line)
    return out[0], out[1]


def _draw_complete_line(ax: Axes, res: FitResult, x_ends: np.ndarray) -> Line2D:
    """The one line of complete pooling, thick and black."""
    (line,) = ax.plot(
        x_ends,
        population_line_y(res, x_ends),
        color=style.POPULATION_COLOR,
        linewidth=line_width(_POOLING_STYLE["complete"]["scale"]),
        label="Complete pooling",
        gid="complete-pooling-line",
        zorder=5,
    )
    return line


@fill
def pooling_plot(
    data: Data | None = None,
    *,
    y: str | None = None,
    x: str | None = None,
    group: str | None = None,
    model: str = "varying_both",
    groups: Sequence[Any] | None = None,
    complete_pooling: FitResult | None = None,
    no_pooling: FitResult | None = None,
    partial_pooling: FitResult | None = None,
    fit_kwargs: Mapping[str, Any] | None = None,
    show_data: bool = True,
    x_range: tuple[float, float] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    **kwargs: Any,
) -> Axes:
    """Complete, no and partial pooling on one panel.

    For each group: its own least-squares line (no pooling, dashed) and its multilevel line
    (partial pooling, solid) in the group's colour, and the one pooled line for everyone (thick
    black). Partial-pooling lines sit between their group's own line and the pooled line. With
    many groups, pass a few in ``groups`` to keep the picture readable (or see
    :func:`pooling_grid`).

    Parameters
    ----------
    data : DataFrame or SimulatedData, optional
        Needed unless all three fits are passed.
    {columns}
    model : str
        The partial-pooling model: ``"varying_intercepts"``, ``"varying_slopes"``,
        ``"varying_both"`` (default) or ``"varying_both_uncorrelated"``; no pooling is fitted to
        match (separate intercepts, slopes or both).
    groups : sequence, optional
        The groups to show; default all.
    complete_pooling, no_pooling, partial_pooling : FitResult, optional
        Fits already made; missing ones are fitted from ``data``.
    {fit_kwargs}
    show_data : bool
        Draw the data points of the groups shown.
    {x_range}
    {ax}
    {title}
    {pooling_kwargs}

    Returns
    -------
    Axes
        The panel: the complete-pooling line, and each shown group's no- and partial-pooling
        lines.

    Examples
    --------
    >>> from simdata import faculty_salaries
    >>> sim = faculty_salaries(seed=1)
    >>> ax = pooling_plot(sim, groups=["Biology", "Physics", "English"])
    """
    fits = dict(zip(_POOLING_FITS, (complete_pooling, no_pooling, partial_pooling), strict=True))
    picture = _pooling_picture(data, y, x, group, model, groups, fits, fit_kwargs, x_range)
    frame, partial, shown, styles = picture.frame, picture.partial, picture.shown, picture.styles
    y, x, group = partial.y, partial.x, partial.group
    ax = get_ax(ax)
    if show_data and frame is not None:
        keep = frame[group].isin(shown)
        scatter_groups(ax, frame.loc[keep], x, y, group, styles)
    for g in shown:
        _draw_pooling_lines(ax, g, picture, **kwargs)
    _draw_complete_line(ax, picture.complete, picture.x_ends)
    label_axes(ax, y, x)
    ax.set_title(
        title
        if title is not None
        else f"Complete, no and partial pooling ({model_title(partial.model).lower()})"
    )
    handles: list[Any] = []
    if len(shown) <= MANY_GROUPS:
        handles = group_handles(styles, [g for g in styles if g in set(shown)])
        for h in handles:
            h.set_linestyle("-")
    handles += _pooling_key_handles()
    place_legend(ax, handles, title=group_noun(group).capitalize())
    return ax


@fill
def pooling_grid(
    data: Data | None = None,
    *,
    y: str | None = None,
    x: str | None = None,
    group: str | None = None,
    model: str = "varying_both",
    groups: Sequence[Any] | None = None,
    complete_pooling: FitResult | None = None,
    no_pooling: FitResult | None = None,
    partial_pooling: FitResult | None = None,
    fit_kwargs: Mapping[str, Any] | None = None,
    ncols: int = 4,
    x_range: tuple[float, float] | None = None,
    fig: Figure | None = None,
    figsize: tuple[float, float] | None = None,
    title: str | None = None,
    **kwargs: Any,
) -> Figure:
    """Complete, no and partial pooling in small multiples, one panel per group.

    Gelman & Hill's picture (their figure 12.4): each panel shows one group's data, its own
    line (no pooling, dashed), its multilevel line (partial pooling, solid) and the pooled line
    (thick black), with shared axes so groups compare at a glance. Panels are ordered from
    the smallest group to the largest, where the pull towards the pooled line is weakest.

    Parameters
    ----------
    data, y, x, group, model, groups, complete_pooling, no_pooling, partial_pooling, fit_kwargs
        As in :func:`pooling_plot`.
    {ncols}
    {x_range}
    fig : Figure, optional
        Draw into this figure (cleared first).
    figsize : (float, float), optional
    {title}
    {pooling_kwargs}

    Returns
    -------
    Figure
        A panel per group, smallest group first; grid cells left over are hidden.

    Examples
    --------
    >>> from simdata import faculty_salaries
    >>> fig = pooling_grid(faculty_salaries(seed=1))
    >>> len(fig.axes) >= 8
    True
    """
    if isinstance(ncols, bool) or not isinstance(ncols, (int, np.integer)) or ncols < 1:
        raise ValueError(f"ncols must be a positive integer, got {ncols!r}")
    fits = dict(zip(_POOLING_FITS, (complete_pooling, no_pooling, partial_pooling), strict=True))
    picture = _pooling_picture(data, y, x, group, model, groups, fits, fit_kwargs, x_range)
    frame, partial, styles = picture.frame, picture.partial, picture.styles
    y, x, group = partial.y, partial.x, partial.group
    gl = partial.group_lines
    shown = sorted(picture.shown, key=lambda g: (float(gl.at[g, "n"]), str(g)))
    ncols = min(int(ncols), len(shown))
    nrows = int(np.ceil(len(shown) / ncols))
    fig = fresh_figure(fig, figsize, lambda w, h: (w * 0.42 * ncols + 2.2, h * 0.62 * nrows + 0.8))
    axes = np.atleast_1d(
        fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)
    ).ravel()
    for ax, g in zip(axes, shown, strict=False):
        if frame is not None:
            sub = frame.loc[frame[group] == g]
            scatter_groups(ax, sub, x, y, group, styles, alpha=0.7)
        _draw_pooling_lines(ax, g, picture, **kwargs)
        _draw_complete_line(ax, picture.complete, picture.x_ends)
        ax.set_title(f"{g} (n = {int(gl.at[g, 'n'])})", fontsize="medium")
        style.format_axis(ax, x=x, y=y)
    for ax in axes[len(shown) :]:
        ax.set_visible(False)
    for i, ax in enumerate(axes[: len(shown)]):
        if i % ncols == 0:
            ax.set_ylabel(units.axis_label(y))
        if i + ncols >= len(shown):
            ax.set_xlabel(units.axis_label(x))
            ax.xaxis.set_tick_params(labelbottom=True)
    fig.legend(handles=_pooling_key_handles(), loc="outside lower center", ncols=3)
    fig.suptitle(
        title
        if title is not None
        else f"Pooling {y} by {group_noun(group)}: no pooling, partial pooling, complete pooling"
    )
    return fig


# ----------------------------------------------------------------------------- shrinkage


def _dodge(n: np.ndarray, width: float) -> np.ndarray:
    """Spread groups of equal size sideways so their arrows do not overlap."""
    out = n.astype(float).copy()
    for value in np.unique(n):
        idx = np.flatnonzero(n == value)
        if len(idx) > 1:
            out[idx] += np.linspace(-width, width, len(idx))
    return out


@fill
def shrinkage_plot(
    data: Data | None = None,
    *,
    y: str | None = None,
    x: str | None = None,
    group: str | None = None,
    parameter: str = "intercept",
    model: str | None = None,
    no_pooling: FitResult | None = None,
    partial_pooling: FitResult | None = None,
    fit_kwargs: Mapping[str, Any] | None = None,
    log_n: bool = False,
    legend: bool = True,
    ax: Axes | None = None,
    title: str | None = None,
    **kwargs: Any,
) -> Axes:
    """Shrinkage: each group's no-pooling estimate -> partial-pooling estimate, against group size.

    An open circle marks the group's own least-squares estimate, an arrow runs to its
    multilevel (partial-pooling) estimate, a filled circle. The dashed black line is the
    population estimate (the grand mean, the fixed effect). Small groups are pulled furthest
    toward it: they carry the least information of their own.

    Parameters
    ----------
    data : DataFrame or SimulatedData, optional
        Needed unless both fits are passed.
    {columns}
    parameter : {"intercept", "slope"}
        Which part of the group lines to show; it must vary in ``model``.
    model : str, optional
        The partial-pooling model; default ``"varying_intercepts"`` for the intercept and
        ``"varying_slopes"`` for the slope, where each estimate lies between the group's own
        estimate and the grand mean. With ``"varying_both"`` an intercept also moves with its
        shrunken slope, so an arrow may point away from the grand mean. No pooling is fitted to
        match (separate intercepts, slopes or both).
    no_pooling, partial_pooling : FitResult, optional
        Fits already made.
    {fit_kwargs}
    {log_n}
    legend : bool
        Explain the markers and, for up to 12 groups, the group colours.
    {ax}
    {title}
    **kwargs
        Passed on to matplotlib's ``Axes.scatter`` for the estimates (e.g. ``alpha``).

    Returns
    -------
    Axes
        The arrows are annotations in ``ax.texts`` with gid ``"shrinkage-arrow:<group>"``;
        each runs from ``xyann`` (no pooling) to ``xy`` (partial pooling).

    Examples
    --------
    >>> from simdata import faculty_salaries
    >>> ax = shrinkage_plot(faculty_salaries(seed=1, faculty_per_department=(3, 30)))
    """
    no_pooling, partial_pooling = _shrinkage_fits(
        data,
        y=y,
        x=x,
        group=group,
        parameter=parameter,
        model=model,
        no_pooling=no_pooling,
        partial_pooling=partial_pooling,
        fit_kwargs=fit_kwargs,
    )
    ax = get_ax(ax)
    gl_p = partial_pooling.group_lines
    gl_n = no_pooling.group_lines.reindex(gl_p.index)
    groups = list(gl_p.index)
    styles = style.group_styles(groups)
    n = gl_p["n"].to_numpy(dtype=float)
    xpos = _size_positions(n, log_n=log_n)
    own = gl_n[parameter].to_numpy(dtype=float)
    pooled = gl_p[parameter].to_numpy(dtype=float)
    population = float(partial_pooling.fixed_effects.at[parameter, "estimate"])
    colors = colors_or_one(styles, groups)
    span = float(np.nanmax([*own, *pooled, population]) - np.nanmin([*own, *pooled, population]))
    for g, xp, a, b, c in zip(groups, xpos, own, pooled, colors, strict=True):
        if np.isfinite(a):
            # No estimate of its own (a radon county measured on one floor has no own slope):
            # its multilevel estimate is drawn, but there is nothing to draw an arrow from.
            _shrinkage_arrow(ax, g, xp, a, b, color=c, head=abs(b - a) > 0.02 * span)
    # Past eight groups colours repeat and the group's marker tells them apart, as in the
    # legend; past twelve there is no group legend and everything is one colour and a circle.
    markers = [styles[g].marker if len(groups) <= MANY_GROUPS else "o" for g in groups]
    _shrinkage_points(ax, xpos, own, pooled, markers=markers, colors=colors, **kwargs)
    population_reference(
        ax,
        population,
        across="x",
        label="Population estimate (grand mean)",
        gid="population-estimate",
    )
    noun = group_noun(partial_pooling.group)
    ax.set_xlabel(f"Observations per {noun} (n)")
    ax.set_ylabel(parameter_label(partial_pooling, parameter))
    format_parameter_axis(ax.yaxis, partial_pooling, parameter)
    format_group_size_axis(ax, log_n=log_n)
    ax.set_title(
        title if title is not None else f"Shrinkage of {noun} {parameter}s toward the population"
    )
    if legend:
        place_legend(ax, _shrinkage_legend(styles, groups))
    return ax


def _shrinkage_fits(
    data: Data | None,
    *,
    y: str | None,
    x: str | None,
    group: str | None,
    parameter: str,
    model: str | None,
    no_pooling: FitResult | None,
    partial_pooling: FitResult | None,
    fit_kwargs: Mapping[str, Any] | None,
) -> tuple[FitResult, FitResult]:
    """The no- and partial-pooling fits of :func:`shrinkage_plot`, checked to match."""
    check_parameter(parameter)
    if partial_pooling is not None:
        model = partial_pooling.model
    elif model is None:
        # One varying part at a time shows shrinkage cleanly; with both varying, an intercept
        # also moves with its shrunken slope and may end further from the grand mean.
        model = specs.model_varying_only(parameter)
    spec = specs.MODELS.get(model)
    if spec is not None and spec.mixed and parameter not in spec.varying_parts:
        raise ValueError(
            f"parameter={parameter!r} does not vary in a {model} model, so nothing shrinks; "
            f"use parameter={'slope' if parameter == 'intercept' else 'intercept'!r} or "
            "model='varying_both'"
        )
    _, fits = _pooling_fits(
        data,
        y,
        x,
        group,
        model,
        fit_kwargs,
        no_pooling=no_pooling,
        partial_pooling=partial_pooling,
    )
    no_pooling, partial_pooling = fits["no_pooling"], fits["partial_pooling"]
    if center_of(no_pooling) != center_of(partial_pooling):
        raise ValueError(
            "no_pooling and partial_pooling must use the same centring of x, got center="
            f"{center_of(no_pooling):g} and {center_of(partial_pooling):g}"
        )
    return no_pooling, partial_pooling


def _size_positions(n: np.ndarray, *, log_n: bool) -> np.ndarray:
    """Where each group sits on the group-size axis: its size, groups of equal size dodged."""
    if log_n:
        return n * np.exp(0.1 * (_dodge(n, 1.0) - n))
    return _dodge(n, min(0.35, 0.02 * float(np.ptp(n))) if np.ptp(n) > 0 else 0.35)


def _shrinkage_points(
    ax: Axes,
    xpos: np.ndarray,
    own: np.ndarray,
    pooled: np.ndarray,
    *,
    markers: list[str],
    colors: list[str],
    **kwargs: Any,
) -> None:
    """Open markers at the own estimates, filled ones at the partial-pooling estimates; one
    pair of scatter calls per marker shape."""
    marker_array = np.array(markers, dtype=object)
    color_array = np.array(colors, dtype=object)
    for marker in dict.fromkeys(marker_array):
        keep = marker_array == marker
        ax.scatter(
            xpos[keep],
            own[keep],
            **{
                "marker": marker,
                "facecolors": "white",
                "edgecolors": list(color_array[keep]),
                "s": marker_size(1.2) ** 2,
                "linewidths": line_width(0.7),
                "zorder": 4,
                "label": "No pooling (own estimate)",
                "gid": "no-pooling-estimates",
                **kwargs,
            },
        )
        ax.scatter(
            xpos[keep],
            pooled[keep],
            **{
                "marker": marker,
                "c": list(color_array[keep]),
                "s": marker_size(1.2) ** 2,
                "zorder": 5,
                "label": "Partial pooling (multilevel)",
                "gid": "partial-pooling-estimates",
                **kwargs,
            },
        )


def _shrinkage_arrow(
    ax: Axes, g: Any, xp: float, own: float, pooled: float, *, color: str, head: bool
) -> None:
    """The arrow of group ``g`` from its own estimate to its partial-pooling estimate."""
    ann = ax.annotate(
        "",
        xy=(xp, pooled),
        xytext=(xp, own),
        arrowprops={
            # A head on a barely visible arrow only hides the markers.
            "arrowstyle": "-|>" if head else "-",
            "color": color,
            "lw": line_width(0.8),
            "shrinkA": marker_size(0.5),
            "shrinkB": marker_size(0.5),
            "mutation_scale": marker_size(2.2),
        },
        zorder=3,
    )
    ann.set_gid(f"shrinkage-arrow:{g}")


def _shrinkage_legend(styles: Mapping[Any, style.GroupStyle], groups: list[Any]) -> list[Line2D]:
    """The markers and the population line explained, then (up to 12 groups) the groups."""
    dot = {"marker": "o", "linestyle": "none", "markersize": marker_size(1.2)}
    key = [
        legend_key(
            "No pooling (own estimate)", **dot, markerfacecolor="white", markeredgecolor="0.3"
        ),
        legend_key("Partial pooling (multilevel)", **dot, color="0.3"),
        legend_key(
            "Population estimate",
            color=style.POPULATION_COLOR,
            linestyle=DASHED,
            linewidth=line_width(1.0),
        ),
    ]
    if len(groups) > MANY_GROUPS:
        return key
    group_keys = group_handles(styles, groups)
    for h in group_keys:
        # Filled markers of the drawn size, like the partial-pooling points.
        h.set_linestyle("none")
        h.set_markersize(marker_size(1.2))
    return key + group_keys
