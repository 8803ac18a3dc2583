"""Audience benchmarks: segments over a million contacts and ten million events, membership
kept current on ingest, and contact imports."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import yaml
from sqlalchemy import Connection, Engine, text

from bench.setup import database, deployed
from tidings.core import validate_workflow
from tidings.core.conditions import parse_condition
from tidings.reporting.build import Options, build_report
from tidings.runtime.imports import import_contacts, report_text
from tidings.runtime.ingest import Incoming, ingest
from tidings.runtime.segments import define_segment
from tidings.storage import segments as store
from tidings.storage.reports import Period
from tidings.storage.workflows import Catalog, deploy_workflow

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)

#: The issue's own kinds of rule, from a profile test to a revenue total.
SEGMENTS = {
    "pro": 'contact.plan == "pro" and contact.company_size >= 100',
    "pricing": (
        'performed page_viewed where event.url contains "/pricing" at least 3 times within 7d'
    ),
    "lapsed": "not performed email_opened within 90d",
    "big-spenders": "total event.revenue of order_completed > 500",
}

_NAMES = (
    "page_viewed",
    "page_viewed",
    "page_viewed",
    "email_opened",
    "email_opened",
    "order_completed",
    "session_started",
    "email_clicked",
    "page_viewed",
    "cart_abandoned",
)
_URLS = ("/pricing", "/blog", "/docs", "/pricing/teams", "/")
_HALF_YEAR = 180 * 86400


def seed(engine: Engine, workspace_id: int, contacts: int, events: int) -> None:
    """`contacts` profiles and `events` events spread over half a year, written by the
    database itself (generate_series, or a recursive CTE on SQLite), then vacuumed as a
    live database would be: the first read of freshly loaded rows otherwise pays for
    setting their hint bits, which is not a segment's cost."""
    params: dict[str, Any] = {"ws": workspace_id, "n": contacts, "m": events, "now": NOW}
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            _seed_postgresql(conn, params)
        else:
            _seed_sqlite(conn, params)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))


def _seed_postgresql(conn: Connection, params: dict[str, Any]) -> None:
    names = ", ".join(f"'{n}'" for n in _NAMES)
    urls = ", ".join(f"'{u}'" for u in _URLS)
    conn.execute(
        text(
            "INSERT INTO contacts (workspace_id, external_id, email, timezone, attributes,"
            " tags, consent, score, created_at, updated_at)"
            " SELECT :ws, 'u' || g, 'u' || g || '@example.com', 'UTC',"
            " jsonb_build_object('plan', (ARRAY['free','pro','team'])[1 + g % 3],"
            " 'company_size', (g * 7919) % 500), '[]'::jsonb,"
            ' \'{"email": "subscribed"}\'::jsonb, g % 100, :now, :now'
            " FROM generate_series(1::bigint, :n) g"
        ),
        params,
    )
    first = conn.execute(text("SELECT min(id) FROM contacts")).scalar_one()
    conn.execute(
        text(
            "INSERT INTO events (workspace_id, contact_id, message_id, name, properties,"
            " occurred_at, received_at)"
            " SELECT :ws, :first + floor(random() * :n)::bigint, 'e' || g,"
            f" (ARRAY[{names}])[1 + floor(random() * 10)::int],"
            f" jsonb_build_object('url', (ARRAY[{urls}])[1 + floor(random() * 5)::int],"
            " 'revenue', floor(random() * 300)::int),"
            f" :now - floor(random() * {_HALF_YEAR}) * interval '1 second', :now"
            " FROM generate_series(1::bigint, :m) g"
        ),
        {**params, "first": first},
    )


def _seed_sqlite(conn: Connection, params: dict[str, Any]) -> None:
    conn.execute(
        text(
            "INSERT INTO contacts (workspace_id, external_id, email, timezone, attributes,"
            " tags, consent, score, created_at, updated_at)"
            " WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < :n)"
            " SELECT :ws, 'u' || g, 'u' || g || '@example.com', 'UTC',"
            " json_object('plan', CASE g % 3 WHEN 0 THEN 'free' WHEN 1 THEN 'pro'"
            " ELSE 'team' END, 'company_size', (g * 7919) % 500), '[]',"
            ' \'{"email": "subscribed"}\', g % 100, :now, :now FROM s'
        ),
        params,
    )
    first = conn.execute(text("SELECT min(id) FROM contacts")).scalar_one()
    name_case = " ".join(f"WHEN {i} THEN '{n}'" for i, n in enumerate(_NAMES))
    url_case = " ".join(f"WHEN {i} THEN '{u}'" for i, u in enumerate(_URLS))
    conn.execute(
        text(
            "INSERT INTO events (workspace_id, contact_id, message_id, name, properties,"
            " occurred_at, received_at)"
            " WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < :m)"
            " SELECT :ws, :first + abs(random()) % :n, 'e' || g,"
            f" CASE abs(random()) % 10 {name_case} END,"
            f" json_object('url', CASE abs(random()) % 5 {url_case} END,"
            " 'revenue', abs(random()) % 300),"
            f" strftime('%Y-%m-%d %H:%M:%S', :epoch - abs(random()) % {_HALF_YEAR},"
            " 'unixepoch') || '.000000', :now FROM s"
        ),
        {**params, "first": first, "epoch": int(NOW.timestamp())},
    )


