"""Merging contacts that are one person: duplicates found by email or phone (`tidings contacts
dedupe`, the API's merge), and Segment's alias calls (`previousId` and `userId` are one
person). History, journeys and consent withdrawals are all kept."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from tidings.cleaning import fold_email
from tidings.storage import events, merges, step_log
from tidings.storage.contacts import Identity, upsert_contacts
from tidings.storage.merges import contact_row, duplicate_groups, merge_contacts


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


#: The event stored for an alias call, so the merge shows on the survivor's timeline.
ALIAS = "$alias"


@dataclass(frozen=True)
class AliasCall:
    """`previous_id` (an anonymous id, or an old user id) is now known as `user_id`."""

    message_id: str
    previous_id: str
    user_id: str
    timestamp: datetime


def apply_alias(conn: Connection, workspace_id: int, call: AliasCall, now: datetime) -> bool:
    """Join the two profiles the call names; False when the call was seen before.

    - both exist: the previous one's history moves into the user's, and it is deleted;
    - only the previous one exists: it gains the user id;
    - only the user exists: it also answers to the previous id from now on, if it can;
    - neither: a profile is made with both ids.
    """
    old = merges.find_by_any_id(conn, workspace_id, call.previous_id)
    new = merges.find_by_any_id(conn, workspace_id, call.user_id)
    if old is not None and new is None:
        merges.set_ids(conn, old.id, now, user_id=call.user_id)
        survivor = old.id
    elif new is None:
        identity = Identity(call.user_id, call.previous_id, {})
        survivor = upsert_contacts(conn, workspace_id, [identity], now)[identity.key].id
    else:
        survivor = new.id
        if old is None and new.anonymous_id is None:
            merges.set_ids(conn, new.id, now, anonymous_id=call.previous_id)
    row = {
        "workspace_id": workspace_id,
        "contact_id": survivor,
        "message_id": call.message_id,
        "name": ALIAS,
        "properties": {"previous_id": call.previous_id, "user_id": call.user_id},
        "occurred_at": call.timestamp,
        "received_at": now,
    }
    if not events.insert_events(conn, [row]):
        return False  # a retried call: the merge was done the first time
    if old is not None and new is not None and old.id != new.id:
        merged = merges.merge_contacts(conn, old, new, now)
        detail = (
            f"contact {old.id} ({call.previous_id}) merged into this one:"
            f" {merged.events} events, {merged.journeys} journeys"
            f" ({merged.closed} closed as duplicates)"
        )
        line = step_log.line(
            workspace_id, new.id, "merged", detail, now, data={"from_contact": old.id}
        )
        step_log.append_lines(conn, [line])
    return True
