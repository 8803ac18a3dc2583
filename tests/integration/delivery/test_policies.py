"""Send-time policies applied by the dispatcher to real messages, each decision on the
contact's timeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.integration.conftest import Store
from tests.integration.delivery.conftest import configure
from tests.integration.journeys import deploy, identify, rows, subscriber, track
from tests.servers import HttpSink, SmtpSink
from tidings.runtime.dispatch import Dispatcher


def promo(key: str, priority: int = 0, extra: str = "") -> str:
    return f"""
    id: {key}
    name: {key}
    priority: {priority}
    trigger: {{event: {key}_due}}
    templates:
      m: {{subject: "{key}", html: "<p>{key}</p>"}}
    steps:
      - {{id: m, type: send, template: m{extra}}}
    """


def _statuses(store: Store) -> dict[str, tuple[str, str | None]]:
    found = rows(store, "SELECT subject, status, last_error FROM messages ORDER BY id")
    return {r.subject: (r.status, r.last_error) for r in found}


def test_cap_across_workflows_defers_the_lowest_priority_to_the_next_free_slot(
    store: Store, dispatcher: Dispatcher, smtp: tuple[SmtpSink, int]
) -> None:
    configure(store, policies={"caps": [{"limit": 3, "per": "7d", "channel": "email"}]})
    for key, priority in (("low", 0), ("mid", 5), ("top", 9), ("high", 7)):
        deploy(store, promo(key, priority))
    subscriber(store, "ann")
    for key in ("low", "mid", "top", "high"):  # the lowest priority is queued first
        track(store, "ann", f"{key}_due")

    done = dispatcher.run_once()
    assert (done.sent, done.deferred) == (3, 1)
    assert sorted(m.message["Subject"] for m in smtp[0].received) == ["high", "mid", "top"]
    status, reason = _statuses(store)["low"]
    assert status == "queued"
    assert reason is not None and "frequency cap of 3 marketing email messages per 1w" in reason

    # Not lost: it goes when the first of the three leaves the 7-day window.
    store.clock.advance(timedelta(days=7) - timedelta(seconds=1))
    assert dispatcher.run_once().claimed == 0
    store.clock.advance(timedelta(seconds=1))
    assert dispatcher.run_once().sent == 1
    assert _statuses(store)["low"][0] == "sent"


def test_higher_priority_wins_the_last_slot_even_when_queued_later(
    store: Store, dispatcher: Dispatcher, smtp: tuple[SmtpSink, int]
) -> None:
    configure(store, policies={"caps": [{"limit": 1, "per": "1d"}]})
    deploy(store, promo("newsletter", 0))
    deploy(store, promo("cart", 10))
    subscriber(store, "ann")
    track(store, "ann", "newsletter_due")
    store.clock.advance(timedelta(minutes=1))
    track(store, "ann", "cart_due")
    dispatcher.batch = 1  # one message a round: the older newsletter is decided first
    dispatcher.run_once()
    dispatcher.run_once()
    assert [m.message["Subject"] for m in smtp[0].received] == ["cart"]
    status, reason = _statuses(store)["newsletter"]
    assert status == "queued" and reason is not None and "higher-priority" in reason


def test_quiet_hours_defer_to_the_morning_in_the_contacts_timezone(
    store: Store, dispatcher: Dispatcher, smtp: tuple[SmtpSink, int]
) -> None:
    configure(store, policies={"quiet_hours": {"start": "21:00", "end": "08:00"}})
    deploy(store, promo("tips"))
    subscriber(store, "ann", timezone="America/New_York")
    store.clock.set(datetime(2026, 3, 3, 2, 30, tzinfo=UTC))  # 21:30 in New York
    track(store, "ann", "tips_due")
    assert dispatcher.run_once().deferred == 1
    [row] = rows(store, "SELECT send_after FROM messages")
    send_after = datetime.fromisoformat(str(row.send_after)).replace(tzinfo=UTC)
    assert send_after == datetime(2026, 3, 3, 13, 0, tzinfo=UTC)  # 08:00 EST
    store.clock.set(datetime(2026, 3, 3, 13, 0, tzinfo=UTC))
    assert dispatcher.run_once().sent == 1


def test_a_purchase_while_deferred_drops_the_message(
    store: Store, dispatcher: Dispatcher, smtp: tuple[SmtpSink, int]
) -> None:
    configure(
        store,
        policies={
            "quiet_hours": {"start": "21:00", "end": "08:00"},
            "after_purchase": {"event": "order_completed", "for": "3d"},
        },
    )
    deploy(store, promo("winback"))
    subscriber(store, "ann", timezone="Europe/Berlin")
    store.clock.set(datetime(2026, 3, 3, 22, 0, tzinfo=UTC))  # 23:00 in Berlin
    track(store, "ann", "winback_due")
    assert dispatcher.run_once().deferred == 1
    store.clock.set(datetime(2026, 3, 4, 6, 0, tzinfo=UTC))
    track(store, "ann", "order_completed", total=40)
    store.clock.set(datetime(2026, 3, 4, 7, 0, tzinfo=UTC))  # 08:00 in Berlin
    assert dispatcher.run_once().dropped == 1
    status, reason = _statuses(store)["winback"]
    assert status == "dropped" and reason is not None and "order_completed" in reason
    assert not smtp[0].received


def test_capped_past_its_useful_window_is_dropped_not_sent_late(
    store: Store, dispatcher: Dispatcher, smtp: tuple[SmtpSink, int]
) -> None:
    configure(store, policies={"caps": [{"limit": 1, "per": "7d"}]})
    deploy(store, promo("first"))
    deploy(store, promo("flash", extra=", valid_for: 1d"))
    subscriber(store, "ann")
    track(store, "ann", "first_due")
    dispatcher.run_once()
    track(store, "ann", "flash_due")
    assert dispatcher.run_once().dropped == 1
    status, reason = _statuses(store)["flash"]
    assert status == "dropped" and reason is not None and "after its useful window" in reason


def test_suppressed_address_is_dropped_and_the_timeline_says_why(
    store: Store, dispatcher: Dispatcher, smtp: tuple[SmtpSink, int]
) -> None:
    from tidings.storage.suppressions import SuppressionReason, suppress

    deploy(store, promo("tips"))
    subscriber(store, "ann")
    with store.engine.begin() as conn:
        suppress(
            conn,
            store.workspace_id,
            [("email", "Ann@Example.com")],
            SuppressionReason.COMPLAINT,
            store.clock.now(),
        )
    track(store, "ann", "tips_due")
    assert dispatcher.run_once().dropped == 1
    [line] = rows(store, "SELECT action, detail FROM step_log WHERE action = 'dropped'")
    assert "suppression list (complaint)" in line.detail


def test_alert_budget_holds_extra_alerts_until_tomorrow(
    store: Store, dispatcher: Dispatcher, receiver: HttpSink
) -> None:
    configure(
        store,
        alerts={"slack_webhook_url": f"{receiver.url}/hooks/sales"},
        policies={"alert_budget": {"per_day": 2}},
    )
    deploy(
        store,
        """
        id: hot
        name: Hot lead
        trigger: {event: demo_requested}
        entry: {reentry: always}
        steps:
          - {id: tell, type: notify, channel: slack, to: "#sales", message: "Call {{ contact.email }}"}
        """,
    )
    subscriber(store, "ann")
    for _n in range(3):
        track(store, "ann", "demo_requested")
        store.clock.advance(timedelta(seconds=1))
    done = dispatcher.run_once()
    assert (done.sent, done.deferred) == (2, 1)
    assert [r.json() for r in receiver.requests] == [
        {"text": "Call ann@example.com", "channel": "#sales"}
    ] * 2
    store.clock.set(datetime(2026, 3, 3, 0, 0, tzinfo=UTC))
    assert dispatcher.run_once().sent == 1


def cart_reminder(body: str) -> str:
    """Per-cart journeys whose reminders all have one subject, and `body` as their text."""
    return f"""
    id: cart
    name: Cart
    trigger: {{event: cart_abandoned}}
    entry: {{reentry: per_key, key: event.cart_id}}
    templates:
      r: {{subject: "You left something behind", html: "<p>{body}</p>"}}
    steps:
      - {{id: r, type: send, template: r}}
    """


def test_two_journeys_sending_the_same_email_send_it_once(
    store: Store, dispatcher: Dispatcher, smtp: tuple[SmtpSink, int]
) -> None:
    configure(store, policies={"duplicates": {"within": "1d"}})
    deploy(store, cart_reminder("come back"))
    subscriber(store, "ann")
    track(store, "ann", "cart_abandoned", cart_id="c1")
    track(store, "ann", "cart_abandoned", cart_id="c2")
    done = dispatcher.run_once()
    assert (done.sent, done.dropped) == (1, 1)
    [dropped] = rows(store, "SELECT last_error FROM messages WHERE status = 'dropped'")
    assert "the same message went to this contact" in dropped.last_error
    store.clock.advance(timedelta(days=1))
    track(store, "ann", "cart_abandoned", cart_id="c3")
    assert dispatcher.run_once().sent == 1  # a day later it may go again


def test_reminders_for_different_carts_with_one_subject_both_go(
    store: Store, dispatcher: Dispatcher, smtp: tuple[SmtpSink, int]
) -> None:
    configure(store, policies={"duplicates": {"within": "1d"}})
    deploy(store, cart_reminder("your cart {{ event.cart_id }} is waiting"))
    subscriber(store, "ann")
    track(store, "ann", "cart_abandoned", cart_id="c1")
    assert dispatcher.run_once().sent == 1
    # A later round, so the check reads the first reminder back from the database.
    store.clock.advance(timedelta(minutes=5))
    track(store, "ann", "cart_abandoned", cart_id="c2")
    assert dispatcher.run_once().sent == 1
    [first, second] = [m.message.get_body(("html",)) for m in smtp[0].received]
    assert first is not None and "your cart c1" in first.get_content()
    assert second is not None and "your cart c2" in second.get_content()


TEXTS = """
id: texts
name: Texts
trigger: {event: promo_due}
entry: {reentry: always}
templates:
  t: {text: "{{ event.offer }} today only"}
