"""Contact imports from a messy CSV: cleaning, duplicates, rejections with row numbers,
dry runs, and nothing half written."""

from __future__ import annotations

import io
from typing import Any

import pytest

from tests.integration.conftest import Store
from tests.integration.journeys import identify, rows, stored_json
from tidings.errors import SpecInvalid
from tidings.runtime.imports import import_contacts, report_text

MESSY = (
    "Customer ID;E-mail;Phone;First Name;last name;Time Zone;Company Size;Tags;Newsletter\n"
    "c1; Ann.Smith@Example.COM ;(415) 253-0123;ann;SMITH;america/new_york;120;vip, beta;yes\n"
    "c2;bob@@example.com;;Bob;;UTC;5;;\n"
    ";ANN.SMITH@example.com;;;;;;partner;\n"
    "c3;carol@example.com;06 12 34 56 78;Carol;Dupont;Mars/Olympus;50;;no\n"
    ";;;;;;;;\n"
    "c4;dan@example.com;+33 6 12 34 56 78;DAN;;Europe/Paris;02134;;\n"
    'c5;erin@example.com;;"Erin ""E"" O\'Neil";;;300;;yes;extra\n'
    ";;;Nobody;;;;;\n"
    "c6;fay@example.com;;Fay;;;;;maybe\n"
    "c9;OLD@example.com;;;;;10;;yes\n"
    ";known@example.com;;Kim;;;;;\n"
)


def contact(store: Store, user: str) -> dict[str, Any]:
    [row] = rows(
        store,
        "SELECT email, phone, timezone, attributes, tags, consent FROM contacts"
        " WHERE external_id = :u",
        u=user,
    )
    return {
        "email": row.email,
        "phone": row.phone,
        "timezone": row.timezone,
        "attributes": stored_json(row.attributes),
        "tags": stored_json(row.tags),
        "consent": stored_json(row.consent),
    }


def run(store: Store, text: str, **options: Any) -> Any:
    return import_contacts(
        store.engine, store.workspace_id, io.StringIO(text), store.clock.now(), **options
    )


def test_a_messy_file_is_cleaned_merged_and_every_rejection_has_its_row(store: Store) -> None:
    identify(store, "c9", email="old@example.com", plan="pro", consent={"email": "unsubscribed"})
    with store.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO contacts (workspace_id, email, timezone, attributes, tags, consent,"
            " score, scores, created_at, updated_at) VALUES (?, 'known@example.com', 'UTC',"
            " '{}', '[]', '{}', 0, '{}', ?, ?)"
            if store.engine.dialect.name == "sqlite"
            else "INSERT INTO contacts (workspace_id, email, timezone, attributes, tags, consent,"
            " score, scores, created_at, updated_at) VALUES (%s, 'known@example.com', 'UTC',"
            " '{}', '[]', '{}', 0, '{}', %s, %s)",
            (store.workspace_id, store.clock.now(), store.clock.now()),
        )
    report = run(store, MESSY, region="US")
    text = report_text(report)
    assert (report.created, report.updated, report.unchanged) == (2, 2, 0), text
    assert report.merged == [(4, 2)]
    assert [(r.row, r.reason.split(":")[0]) for r in report.rejected] == [
        (3, "column 'E-mail'"),
        (5, "column 'Phone'"),
        (8, "10 cells but the header names 9"),
        (9, "no user id, email or phone to know the contact by"),
        (10, "column 'Newsletter'"),
    ], text
    assert "'bob@@example.com' is not an email address" in text
    assert "'06 12 34 56 78' is not a valid phone number" in text
    assert "'maybe' is not a consent answer; use yes or no" in text

    ann = contact(store, "c1")
    assert ann["email"] == "ann.smith@example.com"
    assert ann["phone"] == "+14152530123"
    assert ann["timezone"] == "America/New_York"
    assert ann["attributes"] == {"first_name": "Ann", "last_name": "Smith", "company_size": 120}
    assert ann["tags"] == ["beta", "partner", "vip"]  # row 4, the same person, added a tag
    assert ann["consent"] == {"email": "subscribed"}
    dan = contact(store, "c4")
    assert dan["attributes"] == {"first_name": "Dan", "company_size": "02134"}  # a code stays text
    assert dan["phone"] == "+33612345678"
    old = contact(store, "c9")
    assert old["attributes"] == {"plan": "pro", "company_size": 10}  # nothing known is erased
    assert old["consent"] == {"email": "unsubscribed"}  # an import never undoes a withdrawal
    assert rows(store, "SELECT count(*) FROM contacts")[0][0] == 4
    kim = rows(store, "SELECT attributes FROM contacts WHERE email = 'known@example.com'")
    assert stored_json(kim[0][0]) == {"first_name": "Kim"}


def test_a_dry_run_reports_the_same_and_writes_nothing(store: Store) -> None:
    report = run(store, MESSY, region="US", dry_run=True)
    assert (report.created, len(report.rejected)) == (4, 5)
    assert "dry run, nothing written; would be 4 created" in report_text(report)
    assert rows(store, "SELECT count(*) FROM contacts")[0][0] == 0


def test_an_interrupted_import_writes_nothing(store: Store) -> None:
    big = "email,plan\n" + "".join(f"u{n}@example.com,pro\n" for n in range(2500))

    def interrupt(done: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(store, big, progress=interrupt)  # after the first 1,000 rows were written
    assert rows(store, "SELECT count(*) FROM contacts")[0][0] == 0
    report = run(store, big)
    assert report.created == 2500
    assert run(store, big).unchanged == 2500  # a second import of the same file is a no-op


def test_a_mapping_renames_and_skips_columns_and_is_checked(store: Store) -> None:
    text = "Mail,Secret,Plan\nann@example.com,x,pro\n"
    report = run(store, text, mapping={"Mail": "email", "Secret": "", "Plan": "attributes.tier"})
    assert report.created == 1
    [row] = rows(store, "SELECT attributes FROM contacts")
    assert stored_json(row[0]) == {"tier": "pro"}
    with pytest.raises(SpecInvalid) as info:
        run(store, text, mapping={"Mial": "email", "Plan": "emial"})
    message = str(info.value)
    assert "map.Mial: no such column" in message
    assert "map.Plan: unknown field 'emial'" in message


def test_two_user_ids_sharing_an_address_stay_two_people(store: Store) -> None:
    text = "user_id,email\nmom,home@example.com\nkid,home@example.com\n,home@example.com\n"
    report = run(store, text)
    assert (report.created, report.merged) == (2, [(4, 2)]), report_text(report)
    assert rows(store, "SELECT count(*) FROM contacts")[0][0] == 2
    again = run(store, "user_id,email,plan\nkid,home@example.com,pro\n")
    assert again.updated == 1
    assert contact(store, "kid")["attributes"] == {"plan": "pro"}
    assert contact(store, "mom")["attributes"] == {}
