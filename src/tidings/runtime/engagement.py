"""What people do with messages, coming back: opens, clicks, unsubscribes, bounces,
complaints and consent changes. Each becomes an event workflows can use, and each that
says so changes the contact's consent, in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row

from tidings.core.channels import TO_EMAIL_ADDRESSES, Channel
from tidings.delivery.results import Bounce
from tidings.runtime.ingest import Incoming, record_events
from tidings.storage import outbox, step_log
from tidings.storage.contacts import contacts_by_address, load_contacts, save_contacts
from tidings.storage.suppressions import SuppressionReason, suppress, suppressed, unsuppress
from tidings.storage.workflows import Catalog

#: Events this module records, by name (workflows wait for and branch on these).
OPENED, CLICKED = "email_opened", "email_clicked"
UNSUBSCRIBED, SUBSCRIBED = "unsubscribed", "subscribed"
BOUNCED, COMPLAINED = "message_bounced", "message_complained"
#: What the suppression list keeps: a code, never the provider's text, which can hold
#: the address and the person's name.
_SUPPRESSED_FOR = {
    Bounce.HARD: SuppressionReason.HARD_BOUNCE,
    Bounce.COMPLAINT: SuppressionReason.COMPLAINT,
}
#: The channels whose marketing needs consent (topics are switched within them).
CHANNELS = tuple(Channel)


def _about(message: Row[Any], conn: Connection, catalog: Catalog) -> dict[str, Any]:
    """Event properties naming the message, so a workflow can ask "opened *this* email".
    The workflow is named by its key, the name people and conditions know it by; its
    number stays as `workflow_id`, which events recorded before the key carried alone, so
    segments, scoring rules and conditions written against it keep matching."""
    payload = message.payload or {}
    workflow = None if message.workflow_id is None else catalog.key_of(conn, message.workflow_id)
    return {
        "message_id": message.id,
        "channel": message.channel,
        "workflow": workflow,
        "workflow_id": message.workflow_id,
        "step": message.step_id,
        "template": payload.get("template"),
        "variant": payload.get("variant"),
    }


def _event(
    conn: Connection,
    workspace_id: int,
    contact_id: int,
    key: str,
    name: str,
    properties: Mapping[str, Any],
    now: datetime,
    catalog: Catalog,
) -> bool:
    """Record one event (once per `key`); True when it was new."""
    item = _incoming(key, name, properties, now)
    report = record_events(conn, workspace_id, [(contact_id, item)], now, catalog)
    return report.stored > 0


def set_consent(
    conn: Connection, contact_id: int, changes: Mapping[str, str], now: datetime
) -> dict[str, str]:
    """Change some of a contact's consent entries; return the ones that really changed."""
    found = load_contacts(conn, [contact_id]).get(contact_id)
    if found is None:
        return {}
    changed = {k: v for k, v in changes.items() if found.consent.get(k) != v}
    if changed:
        save_contacts(conn, [replace(found, consent={**found.consent, **changed})], now)
    return changed


def _open_event(about: Mapping[str, Any], message: Row[Any], at: datetime) -> tuple[int, Incoming]:
    return (message.contact_id, _incoming(f"open:{message.id}", OPENED, about, at))


def link_url(message: Row[Any], index: int) -> str | None:
    """The URL the message stored for its link `index`; None if it has no such link."""
    links = (message.payload or {}).get("links") or []
    return str(links[index]) if 0 <= index < len(links) else None


def _click_event(
    about: Mapping[str, Any], message: Row[Any], index: int, at: datetime
) -> tuple[str, tuple[int, Incoming]] | None:
    """The URL of link `index` and the event of its click; None if the message has no such
    link. Each link's first click is an event (its key says which link)."""
    url = link_url(message, index)
    if url is None:
        return None
    properties = {**about, "url": url, "link": index}
    key = f"click:{message.id}:{index}"
    return url, (message.contact_id, _incoming(key, CLICKED, properties, at))


def _open(
    message: Row[Any], at: datetime, conn: Connection, catalog: Catalog
) -> list[tuple[int, Incoming]]:
    """Mark the message opened; the event to record when this was its first open."""
    if not outbox.record_engagement(conn, message.id, "opened_at", at):
        return []
    return [_open_event(_about(message, conn, catalog), message, at)]


def _click(
    message: Row[Any], index: int, at: datetime, conn: Connection, catalog: Catalog
) -> tuple[str | None, list[tuple[int, Incoming]]]:
    """The URL of link `index` (None if the message has no such link) and the events to
    record: a click is also an open (images are often blocked)."""
    found = _click_event(_about(message, conn, catalog), message, index, at)
    if found is None:
        return None, []
    url, event = found
    events = _open(message, at, conn, catalog)
    outbox.record_engagement(conn, message.id, "clicked_at", at)
    return url, [*events, event]


