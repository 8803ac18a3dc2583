"""Saved dry-run results, and the counts a dry run reads off its scratch database."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from tidings.storage.tables import dry_runs, enrollments, events, messages, step_log, workflows


@dataclass
class Tally:
    """What happened in a dry run's database, by (workflow key, step id)."""

    entered: Counter[str] = field(default_factory=Counter)
    reached: Counter[tuple[str, str]] = field(default_factory=Counter)
    sent: Counter[tuple[str, str]] = field(default_factory=Counter)
    #: Messages still waiting at the end (deferred past the end, or not yet due).
    queued: Counter[tuple[str, str]] = field(default_factory=Counter)
    deferred: dict[tuple[str, str], Counter[str]] = field(
        default_factory=lambda: defaultdict(Counter)
    )
    dropped: dict[tuple[str, str], Counter[str]] = field(
        default_factory=lambda: defaultdict(Counter)
    )
    #: Messages a send step did not queue (no consent, no address), by rule or reason.
    held: dict[tuple[str, str], Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    #: Branch arms ("1", "2", "else") and split paths taken, per step.
    arms: dict[tuple[str, str], Counter[str]] = field(default_factory=lambda: defaultdict(Counter))


def tally(conn: Connection, workspace_id: int) -> Tally:
    """Count entries, step arrivals, sends, policy decisions and arms taken."""
    found = Tally()
    keys = dict(
        conn.execute(
            select(workflows.c.id, workflows.c.key).where(workflows.c.workspace_id == workspace_id)
        ).all()
    )
    e = enrollments.c
    for workflow_id, count in conn.execute(
        select(e.workflow_id, func.count())
        .where(e.workspace_id == workspace_id)
        .group_by(e.workflow_id)
    ):
        found.entered[keys[workflow_id]] += count
    m = messages.c
    for workflow_id, step_id, status, count in conn.execute(
        select(m.workflow_id, m.step_id, m.status, func.count())
        .where(m.workspace_id == workspace_id, m.workflow_id.is_not(None))
        .group_by(m.workflow_id, m.step_id, m.status)
    ):
        where = (keys[workflow_id], step_id or "")
        if status == "sent":
            found.sent[where] += count
        elif status == "queued":
            found.queued[where] += count
    s = step_log.c
    rows = conn.execute(
        select(s.workflow_id, s.step_id, s.action, s.enters, s.data, s.detail).where(
            s.workspace_id == workspace_id,
            s.workflow_id.is_not(None),
            (s.enters.is_(True))
            | s.action.in_(("deferred", "dropped", "held", "branched", "split")),
        )
    )
    for workflow_id, step_id, action, enters, data, detail in rows:
        where = (keys[workflow_id], step_id or "")
        if enters:
            found.reached[where] += 1
        if action in ("deferred", "dropped"):
            book = found.deferred if action == "deferred" else found.dropped
            book[where][str((data or {}).get("rule") or "policy")] += 1
        elif action == "held":
            found.held[where][str((data or {}).get("rule") or detail)] += 1
        elif action == "branched":
            found.arms[where][str((data or {}).get("arm"))] += 1
        elif action == "split":
            found.arms[where][str((data or {}).get("path"))] += 1
    return found


def event_counts(conn: Connection, workspace_id: int, since: datetime) -> Counter[str]:
    """How often each event name occurred from `since` (names of internal calls left out)."""
    rows = conn.execute(
        select(events.c.name, func.count())
        .where(
            events.c.workspace_id == workspace_id,
            events.c.occurred_at >= since,
            ~events.c.name.startswith("$"),
        )
        .group_by(events.c.name)
    )
    return Counter({name: int(count) for name, count in rows})


def next_send_after(conn: Connection) -> datetime | None:
    """When the next queued message is due, if any."""
    return conn.execute(
        select(func.min(messages.c.send_after)).where(messages.c.status == "queued")
    ).scalar_one_or_none()


def save_dry_run(
    conn: Connection, workspace_id: int, name: str, summary: dict[str, Any], now: datetime
) -> None:
    """Keep a dry run's summary under `name`, replacing one saved under it before."""
    conn.execute(
        dry_runs.delete().where(dry_runs.c.workspace_id == workspace_id, dry_runs.c.name == name)
    )
    conn.execute(
        dry_runs.insert().values(
            workspace_id=workspace_id, name=name, summary=summary, created_at=now
        )
    )


def load_dry_run(conn: Connection, workspace_id: int, name: str) -> dict[str, Any] | None:
    """The summary saved under `name`, or None."""
    found = conn.execute(
        select(dry_runs.c.summary).where(
            dry_runs.c.workspace_id == workspace_id, dry_runs.c.name == name
        )
    ).scalar_one_or_none()
    return dict(found) if found is not None else None


def dry_run_names(conn: Connection, workspace_id: int) -> list[str]:
    """The names of the saved dry runs, newest first."""
    return [
        r[0]
        for r in conn.execute(
            select(dry_runs.c.name)
            .where(dry_runs.c.workspace_id == workspace_id)
            .order_by(dry_runs.c.created_at.desc(), dry_runs.c.id.desc())
        )
    ]
