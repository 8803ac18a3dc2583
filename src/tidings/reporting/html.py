"""The report as one self-contained HTML page: tables, SVG charts and inline styles, no
scripts and nothing fetched, so it can be mailed, archived or opened offline."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from tidings.core.attribution import MODELS
from tidings.reporting import charts
from tidings.reporting.build import Report
from tidings.reporting.formats import money, percent
from tidings.storage.reports import DayFigures, WorkflowFigures

_ENV = Environment(
    loader=PackageLoader("tidings.reporting", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

MODEL_NAMES = {
    "first_touch": "first touch",
    "last_touch": "last touch",
    "linear": "linear",
    "time_decay": "time decay",
    "position": "position 40/20/40",
}


def _part(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "-"


_ENV.filters.update(pct=percent, money=money)
_ENV.globals.update(part=_part, model_names=MODEL_NAMES)


def _share(per_day: dict[str, DayFigures], day: str, part: str, whole: str) -> float:
    """A day's rate (0 on a day with nothing to divide by)."""
    row = per_day.get(day)
    if row is None or not getattr(row, whole):
        return 0.0
    return float(getattr(row, part)) / float(getattr(row, whole))


def daily_rates(f: WorkflowFigures, days: Sequence[str]) -> list[tuple[str, list[float]]]:
    """A workflow's click and conversion rates, day by day. Each rate divides a day's
    people by their own outcome, whenever it came (clicks on the day's sends, conversions
    of the day's entries), so it never passes 100%."""
    per_day = {d.day: d for d in f.days}
    return [
        ("click rate", [_share(per_day, d, "sent_clicked", "sent") for d in days]),
        ("conversion rate", [_share(per_day, d, "entered_converted", "entered") for d in days]),
    ]


def _charts(report: Report) -> dict[str, Any]:
    funnels = {
        f.key: charts.funnel(
            [
                ("entered", f.entered, None),
                ("sent", f.sent, None),
                ("opened", f.opened, 1),
                ("clicked", f.clicked, 1),
                ("converted", f.converted, 0),
            ]
        )
        for f in report.workflows
    }
    days = sorted({d.day for f in report.workflows for d in f.days})
    over_time = {}
    for f in report.workflows:
        per_day = {d.day: d for d in f.days}
        over_time[f.key] = charts.daily(
            days,
            [
                (name, [getattr(per_day[d], name) if d in per_day else 0 for d in days])
                for name in ("entered", "sent", "clicked", "converted")
            ],
        )
    rates = {
        f.key: charts.daily(days, daily_rates(f, days), percent=True) for f in report.workflows
    }
    rows = []
    for x in report.experiments:
        for v in x.comparisons:
            if v.comparison is None or v.metric == "revenue per contact":
                continue
            c = v.comparison
            label = f"{x.workflow} > {x.step}: {v.arm} vs {x.arms[0].name}, {v.metric}"
            rows.append((label, c.difference, c.low, c.high, f"{c.difference:+.1%}"))
    for lift in report.lifts:
        if lift.conversion is not None:
            c = lift.conversion
            label = f"{lift.workflow}: treated vs holdout, conversion"
            rows.append((label, c.difference, c.low, c.high, f"{c.difference:+.1%}"))
    attribution = report.attribution
    groups = [row.workflow for row in attribution.workflows]
    compared = charts.grouped(
        groups,
        [
            (MODEL_NAMES[m], [row.credits[m].revenue for row in attribution.workflows])
            for m in MODELS
        ],
    )
    return {
        "funnels": funnels,
        "over_time": over_time,
        "rates": rates,
        "intervals": charts.intervals(rows),
        "attribution": compared,
    }


def render_html(report: Report, title: str = "Tidings report") -> str:
    """The whole page as text."""
    template = _ENV.get_template("report.html.j2")
    return template.render(report=report, title=title, charts=_charts(report))


def write_html(report: Report, path: Path, title: str = "Tidings report") -> Path:
    """Write the page to `path` (folders created as needed); return its absolute path."""
    path = path.expanduser().resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(report, title), encoding="utf-8")
    return path
