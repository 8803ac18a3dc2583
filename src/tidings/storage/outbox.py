"""The dispatcher's queries: claim messages, read what policies need, record outcomes.

A message's life: queued -> sending (leased to one worker) -> sent, or back to queued
with a later `send_after` (deferred, or a transient failure to retry), or failed (the
dead letter) or dropped (a policy refused it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Row,
    and_,
    bindparam,
    case,
    delete,
    func,
    null,
    or_,
    select,
    update,
)

from tidings.core.message_ids import message_of
from tidings.core.policies import Rival, content_digest
from tidings.storage.dialect import insert_for, is_postgres, prepared
from tidings.storage.messages import MessageStatus
from tidings.storage.tables import contacts, endpoints, enrollments, events, messages

#: Statuses that used a slot under a frequency cap (sending counts: it may have gone out).
SPENT = (MessageStatus.SENDING, MessageStatus.SENT)


def claim_messages(
    conn: Connection, now: datetime, limit: int, channels: Sequence[str]
) -> list[Row[Any]]:
    """Lock due messages for this worker: queued ones whose time has come, and ones whose
    sender's lease ran out (it stopped mid-round). Higher priority first at the same time.
    Each row also carries `enrollment_workflow_id` and `enrollment_version`: its journey's
    workflow and version (None when it came from no journey, or the journey is gone).
    """

    def build(c: Connection) -> Any:
        now_: Any = bindparam("now")
        channels_: Any = bindparam("channels", expanding=True)
        m = messages.c
        # A message being sent carries its lease in `lease_until`; one claimed but not yet
        # handed to its channel has none, and waits in `send_after` (see `mark_sending`).
        expired = or_(m.lease_until <= now_, and_(m.lease_until.is_(None), m.send_after <= now_))
        e = enrollments.c
        query = (
            # With the workflow version that queued each message, which the send-time
            # policies read: in the claim, not in a query of their own each round.
            select(
                messages,
                e.workflow_id.label("enrollment_workflow_id"),
                e.version.label("enrollment_version"),
            )
            .outerjoin(enrollments, e.id == m.enrollment_id)
            .where(
                m.channel.in_(channels_),
                or_(
                    and_(m.status == MessageStatus.QUEUED, m.send_after <= now_),
                    and_(m.status == MessageStatus.SENDING, expired),
                ),
            )
            .order_by(messages.c.send_after, messages.c.priority.desc(), messages.c.id)
            .limit(bindparam("limit"))
        )
        if is_postgres(c):
            return query.with_for_update(skip_locked=True, of=messages)
        return query

    stmt = prepared(conn, "messages_claim", build)
    return list(conn.execute(stmt, {"now": now, "channels": list(channels), "limit": limit}))


def lock_contacts(conn: Connection, ids: Iterable[int]) -> dict[int, Row[Any]]:
    """The recipients' consent and time zone, their rows locked in id order: two workers
    deciding caps for one contact take turns, so neither counts before the other's send is
    recorded."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}

    def build(c: Connection) -> Any:
        ids: Any = bindparam("ids", expanding=True)
        # Only what the policies read: the profile's other JSON is not decoded each round.
        query = (
            select(contacts.c.id, contacts.c.consent, contacts.c.timezone)
            .where(contacts.c.id.in_(ids))
            .order_by(contacts.c.id)
        )
        return query.with_for_update() if is_postgres(c) else query

    stmt = prepared(conn, "delivery_lock_contacts", build)
    return {row.id: row for row in conn.execute(stmt, {"ids": wanted})}


