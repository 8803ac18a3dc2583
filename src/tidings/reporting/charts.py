"""The geometry of the HTML report's charts: numbers in, shapes out.

Shapes carry their labels as plain text; the template writes them into SVG with Jinja's
autoescaping, so a workflow or variant name can never become markup. No JavaScript: the page
stays a single self-contained file that opens anywhere, offline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

WIDTH = 640
PALETTE = ("#2563eb", "#16a34a", "#f59e0b", "#dc2626", "#7c3aed", "#0891b2")


@dataclass(frozen=True)
class Bar:
    """A horizontal or vertical bar with its label and the value written next to it."""

    x: float
    y: float
    width: float
    height: float
    label: str
    value: str
    color: str


@dataclass(frozen=True)
class Line:
    """A polyline through points, in one colour, with a legend label."""

    points: str
    label: str
    color: str


@dataclass(frozen=True)
class Interval:
    """An estimate with its confidence interval, drawn on a shared axis."""

    y: float
    low: float
    high: float
    point: float
    label: str
    value: str
    color: str


@dataclass
class Chart:
    """A chart: its size, shapes, axis ticks and legend."""

    height: float
    bars: list[Bar] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    intervals: list[Interval] = field(default_factory=list)
    ticks: list[tuple[float, str]] = field(default_factory=list)  #: (x or y, label)
    zero: float | None = None  #: x of the zero line on an interval chart
    legend: list[tuple[str, str]] = field(default_factory=list)  #: (colour, label)
    width: float = WIDTH


def funnel(stages: Sequence[tuple[str, float, int | None]]) -> Chart:
    """Horizontal bars: (label, count, index of the stage it is a share of, or None)."""
    top = max((v for _, v, _ in stages), default=0) or 1
    chart = Chart(height=28 * len(stages) + 8)
    left, span = 110, WIDTH - 110 - 150
    for i, (label, value, base) in enumerate(stages):
        share = ""
        if base is not None and stages[base][1]:
            share = f" ({value / stages[base][1]:.0%} of {stages[base][0]})"
        chart.bars.append(
            Bar(
                left,
                4 + 28 * i,
                max(span * value / top, 1),
                22,
                label,
                f"{value:,.0f}{share}",
                PALETTE[0],
            )
        )
    return chart


def daily(
    days: Sequence[str], series: Sequence[tuple[str, Sequence[float]]], percent: bool = False
) -> Chart:
    """Lines over days (one point per day), sharing a vertical axis from zero; with
    `percent`, the values are shares and the axis reads in percent."""
    height, left, bottom, top_pad = 180.0, 40.0, 24.0, 10.0
    chart = Chart(height=height)
    if not days:
        return chart
    top = max((max(values, default=0) for _, values in series), default=0) or 1
    plot_w, plot_h = WIDTH - left - 10, height - bottom - top_pad
    step = plot_w / max(len(days) - 1, 1)

    def y_of(value: float) -> float:
        return top_pad + plot_h * (1 - value / top)

    for n, (label, values) in enumerate(series):
        color = PALETTE[n % len(PALETTE)]
        points = " ".join(f"{left + i * step:.1f},{y_of(v):.1f}" for i, v in enumerate(values))
        chart.lines.append(Line(points, label, color))
        chart.legend.append((color, label))
    for value in (0, top / 2, top):
        chart.ticks.append((y_of(value), f"{value:.0%}" if percent else _tick(value)))
    return chart


def intervals(rows: Sequence[tuple[str, float, float, float, str]]) -> Chart:
    """Differences with their intervals on one horizontal axis through zero:
    (label, estimate, low, high, written value). Each label sits above its interval."""
    chart = Chart(height=40 * len(rows) + 24)
    if not rows:
        return chart
    lowest = min(min(r[2] for r in rows), 0.0)
    highest = max(max(r[3] for r in rows), 0.0)
    pad = (highest - lowest) * 0.08 or 0.01
    lowest, highest = lowest - pad, highest + pad
    left, right = 20.0, WIDTH - 90.0

    def x_of(value: float) -> float:
        return left + (right - left) * (value - lowest) / (highest - lowest)

    chart.zero = x_of(0.0)
    for i, (label, point, low, high, written) in enumerate(rows):
        color = PALETTE[1] if low > 0 else PALETTE[3] if high < 0 else "#6b7280"
        chart.intervals.append(
            Interval(28 + 40 * i, x_of(low), x_of(high), x_of(point), label, written, color)
        )
    # One tick per distinct value: with every interval on one side of zero, the end of
    # the data on that side is zero itself.
    for tick in sorted({lowest + pad, 0.0, highest - pad}):
        chart.ticks.append((x_of(tick), f"{tick:+.3g}"))
    return chart


def grouped(groups: Sequence[str], series: Sequence[tuple[str, Sequence[float]]]) -> Chart:
    """Vertical bars: for each group, one bar per series (attribution: a bar per model).

    Bars stand on the zero line: a negative value (refunds beyond sales) hangs below it,
    so every rectangle keeps a height of zero or more, as SVG requires."""
    height, bottom, top_pad, left = 200.0, 36.0, 10.0, 50.0
    chart = Chart(height=height)
    if not groups or not series:
        return chart
    # The axis always holds zero: bars stand on it, or hang from it.
    low = min(0, *(min(values, default=0) for _, values in series))
    top = max(0, *(max(values, default=0) for _, values in series))
    if low == top == 0:
        top = 1  # nothing but zeros: an axis from zero to one, as before any sale
    span = top - low
    plot_h = height - bottom - top_pad
    slot = (WIDTH - left - 10) / len(groups)
    bar_w = slot * 0.8 / len(series)

    def y_of(value: float) -> float:
        return top_pad + plot_h * (top - value) / span

    for s, (label, values) in enumerate(series):
        color = PALETTE[s % len(PALETTE)]
        chart.legend.append((color, label))
        for g, value in enumerate(values):
            chart.bars.append(
                Bar(
                    left + g * slot + slot * 0.1 + s * bar_w,
                    y_of(max(value, 0)),
                    bar_w,
                    plot_h * abs(value) / span,
                    groups[g] if s == 0 else "",
                    f"{value:,.0f}",
                    color,
                )
            )
    # The zero tick is the line the bars stand on (and hang from).
    marks = [low, 0.0, top] if low < 0 else [0.0, top / 2, top]
    for value in sorted(set(marks)):
        chart.ticks.append((y_of(value), _tick(value)))
    return chart


def _tick(value: float) -> str:
    """An axis label that says where it stands: half of a small top (1.5) keeps its
    decimal instead of reading as the whole number beside it."""
    return f"{value:,.0f}" if value == round(value) or abs(value) >= 100 else f"{value:,.1f}"
