"""A journey that cannot run fails alone: its event and the batch's other calls are stored,
the others' journeys run, and the failure is on its contact's timeline."""

from __future__ import annotations

from sqlalchemy import text

from tests.integration.conftest import Store
from tests.integration.journeys import deploy, enrollment_states, rows, track
from tidings.runtime.ingest import Incoming, ingest
from tidings.storage.workflows import Catalog

WELCOME = """
id: welcome
name: Welcome
trigger: {event: signed_up}
steps:
  - {id: pause, type: wait, for: 1d}
"""

#: The next version, so that journeys on version 1 keep it.
WELCOME_V2 = WELCOME.replace("for: 1d", "for: 2d")


def test_a_journey_on_an_unreadable_version_loses_no_event(store: Store) -> None:
    # Given ann's journey on version 1, whose stored spec this code can no longer read
    # (written by another release, say), and version 2 live for newcomers
    deploy(store, WELCOME)
    track(store, "ann", "signed_up")
    deploy(store, WELCOME_V2)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE workflow_versions SET spec = '{\"id\": 7}' WHERE version = 1"))

    # When a batch holds an event of ann's and one of bob's
    items = [
        Incoming("a1", "ann", "page_viewed", store.clock.now()),
        Incoming("b1", "bob", "signed_up", store.clock.now()),
    ]
    report = ingest(store.engine, store.workspace_id, items, store.clock, Catalog())

    # Then both are stored, bob starts version 2, and ann's timeline says what failed
    assert report.stored == 2
    stored = rows(store, "SELECT message_id FROM events ORDER BY id")
    assert [r.message_id for r in stored][-2:] == ["a1", "b1"]
    assert enrollment_states(store) == [("waiting", "pause", None)] * 2
    [failure] = rows(
        store,
        "SELECT c.external_id, s.detail FROM step_log s JOIN contacts c ON c.id = s.contact_id"
        " WHERE s.action = 'failed'",
    )
    assert failure.external_id == "ann"
    assert failure.detail.startswith("page_viewed is stored, but its workflows failed:")


def test_an_unreadable_live_workflow_loses_no_event(store: Store) -> None:
    deploy(store, WELCOME)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE workflow_versions SET spec = '{\"id\": 7}'"))
    items = [
        Incoming("a1", "ann", "signed_up", store.clock.now()),
        Incoming("b1", "bob", "signed_up", store.clock.now()),
    ]

    report = ingest(store.engine, store.workspace_id, items, store.clock, Catalog())

    assert report.stored == 2
    assert [r.message_id for r in rows(store, "SELECT message_id FROM events ORDER BY id")] == [
        "a1",
        "b1",
    ]
    failures = rows(store, "SELECT detail FROM step_log WHERE action = 'failed' ORDER BY id")
    assert [f.detail.split(":")[0] for f in failures] == [
        "signed_up is stored, but its workflows failed"
    ] * 2