@dataclass
class Recipients:
    """What caps and duplicate checks need to know of each recipient's marketing messages."""

    #: (when, channel, content digest, workflow id) of the messages that went out since
    #: the window's start; the digest is None unless asked for.
    sent: dict[int, list[tuple[datetime, str, str | None, int | None]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    #: Queued messages due now, claimed by anyone: they compete for the same free slots.
    due: dict[int, list[Rival]] = field(default_factory=lambda: defaultdict(list))


def marketing_of(
    conn: Connection,
    contact_ids: Sequence[int],
    since: datetime,
    now: datetime,
    *,
    contents: bool = False,
) -> Recipients:
    """Each recipient's recent and due marketing messages, in one query; with `contents`,
    the content digest of each sent one (for the duplicate check).

    Status and times are checked here, not in SQL: given `status IN (...)`, SQLite's
    planner may walk the whole status index instead of each recipient's few rows (7 ms
    instead of 0.1, measured).
    """
    found = Recipients()
    if not contact_ids:
        return found

    def build(_c: Connection) -> Any:
        m = messages.c
        # Bodies only of the messages sent within the window: older ones cannot be
        # duplicates, and a contact's whole history of bodies would be a lot to read for
        # nothing.
        recent = m.sent_at > bindparam("since", type_=m.sent_at.type)
        wanted = (m.recipient, m.subject, m.body_html, m.body_text) if contents else ()
        content = [case((recent, column), else_=null()).label(column.name) for column in wanted]
        ids: Any = bindparam("ids", expanding=True)
        return select(
            m.id,
            m.contact_id,
            m.channel,
            m.status,
            m.sent_at,
            m.send_after,
            m.priority,
            m.created_at,
            m.workflow_id,
            *content,
        ).where(m.contact_id.in_(ids), m.kind == "marketing")

    # Built once per dialect and kind (building it cost more than running it, each round).
    stmt = prepared(conn, f"marketing_of_{'contents' if contents else 'plain'}", build)
    params: dict[str, Any] = {"ids": list(contact_ids)}
    if contents:
        params["since"] = since
    rows = conn.execute(stmt, params)
    for row in rows:
        if row.status in SPENT and row.sent_at is not None and row.sent_at > since:
            digest = content_digest_of(row) if contents else None
            found.sent[row.contact_id].append((row.sent_at, row.channel, digest, row.workflow_id))
        elif row.status == MessageStatus.QUEUED and row.send_after <= now:
            rival = Rival(row.id, row.channel, row.priority, row.created_at, row.workflow_id)
            found.due[row.contact_id].append(rival)
    return found


def content_digest_of(row: Row[Any]) -> str:
    """The content digest of a message row: what its recipient receives."""
    return content_digest(row.channel, row.recipient, row.subject, row.body_html, row.body_text)


def last_events(conn: Connection, contact_ids: Sequence[int], name: str) -> dict[int, datetime]:
    """When each contact last performed `name` (a purchase, for the purchase window)."""
    if not contact_ids:
        return {}
    rows = conn.execute(
        select(events.c.contact_id, func.max(events.c.occurred_at))
        .where(events.c.contact_id.in_(list(contact_ids)), events.c.name == name)
        .group_by(events.c.contact_id)
    )
    return {row[0]: row[1] for row in rows}


def alerts_since(conn: Connection, workspace_id: int, since: datetime) -> int:
    """Internal alerts sent (or being sent) since `since`."""
    return int(
        conn.execute(
            select(func.count()).where(
                messages.c.workspace_id == workspace_id,
                messages.c.channel.like("alert:%"),
                messages.c.status.in_(SPENT),
                messages.c.sent_at >= since,
            )
        ).scalar_one()
    )


def list_endpoints(conn: Connection, workspace_id: int) -> list[Row[Any]]:
    """The disabled webhook endpoints, newest first."""
    return list(
        conn.execute(
            select(endpoints)
            .where(endpoints.c.workspace_id == workspace_id, endpoints.c.disabled_at.is_not(None))
            .order_by(endpoints.c.disabled_at.desc())
        )
    )


def enable_endpoint(conn: Connection, workspace_id: int, url: str) -> bool:
    """Let calls go to `url` again; False when it was not disabled."""
    done = conn.execute(
        delete(endpoints).where(endpoints.c.workspace_id == workspace_id, endpoints.c.url == url)
    )
    return bool(done.rowcount)


def disabled_endpoints(conn: Connection, workspace_id: int, urls: Iterable[str]) -> dict[str, str]:
    """The URLs among `urls` that are disabled, with why."""
    wanted = list(set(urls))
    if not wanted:
        return {}
    rows = conn.execute(
        select(endpoints.c.url, endpoints.c.reason, endpoints.c.disabled_at).where(
            endpoints.c.workspace_id == workspace_id,
            endpoints.c.url.in_(wanted),
            endpoints.c.disabled_at.is_not(None),
        )
    )
    return {url: f"{reason} at {at:%Y-%m-%d %H:%M} UTC" for url, reason, at in rows}


def disable_endpoint(
    conn: Connection, workspace_id: int, url: str, reason: str, now: datetime
) -> None:
    """Stop calling `url` until an admin enables it again."""
    stmt = insert_for(conn, endpoints).values(
        workspace_id=workspace_id, url=url, disabled_at=now, reason=reason[:200]
    )
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["workspace_id", "url"],
            set_={"disabled_at": now, "reason": reason[:200]},
        )
    )