def _incoming(key: str, name: str, properties: Mapping[str, Any], at: datetime) -> Incoming:
    return Incoming(message_id=key, user_id=None, name=name, timestamp=at, properties=properties)


def opened(
    conn: Connection, workspace_id: int, message: Row[Any], now: datetime, catalog: Catalog
) -> bool:
    """The open pixel loaded: the first time, the message is opened and an event says so."""
    found = _open(message, now, conn, catalog)
    if found:
        record_events(conn, workspace_id, found, now, catalog)
    return bool(found)


def clicked(
    conn: Connection,
    workspace_id: int,
    message: Row[Any],
    index: int,
    now: datetime,
    catalog: Catalog,
) -> str | None:
    """A tracked link was followed: the URL stored for it at send time, or None."""
    url, found = _click(message, index, now, conn, catalog)
    if found:
        record_events(conn, workspace_id, found, now, catalog)
    return url


def engaged_many(
    conn: Connection,
    workspace_id: int,
    acts: Sequence[tuple[Row[Any], int | None, datetime]],
    now: datetime,
    catalog: Catalog,
) -> int:
    """Many opens (link None) and clicks (a link index), each at its own moment, in time
    order: two statements mark the messages, one ingest records the events. Whether an
    open is a message's first is read from the rows given, which the caller loaded in this
    transaction; a repeat that slips through is caught by the events' idempotency keys.
    Returns how many events were new."""
    first_open: dict[int, datetime] = {}
    first_click: dict[int, datetime] = {}
    found: list[tuple[int, Incoming]] = []
    for message, link, at in acts:
        if message.opened_at is None and message.id not in first_open:
            first_open[message.id] = at
            found.append(_open_event(_about(message, conn, catalog), message, at))
        clicked = (
            _click_event(_about(message, conn, catalog), message, link, at)
            if link is not None
            else None
        )
        if clicked is not None:
            if message.clicked_at is None:
                first_click.setdefault(message.id, at)
            found.append(clicked[1])
    outbox.record_engagements(conn, "opened_at", first_open)
    outbox.record_engagements(conn, "clicked_at", first_click)
    if not found:
        return 0
    return record_events(conn, workspace_id, found, now, catalog).stored


def unsubscribed(
    conn: Connection, workspace_id: int, message: Row[Any], now: datetime, catalog: Catalog
) -> str:
    """The one-click unsubscribe: from the message's topic if it had one, else from
    marketing on its channel. Returns what the contact left, for the page to say."""
    topic = (message.payload or {}).get("topic")
    key = f"topic:{topic}" if topic else message.channel
    if set_consent(conn, message.contact_id, {key: "unsubscribed"}, now):
        properties = {**_about(message, conn, catalog), "from": key}
        _event(
            conn,
            workspace_id,
            message.contact_id,
            f"unsubscribe:{message.id}",
            UNSUBSCRIBED,
            properties,
            now,
            catalog,
        )
    return f"the topic {topic}" if topic else f"marketing {message.channel}"


def consent_changed(
    conn: Connection,
    workspace_id: int,
    contact_id: int,
    changes: Mapping[str, str],
    source: str,
    now: datetime,
    catalog: Catalog,
) -> dict[str, str]:
    """A preference center, an SMS keyword or a confirmation changed consent: record an
    event per entry that really changed."""
    changed = set_consent(conn, contact_id, changes, now)
    for key, status in changed.items():
        if status == "pending":
            continue  # nothing given nor withdrawn yet: the confirmation decides
        if status == "subscribed" and key in CHANNELS:
            _say_held_stay_unsent(conn, workspace_id, contact_id, key, source, now)
        name = SUBSCRIBED if status == "subscribed" else UNSUBSCRIBED
        stamp = now.isoformat()
        _event(
            conn,
            workspace_id,
            contact_id,
            f"consent:{contact_id}:{key}:{status}:{stamp}",
            name,
            {"from" if name == UNSUBSCRIBED else "to": key, "source": source},
            now,
            catalog,
        )
    return changed


def _say_held_stay_unsent(
    conn: Connection, workspace_id: int, contact_id: int, channel: str, source: str, now: datetime
) -> None:
    """Consent arrived after journeys held marketing for want of it: those messages are
    not sent now (a journey goes on without a held send), and the timeline says so."""
    held = step_log.held_for_consent(conn, contact_id, channel)
    if not held:
        return
    where = ", ".join(f"{key}/{step}" for key, step in held[:5])
    more = f" and {len(held) - 5} more" if len(held) > 5 else ""
    detail = (
        f"{channel} consent given ({source}); {len(held)} marketing message(s) held before it"
        f" for want of consent stay unsent ({where}{more}): a held send is never sent later"
    )
    line = step_log.line(workspace_id, contact_id, step_log.HELD_UNSENT, detail, now)
    step_log.append_lines(conn, [line])


