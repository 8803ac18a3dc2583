"""Every effect lands where it belongs: outbox rows for webhooks and alerts, contact changes,
and enrollment in another workflow."""

from __future__ import annotations

from tests.integration.conftest import Store
from tests.integration.journeys import deploy, enrollment_states, rows, subscriber, track
from tidings.storage.contacts import load_contacts

HANDOFF = """
id: handoff
name: Hand-off
trigger: {event: demo_requested}
steps:
  - {id: mark, type: update, add_tags: [sql], set: {stage: qualified}, score: 50}
  - {id: crm, type: webhook, url: "https://crm.example/leads", body: '{"email": "{{ contact.email }}", "stage": "{{ contact.stage }}"}'}
  - {id: rep, type: notify, to: sales@example.com, message: "New lead: {{ contact.email }}"}
  - {id: nurture, type: enroll, workflow: nurture}
"""

NURTURE = """
id: nurture
name: Nurture
trigger: {type: enrolled}
templates:
  tips: {subject: "Tips for {{ contact.stage }} leads", text: "..."}
steps:
  - {id: tips, type: send, template: tips}
"""


def test_update_webhook_notify_and_enroll(store: Store) -> None:
    deploy(store, NURTURE)
    deploy(store, HANDOFF)
    subscriber(store, "lead")
    track(store, "lead", "demo_requested")

    with store.engine.connect() as conn:
        ids = [r.id for r in rows(store, "SELECT id FROM contacts")]
        (contact,) = load_contacts(conn, ids).values()
    assert contact.score == 50  # applied once, not once per place that knows of it
    assert "sql" in contact.tags and contact.attributes["stage"] == "qualified"

    outbox = rows(store, "SELECT channel, recipient, subject, body_text FROM messages ORDER BY id")
    assert [(m.channel, m.recipient) for m in outbox] == [
        ("webhook", "https://crm.example/leads"),
        ("alert:email", "sales@example.com"),
        ("email", "lead@example.com"),
    ]
    assert outbox[0].body_text == '{"email": "lead@example.com", "stage": "qualified"}'
    assert outbox[1].body_text == "New lead: lead@example.com"
    assert outbox[2].subject == "Tips for qualified leads"  # the enrolled workflow saw the update
    assert enrollment_states(store) == [
        ("completed", None, "reached the end"),
        ("completed", None, "reached the end"),
    ]


def test_enrolling_into_an_inactive_workflow_is_logged_not_fatal(store: Store) -> None:
    deploy(store, HANDOFF)
    subscriber(store, "lead")
    track(store, "lead", "demo_requested")
    refusals = rows(store, "SELECT detail FROM step_log WHERE action = 'not_enrolled'")
    assert [r.detail for r in refusals] == ["nurture is not active"]