@dataclass(frozen=True)
class Lease:
    """A message taken for sending: its new payload (links as stored at send time)."""

    id: int
    payload: dict[str, Any]
    provider_id: str | None
    #: Taken over from a worker that stopped after handing it to its channel.
    recovered: bool


def mark_sending(
    conn: Connection,
    leases: Sequence[Lease],
    now: datetime,
    lease_until: datetime,
    *,
    handed: int | None = None,
) -> None:
    """Take the slot and hand the messages to this worker until `lease_until`.

    Only the first `handed` (all by default) go to their channel at once and get a lease
    (`lease_until`); the others wait their turn with none, so a worker that stops before
    their turn leaves them unsent and the next one does not count them as resends. Until
    `lease_until` (kept in `send_after` for them) no other worker takes any of them.
    """
    if not leases:
        return
    stmt = prepared(
        conn,
        "delivery_mark_sending",
        lambda c: (
            update(messages)
            .where(messages.c.id == bindparam("b_id"))
            .values(
                status=MessageStatus.SENDING,
                attempts=messages.c.attempts + 1,
                resends=messages.c.resends + bindparam("b_resend"),
                sent_at=bindparam("b_now"),
                send_after=bindparam("b_until"),
                lease_until=bindparam("b_lease"),
                payload=bindparam("b_payload"),
                provider_id=bindparam("b_provider"),
            )
        ),
    )
    first = len(leases) if handed is None else handed
    conn.execute(
        stmt,
        [
            {
                "b_id": lease.id,
                "b_resend": int(lease.recovered),
                "b_now": now,
                "b_until": lease_until,
                "b_lease": lease_until if n < first else None,
                "b_payload": lease.payload,
                "b_provider": lease.provider_id,
            }
            for n, lease in enumerate(leases)
        ],
    )


def hand_over(conn: Connection, ids: Sequence[int], lease_until: datetime) -> None:
    """Lease messages claimed earlier in the round to this worker as they go to their
    channel: from now on a worker that stops counts them as possibly sent."""
    if not ids:
        return
    # Only `lease_until`: a leased message is taken over by it alone (see `claim_messages`),
    # and leaving `send_after` spares an index update.
    stmt = prepared(
        conn,
        "delivery_hand_over",
        lambda c: (
            update(messages)
            .where(messages.c.id.in_(bindparam("ids", expanding=True)))
            .values(lease_until=bindparam("lease_until"))
        ),
    )
    conn.execute(stmt, {"ids": list(ids), "lease_until": lease_until})


