"""What the policies need to know about a workspace's claimed messages: read once per
round with the recipients locked, and kept current as messages are allowed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row

from tidings.core.calendar import at_local, zone
from tidings.core.channels import ALERTS, TO_EMAIL_ADDRESSES, MessageChannel
from tidings.core.policies import Circumstances, Outgoing, Policies
from tidings.delivery.preparers import Workspace
from tidings.storage import outbox
from tidings.storage.suppressions import suppressed


@dataclass
class Facts:
    """The recipients' consent, recent sends, purchases and blocks, for one workspace."""

    policies: Policies
    people: dict[int, Any]
    #: Each contact's recent marketing sends: (at, channel, content digest or None).
    history: dict[int, list[tuple[datetime, str, str | None]]]
    #: Each contact's other due messages, competing for the same slots.
    rivals: dict[int, list[Any]]
    purchases: dict[int, datetime]
    alerts_today: int
    blocked: dict[tuple[str, str], str]
    gone: dict[str, str]

    @classmethod
    def read(cls, conn: Connection, ws: Workspace, rows: list[Row[Any]], now: datetime) -> Facts:
        """Read the facts for `rows`, locking their recipients."""
        policies = ws.settings.policies
        contact_ids = sorted({r.contact_id for r in rows})
        people = outbox.lock_contacts(conn, contact_ids)
        # Caps and duplicate checks need each contact's recent sends; caps also the
        # messages competing for a slot.
        recipients = outbox.Recipients()
        if policies.caps or policies.duplicates is not None:
            recipients = outbox.marketing_of(
                conn,
                contact_ids,
                now - policies.history,
                now,
                contents=policies.duplicates is not None,
            )
        purchases: dict[int, datetime] = {}
        if policies.after_purchase is not None:
            purchases = outbox.last_events(conn, contact_ids, policies.after_purchase.event)
        alerts_today = 0
        if policies.alert_budget is not None and any(r.channel in ALERTS for r in rows):
            tz = zone(policies.timezone)
            midnight = at_local(now.astimezone(tz).date(), datetime.min.time(), tz)
            alerts_today = outbox.alerts_since(conn, ws.id, midnight)
        addresses = [a for a in (address_of(r) for r in rows) if a is not None]
        webhooks = [r.recipient for r in rows if r.channel == MessageChannel.WEBHOOK]
        return cls(
            policies=policies,
            people=people,
            history=recipients.sent,
            rivals=recipients.due,
            purchases=purchases,
            alerts_today=alerts_today,
            blocked=suppressed(conn, ws.id, addresses),
            gone=outbox.disabled_endpoints(conn, ws.id, webhooks),
        )

    def of(self, row: Row[Any], decided: set[int]) -> Circumstances:
        """The circumstances of `row`'s message; rivals already decided no longer compete."""
        person = self.people.get(row.contact_id)
        address = address_of(row)
        sent = self.history.get(row.contact_id, ())
        is_webhook = row.channel == MessageChannel.WEBHOOK
        return Circumstances(
            consent=person.consent if person is not None else {},
            timezone=person.timezone if person is not None else None,
            suppressed=self.blocked.get(address) if address else None,
            endpoint_disabled=self.gone.get(row.recipient) if is_webhook else None,
            sent=tuple((at, channel) for at, channel, _ in sent),
            same_sent_at=_last_same(sent, row),
            rivals=tuple(
                r
                for r in self.rivals.get(row.contact_id, ())
                if r.id != row.id and r.id not in decided
            ),
            last_purchase_at=self.purchases.get(row.contact_id),
            alerts_today=self.alerts_today,
        )

    def count_sent(self, row: Row[Any], now: datetime) -> None:
        """Count an allowed message against the caps, duplicates and alert budget of the
        messages decided after it."""
        if row.kind == "marketing":
            twin = self.policies.duplicates is not None
            digest = outbox.content_digest_of(row) if twin else None
            self.history[row.contact_id].append((now, row.channel, digest))
        if row.channel in ALERTS:
            self.alerts_today += 1


def _last_same(sent: Sequence[tuple[datetime, str, str | None]], row: Row[Any]) -> datetime | None:
    """When the contact last got this very message (same content digest), if within the
    history read; None when the digests were not read (no duplicate rule)."""
    if not any(digest for _, _, digest in sent):
        return None
    digest = outbox.content_digest_of(row)
    return max((at for at, _, same in sent if same == digest), default=None)


def address_of(row: Row[Any]) -> tuple[str, str] | None:
    """The suppression list's (kind, address) for the message, if it goes to a person."""
    if row.channel in TO_EMAIL_ADDRESSES:
        return ("email", row.recipient)
    if row.channel == MessageChannel.SMS:
        return ("phone", row.recipient)
    return None


def outgoing(row: Row[Any]) -> Outgoing:
    """The message as the core's policies see it."""
    return Outgoing(
        id=row.id,
        channel=row.channel,
        kind=row.kind,
        created_at=row.created_at,
        priority=row.priority,
        topic=(row.payload or {}).get("topic"),
        expires_at=row.expires_at,
    )
