"""Ingest stores events once, keeps profiles, and starts journeys in the same transaction."""

from __future__ import annotations

from sqlalchemy import select

from tests.integration.conftest import Store
from tests.integration.journeys import deploy, identify, outbox, rows, subscriber, track
from tidings.runtime.ingest import Incoming, ingest
from tidings.storage.contacts import load_contacts
from tidings.storage.tables import contacts
from tidings.storage.workspaces import ensure_workspace

WELCOME = """
id: welcome
name: Welcome
trigger: {event: signed_up}
templates:
  hi: {subject: "Welcome {{ contact.first_name }}", html: "<p>Hi</p>"}
steps:
  - {id: hello, type: send, template: hi}
  - {id: later, type: wait, for: 2d}
"""


def test_the_first_send_is_in_the_outbox_when_ingest_returns(store: Store) -> None:
    deploy(store, WELCOME)
    subscriber(store, "u1", first_name="Ann")
    report = track(store, "u1", "signed_up")
    assert (report.stored, report.enrolled) == (1, 1)
    assert outbox(store) == [("1:hello:1", "Welcome Ann")]


def test_a_message_id_is_stored_once_however_often_it_is_sent(store: Store) -> None:
    deploy(store, WELCOME)
    subscriber(store, "u1")
    first = track(store, "u1", "signed_up", message_id="retry-me")
    again = track(store, "u1", "signed_up", message_id="retry-me")
    assert (first.stored, again.stored, again.duplicates, again.enrolled) == (1, 0, 1, 0)
    assert len(rows(store, "SELECT id FROM events WHERE message_id = 'retry-me'")) == 1
    assert len(outbox(store)) == 1


def test_two_triggers_in_one_batch_enroll_once(store: Store) -> None:
    deploy(store, WELCOME)
    subscriber(store, "u1")
    now = store.clock.now()
    batch = [Incoming(f"s{i}", "u1", "signed_up", now) for i in range(2)]
    report = ingest(store.engine, store.workspace_id, batch, store.clock, store.catalog)
    assert (report.stored, report.enrolled) == (2, 1)
    refusals = rows(store, "SELECT detail FROM step_log WHERE action = 'not_enrolled'")
    assert [r[0] for r in refusals] == ["already in this workflow"]


def test_traits_add_and_overwrite_but_never_erase(store: Store) -> None:
    identify(store, "u1", email="ann@example.com", plan="pro", timezone="Europe/Paris")
    identify(store, "u1", city="Lyon")
    identify(store, "u1", plan="team")
    with store.engine.connect() as conn:
        contact_id = conn.execute(select(contacts.c.id)).scalar_one()
        view = load_contacts(conn, [contact_id])[contact_id]
    assert view.email == "ann@example.com" and view.timezone == "Europe/Paris"
    assert dict(view.attributes) == {"plan": "team", "city": "Lyon"}


def test_workspaces_do_not_see_each_others_contacts(store: Store) -> None:
    identify(store, "u1", plan="pro")
    with store.engine.begin() as conn:
        other = ensure_workspace(conn, "other", "Other", store.clock.now())
    ingest(
        store.engine,
        other,
        [Incoming("x1", "u1", "signed_up", store.clock.now())],
        store.clock,
        store.catalog,
    )
    owners = rows(
        store, "SELECT workspace_id FROM contacts WHERE external_id = 'u1' ORDER BY workspace_id"
    )
    assert [r[0] for r in owners] == [store.workspace_id, other]


def test_many_enrollments_on_one_connection(store: Store) -> None:
    # PostgreSQL prepares a statement after a few runs on a connection; the partial-index
    # ON CONFLICT must still find its index then (its predicate is literal SQL for that).
    deploy(store, WELCOME)
    now = store.clock.now()
    for batch in range(4):
        items = [Incoming(f"s{batch}-{i}", f"u{batch}-{i}", "signed_up", now) for i in range(10)]
        assert (
            ingest(store.engine, store.workspace_id, items, store.clock, store.catalog).enrolled
            == 10
        )
