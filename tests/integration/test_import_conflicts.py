"""Two people who share a phone stay two people: an import keeps them apart and says so,
and deduplication leaves them alone."""

from __future__ import annotations

import io
from typing import Any

from sqlalchemy import text

from tests.integration.conftest import Store
from tests.integration.journeys import identify, rows
from tidings.runtime.imports import import_contacts, report_text
from tidings.runtime.merges import merge_duplicates


def run(store: Store, csv: str, **options: Any) -> Any:
    return import_contacts(
        store.engine, store.workspace_id, io.StringIO(csv), store.clock.now(), **options
    )


def people(store: Store) -> list[tuple[str, str]]:
    return [
        (r.email, r.phone) for r in rows(store, "SELECT email, phone FROM contacts ORDER BY email")
    ]


def test_two_emails_sharing_a_phone_in_one_file_stay_two_contacts(store: Store) -> None:
    text = "email,phone\nhana@example.com,+1 212 555 0199\nivan@example.com,(212) 555-0199\n"

    report = run(store, text, region="US")

    assert (report.created, report.merged) == (2, []), report_text(report)
    assert people(store) == [
        ("hana@example.com", "+12125550199"),
        ("ivan@example.com", "+12125550199"),
    ]
    [conflict] = report.conflicts
    assert conflict.row == 3
    assert conflict.reason == (
        "shares the phone +12125550199 with row 2 (email hana@example.com) but is a different"
        " person; imported as a separate contact, not merged"
    )
    assert "row 3: shares the phone" in report_text(report)


def test_a_known_contact_sharing_the_phone_keeps_its_email(store: Store) -> None:
    run(store, "email,phone\nhana@example.com,+12125550199\n")

    report = run(store, "email,phone,plan\nivan@example.com,(212) 555-0199,pro\n", region="US")

    assert (report.created, report.updated) == (1, 0), report_text(report)
    assert people(store) == [
        ("hana@example.com", "+12125550199"),
        ("ivan@example.com", "+12125550199"),
    ]
    [conflict] = report.conflicts
    assert conflict.row == 2 and conflict.reason.startswith(
        "shares the phone +12125550199 with contact "
    )


def test_a_phone_match_without_a_second_email_still_merges(store: Store) -> None:
    run(store, "email,phone\nhana@example.com,+12125550199\n")

    report = run(store, "phone,plan\n(212) 555-0199,pro\n", region="US")

    assert (report.created, report.updated, report.conflicts) == (0, 1, [])
    assert people(store) == [("hana@example.com", "+12125550199")]


def test_dedupe_leaves_two_emails_sharing_a_phone_apart(store: Store) -> None:
    identify(store, "hana", email="hana@example.com", phone="+12125550199")
    identify(store, "ivan", email="ivan@example.com", phone="+12125550199")
    with store.engine.begin() as conn:  # two profiles without user ids share the phone
        conn.execute(text("UPDATE contacts SET external_id = NULL"))

    [group] = merge_duplicates(store.engine, store.workspace_id, store.clock.now())

    assert group.shared == "phone +12125550199"
    assert group.skipped == "different emails (hana@example.com, ivan@example.com)"
    assert people(store) == [
        ("hana@example.com", "+12125550199"),
        ("ivan@example.com", "+12125550199"),
    ]
