"""Merging duplicate contacts: history, journeys and consent withdrawals all kept."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from tidings.cleaning import fold_email
from tidings.storage.duplicates import contact_row, duplicate_groups
from tidings.storage.merges import merge_contacts


@dataclass(frozen=True)
class MergeResult:
    """One group of duplicates and what became of it."""

    shared: str  #: what they had in common, e.g. "email ann@example.com"
    survivor: int
    merged: tuple[int, ...]
    events: int
    journeys: int
    #: Set when the group was left alone, with the reason.
    skipped: str = ""


def merge_duplicates(
    engine: Engine, workspace_id: int, now: datetime, *, dry_run: bool = False
) -> list[MergeResult]:
    """Find contacts sharing an email or phone and merge each group into one profile.

    The survivor is the profile with the business's user id (else the oldest); a group
    whose profiles carry two different user ids or two different emails is reported and
    left alone: they are different people sharing an address or a phone. One transaction;
    a dry run rolls it back.
    """

    def work(conn: Connection) -> list[MergeResult]:
        results = []
        gone: set[int] = set()
        for shared, rows in duplicate_groups(conn, workspace_id):
            alive = [r for r in rows if r.id not in gone]
            if len(alive) < 2:
                continue
            why = _different_people(alive)
            if why:
                ids = tuple(r.id for r in alive)
                results.append(MergeResult(shared, ids[0], ids[1:], 0, 0, why))
                continue
            survivor = next((r for r in alive if r.external_id), alive[0])
            events = journeys = 0
            merged = []
            for row in alive:
                if row.id == survivor.id:
                    continue
                current = contact_row(conn, survivor.id)
                moved = merge_contacts(conn, row, current, now)
                events += moved.events
                journeys += moved.journeys
                merged.append(row.id)
                gone.add(row.id)
            results.append(MergeResult(shared, survivor.id, tuple(merged), events, journeys))
        return results

    with engine.connect() as conn, conn.begin() as transaction:
        results = work(conn)
        if dry_run:
            transaction.rollback()
    return results


def _different_people(rows: Sequence[Any]) -> str:
    """Why a group of profiles sharing an identifier is not one person, or "" when it is:
    two user ids, or two emails (a shared phone never merges two mailboxes)."""
    users = {r.external_id for r in rows if r.external_id}
    if len(users) > 1:
        return f"different user ids ({', '.join(sorted(users))})"
    emails = {fold_email(r.email) for r in rows if r.email and r.email.strip()}
    if len(emails) > 1:
        return f"different emails ({', '.join(sorted(emails))})"
    return ""
