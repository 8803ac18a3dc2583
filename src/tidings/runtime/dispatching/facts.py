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
from tidings.core.pacing import WorkflowPolicies
from tidings.core.policies import Circumstances, Outgoing, Policies
from tidings.delivery.preparers import Workspace
from tidings.storage import outbox
from tidings.storage.suppressions import suppressed
from tidings.storage.workflows import Catalog


@dataclass
class RecipientFacts:
    """The recipients' consent, recent sends, purchases and blocks, for one workspace."""

    policies: Policies
    people: dict[int, Any]
    #: Each contact's recent marketing sends: (at, channel, content digest or None,
    #: workflow id).
    history: dict[int, list[tuple[datetime, str, str | None, int | None]]]
    #: Each contact's other due messages, competing for the same slots.
    rivals: dict[int, list[Any]]
    purchases: dict[int, datetime]
    #: The `policies:` of each claimed message's workflow version, by enrollment id.
    own: dict[int, WorkflowPolicies]
    #: When each contact last performed the events the workflows' purchase windows name.
    events: dict[str, dict[int, datetime]]
    alerts_today: int
    blocked: dict[tuple[str, str], str]
    gone: dict[str, str]

    @classmethod
    def read(
        cls,
        conn: Connection,
        ws: Workspace,
        rows: list[Row[Any]],
        now: datetime,
        catalog: Catalog,
    ) -> RecipientFacts:
        """Read the facts for `rows`, locking their recipients."""
        policies = ws.settings.policies
        contact_ids = sorted({r.contact_id for r in rows})
        people = outbox.lock_contacts(conn, contact_ids)
        own = _workflow_policies(conn, rows, catalog)
        own_caps = [cap for p in own.values() for cap in p.frequency_caps]
        # Caps and duplicate checks need each contact's recent sends; caps also the
        # messages competing for a slot.
        recipients = outbox.Recipients()
        if policies.caps or own_caps or policies.duplicates is not None:
            history = max([policies.history, *(cap.per for cap in own_caps)])
            recipients = outbox.marketing_of(
                conn,
                contact_ids,
                now - history,
                now,
                contents=policies.duplicates is not None,
            )
        purchases: dict[int, datetime] = {}
        if policies.after_purchase is not None:
            purchases = outbox.last_events(conn, contact_ids, policies.after_purchase.event)
        named = {p.after_purchase.event for p in own.values() if p.after_purchase is not None}
        events = {name: outbox.last_events(conn, contact_ids, name) for name in sorted(named)}
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
            own=own,
            events=events,
            alerts_today=alerts_today,
            blocked=suppressed(conn, ws.id, addresses, secret=ws.secret),
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
            sent=tuple((at, channel) for at, channel, _, _ in sent),
            sent_in_workflow=tuple(
                (at, channel) for at, channel, _, wf in sent if wf == row.workflow_id
            ),
            same_sent_at=_last_same(sent, row),
            rivals=tuple(
                r
                for r in self.rivals.get(row.contact_id, ())
                if r.id != row.id and r.id not in decided
            ),
            last_purchase_at=self.purchases.get(row.contact_id),
            last_events={
                name: at
                for name, by_contact in self.events.items()
                if (at := by_contact.get(row.contact_id)) is not None
            },
            alerts_today=self.alerts_today,
        )

    def workflow_of(self, row: Row[Any]) -> WorkflowPolicies | None:
        """The `policies:` of the workflow that queued `row`, if it came from a journey."""
        return self.own.get(row.enrollment_id) if row.enrollment_id is not None else None

    def count_sent(self, row: Row[Any], now: datetime) -> None:
        """Count an allowed message against the caps, duplicates and alert budget of the
        messages decided after it."""
        if row.kind == "marketing":
            twin = self.policies.duplicates is not None
            digest = outbox.content_digest_of(row) if twin else None
            self.history[row.contact_id].append((now, row.channel, digest, row.workflow_id))
        if row.channel in ALERTS:
            self.alerts_today += 1


def _workflow_policies(
    conn: Connection, rows: list[Row[Any]], catalog: Catalog
) -> dict[int, WorkflowPolicies]:
    """The `policies:` of each message's workflow version, by enrollment id: the claim
    read each message's version with it (`outbox.claim_messages`), and versions are parsed
    once per catalog, so this reads nothing."""
    return {
        r.enrollment_id: catalog.version(
            conn, r.enrollment_workflow_id, r.enrollment_version
        ).policies
        for r in rows
        if r.enrollment_id and r.enrollment_version is not None
    }


def _last_same(
    sent: Sequence[tuple[datetime, str, str | None, int | None]], row: Row[Any]
) -> datetime | None:
    """When the contact last got this very message (same content digest), if within the
    history read; None when the digests were not read (no duplicate rule)."""
    if not any(digest for _, _, digest, _ in sent):
        return None
    digest = outbox.content_digest_of(row)
    return max((at for at, _, same, _ in sent if same == digest), default=None)


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
        workflow_id=row.workflow_id,
    )
