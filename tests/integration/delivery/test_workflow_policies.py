"""A workflow's own policies, applied by the real dispatcher to messages sent over a
loopback SMTP server: transactional flows skip the workspace's pacing, tightening rules
hold the workflow's messages, and `on_deferral: hold` keeps the journey at its send."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.integration.conftest import Store
from tests.integration.delivery.conftest import configure
from tests.integration.journeys import deploy, identify, rows, stored_json, subscriber, tick, track
from tests.servers import SmtpSink
from tidings.runtime.dispatch import Dispatcher

NIGHT = datetime(2026, 3, 3, 22, 0, tzinfo=UTC)


def flow(key: str, policies: str = "", *, steps: str = "") -> str:
    return f"""
    id: {key}
    name: {key}
    trigger: {{event: {key}_due}}
    {policies}
    templates:
      m: {{subject: "{key}", html: "<p>{key}</p>"}}
      n: {{subject: "{key} again", html: "<p>{key} again</p>"}}
    steps:
      {steps or "- {id: m, type: send, template: m}"}
    """


def _sent_subjects(smtp: tuple[SmtpSink, int]) -> list[str]:
    return sorted(str(m.message["Subject"]) for m in smtp[0].received)


def _line(store: Store, subject: str, action: str) -> tuple[str, dict[str, object]]:
    [found] = rows(
        store,
        "SELECT l.detail, l.data FROM step_log l JOIN messages m ON m.enrollment_id = "
        "l.enrollment_id AND m.step_id = l.step_id WHERE m.subject = :subject "
        "AND l.action = :action",
        subject=subject,
        action=action,
    )
    return found.detail, stored_json(found.data)


def test_a_transactional_workflow_sends_in_quiet_hours_and_over_the_cap_while_marketing_waits(
    store: Store, dispatcher: Dispatcher, smtp: tuple[SmtpSink, int]
) -> None:
    # Given quiet hours at night and one marketing email a day, and a contact who already
    # had today's email
    configure(
        store,
        policies={
            "quiet_hours": {"start": "21:00", "end": "08:00"},
            "caps": [{"limit": 1, "per": "1d"}],
        },
    )
    deploy(store, flow("receipt", "policies: {transactional: true}"))
    deploy(store, flow("promo"))
    deploy(store, flow("earlier"))
    subscriber(store, "ann")
    store.clock.set(NIGHT - timedelta(hours=6))
    track(store, "ann", "earlier_due")
    assert dispatcher.run_once().sent == 1

    # When both a receipt (from a transactional workflow) and a promotion are due at night
    store.clock.set(NIGHT)
    track(store, "ann", "receipt_due")
    track(store, "ann", "promo_due")
    done = dispatcher.run_once()

    # Then the receipt goes now, and the promotion waits for the morning
    assert (done.sent, done.deferred) == (1, 1)
    assert _sent_subjects(smtp) == ["earlier", "receipt"]
    detail, _ = _line(store, "receipt", "sent")
    assert "the workflow is transactional" in detail
    detail, data = _line(store, "promo", "deferred")
    assert "quiet hours 21:00-08:00" in detail and "workflow's own" not in detail
    assert data.get("policy") is None  # the workspace's rule, not the workflow's


def test_a_transactional_workflow_still_needs_consent_for_its_marketing_sends(
    store: Store, dispatcher: Dispatcher, smtp: tuple[SmtpSink, int]
) -> None:
    # Given a transactional workflow whose send is marketing, and a contact who never opted in
    deploy(store, flow("receipt", "policies: {transactional: true}"))
    identify(store, "bob", email="bob@example.com")
    track(store, "bob", "receipt_due")
    dispatcher.run_until_idle()
    # Then nothing goes: transactional skips pacing, never consent
    assert not smtp[0].received
    [held] = rows(store, "SELECT detail FROM step_log WHERE action = 'held'")
    assert "no email marketing consent" in held.detail


def test_a_workflows_own_cap_defers_its_messages_and_says_it_is_the_workflows(
    store: Store, dispatcher: Dispatcher, smtp: tuple[SmtpSink, int]
) -> None:
    # Given a workspace with no caps, and a workflow allowing itself one email a day
    steps = """- {id: m, type: send, template: m}
      - {id: w, type: wait, for: 1h}
      - {id: n, type: send, template: n}"""
    policies = "policies: {frequency_caps: [{limit: 1, per: 1d}]}"
    deploy(store, flow("drip", policies, steps=steps))
    deploy(store, flow("news"))
    subscriber(store, "ann")
    track(store, "ann", "drip_due")
    assert dispatcher.run_once().sent == 1

    # When its second email and another workflow's are due an hour later
    tick(store, timedelta(hours=1))
    track(store, "ann", "news_due")
    done = dispatcher.run_once()

    # Then the other workflow's goes (the cap counts this workflow's messages), and the
    # second one waits a day from the first, the timeline naming the workflow's policy
    assert (done.sent, done.deferred) == (1, 1)
    assert _sent_subjects(smtp) == ["drip", "news"]
    detail, data = _line(store, "drip again", "deferred")
    assert "1 marketing messages from this workflow per 1d (the workflow's own policy)" in detail
    assert data["policy"] == "workflow" and data["rule"] == "cap"
    [row] = rows(store, "SELECT send_after FROM messages WHERE subject = 'drip again'")
    assert str(row.send_after).startswith(str(store.clock.now().date() + timedelta(days=1)))


def _journey(store: Store, dispatcher: Dispatcher, on_deferral: str) -> dict[str, datetime]:
    """Run a send, a 1-hour wait and a second send, triggered in the night's quiet hours,
    until 10:00 the next morning; when each message was sent."""
    configure(store, policies={"quiet_hours": {"start": "21:00", "end": "08:00"}})
    steps = f"""- {{id: m, type: send, template: m, on_deferral: {on_deferral}}}
      - {{id: w, type: wait, for: 1h}}
      - {{id: n, type: send, template: n}}"""
    deploy(store, flow("tips", steps=steps))
    subscriber(store, "ann")
    store.clock.set(NIGHT)
    track(store, "ann", "tips_due")
    while store.clock.now() < NIGHT + timedelta(hours=12):
        tick(store, timedelta(minutes=30))
        dispatcher.run_until_idle()
        tick(store, timedelta(0))  # a journey the dispatcher let go on moves at once
    sent = rows(store, "SELECT subject, sent_at FROM messages WHERE status = 'sent'")
    return {r.subject: datetime.fromisoformat(str(r.sent_at)).replace(tzinfo=UTC) for r in sent}


MORNING = datetime(2026, 3, 4, 8, 0, tzinfo=UTC)


def test_go_on_lets_the_next_message_bunch_up_behind_a_deferred_one(
    store: Store, dispatcher: Dispatcher, smtp: tuple[SmtpSink, int]
) -> None:
    assert _journey(store, dispatcher, "go_on") == {"tips": MORNING, "tips again": MORNING}


def test_hold_counts_the_next_wait_from_the_real_send(
    store: Store, dispatcher: Dispatcher, smtp: tuple[SmtpSink, int]
) -> None:
    sent = _journey(store, dispatcher, "hold")
    assert sent == {"tips": MORNING, "tips again": MORNING + timedelta(hours=1)}
    [queued] = rows(store, "SELECT detail FROM step_log WHERE action = 'queued' ORDER BY id")[:1]
    assert "the journey waits here until it goes" in queued.detail


def test_hold_lets_the_journey_go_on_when_the_message_is_dropped(
    store: Store, dispatcher: Dispatcher, smtp: tuple[SmtpSink, int]
) -> None:
    # Given a held send that the purchase window drops
    configure(store, policies={"after_purchase": {"event": "order_completed", "for": "3d"}})
    steps = """- {id: m, type: send, template: m, on_deferral: hold}
      - {id: n, type: send, template: n, kind: transactional}"""
    deploy(store, flow("winback", steps=steps))
    subscriber(store, "ann")
    track(store, "ann", "order_completed")
    track(store, "ann", "winback_due")
    assert [r.step_id for r in rows(store, "SELECT step_id FROM enrollments")] == ["m"]
    # When the dispatcher drops it, the journey goes on to the next step
    assert dispatcher.run_once().dropped == 1
    tick(store, timedelta(0))
    dispatcher.run_until_idle()
    assert _sent_subjects(smtp) == ["winback again"]
    [(status,)] = rows(store, "SELECT status FROM enrollments")
    assert status == "completed"


def test_a_transactional_workflows_messages_still_count_toward_the_workspaces_cap(
    store: Store, dispatcher: Dispatcher, smtp: tuple[SmtpSink, int]
) -> None:
    # Given one marketing email a day, and a receipt from a transactional workflow sent today
    configure(store, policies={"caps": [{"limit": 1, "per": "1d"}]})
    deploy(store, flow("receipt", "policies: {transactional: true}"))
    deploy(store, flow("promo"))
    subscriber(store, "ann")
    track(store, "ann", "receipt_due")
    assert dispatcher.run_once().sent == 1
    # When a promotion is due, it waits: the contact did get an email today
    track(store, "ann", "promo_due")
    assert dispatcher.run_once().deferred == 1
    assert _sent_subjects(smtp) == ["receipt"]
