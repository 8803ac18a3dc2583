"""Segments: membership kept current by events and by the sweep, entries and exits as events
that workflows start on, wait for and exit on, and sweeps that never load everyone."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import event, insert

from tests.integration.conftest import Store
from tests.integration.journeys import deploy, identify, rows, stored_json, subscriber, track
from tidings.errors import SpecInvalid
from tidings.runtime.exports import write_segment_csv
from tidings.runtime.segments import define_segment, preview
from tidings.runtime.sweeps import sweep_segments
from tidings.storage import segments as store_segments
from tidings.storage.tables import contacts, events

PRICING = 'performed page_viewed where event.url contains "/pricing" at least 3 times within 7d'


def define(store: Store, key: str, condition: str) -> int:
    return define_segment(
        store.engine, store.workspace_id, key, key.title(), condition, store.clock.now()
    ).size


def members(store: Store, key: str) -> list[str]:
    found = rows(
        store,
        "SELECT c.external_id FROM segment_members m JOIN segments s ON s.id = m.segment_id"
        " JOIN contacts c ON c.id = m.contact_id WHERE s.key = :key ORDER BY c.external_id",
        key=key,
    )
    return [r[0] for r in found]


def segment_events(store: Store) -> list[tuple[str, str, str]]:
    found = rows(
        store,
        "SELECT c.external_id, e.name, e.properties FROM events e"
        " JOIN contacts c ON c.id = e.contact_id"
        " WHERE e.name IN ('segment_entered', 'segment_exited') ORDER BY e.id",
    )
    return [(r[0], r[1], stored_json(r[2])["segment"]) for r in found]


def sweep(store: Store) -> int:
    return sweep_segments(store.engine, store.clock, store.catalog)


def test_a_new_segment_is_filled_without_announcing_anyone(store: Store) -> None:
    identify(store, "ann", plan="pro")
    identify(store, "bob", plan="free")
    assert define(store, "pro", 'contact.plan == "pro"') == 1
    assert members(store, "pro") == ["ann"]
    assert segment_events(store) == []


def test_events_move_contacts_in_at_once_and_time_moves_them_out(store: Store) -> None:
    define(store, "hot", PRICING)
    for _ in range(2):
        track(store, "ann", "page_viewed", url="/pricing/teams")
    track(store, "ann", "page_viewed", url="/blog")
    assert members(store, "hot") == []
    track(store, "ann", "page_viewed", url="/pricing")
    assert members(store, "hot") == ["ann"]  # on the event itself, no sweep needed
    assert segment_events(store) == [("ann", "segment_entered", "hot")]

    store.clock.advance(timedelta(days=6))
    assert sweep(store) == 0  # the three visits are still within 7 days
    store.clock.advance(timedelta(days=2))
    assert sweep(store) == 1  # now they are not: only time changed, and the sweep saw it
    assert members(store, "hot") == []
    assert segment_events(store)[-1] == ("ann", "segment_exited", "hot")


def test_an_event_only_recomputes_the_segments_it_can_change(store: Store) -> None:
    define(store, "hot", PRICING)
    statements: list[str] = []

    def seen(conn: object, cursor: object, sql: str, *args: object) -> None:
        statements.append(sql)

    event.listen(store.engine, "before_cursor_execute", seen)
    try:
        track(store, "ann", "email_opened")
    finally:
        event.remove(store.engine, "before_cursor_execute", seen)
    assert not any("segment_members" in sql for sql in statements)


def test_a_profile_segment_is_recomputed_only_when_a_profile_changed(store: Store) -> None:
    define(store, "pro", 'contact.plan == "pro"')
    identify(store, "ann", plan="free")
    statements: list[str] = []

    def seen(conn: object, cursor: object, sql: str, *args: object) -> None:
        statements.append(sql)

    event.listen(store.engine, "before_cursor_execute", seen)
    try:
        track(store, "ann", "page_viewed")  # no profile changed
        assert not any("segment_members" in sql for sql in statements)
        identify(store, "ann", plan="pro")
    finally:
        event.remove(store.engine, "before_cursor_execute", seen)
    assert members(store, "pro") == ["ann"]


def test_profile_changes_enter_and_leave_and_workflows_follow(store: Store) -> None:
    deploy(
        store,
        """
id: vip-welcome
name: VIP welcome
trigger: {type: segment, segment: vip}
exit:
  - {event: segment_exited, where: 'event.segment == "vip"'}
templates:
  hello: {subject: "Welcome to VIP", text: "hi"}
  later: {subject: "Still VIP", text: "hi"}
steps:
  - {id: hello, type: send, template: hello}
  - {id: pause, type: wait, for: 3d}
  - {id: later, type: send, template: later}
""",
    )
    define(store, "vip", 'contact.lifetime_value >= 1000 and consent.email == "subscribed"')
    subscriber(store, "ann", lifetime_value=200)
    assert members(store, "vip") == []
    identify(store, "ann", lifetime_value=1500)
    assert members(store, "vip") == ["ann"]
    journeys = rows(store, "SELECT status, step_id FROM enrollments")
    assert [(r[0], r[1]) for r in journeys] == [("waiting", "pause")]
    assert [r[0] for r in rows(store, "SELECT subject FROM messages")] == ["Welcome to VIP"]

    identify(store, "ann", lifetime_value=10)  # a refund: out of the segment, out of the flow
    assert members(store, "vip") == []
    journeys = rows(store, "SELECT status, exit_reason FROM enrollments")
    assert [(r[0], r[1]) for r in journeys] == [("exited", "exit event: segment_exited")]


def test_a_workflow_can_start_on_leaving(store: Store) -> None:
    deploy(
        store,
        """
