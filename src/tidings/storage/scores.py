"""The score ledger (every award, with its rule and reason) and the contacts' current scores."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from sqlalchemy import Connection, bindparam, insert, select, update

from tidings.core.scoring import Award
from tidings.storage.tables import contacts, score_awards


def ledgers(conn: Connection, contact_ids: Iterable[int]) -> dict[int, list[Award]]:
    """Each contact's awards, oldest first."""
    wanted = sorted(set(contact_ids))
    found: dict[int, list[Award]] = {cid: [] for cid in wanted}
    if not wanted:
        return found
    rows = conn.execute(
        select(score_awards)
        .where(score_awards.c.contact_id.in_(bindparam("ids", wanted, expanding=True)))
        .order_by(score_awards.c.id)
    )
    for r in rows:
        found[r.contact_id].append(Award(r.score, r.rule, r.points, r.awarded_at, r.kind, r.why))
    return found


def add_awards(conn: Connection, workspace_id: int, awards: Sequence[tuple[int, Award]]) -> None:
    """Append (contact id, award) pairs to the ledger."""
    if not awards:
        return
    conn.execute(
        insert(score_awards),
        [
            {
                "workspace_id": workspace_id,
                "contact_id": cid,
                "score": a.score,
                "rule": a.rule,
                "kind": a.kind,
                "points": a.points,
                "awarded_at": a.at,
                "why": a.why,
            }
            for cid, a in awards
        ],
    )


def save_scores(conn: Connection, scores: Mapping[int, Mapping[str, float]], now: datetime) -> None:
    """Store contacts' current named scores, as of `now`."""
    if not scores:
        return
    conn.execute(
        update(contacts)
        .where(contacts.c.id == bindparam("b_id"))
        .values(scores=bindparam("b_scores"), scored_at=bindparam("b_at")),
        [{"b_id": cid, "b_scores": dict(values), "b_at": now} for cid, values in scores.items()],
    )


def stale_scored(conn: Connection, workspace_id: int, before: datetime, limit: int) -> list[int]:
    """Contacts whose scores were last computed before `before`: the decay sweep's page."""
    rows = conn.execute(
        select(contacts.c.id)
        .where(
            contacts.c.workspace_id == workspace_id,
            contacts.c.scored_at.is_not(None),
            contacts.c.scored_at < before,
        )
        .order_by(contacts.c.scored_at)
        .limit(limit)
    )
    return [r[0] for r in rows]
