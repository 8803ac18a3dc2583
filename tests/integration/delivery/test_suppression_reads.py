"""The dispatcher checks the suppression list with the workspace secret it already holds."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from tests.integration.conftest import Store
from tests.integration.delivery.test_policies import promo
from tests.integration.journeys import deploy, rows, subscriber, track
from tests.servers import SmtpSink
from tidings.runtime.dispatch import Dispatcher
from tidings.storage.suppressions import SuppressionReason, suppress


def test_a_round_drops_a_suppressed_address_without_reading_the_secret_again(
    store: Store, dispatcher: Dispatcher, smtp: tuple[SmtpSink, int]
) -> None:
    deploy(store, promo("tips"))
    subscriber(store, "ann")
    subscriber(store, "bob")
    with store.engine.begin() as conn:
        when = store.clock.now()
        suppress(
            conn,
            store.workspace_id,
            [("email", "ann@example.com")],
            SuppressionReason.COMPLAINT,
            when,
        )
    track(store, "ann", "tips_due")
    track(store, "bob", "tips_due")
    sent: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        sent.append(" ".join(statement.split()))

    event.listen(store.engine, "before_cursor_execute", seen)
    try:
        outcome = dispatcher.run_once()
    finally:
        event.remove(store.engine, "before_cursor_execute", seen)

    assert outcome.dropped == 1
    [line] = rows(store, "SELECT detail FROM step_log WHERE action = 'dropped'")
    assert "suppression list (complaint)" in line.detail
    # The round read the workspace once, with its settings; the check did not read it again
    assert not [s for s in sent if s.startswith("SELECT workspaces.secret FROM")]
