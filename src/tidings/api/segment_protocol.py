"""Segment's HTTP tracking calls, read into Tidings' incoming events.

Each call is judged alone, so one bad call in a batch of 500 rejects that call only, with
the path of every mistake (`batch[12].timestamp: ...`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tidings.cleaning import Unclean, clean_email, clean_phone, clean_text, clean_timezone
from tidings.core.problems import Problem
from tidings.core.values import unstorable
from tidings.runtime.ingest import IDENTIFY, Incoming
from tidings.runtime.merges import AliasCall

#: Largest call, as JSON, Segment's own API accepts.
MAX_CALL_BYTES = 32 * 1024
#: Event names Tidings stores for calls that are not `track`.
PAGE_VIEWED = "page_viewed"
SCREEN_VIEWED = "screen_viewed"
GROUP = "$group"
CALL_TYPES = ("track", "identify", "page", "screen", "group", "alias")
#: Ids (userId, anonymousId, messageId, previousId, groupId) are at most this long.
MAX_ID_LENGTH = 200
#: Traits kept in their own columns, and how long each may be.
TRAIT_LIMITS = {"email": 320, "phone": 32, "timezone": 64}


@dataclass(frozen=True)
class Rejected:
    """A call that cannot be stored, and every reason why."""

    message_id: str | None
    problems: list[Problem]


def read_call(
    raw: Any, path: str, received_at: datetime, call_type: str | None = None
) -> Incoming | AliasCall | Rejected:
    """Read one call; `call_type` is the endpoint's (/v1/track) or None for a batch item."""
    if not isinstance(raw, Mapping):
        return Rejected(None, [Problem(path, "a call is a JSON object")])
    problems: list[Problem] = []

    def bad(field: str, message: str) -> None:
        problems.append(Problem(f"{path}.{field}" if path and field else path or field, message))

    # Checked first, before anything else reads the call: what fails here (NUL, lone
    # surrogates, NaN, huge integers, deep nesting) would fail on store or on every later
    # read. The whole call is refused rather than stored in part.
    if unstorable_parts := unstorable(raw, path):
        return Rejected(_safe_id(raw), unstorable_parts)
    message_id = _id(raw, "messageId", bad)
    dumped = json.dumps(raw, default=str)
    if len(dumped) > MAX_CALL_BYTES:
        bad("", f"the call is {len(dumped):,} bytes; at most {MAX_CALL_BYTES:,} are accepted")
    kind = call_type or raw.get("type")
    if kind not in CALL_TYPES:
        bad("type", f"unknown call type {kind!r}; use one of {', '.join(CALL_TYPES)}")
        return Rejected(message_id, problems)
    if kind == "alias":
        return _read_alias(raw, message_id, received_at, problems, bad)
    return _read_event(raw, kind, message_id, received_at, problems, bad)


#: Reports one problem with a call: the field (under the call's path) and what is wrong.
Bad = Callable[[str, str], None]
#: What a call type makes of a call: the event's name, its properties and the traits.
Named = tuple[str, dict[str, Any], dict[str, Any]]


def _read_alias(
    raw: Mapping[str, Any],
    message_id: str | None,
    received_at: datetime,
    problems: list[Problem],
    bad: Bad,
) -> AliasCall | Rejected:
    previous_id, user_id = _id(raw, "previousId", bad), _id(raw, "userId", bad)
    if previous_id is None:
        bad("previousId", "alias needs the previousId the person was known by")
    if user_id is None:
        bad("userId", "alias needs the userId they are known by now")
    alias_time = _time(raw, "timestamp", bad)
    alias_sent = _time(raw, "sentAt", bad)
    if problems or previous_id is None or user_id is None:
        return Rejected(message_id, problems)
    when = _event_time(alias_time, alias_sent, received_at)
    return AliasCall(message_id or str(uuid.uuid4()), previous_id, user_id, when)


def _read_event(
    raw: Mapping[str, Any],
    kind: str,
    message_id: str | None,
    received_at: datetime,
    problems: list[Problem],
    bad: Bad,
) -> Incoming | Rejected:
    """The calls about a person (track, identify, page, screen, group): who, when, traits
    and properties alike; then what the call type makes of them."""
    user_id = _id(raw, "userId", bad)
    anonymous_id = _id(raw, "anonymousId", bad)
    if user_id is None and anonymous_id is None and not problems:
        bad("userId", "userId or anonymousId is required")
    properties = _object(raw, "properties", bad)
    traits = _object(raw, "traits", bad)
    context = raw.get("context")
    if isinstance(context, Mapping) and isinstance(context.get("traits"), Mapping):
        traits = {**context["traits"], **traits}
    timestamp = _time(raw, "timestamp", bad)
    sent_at = _time(raw, "sentAt", bad)
    for trait, limit in TRAIT_LIMITS.items():
        value = traits.get(trait)
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            bad(f"traits.{trait}", f"{trait} must be text of at most {limit} characters")
    if not problems:
        traits = _cleaned(traits, bad)
    name, properties, traits = _READERS[kind](raw, properties, traits, bad)
    if problems:
        return Rejected(message_id, problems)
    return Incoming(
        message_id=message_id or str(uuid.uuid4()),
        user_id=user_id,
        anonymous_id=anonymous_id,
        name=name,
        timestamp=_event_time(timestamp, sent_at, received_at),
        properties=properties,
        traits=traits,
    )