def bench_segments(kind: str, contacts: int, events: int) -> dict[str, dict[str, float]]:
    """Per segment: seconds to count its members (a preview) and to fill it (stored)."""
    results: dict[str, dict[str, float]] = {}
    with database(kind) as engine:
        workspace_id, _, _ = deployed(engine)
        started = time.perf_counter()
        seed(engine, workspace_id, contacts, events)
        print(
            f"  seeded {contacts:,} contacts, {events:,} events in"
            f" {time.perf_counter() - started:.0f} s",
            flush=True,
        )
        for key, condition in SEGMENTS.items():
            with engine.connect() as conn:
                started = time.perf_counter()
                size = store.count_matching(conn, workspace_id, parse_condition(condition), NOW)
                counted = time.perf_counter() - started
            started = time.perf_counter()
            defined = define_segment(engine, workspace_id, key, key, condition, NOW)
            filled = time.perf_counter() - started
            assert defined.size == size, (key, defined.size, size)
            results[key] = {"size": size, "count_s": counted, "fill_s": filled}
            print(
                f"  {key}: {size:,} members, count {counted:.2f} s, fill {filled:.2f} s", flush=True
            )
        results["report"] = bench_report(engine, workspace_id)
    return results


#: A workflow whose goal makes every order a conversion, so the report has them all to read.
_BUYING = """
id: buying
name: Buying
trigger: {type: event, event: cart_abandoned}
goal: {event: order_completed, within: 7d, revenue: revenue}
steps:
  - {id: wait, type: wait, for: 1d}
"""


def bench_report(engine: Engine, workspace_id: int) -> dict[str, float]:
    """Seconds to build the whole report (funnels, experiments, attribution, customer value
    by segment, the audit) over the seeded store: every order since the start, then the
    last 30 days."""
    spec, problems = validate_workflow(yaml.safe_load(_BUYING))
    assert spec is not None, problems
    with engine.begin() as conn:
        deploy_workflow(conn, workspace_id, spec, _BUYING, NOW)
    found: dict[str, float] = {}
    for label, since in (("all_s", None), ("month_s", NOW - timedelta(days=30))):
        started = time.perf_counter()
        with engine.connect() as conn:
            report = build_report(
                conn, workspace_id, Catalog(), NOW, Options(period=Period(since, None))
            )
        found[label] = time.perf_counter() - started
        found[label.replace("_s", "_conversions")] = report.attribution.conversions
        print(
            f"  report ({label[:-2]}): {report.attribution.conversions:,} conversions,"
            f" {report.value.overall.contacts:,} contacts in {found[label]:.1f} s",
            flush=True,
        )
    return found


def bench_membership_on_ingest(kind: str, events: int, batch: int) -> dict[str, float]:
    """Events per second through ingest with and without the four segments defined, over
    100,000 contacts: the cost of keeping membership current on each event."""
    rates: dict[str, float] = {}
    for with_segments in (False, True):
        with database(kind) as engine:
            workspace_id, catalog, clock = deployed(engine)
            seed(engine, workspace_id, 100_000, 1_000_000)
            clock.set(NOW)
            if with_segments:
                for key, condition in SEGMENTS.items():
                    define_segment(engine, workspace_id, key, key, condition, NOW)
            items = [
                Incoming(
                    f"new-{i}",
                    f"u{1 + (i * 13) % 100_000}",
                    "page_viewed",
                    NOW - timedelta(seconds=i % 3600),
                    properties={"url": _URLS[i % len(_URLS)]},
                )
                for i in range(events)
            ]
            started = time.perf_counter()
            for start in range(0, events, batch):
                ingest(engine, workspace_id, items[start : start + batch], clock, catalog)
            elapsed = time.perf_counter() - started
            rates["with" if with_segments else "without"] = events / elapsed
    return rates


def bench_import(kind: str, rows: int) -> dict[str, float]:
    """Rows per second through `import_contacts`: a fresh import, then the same file again
    (every row found, nothing changed)."""
    lines = ["Customer ID,Email,Phone,First Name,Plan,Company Size"]
    lines += [
        f"c{n},User{n}@Example.com,+1 415 {200 + n // 10000:03d} {n % 10000:04d},user{n},"
        f"{('free', 'pro', 'team')[n % 3]},{n % 500}"
        for n in range(rows)
    ]
    text = "\n".join(lines) + "\n"
    with database(kind) as engine:
        workspace_id, _, _ = deployed(engine)
        started = time.perf_counter()
        report = import_contacts(engine, workspace_id, io.StringIO(text), NOW)
        first = time.perf_counter() - started
        assert report.created == rows and not report.rejected, report_text(report)
        started = time.perf_counter()
        again = import_contacts(engine, workspace_id, io.StringIO(text), NOW)
        second = time.perf_counter() - started
        assert again.unchanged == rows, report_text(again)
    return {"rows": rows, "new_s": first, "again_s": second}
