"""Eight to twelve departments stay apart: in colour, for colour-blind students, and by shape.

Each group's colour, marker and line style come from ``multilevel.style.distinct_styles``. These
tests measure them the way Petroff (2021, "Accessible Color Sequences for Data Visualization",
arXiv:2107.02270) designed matplotlib's accessible colour cycles: perceptual distance in
CAM02-UCS, for normal vision and for deuteranopia, protanopia and tritanopia simulated at full
severity with the model of Machado, Oliveira & Fernandes (2009), both as implemented by
``colorspacious``. As in Petroff's method, a simulated colour is measured where the model puts
it, without first clipping it to what a screen can show.

Thresholds, and why:

* every two colours in use at least ``MIN_DELTA_E`` = 18 apart, in each of the four visions:
  Petroff's requirement for a set of eight colours. The old palette's worst pair (reddish
  purple and grey for a deuteranope) was 6.5 apart.
* two groups drawn with the same marker, which only their colour tells apart, at least
  ``MIN_DELTA_E_SAME_MARKER`` = 20 apart: Petroff's stricter requirement for six colours.
* every colour at least 3:1 in contrast against the white background: WCAG 2.1 success
  criterion 1.4.11 (non-text contrast) for the graphical objects a reader needs; a projector
  washes light colours out further. Okabe-Ito's yellow on white is 1.3:1.
* every colour at least ``MIN_FROM_BLACK`` = 30 from black, which is the population line.
* no two groups share both colour and marker, and groups that share a colour differ in line
  style, up to twelve groups (past twelve the figures stop naming groups in a legend).
* marker shapes that differ at legend size: drawn at the course's marker size and resolution,
  no two overlap in more than ``MAX_MARKER_OVERLAP`` of their pixels (a circle and a hexagon,
  which look alike there, overlap in 85%).

The same checks run on the palette the course used before (Okabe-Ito with yellow and grey, a
circle for every one of the first eight groups, and only colours in the explorers), which fails
them: the tests can fail.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pytest
from colorspacious import cspace_convert
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from multilevel import style
from multilevel.style import GroupStyle

#: The visions checked, with colorspacious' name for the deficiency (severity 100 simulates the
#: dichromacy: deuteranopia, protanopia, tritanopia).
VISIONS = {
    "normal vision": None,
    "deuteranopia": "deuteranomaly",
    "protanopia": "protanomaly",
    "tritanopia": "tritanomaly",
}
MIN_DELTA_E = 18.0
MIN_DELTA_E_SAME_MARKER = 20.0
MIN_CONTRAST = 3.0
MIN_FROM_BLACK = 30.0
MAX_MARKER_OVERLAP = 0.83
GROUP_COUNTS = (8, 10, 12)

#: The palette before issue 15: Okabe-Ito's colours without black, yellow and a grey last.
OLD_PALETTE = (
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#D55E00",
    "#0072B2",
    "#CC79A7",
    "#F0E442",
    "#999999",
)


def old_styles(n: int, *, explorer: bool = False) -> list[GroupStyle]:
    """The old styles: circles and solid lines for eight groups, then squares and dashes with
    the colours again; the explorers drew every department as a dot of its colour."""
    k = len(OLD_PALETTE)
    if explorer:
        return [GroupStyle(color=OLD_PALETTE[i % k]) for i in range(n)]
    rounds = [("-", "o"), ((0, (5, 2)), "s"), ((0, (1, 1.5)), "^"), ((0, (5, 2, 1, 2)), "D")]
    return [GroupStyle(OLD_PALETTE[i % k], *rounds[(i // k) % len(rounds)]) for i in range(n)]


# ------------------------------------------------------------------------------ measures


def cam02ucs(colors: Sequence[str], vision: str | None) -> np.ndarray:
    """CAM02-UCS coordinates (J', a', b') of ``colors`` as seen with ``vision``."""
    rgb = np.array([to_rgb(c) for c in colors], dtype=float)
    if vision is None:
        return cspace_convert(rgb, "sRGB1", "CAM02-UCS")
    cvd = {"name": "sRGB1+CVD", "cvd_type": vision, "severity": 100}
    return cspace_convert(cspace_convert(rgb, cvd, "sRGB1-linear"), "sRGB1-linear", "CAM02-UCS")


def delta_e(a: str, b: str, vision: str | None) -> float:
    ua, ub = cam02ucs([a, b], vision)
    return float(np.linalg.norm(ua - ub))


def contrast_with_white(color: str) -> float:
    """WCAG 2.1 contrast ratio of ``color`` against white (1 to 21)."""
    c = np.array(to_rgb(color))
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    luminance = float(linear @ [0.2126, 0.7152, 0.0722])
    return 1.05 / (luminance + 0.05)


def smallest_distances(styles: Sequence[GroupStyle]) -> dict[str, float]:
    """For each vision, the smallest distance between two groups that are told apart by colour
    alone (the same marker); 0 when two such groups have the same colour."""
    out = {}
    for name, vision in VISIONS.items():
        pairs = [(s, t) for s, t in itertools.combinations(styles, 2) if s.marker == t.marker]
        out[name] = min(
            (0.0 if s.color == t.color else delta_e(s.color, t.color, vision) for s, t in pairs),
            default=float("inf"),
        )
    return out


def palette_problems(styles: Sequence[GroupStyle]) -> list[str]:
    """Every way in which ``styles`` fail to keep their groups apart (empty when they pass)."""
    problems = []
    colors = list(dict.fromkeys(s.color for s in styles))
    for name, vision in VISIONS.items():
        for a, b in itertools.combinations(colors, 2):
            d = delta_e(a, b, vision)
            if d < MIN_DELTA_E:
                problems.append(f"{name}: colours {a} and {b} are only {d:.1f} apart")
        for a in colors:
            d = delta_e(a, style.POPULATION_COLOR, vision)
            if d < MIN_FROM_BLACK:
                problems.append(f"{name}: {a} is only {d:.1f} from the black population line")
    for name, d in smallest_distances(styles).items():
        if d < MIN_DELTA_E_SAME_MARKER:
            problems.append(f"{name}: two groups with the same marker are only {d:.1f} apart")
    for c in colors:
        ratio = contrast_with_white(c)
        if ratio < MIN_CONTRAST:
            problems.append(f"{c} has only {ratio:.2f}:1 contrast against white")
    for s, t in itertools.combinations(styles, 2):
        if (s.color, s.marker) == (t.color, t.marker):
            problems.append(f"two groups are both {s.color} {s.marker!r}")
        elif s.color == t.color and s.linestyle == t.linestyle:
            problems.append(f"two {s.color} groups have the same line style")
    return problems


def marker_mask(marker: str) -> np.ndarray:
    """The pixels a marker covers at the course's marker size, at the resolution of a saved
    figure (where legends are read)."""
    dpi = style.COURSE_RC["savefig.dpi"]
    fig = Figure(figsize=(0.4, 0.4), dpi=dpi)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    ax.set_xlim(-1, 1)
    ax.set_ylim(-1, 1)
    size = style.COURSE_RC["lines.markersize"]
    ax.plot([0], [0], marker=marker, markersize=size, color="black", linestyle="none")
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., 0] < 128