def _read_identify(
    raw: Mapping[str, Any], properties: dict[str, Any], traits: dict[str, Any], bad: Bad
) -> Named:
    return IDENTIFY, properties, traits


def _read_track(
    raw: Mapping[str, Any], properties: dict[str, Any], traits: dict[str, Any], bad: Bad
) -> Named:
    event = raw.get("event")
    if not isinstance(event, str) or not event.strip():
        bad("event", 'track needs the event\'s name, like "Order Completed"')
    elif event.startswith("$") or len(event) > 200:
        bad("event", "event names are at most 200 characters and do not start with $")
    else:
        return event, properties, traits
    return IDENTIFY, properties, traits


def _viewed(name: str) -> Callable[[Mapping[str, Any], dict[str, Any], dict[str, Any], Bad], Named]:
    """The reader of `page` or `screen` calls: a view, with the page's name and category."""

    def read(
        raw: Mapping[str, Any], properties: dict[str, Any], traits: dict[str, Any], bad: Bad
    ) -> Named:
        for field in ("name", "category"):
            if raw.get(field) is not None:
                properties = {**properties, field: raw.get(field)}
        return name, properties, traits

    return read


def _read_group(
    raw: Mapping[str, Any], properties: dict[str, Any], traits: dict[str, Any], bad: Bad
) -> Named:
    group_id = _id(raw, "groupId", bad)
    if group_id is None:
        bad("groupId", "group needs a groupId")
    return GROUP, {**traits, "group_id": group_id}, {"group_id": group_id}


_READERS = {
    "identify": _read_identify,
    "track": _read_track,
    "page": _viewed(PAGE_VIEWED),
    "screen": _viewed(SCREEN_VIEWED),
    "group": _read_group,
}


def _cleaned(traits: dict[str, Any], bad: Any) -> dict[str, Any]:
    """Standard traits in one form: emails lowercased and checked, phones in E.164 when
    they carry their country, timezones as IANA names, names trimmed. An empty one is
    treated as absent (a form field left blank never erases what is known)."""
    out = dict(traits)
    for trait, clean in (("email", clean_email), ("timezone", clean_timezone)):
        value = out.get(trait)
        if isinstance(value, str):
            if not clean_text(value):
                del out[trait]
                continue
            try:
                out[trait] = clean(value)
            except Unclean as exc:
                bad(f"traits.{trait}", str(exc))
    phone = out.get("phone")
    if isinstance(phone, str):
        if not clean_text(phone):
            del out["phone"]
        else:
            try:
                out["phone"] = clean_phone(phone)
            except Unclean:
                out["phone"] = clean_text(phone)  # a local number: the SMS region reads it
    for name in ("first_name", "last_name", "name"):
        if isinstance(out.get(name), str):
            out[name] = clean_text(out[name])
    return out


def _id(raw: Mapping[str, Any], field: str, bad: Any) -> str | None:
    value = _text(raw.get(field))
    if value is not None and len(value) > MAX_ID_LENGTH:
        bad(field, f"{field} is {len(value)} characters; at most {MAX_ID_LENGTH}")
        return None
    return value


def _safe_id(raw: Mapping[str, Any]) -> str | None:
    """The messageId of a refused call, if it can be echoed back; None if it is bad too."""
    value = _text(raw.get("messageId")) if not unstorable(raw.get("messageId")) else None
    return value if value is not None and len(value) <= MAX_ID_LENGTH else None


def _text(value: Any) -> str | None:
    """Ids may arrive as numbers; they are compared as text."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | str):
        text = str(value).strip()
        return text or None
    return None


def _object(raw: Mapping[str, Any], field: str, bad: Any) -> dict[str, Any]:
    value = raw.get(field)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        bad(field, f"{field} must be a JSON object")
        return {}
    return dict(value)


def _time(raw: Mapping[str, Any], field: str, bad: Any) -> datetime | None:
    value = raw.get(field)
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        bad(field, f"{value!r} is not an ISO-8601 time, like 2026-03-02T10:00:00Z")
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _event_time(
    timestamp: datetime | None, sent_at: datetime | None, received_at: datetime
) -> datetime:
    """When the event happened, corrected for the sender's clock as Segment does.

    A client that queued events reports when it sent them (`sentAt`); the gap between that
    and when they arrived is the client clock's error, applied to `timestamp`. Times in the
    future are taken as now: a wrong clock must not start journeys that lie ahead.
    """
    if timestamp is None:
        return received_at
    try:
        if sent_at is not None:
            timestamp = timestamp + (received_at - sent_at)
        return min(timestamp.astimezone(UTC), received_at)
    except OverflowError:
        # A correction past the calendar's ends means both client clocks are nonsense.
        return received_at
