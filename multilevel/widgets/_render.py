"""How an explorer's figure becomes a PNG fast enough for a slider drag.

Each explorer owns one matplotlib ``Figure`` on the Agg canvas (no pyplot, no global state) and
shows it as a PNG in an ``ipywidgets.Image``, which works unchanged in JupyterLab, in nbclient
runs and in exported HTML. The artists that move are made once and changed in place; they are
*animated*, so the still parts (axes, ticks, labels, legend) are drawn once into a cached
background and redrawn only when limits or legends change (``scripts/bench_explorers.py``
times a drag).

Example
-------
>>> from matplotlib.figure import Figure
>>> fig = Figure(figsize=(2, 1), dpi=50)
>>> ax = fig.subplots()
>>> renderer = BlitRenderer(fig)
>>> renderer.animate(*ax.plot([0, 1], [0, 1]))
>>> renderer.render()[:4]
b'\\x89PNG'
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

import numpy as np
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgba_array
from matplotlib.figure import Figure
from matplotlib.markers import MarkerStyle
from matplotlib.path import Path
from PIL import Image as PILImage

from .. import style

__all__ = ["AxisLimits", "BlitRenderer", "GroupMarks"]


class BlitRenderer:
    """Render a figure to PNG, redrawing only the animated artists when the background holds."""

    def __init__(self, fig: Figure) -> None:
        self.fig = fig
        self.canvas = FigureCanvasAgg(fig)
        self._background: Any = None
        self._animated: list[Artist] = []

    def animate(self, *artists: Artist) -> None:
        """Mark artists as moving: drawn on top of the cached background at every refresh."""
        for artist in artists:
            artist.set_animated(True)
            self._animated.append(artist)

    def invalidate(self) -> None:
        """The still parts changed (limits, legend, titles): redraw them at the next render."""
        self._background = None

    def render(self) -> bytes:
        """The figure as PNG bytes."""
        canvas = self.canvas
        if self._background is None:
            canvas.draw()
            self._background = canvas.copy_from_bbox(self.fig.bbox)
        else:
            canvas.restore_region(self._background)
        renderer = canvas.get_renderer()
        for artist in self._animated:
            if artist.get_visible() and artist.figure is not None:
                artist.draw(renderer)
        width, height = canvas.get_width_height()
        image = PILImage.frombuffer(
            "RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1
        ).convert("RGB")
        out = io.BytesIO()
        # RGB at compress_level=1: about 6 ms instead of about 25 ms at the default level, for a
        # file of about 70 kB at 8x20.
        image.save(out, format="png", compress_level=1)
        return out.getvalue()


class AxisLimits:
    """Axis limits that only move when the content leaves them or shrinks to a small part.

    Parameters
    ----------
    pad : float
        Room left on each side of new limits, as a share of the content's span.
    shrink : float
        Limits also move when the content fills less than this share of them.

    Example
    -------
    >>> AxisLimits().fit((0.0, 100.0), [20.0, 80.0]) is None   # still fits: keep the limits
    True
    """

    def __init__(self, pad: float = 0.3, shrink: float = 0.3) -> None:
        self.pad = pad
        self.shrink = shrink

    def fit(
        self, current: tuple[float, float], values: Iterable[float]
    ) -> tuple[float, float] | None:
        """New limits for ``values``, or None when the current ones still serve."""
        arr = np.asarray([v for v in values if v is not None], dtype=float)
        arr = arr[np.isfinite(arr)]
        if arr.size == 0:
            return None
        low, high = float(arr.min()), float(arr.max())
        span = high - low
        if span <= 0:
            span = max(abs(high) * 0.1, 1.0)
        cur_low, cur_high = current
        cur_span = cur_high - cur_low
        # A marker drawn right at the edge would be cut in half: keep a small margin clear.
        margin = 0.04 * cur_span
        inside = low >= cur_low + margin and high <= cur_high - margin
        if inside and span >= self.shrink * cur_span:
            return None
        return low - self.pad * span, high + self.pad * span


class GroupMarks:
    """The colour and marker of each of ``n_groups`` departments in an explorer, from
    :func:`multilevel.style.distinct_styles` (the course's one palette function).

    Past eight departments colours repeat and the marker tells them apart. (An explorer's
    lines keep their line styles for the kind of pooling, so there colour is the only cue.)

    Attributes
    ----------
    colors : numpy.ndarray
        RGBA rows, one per department.
    paths : list of matplotlib.path.Path
        One marker outline per department, scaled as ``Axes.scatter`` scales its markers, for
        ``PathCollection.set_paths`` (a collection draws its i-th point with its i-th path).

    Example
    -------
    >>> marks = GroupMarks(12)
    >>> marks.colors.shape, len(marks.paths)
    ((12, 4), 12)
    """

    def __init__(self, n_groups: int) -> None:
        styles = style.distinct_styles(n_groups)
        self.colors = to_rgba_array([s.color for s in styles]) if styles else np.zeros((0, 4))
        shapes = {m: _marker_path(m) for m in dict.fromkeys(s.marker for s in styles)}
        self.paths = [shapes[s.marker] for s in styles]

    def point_paths(self, codes: np.ndarray) -> list[Path]:
        """The marker outline of each point, given each point's department code."""
        return [self.paths[c] for c in np.asarray(codes, dtype=int)]


def _marker_path(marker: str) -> Path:
    shape = MarkerStyle(marker)
    return shape.get_path().transformed(shape.get_transform())
