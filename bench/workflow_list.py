"""The workflows list's figures (`GET /api/workflows?figures=30d`) over 1,000,000 enrollments.

Run alone: `python -m bench.workflow_list` (add `--enrollments N` for another size). Seeds 20
workflows and 50,000 contacts, each contact once in every workflow, entries spread over a
year, one in ten still waiting, one in five converted; then times `list_figures` for 30 days
(warm, best and median of several calls) and, for scale, the full report over the same days.
"""

from __future__ import annotations

import argparse
import statistics
import textwrap
import time
from datetime import UTC, datetime, timedelta

import yaml
from sqlalchemy import Engine, text

from bench.setup import WORKFLOW, database
from tidings.core import validate_workflow
from tidings.storage.list_figures import list_figures
from tidings.storage.reports import Period, workflow_figures
from tidings.storage.workflows import Catalog, deploy_workflow, list_workflows
from tidings.storage.workspaces import ensure_workspace

WORKFLOWS = 20
NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
MINUTES_A_YEAR = 365 * 24 * 60


def seed(engine: Engine, enrollments: int) -> int:
    """The workspace with WORKFLOWS workflows and `enrollments` journeys among them."""
    with engine.begin() as conn:
        workspace_id = ensure_workspace(conn, "bench", "Bench", NOW)
        for i in range(WORKFLOWS):
            source = WORKFLOW.replace("id: bench", f"id: bench_{i:02d}")
            spec, problems = validate_workflow(yaml.safe_load(textwrap.dedent(source)))
            assert spec is not None, problems
            deploy_workflow(conn, workspace_id, spec, source, NOW)
        ids = [w.id for w in list_workflows(conn, workspace_id)]
    first = min(ids)
    assert sorted(ids) == list(range(first, first + WORKFLOWS)), ids
    contacts = enrollments // WORKFLOWS + 1
    params: dict[str, object] = {"ws": workspace_id, "first": first, "n": enrollments}
    postgres = engine.dialect.name == "postgresql"

    def series(limit: str) -> str:
        if postgres:
            return f"generate_series(1, {limit}) AS s(g)"
        return (
            f"(WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < {limit})"
            " SELECT g FROM s)"
        )

    # Minutes back from now: a spread over the year that does not follow the workflow.
    back = f"((CAST(g AS BIGINT) * 7919) % {MINUTES_A_YEAR})"
    if postgres:
        params["now"] = NOW

        def at(minutes: str) -> str:
            return f"(CAST(:now AS timestamptz) - ({minutes}) * interval '1 minute')"

    else:
        # SQLite keeps UTC text in the format the column type writes and reads back.
        params["now"] = NOW.strftime("%Y-%m-%d %H:%M:%S") + ".000000"
        params["plain"] = NOW.strftime("%Y-%m-%d %H:%M:%S")

        def at(minutes: str) -> str:
            return (
                f"(strftime('%Y-%m-%d %H:%M:%S', :plain, '-' || ({minutes}) || ' minutes')"
                " || '.000000')"
            )

    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO contacts (id, workspace_id, external_id, email, timezone, attributes,"
                " tags, consent, score, created_at, updated_at)"
                " SELECT g, :ws, 'user-' || g, 'user' || g || '@example.com', 'UTC', '{}', '[]',"
                f' \'{{"email": "subscribed"}}\', 0, :now, :now FROM {series(str(contacts))}'
            ),
            params,
        )
        # By the contact, not by g alone: every workflow gets its share of each kind.
        open_ = f"(g / {WORKFLOWS}) % 10 = 0"
        converted = f"(g / {WORKFLOWS}) % 5 = 1"
        conn.execute(
            text(
                "INSERT INTO enrollments (id, workspace_id, workflow_id, version, contact_id,"
                " status, step_id, wake_at, wait_kind, entry_key, visits, entered_at, ended_at,"
                " converted_at)"
                f" SELECT g, :ws, :first + g % {WORKFLOWS}, 1, g / {WORKFLOWS} + 1,"
                f" CASE WHEN {open_} THEN 'waiting' ELSE 'completed' END,"
                f" CASE WHEN {open_} THEN 'nap' END,"
                f" CASE WHEN {open_} THEN :now END,"
                f" CASE WHEN {open_} THEN 'timer' END,"
                " '', '{}',"
                f" {at(back)},"
                f" CASE WHEN {open_} THEN NULL ELSE {at(back + ' - 1')} END,"
                f" CASE WHEN {converted} THEN {at(back + ' - 1')} END"
                f" FROM {series(':n')}"
            ),
            params,
        )
        if postgres:
            for table in ("contacts", "enrollments"):
                conn.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), :n)"),
                    {"n": enrollments if table == "enrollments" else contacts},
                )
    if postgres:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE contacts, enrollments"))
    return workspace_id


def bench_workflow_list(kind: str, enrollments: int, runs: int = 7) -> dict[str, float]:
    """Seconds for the list's figures over 30 days: best and median; and the full report."""
    with database(kind) as engine:
        workspace_id = seed(engine, enrollments)
        since = NOW - timedelta(days=30)
        timings = []
        with engine.connect() as conn:
            for _ in range(runs):
                started = time.perf_counter()
                found = list_figures(conn, workspace_id, since)
                timings.append(time.perf_counter() - started)
            started = time.perf_counter()
            workflow_figures(conn, workspace_id, Catalog(), Period(since=since))
            report = time.perf_counter() - started
        entered = sum(f.entered for f in found.values())
        waiting = sum(f.in_journey for f in found.values())
        return {
            "best_s": min(timings),
            "median_s": statistics.median(timings),
            "report_s": report,
            "entered_30d": entered,
            "in_journey": waiting,
        }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--enrollments", type=int, default=1_000_000)
    parser.add_argument("--kind", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    kinds = ("sqlite", "postgresql") if args.kind == "both" else (args.kind,)
    for kind in kinds:
        started = time.perf_counter()
        result = bench_workflow_list(kind, args.enrollments)
        print(
            f"{kind}: {args.enrollments:,} enrollments, {WORKFLOWS} workflows:"
            f" list figures best {result['best_s'] * 1000:.1f} ms,"
            f" median {result['median_s'] * 1000:.1f} ms;"
            f" full report {result['report_s'] * 1000:.0f} ms;"
            f" {result['entered_30d']:,.0f} entered in 30 days,"
            f" {result['in_journey']:,.0f} in a journey"
            f" (whole run {time.perf_counter() - started:.0f} s)",
            flush=True,
        )


if __name__ == "__main__":
    main()
