"""The slowest renders the limits allow, and ordinary ones, timed on this machine.

Run: `python -m bench.render_worst`. Prints, per template, the best and worst of a few
renders (wall seconds) and what stopped it, under the counted limits alone and with the
time limit the shell passes (`DEFAULT_RENDER_SECONDS` of thread CPU time); then how long
one ingest transaction takes for a batch of worst-case renders, and how much journey time
a batch of ordinary events spends.
"""

from __future__ import annotations

import textwrap
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import yaml
from sqlalchemy import text

from bench.setup import database
from tidings.clock import VirtualClock
from tidings.core import validate_workflow
from tidings.core.render import RenderError, TimeLimit, render
from tidings.runtime.ingest import Incoming, ingest
from tidings.runtime.journeys import (
    DEFAULT_INGEST_JOURNEY_SECONDS,
    DEFAULT_RENDER_SECONDS,
    JourneyLimits,
)
from tidings.storage.workflows import Catalog, deploy_workflow
from tidings.storage.workspaces import ensure_workspace

BIG = "{% assign s = 'x' %}{% for i in (1..16) %}{% assign s = s | append: s %}{% endfor %}"
CATALOGUE = [{"name": f"p{i}", "details": [f"d{j}" for j in range(50)]} for i in range(100)]

CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "ordinary: a welcome email": (
        "<p>Hi {{ contact.first_name | default: 'there' | capitalize }},</p>"
        "{% if contact.plan == 'pro' %}<p>Thanks for going pro.</p>{% endif %}"
        "<p>Your cart: {{ event.total | default: 0 }} EUR</p>",
        {"contact": {"first_name": "ann", "plan": "pro"}, "event": {"total": 42}},
    ),
    "ordinary: a catalogue of 100 items x 50 details": (
        "{% for p in event.products %}<h2>{{ p.name | upcase }}</h2>"
        "{% for d in p.details %}<li>{{ d }}</li>{% endfor %}{% endfor %}",
        {"event": {"products": CATALOGUE}},
    ),
    "worst: the whole node budget": (
        "{% for i in (1..9000) %}" + "{% if i == 1 %}{% endif %}" * 5 + "{% endfor %}",
        {},
    ),
    "worst: the node budget on a long text": (
        BIG + "{% for i in (1..9000) %}{% if s contains 'z' %}{% endif %}{% endfor %}",
        {},
    ),
    "worst: sorting a long list again and again": (
        "{% for i in (1..100) %}{% assign s = event.items | sort | size %}{% endfor %}",
        {"event": {"items": list(range(20000))}},
    ),
    "worst: the node budget with filters": (
        "{% for i in (1..9000) %}{{ i | plus: 1 | times: 3 | modulo: 7 }}{% endfor %}",
        {},
    ),
}


def _time(
    source: str, data: dict[str, Any], limit: TimeLimit | None, runs: int = 5
) -> tuple[float, float, float, str]:
    """Best and worst wall time, worst CPU time of the thread, and the outcome."""
    times, cpu, outcome = [], [], "rendered"
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.thread_time()
        try:
            render(source, data, time_limit=limit)
        except RenderError as exc:
            outcome = str(exc)
        times.append(time.perf_counter() - started)
        cpu.append(time.thread_time() - started_cpu)
    return min(times), max(times), max(cpu), outcome


WORST_WORKFLOW = """
id: slow
name: Slow receipt
trigger: {event: order_completed}
entry: {reentry: always}
templates:
  r: {subject: "Your order", text: "%s"}
steps:
  - {id: send, type: send, template: r, kind: transactional}
"""


class _Recorder:
    """The batch clock, with every reading kept: the journey time spent is the sum of
    the differences between each pair of readings (one pair per journey run)."""

    def __init__(self) -> None:
        self.reads: list[float] = []

    def __call__(self) -> float:
        self.reads.append(time.monotonic())
        return self.reads[-1]

    def spent(self) -> float:
        return sum(b - a for a, b in zip(self.reads[0::2], self.reads[1::2], strict=True))


def _batch(source: str, events: int, limits: JourneyLimits, batches: int = 3) -> float:
    """The slowest of a few ingest transactions of `events` orders, each rendering `source`."""
    workflow = WORST_WORKFLOW % source.replace('"', '\\"')
    spec, problems = validate_workflow(yaml.safe_load(textwrap.dedent(workflow)))
    assert spec is not None, problems
    slowest = 0.0
    with database("sqlite") as engine:
        clock = VirtualClock(datetime(2026, 3, 2, 12, tzinfo=UTC))
        with engine.begin() as conn:
            workspace_id = ensure_workspace(conn, "bench", "Bench", clock.now())
            deploy_workflow(conn, workspace_id, spec, workflow, clock.now())
        catalog = Catalog()
        for b in range(batches):
            items = [
                Incoming(
                    f"b{b}-{i}",
                    f"user-{i}",
                    "order_completed",
                    clock.now(),
                    traits={"email": f"user{i}@example.com"},
                )
                for i in range(events)
            ]
            started = time.perf_counter()
            ingest(engine, workspace_id, items, clock, catalog, limits=limits)
            slowest = max(slowest, time.perf_counter() - started)
            clock.advance(timedelta(seconds=1))
        with engine.connect() as conn:
            queued = conn.execute(text("SELECT count(*) FROM messages")).scalar()
            held = conn.execute(
                text("SELECT count(*) FROM step_log WHERE action = 'held'")
            ).scalar()
    print(f"   ({queued} queued, {held} held)")
    return slowest


def main() -> None:
    limit = TimeLimit(DEFAULT_RENDER_SECONDS, time.thread_time)
    for label, chosen in (("counted limits only", None), ("and the time limit", limit)):
        print(f"-- one render, {label}")
        for name, (source, data) in CASES.items():
            best, worst, cpu, outcome = _time(source, data, chosen)
            print(
                f"{name:50} wall {best * 1000:5.1f}-{worst * 1000:5.1f} ms, "
                f"cpu <= {cpu * 1000:5.1f} ms  {outcome[:50]}"
            )
    worst_source = CASES["worst: the whole node budget"][0]
    uncounted = JourneyLimits(render_seconds=3600.0)
    per_render = JourneyLimits()
    both = JourneyLimits(batch_seconds=DEFAULT_INGEST_JOURNEY_SECONDS)
    for label, limits in (
        ("counted limits only", uncounted),
        ("and the time limit per render", per_render),
        ("and the batch's journey time", both),
    ):
        seconds = _batch(worst_source, 20, limits)
        print(f"-- a batch of 20 worst-case renders, {label}: slowest transaction {seconds:.2f} s")
    ordinary = CASES["ordinary: a welcome email"][0]
    recorder = _Recorder()
    _batch(ordinary, 1000, JourneyLimits(batch_seconds=3600.0, batch_clock=recorder), batches=1)
    print(f"-- a batch of 1,000 ordinary events: journeys ran {recorder.spent():.3f} s")


if __name__ == "__main__":
    main()