def preference_changes(
    choices: Sequence[str],
    consent: Mapping[str, str],
    ticked: Set[str],
    *,
    double_opt_in: bool = False,
) -> dict[str, str]:
    """What a saved preference center changes: only the boxes the person switched.

    A channel box left unticked withdraws consent only where consent was given: a contact
    who never opted in (or bounced) stays as they were, since a withdrawal on file blocks
    even transactional mail. Ticking the email box subscribes, or under double opt-in makes
    it pending until the person confirms (a contact already pending stays so); an address
    that bounced stays bounced (it does not exist: only a new address changes that); a
    contact who complained may subscribe again, ticking being a fresh, explicit consent.
    Ticking the SMS box changes nothing: a link in an email does not prove the phone is
    theirs, so texts start with a START sent from the phone. A topic is on until left.
    """
    changes: dict[str, str] = {}
    for key in choices:
        status = consent.get(key)
        on = key in ticked
        if key.startswith("topic:"):
            if on == (status == "unsubscribed"):
                changes[key] = "subscribed" if on else "unsubscribed"
        elif not on:
            if status == "subscribed":
                changes[key] = "unsubscribed"
        elif key == "email" and status not in ("subscribed", "pending", "bounced"):
            changes[key] = "pending" if double_opt_in else "subscribed"
    return changes


def lift_complaint(conn: Connection, workspace_id: int, address: str) -> bool:
    """A person who complained gave fresh consent: take their address off the suppression
    list if a complaint put it there (any other reason stays). True when it was lifted."""
    listed = suppressed(conn, workspace_id, [("email", address)])
    if listed.get(("email", address)) != SuppressionReason.COMPLAINT:
        return False
    return unsuppress(conn, workspace_id, "email", address)


def bounced(  # noqa: PLR0913 (the bounce's facts, keyword-only)
    conn: Connection,
    workspace_id: int,
    contact_id: int,
    *,
    channel: str,
    address: str,
    kind: Bounce,
    reason: str,
    now: datetime,
    catalog: Catalog,
    message: Row[Any] | None = None,
) -> None:
    """A delivery failed for good (hard), for now (soft), or the person complained.

    Hard bounces and complaints put the address on the suppression list and mark the
    channel's consent, so nothing is sent to it again.
    """
    if kind is not Bounce.SOFT:
        status = "bounced" if kind is Bounce.HARD else "complained"
        what = "email" if channel in TO_EMAIL_ADDRESSES else "phone"
        suppress(conn, workspace_id, [(what, address)], _SUPPRESSED_FOR[kind], now)
        set_consent(conn, contact_id, {channel: status}, now)
    about = _about(message, conn, catalog) if message is not None else {"channel": channel}
    name = COMPLAINED if kind is Bounce.COMPLAINT else BOUNCED
    key = f"{name}:{message.id if message is not None else address}:{kind.value}"
    properties = {**about, "type": kind.value, "reason": reason[:500]}
    _event(conn, workspace_id, contact_id, key, name, properties, now, catalog)


def report_failure(  # noqa: PLR0913 (the report's facts, keyword-only)
    conn: Connection,
    workspace_id: int,
    *,
    channel: str,
    address: str,
    kind: Bounce,
    reason: str,
    provider_id: str | None,
    now: datetime,
    catalog: Catalog,
) -> list[int]:
    """A bounce or complaint report (from an API call or a parsed DSN) applied to every
    contact with the address; an address nobody has is still suppressed. Returns the
    contacts it was applied to."""
    message = outbox.find_by_provider_id(conn, provider_id) if provider_id else None
    if message is not None and message.workspace_id != workspace_id:
        message = None
    what = "email" if channel == Channel.EMAIL else "phone"
    owners = contacts_by_address(conn, workspace_id, what, address)
    if message is not None and message.contact_id not in owners:
        owners.append(message.contact_id)
    for contact_id in owners:
        mine = message if message is not None and message.contact_id == contact_id else None
        bounced(
            conn,
            workspace_id,
            contact_id,
            channel=channel,
            address=address,
            kind=kind,
            reason=reason,
            now=now,
            catalog=catalog,
            message=mine,
        )
    if kind is not Bounce.SOFT and not owners:
        suppress(conn, workspace_id, [(what, address)], _SUPPRESSED_FOR[kind], now)
    return owners
