"""Waits until a moment relative to another time: a field of the trigger or the profile,
or the journey's start, with an offset; dates read on the contact's clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.helpers import contact, event, problems_of, workflow
from tidings.core import EnrollmentState, EnrollmentStatus, SendMessage, advance
from tidings.core.spec import Workflow

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def webinar(at: str, extra: str = "") -> Workflow:
    return workflow(
        f"""
        id: webinar
        name: Webinar reminder
        trigger: {{event: registered}}
        templates:
          soon: {{subject: "Starting soon", text: "see you"}}
        steps:
          - {{id: before, type: wait, at: "{at}"{extra}}}
          - {{id: soon, type: send, template: soon}}
        """
    )


def start(wf: Workflow, **props: Any) -> EnrollmentState:
    return EnrollmentState(
        id=1,
        workflow_key=wf.id,
        version=1,
        contact_id=1,
        status=EnrollmentStatus.ACTIVE,
        step_id=wf.steps[0].id,
        entered_at=NOW,
        trigger=event("registered", NOW, **props),
    )


@pytest.mark.parametrize(
    ("at", "props", "tz", "extra", "wake_at"),
    [
        # An hour before the event's start, a date-time with its zone.
        (
            "event.starts_at - 1h",
            {"starts_at": "2026-03-05T18:00:00Z"},
            "UTC",
            "",
            datetime(2026, 3, 5, 17, tzinfo=UTC),
        ),
        # A date-time without a zone is on the contact's clock (Paris is UTC+1 in March).
        (
            "trigger.starts_at - 1h",
            {"starts_at": "2026-03-05T18:00:00"},
            "Europe/Paris",
            "",
            datetime(2026, 3, 5, 16, tzinfo=UTC),
        ),
        # A date, at the local time asked for, 30 days before.
        (
            "event.renews_on - 30d",
            {"renews_on": "2026-05-01"},
            "America/New_York",
            ", at_time: '09:00'",
            datetime(2026, 4, 1, 13, tzinfo=UTC),
        ),
        # Three days after the journey started.
        ("started_at + 3d", {}, "UTC", "", NOW + timedelta(days=3)),
    ],
)
def test_a_wait_until_a_moment(
    at: str, props: dict[str, object], tz: str, extra: str, wake_at: datetime
) -> None:
    wf = webinar(at, extra)
    waiting = advance(wf, start(wf, **props), contact(timezone=tz), NOW).state
    assert (waiting.status, waiting.wake_at) == (EnrollmentStatus.WAITING, wake_at)
    sent = advance(wf, waiting, contact(timezone=tz), wake_at).effects
    assert [type(e) for e in sent] == [SendMessage]


def test_a_contact_field_anchors_a_wait() -> None:
    wf = webinar("contact.renewal_date - 30d")
    someone = contact(attributes={"renewal_date": "2026-06-30"})
    found = advance(wf, start(wf), someone, NOW).state
    assert found.wake_at == datetime(2026, 5, 31, tzinfo=UTC)


@pytest.mark.parametrize(
    ("props", "why"),
    [
        ({}, "no date or time there"),
        ({"starts_at": "next tuesday"}, "no date or time there"),
    ],
)
def test_a_missing_moment_leaves_the_journey_unless_told_to_go_on(
    props: dict[str, object], why: str
) -> None:
    # "Your renewal is in 30 days" must not go now to someone with no renewal date.
    wf = webinar("event.starts_at - 1h")
    done = advance(wf, start(wf, **props), contact(), NOW)
    assert done.effects == ()
    assert done.state.status is EnrollmentStatus.EXITED
    [line] = [d.detail for d in done.decisions if d.action == "exited"]
    assert why in line and "if_missing" in line
    told = webinar("event.starts_at - 1h", ", if_missing: go_on")
    went = advance(told, start(told, **props), contact(), NOW)
    assert [type(e) for e in went.effects] == [SendMessage]
    assert any(why in d.detail for d in went.decisions if d.action == "wait_skipped")


def test_a_moment_that_passed_goes_on_at_once_unless_told_to_leave() -> None:
    passed = {"starts_at": "2026-03-01T10:00:00Z"}
    wf = webinar("event.starts_at - 1h")
    done = advance(wf, start(wf, **passed), contact(), NOW)
    assert [type(e) for e in done.effects] == [SendMessage]
    assert any("has passed" in d.detail for d in done.decisions if d.action == "wait_skipped")
    told = webinar("event.starts_at - 1h", ", if_past: exit")
    left = advance(told, start(told, **passed), contact(), NOW)
    assert (left.effects, left.state.status) == ((), EnrollmentStatus.EXITED)
    assert any("has passed" in d.detail for d in left.decisions if d.action == "exited")


@pytest.mark.parametrize(
    ("step", "wanted"),
    [
        (
            "{id: w, type: wait, for: 1d, if_missing: go_on}",
            "if_missing only apply to a wait with `at`",
        ),
        ('{id: w, type: wait, at: "started_at + 1d", if_past: later}', "if_past"),
    ],
)
def test_if_missing_and_if_past_are_checked(step: str, wanted: str) -> None:
    found = problems_of(
        f"""
        id: w
        name: W
        trigger: {{event: registered}}
        steps:
          - {step}
        """
    )
    assert any(wanted in p for p in found), found


def test_a_bad_moment_is_refused_with_its_form() -> None:
    found = problems_of(
        """
        id: w
        name: W
        trigger: {event: registered}
        steps:
          - {id: before, type: wait, at: "event.starts_at minus an hour"}
        """
    )
    assert any("is not a moment" in p and "event.starts_at - 1h" in p for p in found), found


@pytest.mark.parametrize(
    ("renews_on", "tz", "wake_at"),
    [
        # New York moves to summer time on 8 March 2026: 30 days before 1 April is
        # 2 March, still winter time (UTC-5), so 09:00 there is 14:00 UTC.
        ("2026-04-01", "America/New_York", datetime(2026, 3, 2, 14, tzinfo=UTC)),
        # Europe moves on 29 March 2026: 30 days before 20 April is 21 March, winter time
        # in Paris (UTC+1), so 09:00 there is 08:00 UTC.
        ("2026-04-20", "Europe/Paris", datetime(2026, 3, 21, 8, tzinfo=UTC)),
        # And the other way: 30 days after 20 March lands in summer time (UTC+2).
        ("2026-03-20", "Europe/Paris", datetime(2026, 4, 19, 7, tzinfo=UTC)),
    ],
)
def test_whole_days_before_a_date_keep_the_local_hour_across_a_clock_change(
    renews_on: str, tz: str, wake_at: datetime
) -> None:
    offset = "+ 30d" if renews_on == "2026-03-20" else "- 30d"
    wf = webinar(f"contact.renewal_date {offset}", ", at_time: '09:00'")
    someone = contact(timezone=tz, attributes={"renewal_date": renews_on})
    found = advance(wf, start(wf), someone, datetime(2026, 3, 1, tzinfo=UTC)).state
    assert found.wake_at == wake_at


def test_a_sub_day_offset_on_a_date_is_added_to_the_instant() -> None:
    # Midnight of 9 March in New York (EDT, UTC-4) less 12 hours of elapsed time.
    wf = webinar("contact.renewal_date - 12h")
    someone = contact(timezone="America/New_York", attributes={"renewal_date": "2026-03-09"})
    found = advance(wf, start(wf), someone, datetime(2026, 3, 1, tzinfo=UTC)).state
    assert found.wake_at == datetime(2026, 3, 8, 16, tzinfo=UTC)
