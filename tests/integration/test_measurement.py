"""Reports against what the test itself did: journeys run by the real engine, messages through
the real dispatcher, opens, clicks, unsubscribes and bounces through the tracking code, orders
as events. Every expected figure is counted from the test's own actions, not from the
queries under test."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

import pytest

from tests.integration.conftest import Store
from tests.integration.journeys import deploy, rows, subscriber, tick, track
from tidings.delivery.results import Bounce
from tidings.delivery.settings import DeliverySettings
from tidings.delivery.transports import Recorder, Transports
from tidings.reporting.build import Options, Report, build_report
from tidings.reporting.html import render_html
from tidings.runtime import engagement
from tidings.runtime.dispatch import Dispatcher
from tidings.runtime.ingest import Incoming, ingest
from tidings.storage.outbox import message_by_id
from tidings.storage.reports import Period, workflow_figures
from tidings.storage.workspaces import save_settings

OFFER = """
id: offer
name: First-order offer
trigger: {type: event, event: signed_up}
goal: {event: order_completed, within: 7d, revenue: revenue}
templates:
  a: {subject: "10% off", html: '<p><a href="https://shop.example/a">Shop</a></p>'}
  b: {subject: "Free shipping", html: '<p><a href="https://shop.example/b">Shop</a></p>'}
steps:
  - id: split
    type: split
    paths:
      - {name: treated, percent: 70, next: offer}
      - {name: holdout, percent: 30, next: hold, holdout: true}
  - id: offer
    type: send
    variants:
      - {name: a, template: a}
      - {name: b, template: b}
  - {id: wait, type: wait, for: 7d, next: done}
  - {id: done, type: exit, reason: finished}
  - {id: hold, type: wait, for: 7d, next: hold_done}
  - {id: hold_done, type: exit, reason: held out}