def marker_overlap(a: str, b: str) -> float:
    """Share of the pixels of either marker that both cover (1: the same picture)."""
    ma, mb = marker_mask(a), marker_mask(b)
    return float((ma & mb).sum() / (ma | mb).sum())


# ------------------------------------------------------------------------------ tests


@pytest.mark.parametrize("n", GROUP_COUNTS)
def test_groups_stay_apart_in_colour_and_shape_for_every_vision(n):
    styles = style.distinct_styles(n)
    assert palette_problems(styles) == []
    # The numbers behind it, for the record: the smallest distance between groups told apart
    # by colour alone is at least 24.3 (20 needed), in deuteranopia, for every n here.
    assert min(smallest_distances(styles).values()) >= MIN_DELTA_E_SAME_MARKER


@pytest.mark.parametrize("n", GROUP_COUNTS)
def test_the_old_palette_fails_the_same_checks(n):
    figure_problems = palette_problems(old_styles(n))
    # Yellow on white, and reddish purple and grey confused in deuteranopia (6.5 apart).
    assert any(p.startswith("#F0E442 has only 1.3") for p in figure_problems)
    assert any(p.startswith("deuteranopia: colours #CC79A7 and #999999") for p in figure_problems)
    assert smallest_distances(old_styles(n))["deuteranopia"] < 7
    explorer_problems = palette_problems(old_styles(n, explorer=True))
    if n > len(OLD_PALETTE):
        # The shrinkage explorer's twelve departments: colours reused with the same dot.
        assert any("both" in p for p in explorer_problems)
        assert smallest_distances(old_styles(n, explorer=True))["normal vision"] == 0.0


def test_the_checks_catch_each_kind_of_problem():
    red, blue = "#C20000", "#004198"
    assert palette_problems([GroupStyle(red, "-", "o"), GroupStyle(red, "-", "o")])
    assert palette_problems([GroupStyle(red, "-", "o"), GroupStyle(red, "-", "s")]) == [
        f"two {red} groups have the same line style"
    ]
    assert palette_problems([GroupStyle(red, "-", "o"), GroupStyle(blue, "-", "s")]) == []
    assert "#111111 is only" in " ".join(palette_problems([GroupStyle("#111111")]))


def test_group_markers_differ_at_legend_size():
    markers = style.GROUP_MARKERS
    assert len(set(markers)) == len(markers)
    # The truth ("x") and complete pooling ("*") have markers of their own in the explorers.
    assert not {"x", "*", "+", "."} & set(markers)
    for a, b in itertools.combinations(markers, 2):
        assert marker_overlap(a, b) <= MAX_MARKER_OVERLAP, (a, b)
    # The check tells look-alikes apart: a hexagon or an octagon reads as a circle.
    assert marker_overlap("o", "h") > MAX_MARKER_OVERLAP
    assert marker_overlap("o", "8") > MAX_MARKER_OVERLAP
