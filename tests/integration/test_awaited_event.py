"""A step after "wait for an event" reads that event: `steps.<wait id>.event.<property>`,
in conditions and templates, kept with the journey while it waits again."""

from __future__ import annotations

from datetime import timedelta

from tests.integration.conftest import Store
from tests.integration.journeys import deploy, outbox, rows, subscriber, tick, track

NPS = """
id: nps
name: NPS survey
trigger: {event: order_delivered}
templates:
  ask: {subject: "How did we do?", text: "Rate us 0-10"}
  thanks: {subject: "Thank you", text: "A {{ steps.survey.event.score }}! Tell a friend?"}
  sorry: {subject: "Sorry", text: "What went wrong with your {{ steps.survey.event.score }}?"}
steps:
  - {id: ask, type: send, template: ask}
  - {id: survey, type: wait, event: nps_submitted, timeout: 7d, on_timeout: done}
  # A wait between the answer and the branch: the answer is kept with the journey.
  - {id: pause, type: wait, for: 1h}
  - id: sort
    type: branch
    branches:
      - {when: "steps.survey.event.score >= 9", next: thanks}
    else: sorry
  - {id: thanks, type: send, template: thanks, next: done}
  - {id: sorry, type: send, template: sorry, next: done}
  - {id: done, type: exit}
"""


def test_a_survey_branches_on_the_awaited_answer(store: Store) -> None:
    deploy(store, NPS)
    for user in ("ann", "bob"):
        subscriber(store, user)
        track(store, user, "order_delivered")
    track(store, "ann", "nps_submitted", score=10)
    track(store, "bob", "nps_submitted", score=4)
    tick(store, timedelta(hours=2))
    sent = [subject for _, subject in outbox(store)]
    assert sorted(sent) == sorted(["How did we do?"] * 2 + ["Thank you", "Sorry"])
    bodies = {r.body_text for r in rows(store, "SELECT body_text FROM messages")}
    assert "A 10! Tell a friend?" in bodies
    assert "What went wrong with your 4?" in bodies


WEBINAR = """
id: webinar
name: Webinar
trigger: {event: registered}
templates:
  slides: {subject: "Slides", text: "{{ steps.after.event.webinar_id }}"}
  recording: {subject: "Recording", text: "x"}
steps:
  - id: after
    type: wait
    events:
      - {event: attended, next: slides}
      - {event: missed, next: recording}
    timeout: 2d
    on_timeout: recording
  - {id: slides, type: send, template: slides, next: done}
  - {id: recording, type: send, template: recording}
  - {id: done, type: exit}
"""


def test_a_wait_for_any_of_several_events_stored_between_them(store: Store) -> None:
    deploy(store, WEBINAR)
    for user in ("ann", "bob", "cy"):
        subscriber(store, user)
        track(store, user, "registered")
    track(store, "ann", "attended", webinar_id="w1")
    track(store, "bob", "missed")
    tick(store, timedelta(days=2))  # cy: no word, the timeout's path
    sent = rows(
        store,
        "SELECT c.external_id, m.subject, m.body_text FROM messages m"
        " JOIN contacts c ON c.id = m.contact_id ORDER BY c.external_id",
    )
    assert [tuple(r) for r in sent] == [
        ("ann", "Slides", "w1"),
        ("bob", "Recording", "x"),
        ("cy", "Recording", "x"),
    ]