"""


@dataclass
class Sent:
    user: str
    message_id: int
    variant: str


def _dispatch(store: Store) -> None:
    settings = DeliverySettings.model_validate(
        {"sender": {"from_email": "shop@shop.example", "postal_address": "1 Main St"}}
    )
    with store.engine.begin() as conn:
        save_settings(conn, store.workspace_id, settings.model_dump(mode="json", by_alias=True))
    stand_in = Recorder()
    channels = Transports("https://t.shop.example", http=stand_in, smtp=stand_in, sms=stand_in)
    Dispatcher(store.engine, store.clock, channels, store.catalog).run_until_idle()


def _sent(store: Store) -> list[Sent]:
    found = rows(
        store,
        "SELECT c.external_id, m.id, m.subject FROM messages m "
        "JOIN contacts c ON c.id = m.contact_id WHERE m.status = 'sent' ORDER BY m.id",
    )
    return [Sent(u, mid, "a" if subject == "10% off" else "b") for u, mid, subject in found]


def _report(store: Store, period: Period | None = None) -> Report:
    options = Options(period=period or Period())
    with store.engine.connect() as conn:
        return build_report(conn, store.workspace_id, store.catalog, store.clock.now(), options)


def _engage(store: Store, sent: Sent, action: str) -> None:
    with store.engine.begin() as conn:
        message = message_by_id(conn, sent.message_id)
        assert message is not None
        now, ws, catalog = store.clock.now(), store.workspace_id, store.catalog
        if action == "open":
            engagement.opened(conn, ws, message, now, catalog)
        elif action == "click":
            assert engagement.clicked(conn, ws, message, 0, now, catalog) is not None
        elif action == "unsubscribe":
            engagement.unsubscribed(conn, ws, message, now, catalog)
        else:
            engagement.bounced(
                conn, ws, message.contact_id, channel="email", address=message.recipient,
                kind=Bounce.HARD, reason="550 no such user", now=now, catalog=catalog,
                message=message,
            )  # fmt: skip


def test_reports_count_what_happened(store: Store) -> None:
    deploy(store, OFFER)
    sources = ("search", "referral")
    users = [f"u{i:02d}" for i in range(40)]
    for i, user in enumerate(users):
        if i == 20:
            store.clock.advance(timedelta(days=1))  # half sign up on a second day
        subscriber(store, user, source=sources[i % 2])
        track(store, user, "signed_up")
    _dispatch(store)
    sent = _sent(store)
    treated = {s.user for s in sent}
    holdout = [
        r[0]
        for r in rows(
            store,
            "SELECT c.external_id FROM step_log s JOIN contacts c ON c.id = s.contact_id "
            "WHERE s.action = 'split' AND s.detail LIKE 'path holdout%'",
        )
    ]
    assert len(treated) + len(holdout) == 40 and treated.isdisjoint(holdout)
    assert len(holdout) >= 5 and len(treated) >= 20  # the stable split, 70/30 in expectation

    store.clock.advance(timedelta(hours=2))
    opened, clicked = sent[:12], sent[:5]
    for s in opened:
        _engage(store, s, "open")
    for s in clicked:
        _engage(store, s, "click")
    _engage(store, sent[-1], "unsubscribe")
    _engage(store, sent[-2], "bounce")
    # Orders: four treated contacts (two of them clicked) and two held out, inside the
    # window; one treated contact orders after the goal's 7 days and must not count.
    buyers = {sent[0].user: 50.0, sent[3].user: 20.0, sent[8].user: 35.0, sent[9].user: 15.0}
    buyers |= {holdout[0]: 40.0, holdout[1]: 10.0}
    for user, revenue in buyers.items():
        track(store, user, "order_completed", revenue=revenue)
    tick(store, timedelta(days=8))
    late = sent[10].user
    track(store, late, "order_completed", revenue=99.0)

    report = _report(store)
    (figures,) = report.workflows
    assert (figures.entered, figures.sent, figures.delivered) == (40, len(sent), len(sent) - 1)
    assert (figures.opened, figures.clicked) == (12, 5)
    assert (figures.unsubscribed, figures.bounced) == (1, 1)
    assert figures.converted == len(buyers)
    assert figures.revenue == pytest.approx(sum(buyers.values()))
    assert figures.exited == 40 and figures.waiting == 0
    steps = {s.step_id: s for s in figures.steps}
    assert steps["split"].entered == 40
    assert steps["offer"].entered == len(treated) and steps["hold"].entered == len(holdout)
    assert steps["offer"].converted == 4 and steps["hold"].converted == 2
    assert steps["done"].drop_off is None  # an exit is where journeys are meant to stop
    assert steps["offer"].drop_off == 0.0  # everyone sent the offer went on to wait
    # Two days of sign-ups: the daily rows add up to the totals.
    days = {d.day: d for d in figures.days}
    assert [days[d].entered for d in sorted(days) if days[d].entered] == [20, 20]
    assert sum(d.converted for d in figures.days) == len(buyers)
    assert [(v.version, v.entered) for v in figures.versions] == [(1, 40)]

    # A period from the second day sees only that day's entries.
    second_day = store.clock.now().replace(hour=0, minute=0) - timedelta(days=8)
    later = _report(store, period=Period(since=second_day))
    assert later.workflows[0].entered == 20

    # The A/B test on the send: each arm's counts are the test's own.
    (test,) = [x for x in report.experiments if x.kind == "variants"]
    by_variant = Counter(s.variant for s in sent)
    clicks = Counter(s.variant for s in clicked)
    arms = {a.name: a for a in test.arms}
    assert {n: a.assigned for n, a in arms.items()} == dict(by_variant)
    assert {n: a.clicked for n, a in arms.items()} == {n: clicks.get(n, 0) for n in arms}
    assert test.winner is None and "too early" in test.conclusion  # 20-odd sends an arm

    # The holdout: treated against held out, on the same goal window.
    (lift,) = report.lifts
    assert (lift.treated, lift.holdout) == (len(treated), len(holdout))
    assert lift.conversion is not None
    assert lift.conversion.a == pytest.approx(2 / len(holdout))
    assert lift.conversion.b == pytest.approx(4 / len(treated))
    assert lift.attributed_revenue == pytest.approx(120.0)
    assert lift.conclusion.startswith("too early")

    # Attribution counts every order (the late one too: it is about orders, not a journey's
    # goal window). Held-out buyers had no message before them, and the late order came 8
    # days after its message, outside the 7-day window: three orders nobody touched.
    attribution = report.attribution
    assert attribution.conversions == len(buyers) + 1
    assert attribution.untouched == 3
    assert attribution.untouched_revenue == pytest.approx(50.0 + 99.0)
    (row,) = attribution.workflows
    assert row.workflow == "offer"
    assert row.credits["last_touch"].revenue == pytest.approx(120.0)
    assert row.credits["linear"].conversions == pytest.approx(4.0)

    # Customer value per source, from the test's own orders.
    value = report.value
    totals: dict[str, float] = dict.fromkeys(sources, 0.0)
    for i, user in enumerate(users):
        paid = buyers.get(user, 0.0) + (99.0 if user == late else 0.0)
        totals[sources[i % 2]] += paid
    spreads = {s.group: s for s in value.by_source}
    for source in sources:
        assert spreads[source].contacts == 20
        assert spreads[source].value.total == pytest.approx(totals[source])
    assert value.overall.buyers == len(buyers) + 1
    assert value.hours_to_convert["offer"].count == len(buyers)

    # The page names every workflow and escapes what users typed.
    page = render_html(report)
    assert "First-order offer" in page and "<script" not in page


def test_audit_flags_old_workflows_and_crowded_contacts(store: Store) -> None:
    for key in ("one", "two", "three"):
        deploy(
            store,
            f"""