def leased(conn: Connection, expected: dict[int, int]) -> set[int]:
    """Which of these messages are still being sent by the caller: status `sending` with
    the attempt count the caller's claim gave them (a takeover would have raised it).
    Locked, so no other worker takes them over while the outcome is written."""
    if not expected:
        return set()

    def build(c: Connection) -> Any:
        ids: Any = bindparam("ids", expanding=True)
        # By primary key only, status checked here: given the status too, SQLite may walk
        # the (status, send_after) index instead.
        query = select(messages.c.id, messages.c.attempts, messages.c.status).where(
            messages.c.id.in_(ids)
        )
        return query.with_for_update() if is_postgres(c) else query

    stmt = prepared(conn, "delivery_leased", build)
    return {
        i
        for i, attempts, status in conn.execute(stmt, {"ids": list(expected)})
        if status == MessageStatus.SENDING and expected.get(i) == attempts
    }


@dataclass(frozen=True)
class MessageOutcome:
    """What became of a message in a round: its new status, and why. The lease ends."""

    message_id: int
    status: MessageStatus
    #: Why it was deferred, dropped, retried or failed; None once sent.
    last_error: str | None = None
    #: When a message back in the queue may go again (written for queued messages only).
    send_after: datetime | None = None
    #: The provider's id for the message, when it gives one (written only when given).
    provider_id: str | None = None

    def changes(self) -> dict[str, Any]:
        """The columns this outcome writes, and their values."""
        found: dict[str, Any] = {"status": self.status}
        if self.provider_id is not None:
            found["provider_id"] = self.provider_id
        if self.status == MessageStatus.QUEUED:
            found["send_after"] = self.send_after
        found.update(last_error=self.last_error, lease_until=None)
        return found


def set_outcomes(conn: Connection, outcomes: Sequence[MessageOutcome]) -> None:
    """Write each message's new status (and whatever else changed)."""
    by_shape: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for outcome in outcomes:
        row = {"b_id": outcome.message_id, **outcome.changes()}
        by_shape[tuple(sorted(row))].append(row)
    for shape, group in by_shape.items():
        values: dict[str, Any] = {c: bindparam(f"v_{c}") for c in shape if c != "b_id"}
        params = [{("b_id" if k == "b_id" else f"v_{k}"): v for k, v in r.items()} for r in group]
        conn.execute(
            update(messages).where(messages.c.id == bindparam("b_id")).values(values), params
        )


def find_by_provider_id(conn: Connection, provider_id: str) -> Row[Any] | None:
    """The message a bounce or complaint is about, by its Message-ID.

    Our Message-IDs carry the message's id, so no index on `provider_id` is needed (one less
    index to write on the outbox's insert path); the stored value must still match.
    """
    ours = message_of(provider_id)
    if ours is None:
        return None
    row = message_by_id(conn, ours)
    return row if row is not None and row.provider_id == provider_id.strip() else None


def messages_by_id(conn: Connection, ids: Sequence[int]) -> dict[int, Row[Any]]:
    """Messages by id; ids that name no message are left out."""
    found: dict[int, Row[Any]] = {}
    for start in range(0, len(ids), 1000):
        chunk = list(ids[start : start + 1000])
        found.update(
            (row.id, row) for row in conn.execute(select(messages).where(messages.c.id.in_(chunk)))
        )
    return found


def message_by_id(conn: Connection, message_id: int) -> Row[Any] | None:
    """One message."""
    return conn.execute(select(messages).where(messages.c.id == message_id)).first()


def record_engagements(conn: Connection, column: str, first: Mapping[int, datetime]) -> None:
    """Set `opened_at` or `clicked_at` on many messages at once, where not set yet."""
    if not first:
        return
    target = messages.c[column]
    conn.execute(
        update(messages)
        .where(messages.c.id == bindparam("message_id"), target.is_(None))
        .values({column: bindparam("at")}),
        [{"message_id": mid, "at": at} for mid, at in first.items()],
    )


def record_engagement(conn: Connection, message_id: int, column: str, now: datetime) -> bool:
    """Set `opened_at` or `clicked_at` the first time; True when this was the first."""
    target = messages.c[column]
    done = conn.execute(
        update(messages).where(messages.c.id == message_id, target.is_(None)).values({column: now})
    )
    return bool(done.rowcount)
