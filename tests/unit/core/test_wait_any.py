"""A wait for any of several events: each leads to its own next step, the timeout to
another; the event that came is readable after it."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.helpers import contact, event, problems_of, workflow
from tidings.core import (
    EnrollmentState,
    EnrollmentStatus,
    LiveVersion,
    Resume,
    SendMessage,
    Start,
    advance,
    react,
)

WEBINAR = """
id: webinar
name: Webinar follow-up
trigger: {event: registered}
templates:
  thanks: {subject: "Thanks for coming", text: "slides"}
  missed: {subject: "Sorry we missed you", text: "recording"}
  late: {subject: "Still interested?", text: "x"}
  vip: {subject: "You asked a question", text: "{{ steps.after.event.question }}"}
steps:
  - id: after
    type: wait
    events:
      - {event: attended, where: "event.questions > 0", next: vip}
      - {event: attended, next: thanks}
      - {event: no_show, next: missed}
    timeout: 3d
    on_timeout: late
  - {id: vip, type: send, template: vip, next: done}
  - {id: thanks, type: send, template: thanks, next: done}
  - {id: missed, type: send, template: missed, next: done}
  - {id: late, type: send, template: late}
  - {id: done, type: exit}
"""


def waiting(now: datetime) -> EnrollmentState:
    wf = workflow(WEBINAR)
    (start,) = react(event("registered", now), contact(), [LiveVersion(wf, 1)], [], now).transitions
    assert isinstance(start, Start)
    state = advance(wf, start.state, contact(), now).state
    assert state.status is EnrollmentStatus.WAITING
    return state


@pytest.mark.parametrize(
    ("name", "props", "subject"),
    [
        (
            "attended",
            {"questions": 2, "question": "Pricing?"},
            "You asked a question",
        ),  # first match
        ("attended", {"questions": 0}, "Thanks for coming"),  # the next option that matches
        ("no_show", {}, "Sorry we missed you"),
    ],
)
def test_each_event_takes_its_own_path(
    now: datetime, name: str, props: dict[str, object], subject: str
) -> None:
    wf = workflow(WEBINAR)
    state = waiting(now)
    later = now + timedelta(hours=2)
    reacted = react(event(name, later, 2, **props), contact(), [], [(wf, state)], later)
    (resume,) = reacted.transitions
    assert isinstance(resume, Resume)
    sent = advance(wf, resume.state, contact(), later).effects
    assert [e.subject for e in sent if isinstance(e, SendMessage)] == [subject]
    if subject == "You asked a question":
        assert [e.text for e in sent if isinstance(e, SendMessage)] == ["Pricing?"]


def test_the_timeout_takes_its_path(now: datetime) -> None:
    wf = workflow(WEBINAR)
    state = waiting(now)
    done = advance(wf, state, contact(), now + timedelta(days=3))
    assert [e.subject for e in done.effects if isinstance(e, SendMessage)] == ["Still interested?"]
    assert "none of attended, no_show arrived in time" in [d.detail for d in done.decisions]


def test_options_are_checked_like_single_waits() -> None:
    found = problems_of(
        """
        id: w
        name: W
        trigger: {event: registered}
        steps:
          - id: after
            type: wait
            events:
              - {event: attended, where: "event.questions >", next: nowhere}
            timeout: 3d
          - {id: done, type: exit}
        """
    )
    assert any("steps[0].events[0].where" in p for p in found), found
    assert any("nowhere" in p for p in found), found
