"""Run every benchmark and write BENCHMARKS.md with the machine and the date."""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from bench.audience import (
    SEGMENTS,
    bench_import,
    bench_membership_on_ingest,
    bench_segments,
)
from bench.delivery import (
    bench_dispatch_decisions,
    bench_dispatch_smtp,
    bench_dispatch_webhook,
    bench_policy_cost,
)
from bench.server import (
    bench_http_batches,
    bench_serve_memory,
    bench_timer_lateness,
    bench_track_latency,
    bench_workers,
)
from bench.setup import database, deployed, seed_sleeping
from bench.soak import bench_soak
from bench.soak import main as soak_main
from tidings.runtime.ingest import IDENTIFY, Incoming, ingest
from tidings.runtime.scheduler import run_until_idle

ROOT = Path(__file__).parents[1]


def bench_ingest(kind: str, events: int, batch: int) -> dict[str, float]:
    """Events per second through ingest -> react -> enroll -> first send in the outbox."""
    with database(kind) as engine:
        workspace_id, catalog, clock = deployed(engine)
        profiles = [
            Incoming(
                f"id-{i}",
                f"user-{i}",
                IDENTIFY,
                clock.now(),
                traits={
                    "email": f"user{i}@example.com",
                    "first_name": "Ann",
                    "consent": {"email": "subscribed"},
                },
            )
            for i in range(events)
        ]
        for start in range(0, events, 1000):
            ingest(engine, workspace_id, profiles[start : start + 1000], clock, catalog)
        signups = [
            Incoming(f"su-{i}", f"user-{i}", "signed_up", clock.now()) for i in range(events)
        ]
        started = time.perf_counter()
        for start in range(0, events, batch):
            ingest(engine, workspace_id, signups[start : start + batch], clock, catalog)
        elapsed = time.perf_counter() - started
        with engine.connect() as conn:
            queued = conn.execute(text("SELECT count(*) FROM messages")).scalar_one()
        assert queued == events, f"expected {events} messages in the outbox, found {queued}"
        return {"events": events, "seconds": elapsed, "per_second": events / elapsed}


def bench_scheduler(kind: str, sleeping: int, due: int) -> dict[str, float]:
    """Due steps per second with `sleeping` enrollments asleep, `due` of them due now.

    Each due step wakes from the wait, renders and queues a message and ends the journey.
    """
    with database(kind) as engine:
        workspace_id, catalog, clock = deployed(engine)
        seed_sleeping(engine, workspace_id, sleeping, due, clock.now())
        started = time.perf_counter()
        steps = run_until_idle(engine, clock, catalog)
        elapsed = time.perf_counter() - started
        assert steps == due, (steps, due)
        with engine.connect() as conn:
            sent = conn.execute(text("SELECT count(*) FROM messages")).scalar_one()
        assert sent == due, (sent, due)
        return {"steps": steps, "seconds": elapsed, "per_second": steps / elapsed}


def bench_demo() -> dict[str, float]:
    """Wall time of `tidings demo` (5,000 contacts, 30 days) in a fresh folder."""
    folder = ROOT / ".bench-demo"
    folder.mkdir(exist_ok=True)
    started = time.perf_counter()
    subprocess.run(
        [str(ROOT / ".venv/bin/tidings"), "demo"], cwd=folder, check=True, capture_output=True
    )
    elapsed = time.perf_counter() - started
    for leftover in folder.iterdir():
        leftover.unlink()
    folder.rmdir()
    return {"seconds": elapsed}


def _machine() -> str:
    cpu = "unknown CPU"
    with Path("/proc/cpuinfo").open() as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    pg = (
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc", "SHOW server_version"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        or "unreachable"
    )
    return (
        f"{cpu}, {os.cpu_count()} cores, {memory_gib:.0f} GiB; Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, PostgreSQL {pg}"
    )


def _rate(result: dict[str, float], unit: str) -> tuple[str, str]:
    done = result.get("events", result.get("steps", 0))
    return f"{result['per_second']:,.0f} {unit}", f"{done:,.0f} in {result['seconds']:.2f} s"


