"""The workflows list's figures against the full report over the same period: the report's
own counts are the oracle, and the test's own actions fix what both must say."""

from __future__ import annotations

from datetime import timedelta

from tests.integration.conftest import Store
from tests.integration.journeys import WAITING_WELCOME, deploy, subscriber, tick, track
from tidings.storage.list_figures import list_figures
from tidings.storage.reports import Period, workflow_figures

QUIET = """
id: quiet
name: Nobody yet
trigger: {type: event, event: never_sent}
steps:
  - {id: done, type: exit, reason: finished}
"""


def _sign_up(store: Store, *users: str) -> None:
    for user in users:
        subscriber(store, user)
        track(store, user, "signed_up")


def test_list_figures_agree_with_the_report(store: Store) -> None:
    welcome_id = deploy(store, WAITING_WELCOME)
    quiet_id = deploy(store, QUIET)
    _sign_up(store, "u0", "u1", "u2", "u3")
    tick(store, timedelta(days=10))
    track(store, "u0", "order_completed")  # converted before the period
    tick(store, timedelta(days=25))
    _sign_up(store, "u4", "u5", "u6", "u7")
    last_entry = store.clock.now()
    track(store, "u1", "order_completed")  # converted inside, entered before the period
    tick(store, timedelta(days=10))
    track(store, "u4", "order_completed")
    track(store, "u5", "order_completed")
    tick(store, timedelta(hours=1))
    since = store.clock.now() - timedelta(days=30)

    with store.engine.connect() as conn:
        listed = list_figures(conn, store.workspace_id, since)
        reported = workflow_figures(
            conn, store.workspace_id, store.catalog, Period(since=since), daily=True
        )
    report, quiet_report = (next(r for r in reported if r.key == k) for k in ("welcome", "quiet"))

    figures = listed[welcome_id]
    assert (figures.entered, figures.converted, figures.entered_converted) == (4, 3, 2)
    assert figures.entered == report.entered
    assert figures.converted == report.converted
    assert figures.entered_converted == sum(day.entered_converted for day in report.days)
    assert figures.in_journey == report.waiting == 4  # a conversion ends the journey: 8 - 4
    assert figures.last_entered_at == last_entry
    nothing = listed[quiet_id]
    assert (nothing.in_journey, nothing.entered, nothing.converted) == (0, 0, 0)
    assert nothing.last_entered_at is None
    assert quiet_report.entered == 0
