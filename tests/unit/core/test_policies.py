"""Send-time policies at their edges: consent, caps, quiet hours, purchases, alert budgets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tidings.core.policies import (
    Action,
    Circumstances,
    Outgoing,
    Policies,
    Rival,
    content_digest,
    decide,
)

NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
SUBSCRIBED = {"email": "subscribed", "sms": "subscribed"}


def email(kind: str = "marketing", **changes: object) -> Outgoing:
    fields: dict[str, object] = {
        "id": 10,
        "channel": "email",
        "kind": kind,
        "created_at": NOW - timedelta(minutes=5),
    }
    fields.update(changes)
    return Outgoing(**fields)  # type: ignore[arg-type]


def policies(**settings: object) -> Policies:
    return Policies.model_validate(settings)


def facts(**changes: object) -> Circumstances:
    fields: dict[str, object] = {"consent": SUBSCRIBED}
    fields.update(changes)
    return Circumstances(**fields)  # type: ignore[arg-type]


WEEKLY_3 = {"caps": [{"limit": 3, "per": "7d", "channel": "email"}]}


# ---------------------------------------------------------------- consent and suppression


def test_marketing_needs_consent_and_says_which() -> None:
    verdict = decide(email(), facts(consent={}), Policies(), NOW)
    assert verdict.action is Action.DROP
    assert "no email marketing consent (status: unknown)" in verdict.reason


def test_transactional_needs_no_opt_in_but_stops_at_withdrawal() -> None:
    assert decide(email("transactional"), facts(consent={}), Policies(), NOW).action is Action.ALLOW
    for status in ("unsubscribed", "bounced", "complained"):
        verdict = decide(email("transactional"), facts(consent={"email": status}), Policies(), NOW)
        assert verdict.action is Action.DROP
        assert f"email consent is {status}" in verdict.reason


def test_topic_unsubscription_drops_only_that_topic() -> None:
    consent = {**SUBSCRIBED, "topic:offers": "unsubscribed"}
    assert (
        decide(email(topic="offers"), facts(consent=consent), Policies(), NOW).action is Action.DROP
    )
    assert (
        decide(email(topic="news"), facts(consent=consent), Policies(), NOW).action is Action.ALLOW
    )


def test_suppressed_address_is_dropped_whatever_the_kind() -> None:
    for kind in ("marketing", "transactional"):
        verdict = decide(email(kind), facts(suppressed="hard bounce"), Policies(), NOW)
        assert verdict.action is Action.DROP
        assert "suppression list (hard bounce)" in verdict.reason


def test_disabled_endpoint_drops_webhooks() -> None:
    hook = email("transactional", channel="webhook")
    assert decide(hook, facts(consent={}), Policies(), NOW).action is Action.ALLOW
    verdict = decide(hook, facts(endpoint_disabled="410 Gone"), Policies(), NOW)
    assert verdict.action is Action.DROP
    assert "410 Gone" in verdict.reason


# ---------------------------------------------------------------- frequency caps


def sent(*days_ago: float, channel: str = "email") -> tuple[tuple[datetime, str], ...]:
    return tuple((NOW - timedelta(days=d), channel) for d in days_ago)


def test_cap_allows_the_last_slot_and_defers_past_it() -> None:
    rules = policies(**WEEKLY_3)
    allowed = decide(email(), facts(sent=sent(1, 2)), rules, NOW)
    assert allowed.action is Action.ALLOW
    assert "2 of 3 marketing email messages per 1w already used" in allowed.reason

    deferred = decide(email(), facts(sent=sent(1, 2, 6)), rules, NOW)
    assert deferred.action is Action.DEFER
    # The slot frees when the oldest of the three leaves the 7-day window.
    assert deferred.until == NOW + timedelta(days=1)
    assert "frequency cap of 3 marketing email messages per 1w" in deferred.reason


def test_a_send_exactly_one_period_ago_no_longer_counts() -> None:
    rules = policies(**WEEKLY_3)
    assert decide(email(), facts(sent=sent(1, 2, 7)), rules, NOW).action is Action.ALLOW
    just_inside = (*sent(1, 2), (NOW - timedelta(days=7) + timedelta(seconds=1), "email"))
    verdict = decide(email(), facts(sent=just_inside), rules, NOW)
    assert verdict.until == NOW + timedelta(seconds=1)


def test_cap_on_one_channel_ignores_the_others() -> None:
    rules = policies(**WEEKLY_3)
    sms = email(channel="sms")
    assert decide(sms, facts(sent=sent(1, 2, 3)), rules, NOW).action is Action.ALLOW
    across = policies(caps=[{"limit": 3, "per": "7d"}])
    mixed = sent(1, 2) + sent(3, channel="sms")
    assert decide(email(), facts(sent=mixed), across, NOW).action is Action.DEFER


def test_transactional_bypasses_caps() -> None:
    verdict = decide(email("transactional"), facts(sent=sent(1, 2, 3)), policies(**WEEKLY_3), NOW)
    assert verdict.action is Action.ALLOW


def test_capped_message_dropped_when_the_slot_is_past_its_window() -> None:
    rules = policies(**WEEKLY_3)
    stale_soon = email(expires_at=NOW + timedelta(hours=12))
    verdict = decide(stale_soon, facts(sent=sent(1, 2, 6)), rules, NOW)
    assert verdict.action is Action.DROP
    assert "after its useful window" in verdict.reason
    fresh_enough = email(expires_at=NOW + timedelta(days=2))
    assert decide(fresh_enough, facts(sent=sent(1, 2, 6)), rules, NOW).action is Action.DEFER


def test_expired_message_is_dropped_at_once() -> None:
    verdict = decide(email(expires_at=NOW - timedelta(seconds=1)), facts(), Policies(), NOW)
    assert verdict.action is Action.DROP
    assert "useful window ended" in verdict.reason


def test_higher_priority_rival_takes_the_last_slot() -> None:
    rules = policies(**WEEKLY_3)
    rival = Rival(id=11, channel="email", priority=5, created_at=NOW)
    mine = email(priority=1)
    verdict = decide(mine, facts(sent=sent(1, 2), rivals=(rival,)), rules, NOW)
    assert verdict.action is Action.DEFER
    assert "goes to a higher-priority message" in verdict.reason
    assert verdict.until == NOW + timedelta(days=5)  # the send of 2 days ago leaves the window

    # The rival, deciding with this message as its own rival, gets the slot.
    other = Rival(id=mine.id, channel="email", priority=1, created_at=mine.created_at)
    winner = email(id=11, priority=5, created_at=NOW)
    assert (
        decide(winner, facts(sent=sent(1, 2), rivals=(other,)), rules, NOW).action is Action.ALLOW
    )


def test_equal_priority_goes_to_the_older_message() -> None:
    rules = policies(**WEEKLY_3)
    older = Rival(id=3, channel="email", priority=0, created_at=NOW - timedelta(hours=1))
    assert (
        decide(email(), facts(sent=sent(1, 2), rivals=(older,)), rules, NOW).action is Action.DEFER
    )
    newer = Rival(id=30, channel="email", priority=0, created_at=NOW)
    assert (
        decide(email(), facts(sent=sent(1, 2), rivals=(newer,)), rules, NOW).action is Action.ALLOW
    )


# ---------------------------------------------------------------- quiet hours


NIGHT = {"quiet_hours": {"start": "21:00", "end": "08:00"}}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_quiet_hours_across_midnight_in_the_contacts_timezone() -> None:
    rules = policies(**NIGHT)
    new_york = facts(timezone="America/New_York")
    # 23:30 in New York: wait until 08:00 the next morning there.
    late = decide(email(), new_york, rules, at("2026-06-10T23:30:00-04:00"))
    assert late.action is Action.DEFER
    assert late.until == at("2026-06-11T08:00:00-04:00")
    # 07:59: one minute to go, same day.
    early = decide(email(), new_york, rules, at("2026-06-11T07:59:00-04:00"))
    assert early.until == at("2026-06-11T08:00:00-04:00")
    # The edges: 21:00 is quiet, 08:00 is not.
    assert decide(email(), new_york, rules, at("2026-06-10T21:00:00-04:00")).action is Action.DEFER
    assert decide(email(), new_york, rules, at("2026-06-11T08:00:00-04:00")).action is Action.ALLOW
    assert decide(email(), new_york, rules, at("2026-06-10T20:59:00-04:00")).action is Action.ALLOW


def test_quiet_hours_across_the_dst_changes() -> None:
    rules = policies(**NIGHT)
    berlin = facts(timezone="Europe/Berlin")
    # Clocks go forward on 29 March 2026: 08:00 that morning is 06:00 UTC, not 07:00.
    spring = decide(email(), berlin, rules, at("2026-03-28T23:00:00+01:00"))
    assert spring.until == datetime(2026, 3, 29, 6, 0, tzinfo=UTC)
    # And back on 25 October: 08:00 is 07:00 UTC.
    autumn = decide(email(), berlin, rules, at("2026-10-24T22:00:00+02:00"))
    assert autumn.until == datetime(2026, 10, 25, 7, 0, tzinfo=UTC)


def test_quiet_hours_within_a_day_and_only_for_listed_channels() -> None:
    rules = policies(quiet_hours={"start": "12:00", "end": "14:00", "channels": ["sms"]})
    noon = at("2026-06-10T12:30:00+00:00")
    assert decide(email(channel="sms"), facts(), rules, noon).until == at(
        "2026-06-10T14:00:00+00:00"
    )
    assert decide(email(), facts(), rules, noon).action is Action.ALLOW


def test_contact_without_timezone_uses_the_workspace_one() -> None:
    rules = policies(**NIGHT, timezone="Asia/Tokyo")
    verdict = decide(email(), facts(), rules, at("2026-06-10T22:00:00+09:00"))
    assert verdict.until == at("2026-06-11T08:00:00+09:00")


def test_transactional_ignores_quiet_hours() -> None:
    verdict = decide(
        email("transactional"), facts(), policies(**NIGHT), at("2026-06-10T23:00:00+00:00")
    )
    assert verdict.action is Action.ALLOW


def test_cap_slot_inside_quiet_hours_moves_to_the_morning() -> None:
    rules = policies(**NIGHT, **WEEKLY_3)
    noon = at("2026-06-10T12:00:00+00:00")
    # The cap frees at 22:00 tonight, which is quiet: the message waits for 08:00.
    history = tuple((noon - timedelta(days=7) + timedelta(hours=h), "email") for h in (10, 11, 12))
    verdict = decide(email(), facts(sent=history), rules, noon)
    assert verdict.until == at("2026-06-11T08:00:00+00:00")
    assert "frequency cap" in verdict.reason and "quiet hours" in verdict.reason


# ---------------------------------------------------------------- purchases and alerts


def test_marketing_waits_after_a_purchase_transactional_does_not() -> None:
    rules = policies(after_purchase={"event": "order_completed", "for": "3d"})
    recent = facts(last_purchase_at=NOW - timedelta(days=1))
    verdict = decide(email(), recent, rules, NOW)
    assert verdict.action is Action.DROP
    assert "order_completed" in verdict.reason
    assert decide(email("transactional"), recent, rules, NOW).action is Action.ALLOW
    old = facts(last_purchase_at=NOW - timedelta(days=3))
    assert decide(email(), old, rules, NOW).action is Action.ALLOW


def test_alert_budget_defers_to_the_next_day_in_the_workspace_timezone() -> None:
    rules = policies(alert_budget={"per_day": 20}, timezone="Europe/Paris")
    alert = email("internal", channel="alert:slack")
    assert decide(alert, facts(alerts_today=19), rules, NOW).action is Action.ALLOW
    verdict = decide(alert, facts(alerts_today=20), rules, NOW)
    assert verdict.action is Action.DEFER
    assert verdict.until == at("2026-06-11T00:00:00+02:00")


# ---------------------------------------------------------------- properties


@given(
    days_ago=st.lists(st.floats(0, 14), max_size=8),
    minutes=st.integers(0, 60 * 24 * 3),
    tz=st.sampled_from(["UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe"]),
    limit=st.integers(1, 4),
)
def test_a_deferral_lands_on_a_time_every_rule_allows(
    days_ago: list[float], minutes: int, tz: str, limit: int
) -> None:
    now = datetime(2026, 3, 27, tzinfo=UTC) + timedelta(minutes=minutes)
    history = tuple((now - timedelta(days=d), "email") for d in days_ago)
    rules = policies(caps=[{"limit": limit, "per": "7d"}], **NIGHT)
    circumstances = facts(sent=history, timezone=tz)
    verdict = decide(email(created_at=now), circumstances, rules, now)
    assert verdict.action in (Action.ALLOW, Action.DEFER)
    if verdict.action is Action.DEFER:
        assert verdict.until is not None and verdict.until > now
        again = decide(email(created_at=now), circumstances, rules, verdict.until)
        assert again.action is Action.ALLOW, again.reason


def test_the_same_message_twice_within_the_window_is_dropped() -> None:
    rules = policies(duplicates={"within": "1d"})
    recent = facts(same_sent_at=NOW - timedelta(hours=3))
    verdict = decide(email(), recent, rules, NOW)
    assert verdict.action is Action.DROP and verdict.rule == "duplicate"
    assert "the same message went to this contact" in verdict.reason
    assert (
        decide(email(), facts(same_sent_at=NOW - timedelta(days=1)), rules, NOW).action
        is Action.ALLOW
    )
    assert decide(email("transactional"), recent, rules, NOW).action is Action.ALLOW
    assert decide(email(), recent, Policies(), NOW).action is Action.ALLOW


BASE = ("sms", "+14155550100", None, None, "10% off today only")


@pytest.mark.parametrize(
    "other",
    [
        ("email", *BASE[1:]),  # another channel
        ("sms", "+14155550199", *BASE[2:]),  # another recipient
        ("sms", "+14155550100", "Hello", None, "10% off today only"),  # a subject
        ("sms", "+14155550100", None, None, "20% off today only"),  # another body
        ("sms", "+14155550100", None, "10% off today only", None),  # html, not text
        ("sms", "+14155550100", "", None, "10% off today only"),  # empty is not none
    ],
)
def test_content_digest_tells_apart_what_the_person_would_see_differently(
    other: tuple[str, str, str | None, str | None, str | None],
) -> None:
    assert content_digest(*other) != content_digest(*BASE)
    assert content_digest(*BASE) == content_digest(*BASE)  # the same message, the same digest


def test_content_digest_keeps_fields_apart() -> None:
    assert content_digest("sms", "+1", "ab", None, "c") != content_digest(
        "sms", "+1", "a", None, "bc"
    )