def main() -> None:
    rows: list[str] = []

    def record(name: str, target: str, shown: tuple[str, str]) -> None:
        rows.append(f"| {name} | {shown[0]} | {shown[1]} | {target} |")
        print(rows[-1], flush=True)

    ingest_target = "≥ 20,000/s SQLite, ≥ 10,000/s PG (batch)"
    for kind in ("sqlite", "postgresql"):
        for batch in (1, 100, 1000):
            events = 2_000 if batch == 1 else 20_000
            record(
                f"ingest in-process → enroll → first send, {kind}, batch {batch}",
                ingest_target,
                _rate(bench_ingest(kind, events, batch), "events/s"),
            )
        for batch in (1, 100, 500):
            events = 2_000 if batch == 1 else 20_000
            record(
                f"HTTP {'/v1/track' if batch == 1 else '/v1/batch'} → outbox, {kind}, by {batch}",
                "≥ 1,000/s one per request" if batch == 1 else ingest_target,
                _rate(bench_http_batches(kind, batch, events), "events/s"),
            )
        latency = bench_track_latency(kind, rate=100, seconds=10)
        record(
            f"/v1/track latency at 100 calls/s (outbox committed), {kind}",
            "p99 ≤ 100 ms",
            (
                f"p50 {latency['p50_ms']:.1f} ms, p99 {latency['p99_ms']:.1f} ms",
                f"{latency['calls']:,.0f} calls",
            ),
        )
        late = bench_timer_lateness(kind, 1_000_000, 10_000, 10)
        record(
            f"timer lateness, 1,000 wakes/s among 1,000,000 sleeping, {kind}, one loop",
            "p99 ≤ 1 s",
            (
                f"p50 {late['p50_s'] * 1000:.0f} ms, p99 {late['p99_s'] * 1000:.0f} ms",
                "10,000 timers over 10 s",
            ),
        )
        record(
            f"scheduler, 20,000 due of 1,000,000 sleeping, {kind}, in-process",
            "≥ 5,000/s per worker",
            _rate(bench_scheduler(kind, 1_000_000, 20_000), "steps/s"),
        )
    one = bench_workers(1, 40_000)
    two = bench_workers(2, 40_000)
    record(
        "tidings worker x1, postgresql, 40,000 due", "≥ 5,000/s per worker", _rate(one, "steps/s")
    )
    record(
        "tidings worker x2, postgresql, 40,000 due",
        "≥ 1.6x one worker",
        (
            f"{two['per_second']:,.0f} steps/s ({two['per_second'] / one['per_second']:.2f}x one)",
            f"{two['steps']:,.0f} in {two['seconds']:.2f} s",
        ),
    )
    memory = bench_serve_memory(1_000_000)
    record(
        "tidings serve, 1,000,000 contacts stored (SQLite): idle memory, start",
        "≤ 150 MB, ≤ 2 s",
        (f"{memory['rss_mb']:.0f} MB, {memory['start_seconds']:.1f} s", "RSS after 3 s idle"),
    )
    for kind in ("sqlite", "postgresql"):
        record(
            f"dispatcher → loopback SMTP server (aiosmtpd process), {kind}, 8 connections",
            "measured (issue 4)",
            _rate(bench_dispatch_smtp(kind, 5_000), "emails/s"),
        )
        record(
            f"dispatcher, nothing on the wire (claim, policies, compose, record), {kind}",
            "measured (issue 4)",
            _rate(bench_dispatch_decisions(kind, 10_000), "messages/s"),
        )
    for delay in (0.0, 0.02):
        record(
            f"dispatcher → loopback webhook receiver answering in {delay * 1000:.0f} ms, sqlite",
            "measured (issue 4)",
            _rate(bench_dispatch_webhook("sqlite", 3_000, delay=delay), "calls/s"),
        )
    cost = bench_policy_cost()
    record(
        "send-time policy decision (cap, quiet hours, purchase window)",
        "measured (issue 4)",
        (f"{1e6 / cost['per_second']:.0f} µs per message", f"{cost['events']:,.0f} decisions"),
    )
    for kind in ("postgresql", "sqlite"):
        found = bench_segments(kind, 1_000_000, 10_000_000)
        report = found.pop("report")
        for key, figures in found.items():
            record(
                f"segment {key!r} over 1,000,000 contacts and 10,000,000 events, {kind}",
                "≤ 2 s on PostgreSQL",
                (
                    f"count {figures['count_s']:.2f} s, fill {figures['fill_s']:.2f} s",
                    f"{figures['size']:,.0f} members: {SEGMENTS[key]}",
                ),
            )
        record(
            f"tidings report over 1,000,000 contacts and 10,000,000 events, {kind}",
            "measured (issue 6)",
            (
                f"{report['all_s']:.1f} s all time, {report['month_s']:.1f} s last 30 days",
                f"{report['all_conversions']:,.0f} and {report['month_conversions']:,.0f}"
                " conversions; value by 4 segments",
            ),
        )
        imported = bench_import(kind, 100_000)
        record(
            f"contacts import (CSV, cleaned, matched, written), {kind}",
            "measured (issue 5)",
            (
                f"{imported['rows'] / imported['new_s']:,.0f} rows/s new,"
                f" {imported['rows'] / imported['again_s']:,.0f} rows/s again",
                f"{imported['rows']:,.0f} rows",
            ),
        )
    for kind in ("sqlite", "postgresql"):
        rates = bench_membership_on_ingest(kind, 10_000, 100)
        record(
            f"ingest by 100 with four segments kept current on each event, {kind}",
            "measured (issue 5)",
            (
                f"{rates['with']:,.0f} events/s (without segments {rates['without']:,.0f})",
                "10,000 page views over 100,000 contacts, 1,000,000 events",
            ),
        )
    demo = bench_demo()
    record("tidings demo (5,000 contacts, 30 days)", "≤ 30 s", (f"{demo['seconds']:.1f} s", ""))
    soak = bench_soak()
    failed = [name for name, ok in soak["checks"].items() if not ok]
    record(
        "soak: tidings serve on PostgreSQL, 90 s of load, 2 PostgreSQL restarts, 1 poison event",
        "nothing lost, every due step run, /readyz truthful",
        (
            "met" if soak["met"] else f"not met: {', '.join(failed)}",
            f"{soak['acknowledged']:,} events acknowledged, {soak['signups']:,} journeys;"
            f" {soak['readyz_samples']} /readyz polls, {soak['readyz_503_while_down']} 503s"
            f" while down; {soak['failed_rounds_logged']} failed rounds logged and retried",
        ),
    )

    today = datetime.now(UTC).strftime("%Y-%m-%d")
    body = "\n".join(
        [
            "# Benchmarks",
            "",
            "Written by `make bench` (`python -m bench`); every number is from the run below.",
            "In-process figures call ingest and the scheduler directly; HTTP figures go through a"
            " real `tidings serve` on loopback, with 4 client threads on the same 2 cores.",
            "",
            f"- Date: {today}",
            f"- Machine: {_machine()}",
            "",
            "| benchmark | result | work | target |",
            "|---|---|---|---|",
            *rows,
            "",
        ]
    )
    history = ROOT / "BENCHMARKS.md"
    previous = history.read_text().split("\n## Earlier runs\n", 1) if history.exists() else [""]
    earlier = ""
    if previous[0].strip():
        earlier = previous[0].replace("# Benchmarks", "### Run", 1)
        if len(previous) > 1:
            earlier += "\n" + previous[1]
    history.write_text(body + ("\n## Earlier runs\n\n" + earlier if earlier else ""))
    print(f"wrote {history}")


if __name__ == "__main__":
    # `python -m bench soak` runs the soak alone (it restarts PostgreSQL twice).
    if sys.argv[1:] == ["soak"]:
        soak_main()
    else:
        main()
