"""Segment's alias: `previousId` and `userId` are one person, so their profiles become one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from tidings.storage import events, merges, step_log
from tidings.storage.contacts import Identity, upsert_contacts

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
        line = {
            "workspace_id": workspace_id,
            "contact_id": new.id,
            "enrollment_id": None,
            "workflow_id": None,
            "version": None,
            "step_id": None,
            "action": "merged",
            "enters": False,
            "detail": detail,
            "data": {"from_contact": old.id},
            "at": now,
        }
        step_log.append_lines(conn, [line])
    return True
