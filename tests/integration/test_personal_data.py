"""One person's data, whole: the export has a section for every table that refers to a
contact, holds every such row, and erasure leaves none of them.

The tables are found from the schema, not listed here, so a new table that keeps something
about a person fails these tests until the export and erasure handle it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Column, Table, func, or_, select

from tests.integration.api.people import add_member
from tests.integration.conftest import Store
from tests.integration.journeys import HANDOFF, deploy, identify, recorded_admin, rows, track
from tidings.runtime.approvals import decide_approval
from tidings.storage.erasure import ERASED
from tidings.storage.forms import load_form, record_consents
from tidings.storage.people import Role
from tidings.storage.personal_data import SECTIONS, where_test_sends_about
from tidings.storage.tables import contacts, enrollments, metadata, test_sends

#: Tables that refer to a contact yet are no part of one person's export or erasure, each
#: with the reason. Empty today; keep it short.
NOT_PERSONAL: dict[str, str] = {}

WELCOME = """
id: welcome
name: Welcome
trigger: {event: signed_up}
templates:
  hi: {subject: "Welcome {{ contact.first_name }}", text: "Hi {{ contact.first_name }}"}
steps:
  - {id: hello, type: send, template: hi, kind: transactional}
"""
FORM = {
    "key": "contact",
    "name": "Contact us",
    "fields": [{"key": "email", "label": "Email", "type": "email", "required": True}],
    "consents": [{"key": "news", "channel": "email", "wording": "Send me the newsletter."}],
}
SCORING = {
    "scores": {"engagement": {"rules": [{"id": "signup", "event": "signed_up", "points": 5}]}}
}


def _refers_to(column: Column[object], targets: set[str]) -> bool:
    return column.name == "contact_id" or any(
        fk.column.table.name in targets for fk in column.foreign_keys
    )


def contact_references() -> dict[str, list[str]]:
    """Every table that refers to a contact, with the columns that do: `contact_id`, a
    foreign key to contacts, or one to a table that itself refers to a contact (an
    enrollment, a message), followed to a fixed point."""
    about = {contacts.name}
    found: dict[str, list[str]] = {}
    while True:
        for table in metadata.sorted_tables:
            columns = [c.name for c in table.columns if _refers_to(c, about)]
            if columns and table.name != contacts.name:
                found[table.name] = columns
        if found.keys() <= about:
            return found
        about |= found.keys()


def test_the_schema_walk_sees_the_tables_known_to_hold_contacts() -> None:
    # The walk itself can fail: these tables are about a contact, by contact_id and
    # through their enrollment.
    found = contact_references()
    assert found["approvals"] == ["contact_id", "enrollment_id"]
    assert found["test_sends"] == ["contact_id"]
    assert {"events", "form_consents", "segment_members", "step_log"} <= found.keys()
    assert "workflows" not in found and "suppressions" not in found


def test_every_table_about_a_contact_has_a_section_in_the_export() -> None:
    missing = contact_references().keys() - SECTIONS.keys() - NOT_PERSONAL.keys()
    assert missing == set(), f"add these tables to personal_data.SECTIONS: {sorted(missing)}"


def test_every_table_about_a_contact_is_erased() -> None:
    erased = {t.name for t in ERASED} | {test_sends.name}
    missing = contact_references().keys() - erased - NOT_PERSONAL.keys()
    assert missing == set(), f"add these tables to erasure.ERASED: {sorted(missing)}"


@pytest.fixture
def admin(store: Store) -> Iterator[TestClient]:
    yield from recorded_admin(store)


def _ok(answer: object) -> None:
    assert getattr(answer, "is_success", False), getattr(answer, "text", answer)


def a_person_in_every_table(store: Store, admin: TestClient) -> int:
    """A contact with a row in every table that can refer to one, made the way the product
    makes them; returns their id."""
    add_member(store, "lead@example.com", Role.APPROVER)
    _ok(admin.put("/api/scoring", json=SCORING))
    deploy(store, WELCOME)
    deploy(store, HANDOFF)
    deploy(store, HANDOFF.replace("id: handoff", "id: handoff_later"))
    identify(store, "u1", email="ann@example.com", first_name="Ann")
    identify(store, "u2", email="bob@example.com", first_name="Bob")
    track(store, "u1", "signed_up")
    track(store, "u1", "demo_requested")
    [contact] = rows(store, "SELECT id FROM contacts WHERE external_id = 'u1'")
    # One checkpoint decided with a comment, the other still pending.
    [handoff] = rows(
        store,
        "SELECT e.id FROM enrollments e JOIN workflows w ON w.id = e.workflow_id"
        " WHERE w.key = 'handoff' AND e.contact_id = :c",
        c=contact.id,
    )
    decide_approval(
        store.engine, store.clock, store.catalog, handoff.id,
        approved=True, by="lead@example.com", comment="Ann asked for a call on Friday",
    )  # fmt: skip
    condition = "performed signed_up at least 1 time"
    _ok(admin.put("/api/segments/signups", json={"name": "Signed up", "condition": condition}))
    _ok(admin.put("/api/forms/contact", json=FORM))
    with store.engine.begin() as conn:
        form = load_form(conn, store.workspace_id, "contact")
        assert form is not None
        boxes = form.spec.consents
        page = "https://shop.example/pricing"
        record_consents(
            conn, store.workspace_id, contact.id, form, boxes, "subscribed", page, store.clock.now()
        )
    # A test rendered for Ann (sent to the editor) and one sent to Ann's address.
    for body in ({"to": "ed@shop.example", "contact": "u1"}, {"to": "ann@example.com"}):
        _ok(admin.post("/api/workflows/welcome/steps/hello/test-send", json=body))
    # and one about nobody: it is not Ann's.
    _ok(admin.post("/api/workflows/welcome/steps/hello/test-send", json={"to": "x@shop.example"}))
    return int(contact.id)


def held(store: Store, contact_id: int) -> dict[str, int]:
    """How many rows of each table refer to the contact, by any of its references."""
    counts = {}
    with store.engine.connect() as conn:
        contact = conn.execute(select(contacts).where(contacts.c.id == contact_id)).one_or_none()
        journeys = select(enrollments.c.id).where(enrollments.c.contact_id == contact_id)
        for name, columns in contact_references().items():
            table: Table = metadata.tables[name]
            refs = [
                table.c[c].in_(journeys) if c == "enrollment_id" else table.c[c] == contact_id
                for c in columns
            ]
            if name == test_sends.name and contact is not None:
                # Test sends are about a contact by their address too.
                refs.append(where_test_sends_about(contact.workspace_id, contact))
            query = select(func.count()).select_from(table).where(or_(*refs))
            counts[name] = conn.execute(query).scalar_one()
    return counts


def test_the_export_holds_every_row_about_the_person_and_erasure_leaves_none(
    store: Store, admin: TestClient
) -> None:
    # Given: a contact with rows in every table that can refer to one
    contact_id = a_person_in_every_table(store, admin)
    before = held(store, contact_id)
    empty = {name for name, count in before.items() if count == 0} - NOT_PERSONAL.keys()
    assert empty == set(), f"the fixture made no rows in {sorted(empty)}: add some"

    # When: their data is exported
    answer = admin.get(f"/api/contacts/{contact_id}/export")
    assert answer.status_code == 200, answer.text
    exported = answer.json()

    # Then: each table's section holds each of its rows about them
    assert exported["profile"]["id"] == contact_id
    for name, count in before.items():
        if name in SECTIONS:
            assert len(exported[SECTIONS[name]]) == count, name
    # with the checkpoints of their journeys, decided and pending, and what was said
    approvals = {(a["workflow"], a["status"], a["comment"]) for a in exported["approvals"]}
    assert approvals == {
        ("handoff", "approved", "Ann asked for a call on Friday"),
        ("handoff_later", "pending", None),
    }
    [consent] = exported["consents"]
    assert consent["wording"] == "Send me the newsletter." and consent["form_version"] == 1
    assert {t["recipient"] for t in exported["test_sends"]} == {
        "ed@shop.example",
        "ann@example.com",
    }
    # and nothing about the other contact
    assert "bob@example.com" not in answer.text

    # When: they are erased
    assert admin.delete(f"/api/contacts/{contact_id}").status_code == 204

    # Then: no table refers to them any more; the other contact and the test about
    # nobody are still there
    assert {name: n for name, n in held(store, contact_id).items() if n} == {}
    assert [r.email for r in rows(store, "SELECT email FROM contacts")] == ["bob@example.com"]
    assert [r.recipient for r in rows(store, "SELECT recipient FROM test_sends")] == [
        "x@shop.example"
    ]