id: lapsed
name: Lapsed
trigger: {type: segment, segment: active, direction: exit}
templates:
  miss: {subject: "We miss you", text: "come back"}
steps:
  - {id: miss, type: send, template: miss}
""",
    )
    define(store, "active", "performed visited within 30d")
    subscriber(store, "ann")
    track(store, "ann", "visited")
    assert members(store, "active") == ["ann"]
    store.clock.advance(timedelta(days=31))
    sweep(store)
    assert [r[0] for r in rows(store, "SELECT subject FROM messages")] == ["We miss you"]


def test_a_journey_can_wait_for_a_segment_entry(store: Store) -> None:
    deploy(
        store,
        """
id: trial
name: Trial nudge
trigger: {event: trial_started}
templates:
  nudge: {subject: "Try the pricing page", text: "go"}
  sales: {subject: "A call?", text: "call"}
steps:
  - id: hot
    type: wait
    event: segment_entered
    where: 'event.segment == "hot"'
    timeout: 7d
    on_event: sales
    on_timeout: nudge
  - {id: nudge, type: send, template: nudge}
  - {id: sales, type: send, template: sales}
""",
    )
    define(store, "hot", PRICING)
    subscriber(store, "ann")
    track(store, "ann", "trial_started")
    for _ in range(3):
        track(store, "ann", "page_viewed", url="/pricing")
    assert [r[0] for r in rows(store, "SELECT subject FROM messages")] == ["A call?"]


def test_bad_definitions_say_what_and_where(store: Store) -> None:
    with pytest.raises(SpecInvalid) as info:
        define_segment(
            store.engine,
            store.workspace_id,
            "Bad Key",
            "",
            "trigger.x == 1 and event.url == 'a' and contact.a == contact.b",
            store.clock.now(),
        )
    text = str(info.value)
    for fragment in (
        "key: 'Bad Key' is not a segment key",
        "name: a segment needs a name",
        "trigger.x has no meaning in a segment",
        "event.url is outside a behaviour rule",
        "contact.a is compared with contact.b",
    ):
        assert fragment in text
    with pytest.raises(SpecInvalid, match="at column 11"):
        preview(store.engine, store.workspace_id, "performed ", store.clock.now())


def test_preview_counts_without_storing_and_export_writes_csv(store: Store) -> None:
    identify(store, "ann", email="ann@example.com", plan="pro", note="=HYPERLINK(1)")
    identify(store, "bob", email="bob@example.com", plan="pro")
    identify(store, "cid", plan="free")
    size, sample = preview(
        store.engine, store.workspace_id, 'contact.plan == "pro"', store.clock.now()
    )
    assert size == 2 and len(sample) == 2
    assert rows(store, "SELECT count(*) FROM segments")[0][0] == 0

    define(store, "pro", 'contact.plan == "pro"')
    out = io.StringIO()
    with store.engine.connect() as conn:
        segment = store_segments.list_segments(conn, store.workspace_id)[0]
        assert write_segment_csv(conn, segment, out) == 2
    table = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["external_id"] for r in table] == ["ann", "bob"]
    assert [r["email"] for r in table] == ["ann@example.com", "bob@example.com"]
    assert '"note": "=HYPERLINK(1)"' in table[0]["attributes"]  # inside JSON, not a formula


def test_the_sweep_works_in_the_database_not_in_memory(store: Store) -> None:
    """A sweep over thousands of contacts issues the same few statements as over a handful,
    and fetches only the ids that changed."""
    now = store.clock.now()

    def population(start: int, size: int) -> None:
        with store.engine.begin() as conn:
            conn.execute(
                insert(contacts),
                [
                    {
                        "workspace_id": store.workspace_id,
                        "external_id": f"u{n}",
                        "attributes": {"n": n},
                        "tags": [],
                        "consent": {},
                        "created_at": now,
                        "updated_at": now,
                    }
                    for n in range(start, start + size)
                ],
            )
            ids = [
                r[0]
                for r in conn.execute(
                    contacts.select().with_only_columns(contacts.c.id).order_by(contacts.c.id)
                )
            ]
            conn.execute(
                insert(events),
                [
                    {
                        "workspace_id": store.workspace_id,
                        "contact_id": cid,
                        "message_id": f"m{cid}",
                        "name": "visited",
                        "properties": {},
                        "occurred_at": now,
                        "received_at": now,
                    }
                    for cid in ids[start : start + size]
                ],
            )

    def statements_of_a_sweep() -> int:
        counted: list[str] = []

        def seen(conn: object, cursor: object, sql: str, *args: object) -> None:
            counted.append(sql)

        event.listen(store.engine, "before_cursor_execute", seen)
        try:
            sweep(store)
        finally:
            event.remove(store.engine, "before_cursor_execute", seen)
        return len(counted)

    population(0, 10)
    define(store, "recent", "performed visited within 30d and contact.n >= 0")
    small = statements_of_a_sweep()
    population(10, 5000)
    store.clock.advance(timedelta(days=1))
    assert statements_of_a_sweep() > small  # 5000 entered: announced in chunks
    store.clock.advance(timedelta(days=1))
    assert statements_of_a_sweep() == small  # nobody moved: as cheap as for ten
    assert len(members(store, "recent")) == 5010
