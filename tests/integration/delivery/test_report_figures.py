"""What the report counts: messages sent are messages people get (email, SMS), not the
webhooks and alerts the same workflows call."""

from __future__ import annotations

from datetime import timedelta

from tests.integration.conftest import Store
from tests.integration.delivery.conftest import configure
from tests.integration.journeys import deploy, subscriber, track
from tests.servers import HttpSink, SmtpSink
from tidings.reporting.build import build_report
from tidings.reporting.html import daily_rates
from tidings.runtime.dispatch import Dispatcher


def test_sent_counts_messages_not_webhooks_or_alerts(
    store: Store, dispatcher: Dispatcher, smtp: tuple[SmtpSink, int], receiver: HttpSink
) -> None:
    configure(store, alerts={"slack_webhook_url": f"{receiver.url}/hooks/sales"})
    deploy(
        store,
        f"""
        id: hello
        name: Hello
        trigger: {{event: signed_up}}
        goal: {{event: order_completed, within: 3d, revenue: revenue}}
        templates:
          hi: {{subject: "Hi", text: "hi"}}
        steps:
          - {{id: hi, type: send, template: hi}}
          - {{id: crm, type: webhook, url: "{receiver.url}/crm", body: "{{}}"}}
          - {{id: tell, type: notify, channel: slack, to: "#sales", message: "new signup"}}
        """,
    )
    subscriber(store, "ann")
    track(store, "ann", "signed_up")
    assert dispatcher.run_once().sent == 3  # the email, the webhook and the alert went out
    assert len(smtp[0].received) == 1 and len(receiver.requests) == 2
    with store.engine.connect() as conn:
        report = build_report(conn, store.workspace_id, store.catalog, store.clock.now())
    (figures,) = report.workflows
    assert figures.sent == 1
    assert [day.sent for day in figures.days] == [1]


def test_attribution_credits_messages_not_webhooks_or_alerts(
    store: Store, dispatcher: Dispatcher, smtp: tuple[SmtpSink, int], receiver: HttpSink
) -> None:
    test_sent_counts_messages_not_webhooks_or_alerts(store, dispatcher, smtp, receiver)
    store.clock.advance(timedelta(hours=1))
    track(store, "ann", "order_completed", revenue=50)
    with store.engine.connect() as conn:
        report = build_report(conn, store.workspace_id, store.catalog, store.clock.now())
    # The email touched Ann; the CRM webhook and the sales alert did not reach her.
    assert [(row.workflow, row.step) for row in report.attribution.steps] == [("hello", "hi")]


def test_daily_rates_count_the_same_people_above_and_below_the_line(store: Store) -> None:
    deploy(
        store,
        """
        id: cart
        name: Cart
        trigger: {event: cart_abandoned}
        entry: {reentry: always}
        goal: {event: order_completed, within: 5d, revenue: revenue}
        steps:
          - {id: wait, type: wait, for: 5d}
        """,
    )
    # Day 1: three people enter. Day 2: one more enters, and the first three buy.
    for user in ("ann", "bob", "cy"):
        track(store, user, "cart_abandoned")
    store.clock.advance(timedelta(days=1))
    track(store, "dee", "cart_abandoned")
    for user in ("ann", "bob", "cy"):
        track(store, user, "order_completed", revenue=10)
    with store.engine.connect() as conn:
        report = build_report(conn, store.workspace_id, store.catalog, store.clock.now())
    (figures,) = report.workflows
    days = [d.day for d in figures.days]
    rates = dict(daily_rates(figures, days))
    # Day 1's entrants all converted; day 2's one has not (not 3 conversions / 1 entry).
    assert rates["conversion rate"] == [1.0, 0.0]
