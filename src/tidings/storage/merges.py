"""Merging contacts that are one person, in the database: finding duplicates (one email or one
phone, several profiles) and joining two profiles into one (history moves, consent withdrawals
stay)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, func, select, update

from tidings.storage.tables import (
    OPEN_PREDICATE,
    approvals,
    contacts,
    enrollments,
    events,
    form_consents,
    messages,
    score_awards,
    segment_members,
    step_log,
    test_sends,
)

#: A scored_at so old that the next decay sweep recomputes the contact's scores first.
RESCORE = datetime(1970, 1, 1, tzinfo=UTC)

#: Consent states that record a withdrawal; a merge never turns one back into consent.
WITHDRAWN = frozenset({"unsubscribed", "bounced", "complained"})


@dataclass(frozen=True)
class Merged:
    """What a merge moved from the old contact into the surviving one."""

    events: int
    journeys: int
    closed: int


def find_by_any_id(conn: Connection, workspace_id: int, ref: str) -> Any:
    """The contact whose user id, or else anonymous id, is `ref`; locked for the merge."""
    for column in (contacts.c.external_id, contacts.c.anonymous_id):
        row = conn.execute(
            select(contacts)
            .where(contacts.c.workspace_id == workspace_id, column == ref)
            .with_for_update()
        ).one_or_none()
        if row is not None:
            return row
    return None


def merged_profile(old: Any, new: Any) -> dict[str, Any]:
    """The surviving profile: the newer identity wins on conflicts, nothing known is lost,
    and a consent withdrawal on either side stands."""
    consent = {**old.consent, **new.consent}
    for channel, status in old.consent.items():
        if status in WITHDRAWN:
            consent[channel] = status
    return {
        "email": new.email or old.email,
        "phone": new.phone or old.phone,
        "timezone": new.timezone if new.timezone != "UTC" else old.timezone,
        "anonymous_id": new.anonymous_id or old.anonymous_id,
        "attributes": {**old.attributes, **new.attributes},
        "tags": sorted(set(old.tags) | set(new.tags)),
        "consent": consent,
        "score": (old.score or 0) + (new.score or 0),
        # Named scores are recomputed from the merged ledger by the next decay sweep.
        "scored_at": RESCORE if (old.scored_at or new.scored_at) else None,
    }


def merge_contacts(conn: Connection, old: Any, new: Any, now: datetime) -> Merged:
    """Move `old`'s history into `new` and delete `old`.

    A journey both were on at once stays with the survivor; the old one is closed as
    merged, so no contact is ever twice in one journey.
    """
    open_new = {
        (r.workflow_id, r.entry_key)
        for r in conn.execute(
            select(enrollments.c.workflow_id, enrollments.c.entry_key).where(
                enrollments.c.contact_id == new.id, OPEN_PREDICATE
            )
        )
    }
    doubled = [
        r.id
        for r in conn.execute(
            select(enrollments.c.id, enrollments.c.workflow_id, enrollments.c.entry_key).where(
                enrollments.c.contact_id == old.id, OPEN_PREDICATE
            )
        )
        if (r.workflow_id, r.entry_key) in open_new
    ]
    if doubled:
        conn.execute(
            update(enrollments)
            .where(enrollments.c.id.in_(doubled))
            .values(
                status="exited",
                exit_reason=f"merged into contact {new.id}",
                ended_at=now,
                wake_at=None,
            )
        )
    moved = {}
    # Fit points follow the profile: the survivor's fit is judged again on its next event.
    conn.execute(
        delete(score_awards).where(
            score_awards.c.contact_id == old.id, score_awards.c.kind == "fit"
        )
    )
    # A consent's proof follows the person it was given by; a test rendered for the old
    # profile follows too, so that erasing the survivor finds it.
    tables = (events, enrollments, step_log, messages, approvals, score_awards, form_consents)
    for table in (*tables, test_sends):
        result = conn.execute(
            update(table).where(table.c.contact_id == old.id).values(contact_id=new.id)
        )
        moved[table.name] = result.rowcount
    profile = merged_profile(old, new)
    # The survivor's memberships are recomputed from its merged profile and history.
    conn.execute(delete(segment_members).where(segment_members.c.contact_id == old.id))
    conn.execute(delete(contacts).where(contacts.c.id == old.id))
    conn.execute(update(contacts).where(contacts.c.id == new.id).values(**profile, updated_at=now))
    return Merged(events=moved["events"], journeys=moved["enrollments"], closed=len(doubled))


def set_ids(
    conn: Connection,
    contact_id: int,
    now: datetime,
    *,
    user_id: str | None = None,
    anonymous_id: str | None = None,
) -> None:
    """Give a contact a user id or an anonymous id (the one it is now also known by)."""
    values: dict[str, Any] = {"updated_at": now}
    if user_id is not None:
        values["external_id"] = user_id
    if anonymous_id is not None:
        values["anonymous_id"] = anonymous_id
    conn.execute(update(contacts).where(contacts.c.id == contact_id).values(**values))


def duplicate_groups(conn: Connection, workspace_id: int) -> list[tuple[str, list[Any]]]:
    """(shared identifier, rows) for each email or phone that more than one contact has.

    Emails compare trimmed and lowercased. Only the duplicated keys' rows are read, so the
    cost follows the number of duplicates, not of contacts.
    """
    groups: list[tuple[str, list[Any]]] = []
    for label, column in (
        ("email", func.lower(func.trim(contacts.c.email))),
        ("phone", contacts.c.phone),
    ):
        keys = [
            r[0]
            for r in conn.execute(
                select(column)
                .where(contacts.c.workspace_id == workspace_id, column.is_not(None), column != "")
                .group_by(column)
                .having(func.count() > 1)
            )
        ]
        for start in range(0, len(keys), 1000):
            part = keys[start : start + 1000]
            rows = conn.execute(
                select(contacts, column.label("shared"))
                .where(contacts.c.workspace_id == workspace_id, column.in_(part))
                .order_by(contacts.c.id)
                .with_for_update()
            ).all()
            by_key: dict[str, list[Any]] = {}
            for row in rows:
                by_key.setdefault(row.shared, []).append(row)
            groups += [(f"{label} {key}", found) for key, found in by_key.items()]
    return groups


def contact_row(conn: Connection, contact_id: int) -> Any:
    """One contact's row as it is now (a merge changes the survivor as it goes)."""
    return conn.execute(select(contacts).where(contacts.c.id == contact_id)).one()
