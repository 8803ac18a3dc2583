"""Reading Segment's tracking calls (https://segment.com/docs/connections/spec/) into events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tidings.api.segment_protocol import (
    GROUP,
    MAX_CALL_BYTES,
    PAGE_VIEWED,
    SCREEN_VIEWED,
    Rejected,
    read_call,
)
from tidings.runtime.ingest import IDENTIFY, Incoming
from tidings.runtime.merges import AliasCall

RECEIVED = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def read(raw: Any, call_type: str | None = None, path: str = "batch[3]") -> Incoming:
    found = read_call(raw, path, RECEIVED, call_type)
    assert isinstance(found, Incoming), found
    return found


def problems(raw: Any, call_type: str | None = None, path: str = "batch[3]") -> list[str]:
    found = read_call(raw, path, RECEIVED, call_type)
    assert isinstance(found, Rejected), found
    return [str(p) for p in found.problems]


# --- each call type ---------------------------------------------------------------------------


def test_track_is_an_event_named_as_sent_with_its_properties() -> None:
    call = read(
        {
            "type": "track",
            "messageId": "m-1",
            "userId": "u1",
            "anonymousId": "a1",
            "event": "Order Completed",
            "properties": {"revenue": 42.5, "items": ["x"]},
        }
    )
    assert (call.message_id, call.user_id, call.anonymous_id) == ("m-1", "u1", "a1")
    assert call.name == "Order Completed"
    assert call.properties == {"revenue": 42.5, "items": ["x"]}
    assert call.traits == {}


def test_identify_stores_traits_cleaned() -> None:
    call = read(
        {
            "type": "identify",
            "userId": "u1",
            "traits": {
                "email": "  Ann@Example.COM ",
                "phone": "+1 (212) 555-0199",
                "timezone": "europe/paris",
                "first_name": "  Ann  Marie ",
                "plan": "pro",
            },
        }
    )
    assert call.name == IDENTIFY
    assert call.traits == {
        "email": "ann@example.com",
        "phone": "+12125550199",  # E.164 when it carries its country
        "timezone": "Europe/Paris",
        "first_name": "Ann Marie",
        "plan": "pro",  # anything else as sent
    }


def test_identify_keeps_a_local_phone_for_the_sms_region_to_read() -> None:
    call = read({"type": "identify", "userId": "u1", "traits": {"phone": " (212) 555-0199 "}})
    assert call.traits["phone"] == "(212) 555-0199"


def test_a_blank_trait_is_left_out_so_it_never_erases_what_is_known() -> None:
    call = read(
        {"type": "identify", "userId": "u1", "traits": {"email": " ", "timezone": "", "phone": ""}}
    )
    assert call.traits == {}


def test_context_traits_fill_in_and_top_level_traits_win() -> None:
    # analytics.js sends traits in context on track calls.
    call = read(
        {
            "type": "identify",
            "userId": "u1",
            "traits": {"plan": "pro"},
            "context": {"traits": {"plan": "free", "email": "ann@example.com"}},
        }
    )
    assert call.traits == {"plan": "pro", "email": "ann@example.com"}


@pytest.mark.parametrize(("kind", "name"), [("page", PAGE_VIEWED), ("screen", SCREEN_VIEWED)])
def test_page_and_screen_are_views_with_their_name_and_category(kind: str, name: str) -> None:
    call = read(
        {
            "type": kind,
            "anonymousId": "a1",
            "name": "Pricing",
            "category": "Docs",
            "properties": {"url": "https://shop.example.com/pricing"},
        }
    )
    assert call.name == name
    assert call.properties == {
        "url": "https://shop.example.com/pricing",
        "name": "Pricing",
        "category": "Docs",
    }


def test_a_page_without_a_name_has_only_its_properties() -> None:
    assert read({"type": "page", "userId": "u1"}).properties == {}


def test_group_names_the_group_and_carries_its_traits() -> None:
    call = read({"type": "group", "userId": "u1", "groupId": 77, "traits": {"plan": "team"}})
    assert call.name == GROUP
    assert call.properties == {"plan": "team", "group_id": "77"}
    assert call.traits == {"group_id": "77"}  # the contact learns its group only


def test_group_needs_a_group_id() -> None:
    assert problems({"type": "group", "userId": "u1"}) == [
        "batch[3].groupId: group needs a groupId"
    ]


def test_alias_joins_the_previous_id_to_the_user_id() -> None:
    found = read_call(
        {"type": "alias", "messageId": "m-9", "previousId": "a1", "userId": "u1"}, "", RECEIVED
    )
    assert found == AliasCall("m-9", "a1", "u1", RECEIVED)


def test_alias_needs_both_ids_and_says_which_is_missing() -> None:
    assert problems({"type": "alias"}) == [
        "batch[3].previousId: alias needs the previousId the person was known by",
        "batch[3].userId: alias needs the userId they are known by now",
    ]


def test_the_endpoint_decides_the_call_type() -> None:
    # POST /v1/identify with a body that says "track": the endpoint wins.
    call = read({"type": "track", "userId": "u1", "traits": {"plan": "pro"}}, call_type="identify")
    assert call.name == IDENTIFY


# --- ids and defaults ---------------------------------------------------------------------------


def test_numeric_ids_are_read_as_text() -> None:
    call = read({"type": "track", "userId": 12345, "messageId": 7, "event": "x"})
    assert (call.user_id, call.message_id) == ("12345", "7")


def test_a_call_without_a_message_id_gets_a_fresh_one() -> None:
    first = read({"type": "track", "userId": "u1", "event": "x"})
    second = read({"type": "track", "userId": "u1", "event": "x"})
    assert first.message_id and second.message_id and first.message_id != second.message_id


def test_anonymous_calls_are_accepted() -> None:
    call = read({"type": "track", "anonymousId": "a1", "event": "Viewed"})
    assert (call.user_id, call.anonymous_id) == (None, "a1")


# --- timestamps ---------------------------------------------------------------------------------


def test_without_a_timestamp_the_event_happened_when_received() -> None:
    assert read({"type": "track", "userId": "u1", "event": "x"}).timestamp == RECEIVED


def test_a_timestamp_in_the_past_is_kept() -> None:
    call = read(
        {"type": "track", "userId": "u1", "event": "x", "timestamp": "2026-03-01T08:00:00Z"}
    )
    assert call.timestamp == datetime(2026, 3, 1, 8, tzinfo=UTC)


def test_the_senders_clock_error_is_taken_out_using_sent_at() -> None:
    # A phone whose clock is 2 hours fast queued an event at (its) 13:00, sent it at (its)
    # 13:30; it arrived at 12:00 real time, so it happened at 11:30.
    call = read(
        {
            "type": "track",
            "userId": "u1",
            "event": "x",
            "timestamp": "2026-03-02T13:00:00+00:00",
            "sentAt": "2026-03-02T13:30:00+00:00",
        }
    )
    assert call.timestamp == RECEIVED - timedelta(minutes=30)


def test_a_time_in_the_future_is_taken_as_now() -> None:
    call = read(
        {"type": "track", "userId": "u1", "event": "x", "timestamp": "2027-01-01T00:00:00Z"}
    )
    assert call.timestamp == RECEIVED


def test_a_time_without_an_offset_is_utc_and_any_offset_is_read() -> None:
    naive = read(
        {"type": "track", "userId": "u1", "event": "x", "timestamp": "2026-03-02T10:00:00"}
    )
    assert naive.timestamp == datetime(2026, 3, 2, 10, tzinfo=UTC)
    paris = read(
        {"type": "track", "userId": "u1", "event": "x", "timestamp": "2026-03-02T11:00:00+01:00"}
    )
    assert paris.timestamp == datetime(2026, 3, 2, 10, tzinfo=UTC)
    assert paris.timestamp.utcoffset() == timedelta(0)


def test_a_clock_correction_past_the_calendar_is_taken_as_now() -> None:
    call = read(
        {
            "type": "track",
            "userId": "u1",
            "event": "x",
            "timestamp": "0001-01-01T00:00:00Z",
            "sentAt": "9999-12-31T00:00:00Z",
        }
    )
    assert call.timestamp == RECEIVED


# --- errors, each with its path ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (["not", "an", "object"], ["batch[3]: a call is a JSON object"]),
        ({"type": "purchase", "userId": "u1"}, ["batch[3].type: unknown call type 'purchase'"]),
        ({"userId": "u1"}, ["batch[3].type: unknown call type None"]),
        ({"type": "track", "event": "x"}, ["batch[3].userId: userId or anonymousId is required"]),
        ({"type": "track", "userId": "u1"}, ["batch[3].event: track needs the event's name"]),
        ({"type": "track", "userId": "u1", "event": "  "}, ["batch[3].event: track needs"]),
        ({"type": "track", "userId": "u1", "event": "$identify"}, ["batch[3].event: event names"]),
        ({"type": "track", "userId": "u1", "event": "e" * 201}, ["batch[3].event: event names"]),
        ({"type": "track", "userId": "u" * 201, "event": "x"}, ["batch[3].userId: userId is 201"]),
        (
            {"type": "track", "userId": "u1", "event": "x", "properties": [1]},
            ["batch[3].properties: properties must be a JSON object"],
        ),
        (
            {"type": "track", "userId": "u1", "event": "x", "timestamp": "yesterday"},
            ["batch[3].timestamp: 'yesterday' is not an ISO-8601 time, like 2026-03-02T10:00:00Z"],
        ),
        (
            {"type": "identify", "userId": "u1", "traits": {"email": "ann@"}},
            ["batch[3].traits.email: 'ann@' is not an email address"],
        ),
        (
            {"type": "identify", "userId": "u1", "traits": {"timezone": "Mars/Olympus"}},
            ["batch[3].traits.timezone: 'Mars/Olympus' is not an IANA timezone"],
        ),
        (
            {"type": "identify", "userId": "u1", "traits": {"email": 42}},
            ["batch[3].traits.email: email must be text of at most 320 characters"],
        ),
    ],
)
def test_a_bad_call_is_refused_with_the_path_of_the_mistake(raw: Any, expected: list[str]) -> None:
    found = problems(raw)
    assert len(found) == len(expected), found
    for message, start in zip(found, expected, strict=True):
        assert message.startswith(start)


def test_every_mistake_in_a_call_is_reported_at_once() -> None:
    found = problems(
        {
            "type": "track",
            "userId": "u1",
            "messageId": "m" * 201,
            "properties": "text",
            "timestamp": "soon",
            "sentAt": "later",
        }
    )
    paths = sorted(p.split(":", 1)[0] for p in found)
    assert paths == sorted(
        [
            "batch[3].messageId",
            "batch[3].properties",
            "batch[3].timestamp",
            "batch[3].sentAt",
            "batch[3].event",
        ]
    )


def test_a_rejected_call_keeps_its_message_id_for_the_answer() -> None:
    found = read_call({"type": "track", "messageId": "m-5"}, "batch[0]", RECEIVED)
    assert isinstance(found, Rejected) and found.message_id == "m-5"


def test_a_call_larger_than_segment_accepts_is_refused_with_its_size() -> None:
    raw = {
        "type": "track",
        "userId": "u1",
        "event": "x",
        "properties": {"blob": "x" * MAX_CALL_BYTES},
    }
    [message] = problems(raw)
    assert message.startswith("batch[3]: the call is ") and "at most 32,768 are accepted" in message


def test_a_single_call_names_its_fields_without_a_prefix() -> None:
    # POST /v1/track: the body is the call, so paths are the field names alone.
    assert problems({"userId": "u1"}, call_type="track", path="") == [
        'event: track needs the event\'s name, like "Order Completed"'
    ]