steps:
  - {id: t, type: send, channel: sms, template: t}
"""


def test_different_texts_within_the_window_both_go_and_a_repeated_one_is_dropped(
    store: Store, dispatcher: Dispatcher, receiver: HttpSink
) -> None:
    configure(store, policies={"duplicates": {"within": "1d"}})
    deploy(store, TEXTS)
    identify(store, "ann", phone="+14155550100", consent={"sms": "subscribed"})
    # Given two different texts, in one round and then in the next
    track(store, "ann", "promo_due", offer="10% off")
    track(store, "ann", "promo_due", offer="Free shipping")
    done = dispatcher.run_once()
    assert (done.sent, done.dropped) == (2, 0)  # texts have no subject: the body tells
    store.clock.advance(timedelta(hours=1))
    track(store, "ann", "promo_due", offer="Two for one")
    assert dispatcher.run_once().sent == 1
    # When the first text comes again within the day, it is dropped
    store.clock.advance(timedelta(hours=1))
    track(store, "ann", "promo_due", offer="10% off")
    done = dispatcher.run_once()
    assert (done.sent, done.dropped) == (0, 1)
    [dropped] = rows(store, "SELECT body_text, last_error FROM messages WHERE status = 'dropped'")
    assert dropped.body_text == "10% off today only"
    assert "the same message went to this contact" in dropped.last_error
    assert len(receiver.requests) == 3


def test_the_timeline_says_why_each_message_went_or_waited(
    store: Store, dispatcher: Dispatcher, smtp: tuple[SmtpSink, int]
) -> None:
    from fastapi.testclient import TestClient

    from tidings.api.app import create_app
    from tidings.storage.api_keys import KeyKind, create_key

    configure(store, policies={"caps": [{"limit": 1, "per": "7d", "channel": "email"}]})
    deploy(store, promo("first"))
    deploy(store, promo("second"))
    subscriber(store, "ann")
    track(store, "ann", "first_due")
    track(store, "ann", "second_due")
    dispatcher.run_once()
    with store.engine.begin() as conn:
        secret = create_key(conn, store.workspace_id, KeyKind.SECRET, store.clock.now())
    [contact] = rows(store, "SELECT id FROM contacts")
    with TestClient(create_app(store.engine, clock=store.clock, catalog=store.catalog)) as client:
        detail = client.get(
            f"/api/contacts/{contact.id}", headers={"Authorization": f"Bearer {secret}"}
        ).json()
    lines = {
        s["action"]: s["detail"] for s in detail["steps"] if s["action"] in ("sent", "deferred")
    }
    assert lines["sent"] == (
        "email to ann@example.com; allowed: consent given; "
        "0 of 1 marketing email messages per 1w already used"
    )
    assert lines["deferred"].startswith("frequency cap of 1 marketing email messages per 1w")
