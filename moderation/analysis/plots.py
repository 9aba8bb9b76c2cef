"""Server-side SVG plots: the coordinates templates draw for histograms and line charts.

Pure Python, no Django: a plot is plain data (positions already scaled to the
SVG's pixels), so templates only place rectangles, paths and circles, and no
chart library has to be vendored.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from moderation.analysis.metrics import histogram

WIDTH, HEIGHT = 320, 160
# Lines of a chart take these colours in turn (readable on light and dark backgrounds).
PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777")


def path(points: Sequence[tuple[float, float]]) -> str:
    """An SVG path through points already in pixels ("" for none)."""
    return "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in points) if points else ""


def pair_histogram(
    first: Sequence[float],
    second: Sequence[float],
    *,
    bins: int = 10,
    shares: bool = False,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> list[dict]:
    """Two samples of scores in [0, 1] side by side in each bin, scaled to the plot.

    With `shares`, bar heights are each sample's share of its own size, so
    samples of different sizes compare; counts are kept for the bars' titles.
    """
    counts = histogram(first, bins), histogram(second, bins)
    sizes = (max(len(first), 1), max(len(second), 1)) if shares else (1, 1)
    heights = [[c / size for c in row] for row, size in zip(counts, sizes, strict=True)]
    top = max([*heights[0], *heights[1]]) or 1
    step = width / bins
    bars = []
    for i in range(bins):
        a_h, b_h = (h[i] / top * (height - 20) for h in heights)
        bars.append(
            {
                "x": round(i * step, 1),
                "second_x": round(i * step + step / 2, 1),
                "w": round(step / 2 - 1, 1),
                "first": counts[0][i],
                "second": counts[1][i],
                "first_y": round(height - a_h, 1),
                "first_h": round(a_h, 1),
                "second_y": round(height - b_h, 1),
                "second_h": round(b_h, 1),
                "label": f"{i / bins:.1f}",
            }
        )
    return bars


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    value: float
    label: str


@dataclass(frozen=True)
class Line:
    name: str
    colour: str
    dashed: bool
    path: str
    points: list[Point]


@dataclass(frozen=True)
class Tick:
    at: float
    label: str


@dataclass(frozen=True)
class LineChart:
    """Lines over evenly spaced x positions (one per label), y from 0 to `top`."""

    width: int
    height: int
    left: int
    bottom: int
    lines: list[Line]
    x_ticks: list[Tick]
    y_ticks: list[Tick]


LEFT, BOTTOM, TOP_PAD, RIGHT_PAD = 40, 18, 6, 10


class Series(NamedTuple):
    """One line: a value (or None) per label; lines of one `group` share a colour."""

    name: str
    values: Sequence[float | None]
    dashed: bool = False
    group: str = ""


def line_chart(
    series: Sequence[Series],
    *,
    labels: Sequence[str],
    top: float | None = None,
    width: int = WIDTH,
    height: int = HEIGHT,
    unit: str = "",
) -> LineChart:
    """A chart of the series over evenly spaced labels, y from 0 to `top`.

    `top` defaults to the largest value; a None value leaves its point out.
    """
    values = [v for s in series for v in s.values if v is not None]
    top = top or max(values, default=0) or 1
    inner_w, inner_h = width - LEFT - RIGHT_PAD, height - BOTTOM - TOP_PAD
    step = inner_w / max(len(labels) - 1, 1)

    def x_at(i: int) -> float:
        return LEFT + (i * step if len(labels) > 1 else inner_w / 2)

    def y_at(v: float) -> float:
        return TOP_PAD + inner_h * (1 - v / top)

    groups = list(dict.fromkeys(s.group or s.name for s in series))
    lines = []
    for s in series:
        points = [
            Point(round(x_at(i), 1), round(y_at(v), 1), v, labels[i])
            for i, v in enumerate(s.values)
            if v is not None
        ]
        colour = PALETTE[groups.index(s.group or s.name) % len(PALETTE)]
        lines.append(Line(s.name, colour, s.dashed, path([(p.x, p.y) for p in points]), points))
    return LineChart(
        width=width,
        height=height,
        left=LEFT,
        bottom=height - BOTTOM,
        lines=lines,
        x_ticks=_x_ticks(labels, x_at),
        y_ticks=[Tick(round(y_at(top * f), 1), f"{top * f:.3g}{unit}") for f in (0, 0.5, 1)],
    )


def _x_ticks(labels: Sequence[str], x_at) -> list[Tick]:
    """At most about eight labels, so they never overlap."""
    every = max(1, -(-len(labels) // 8))
    return [Tick(round(x_at(i), 1), label) for i, label in enumerate(labels) if i % every == 0]