id: {key}
name: {key}
trigger: {{type: event, event: signed_up}}
steps:
  - {{id: wait, type: wait, for: 30d}}
""",
        )
    subscriber(store, "busy")
    track(store, "busy", "signed_up")
    store.clock.advance(timedelta(days=100))
    found = {(f.kind, f.subject): f for f in _report(store).findings}
    assert found[("overload", "contacts")].numbers == {"contacts": 1, "most": 3}
    for key in ("one", "two", "three"):
        assert found[("untouched", key)].numbers == {"days": 100}


def test_events_that_name_no_real_message_leave_the_report_whole(store: Store) -> None:
    deploy(store, OFFER)
    subscriber(store, "ann")
    track(store, "ann", "signed_up")
    # Anyone may send these through the API: a message id that is text, a fraction, null.
    for i, ref in enumerate(("abc", 1.5, None, "12")):
        item = Incoming(
            f"odd-{i}", "ann", "unsubscribed", store.clock.now(), properties={"message_id": ref}
        )
        ingest(store.engine, store.workspace_id, [item], store.clock, store.catalog)
    (figures,) = _report(store).workflows
    assert (figures.entered, figures.unsubscribed, figures.bounced) == (1, 0, 0)


def test_figures_for_one_version_count_only_its_journeys(store: Store) -> None:
    deploy(store, OFFER)
    for user in ("a1", "a2", "a3", "a4"):
        subscriber(store, user)
        track(store, user, "signed_up")
    deploy(store, OFFER.replace("name: First-order offer", "name: First-order offer, again"))
    for user in ("b1", "b2", "b3"):
        subscriber(store, user)
        track(store, user, "signed_up")
    _dispatch(store)
    with store.engine.connect() as conn:
        (both,) = workflow_figures(conn, store.workspace_id, store.catalog)
        (first,) = workflow_figures(conn, store.workspace_id, store.catalog, version=1)
        (second,) = workflow_figures(conn, store.workspace_id, store.catalog, version=2)
    assert [(v.version, v.entered) for v in both.versions] == [(1, 4), (2, 3)]
    assert (both.version, both.entered, both.steps[0].entered) == (2, 7, 7)
    assert (first.version, first.entered, first.steps[0].entered) == (1, 4, 4)
    assert (second.version, second.entered, second.steps[0].entered) == (2, 3, 3)
    # Messages count with their journey's version.
    assert both.sent > 0 and first.sent + second.sent == both.sent
    assert first.sent <= 4 and second.sent <= 3
