"""Approvals that reach people: the approvers are told by email with a signed link to the
inbox, only they (or an owner) may decide, and each decision is in the audit trail."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from tests.integration.api.people import Browser, add_member, served
from tests.integration.conftest import Store
from tests.integration.delivery.conftest import PUBLIC, configure
from tests.integration.journeys import deploy, rows, stored_json, subscriber, track
from tests.servers import HttpSink, SmtpSink
from tidings.runtime import moves
from tidings.runtime.dispatch import Dispatcher
from tidings.storage.people import Role

HANDOFF = """
id: handoff
name: Sales hand-off
trigger: {event: demo_requested}
templates:
  hi: {subject: "A rep will call", text: "soon"}
steps:
  - {id: ask, type: approval, message: "Call {{ contact.email }}?", APPROVERS timeout: 2d, on_reject: done}
  - {id: hi, type: send, template: hi}
  - {id: done, type: exit, reason: handled}
"""


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    add_member(store, "lead@shop.example", Role.APPROVER)
    add_member(store, "other@shop.example", Role.APPROVER)
    add_member(store, "boss@shop.example", Role.OWNER)
    add_member(store, "ed@shop.example", Role.EDITOR)
    yield from served(store)


def ask(store: Store, approvers: str) -> None:
    deploy(store, HANDOFF.replace("APPROVERS", approvers))
    subscriber(store, "ann")
    track(store, "ann", "demo_requested")


def link_in(body: str) -> str:
    found = re.search(rf"{re.escape(PUBLIC)}(/approvals/open/\S+)", body)
    assert found is not None, body
    return found.group(1)


def test_a_named_approver_gets_an_email_whose_link_opens_the_inbox_at_the_approval(
    store: Store, dispatcher: Dispatcher, smtp: tuple[SmtpSink, int], client: TestClient
) -> None:
    ask(store, "approvers: [lead@shop.example],")
    assert dispatcher.run_once().sent == 1
    [mail] = smtp[0].received
    assert mail.rcpt_to == ["lead@shop.example"]
    message = mail.message
    assert message["Subject"] == "Tidings alert: Approval needed: Call ann@example.com?"
    path = link_in(message.get_content())
    [approval_id] = [r[0] for r in rows(store, "SELECT id FROM approvals")]
    opened = client.get(path)
    assert opened.status_code == 303
    assert opened.headers["location"] == f"/approvals?open={approval_id}"
    # Opening the link decides nothing.
    assert rows(store, "SELECT status FROM approvals") == [("pending",)]


def test_a_changed_or_expired_link_is_refused(
    store: Store, dispatcher: Dispatcher, smtp: tuple[SmtpSink, int], client: TestClient
) -> None:
    ask(store, "approvers: [lead@shop.example],")
    dispatcher.run_once()
    path = link_in(smtp[0].received[0].message.get_content())
    token = path.rsplit("/", 1)[1]
    changed = token[:-1] + ("A" if token[-1] != "A" else "B")
    refused = client.get(f"/approvals/open/{changed}")
    assert refused.status_code == 404 and "not valid" in refused.text
    # Another workspace's id in front of the same signature is refused too.
    assert client.get(f"/approvals/open/9{token}").status_code == 404
    store.clock.advance(timedelta(days=2, seconds=1))
    expired = client.get(path)
    assert expired.status_code == 410 and "expired" in expired.text


def test_only_a_named_approver_or_an_owner_may_decide_and_the_decision_is_audited(
    store: Store, client: TestClient
) -> None:
    ask(store, "approvers: [lead@shop.example],")
    [approval_id] = [r[0] for r in rows(store, "SELECT id FROM approvals")]
    other = Browser(client)
    assert other.login("other@shop.example").status_code == 200
    (listed,) = other.call("GET", "/api/approvals").json()
    assert listed["may_decide"] is False
    refused = other.call("POST", f"/api/approvals/{approval_id}/approve", json={"by": "x"})
    assert refused.status_code == 403
    assert "lead@shop.example" in refused.json()["detail"]
    assert rows(store, "SELECT status FROM approvals") == [("pending",)]
    other.call("DELETE", "/api/session")

    lead = Browser(client)
    assert lead.login("lead@shop.example").status_code == 200
    decided = lead.call(
        "POST",
        f"/api/approvals/{approval_id}/reject",
        json={"by": "x", "comment": "not a fit"},
    )
    assert decided.status_code == 200, decided.text
    assert rows(store, "SELECT status, decided_by FROM approvals") == [
        ("rejected", "lead@shop.example")
    ]
    [entry] = rows(
        store,
        "SELECT actor_type, actor, at, details FROM audit_log WHERE subject_type = 'approvals'",
    )
    assert (entry.actor_type, entry.actor) == ("person", "lead@shop.example")
    details = stored_json(entry.details)
    assert details["decision"] == "rejected" and details["comment"] == "not a fit"
    assert details["step_id"] == "ask"


def test_a_step_that_names_nobody_tells_every_approver_and_owner(
    store: Store, dispatcher: Dispatcher, smtp: tuple[SmtpSink, int], client: TestClient
) -> None:
    ask(store, "")
    assert dispatcher.run_once().sent == 3
    told = sorted(r for m in smtp[0].received for r in m.rcpt_to)
    # Not the editor: an editor cannot decide approvals.
    assert told == ["boss@shop.example", "lead@shop.example", "other@shop.example"]
    [approval_id] = [r[0] for r in rows(store, "SELECT id FROM approvals")]
    other = Browser(client)
    other.login("other@shop.example")
    assert (
        other.call("POST", f"/api/approvals/{approval_id}/approve", json={"by": "x"}).status_code
        == 200
    )


def test_a_role_named_as_approver_tells_its_members_and_an_owner_may_always_decide(
    store: Store, dispatcher: Dispatcher, smtp: tuple[SmtpSink, int], client: TestClient
) -> None:
    ask(store, "approvers: [owner],")
    assert dispatcher.run_once().sent == 1
    assert smtp[0].received[0].rcpt_to == ["boss@shop.example"]
    [approval_id] = [r[0] for r in rows(store, "SELECT id FROM approvals")]
    lead = Browser(client)
    lead.login("lead@shop.example")
    assert (
        lead.call("POST", f"/api/approvals/{approval_id}/approve", json={"by": "x"}).status_code
        == 403
    )
    boss = Browser(client)
    boss.login("boss@shop.example")
    assert (
        boss.call("POST", f"/api/approvals/{approval_id}/approve", json={"by": "x"}).status_code
        == 200
    )


def test_a_named_editor_is_not_told_and_deploying_warns_about_them(
    store: Store, dispatcher: Dispatcher, smtp: tuple[SmtpSink, int], client: TestClient
) -> None:
    # An editor cannot decide: a link would only lead to a 403 while the journey waits.
    boss = Browser(client)
    boss.login("boss@shop.example")
    deployed = boss.call(
        "POST",
        "/api/workflows",
        content=HANDOFF.replace("APPROVERS", "approvers: [ed@shop.example, lead@shop.example],"),
    )
    assert deployed.status_code == 201, deployed.text
    assert [w for w in deployed.json()["warnings"] if w["path"] == "steps[0].approvers"] == [
        {
            "path": "steps[0].approvers",
            "message": "ed@shop.example is a member with the editor role, so is not told and"
            " cannot decide",
            "hint": "give them the approver role (PATCH /api/people/{email}), or name a role",
        }
    ]
    subscriber(store, "ann")
    track(store, "ann", "demo_requested")
    assert dispatcher.run_once().sent == 1
    assert [m.rcpt_to for m in smtp[0].received] == [["lead@shop.example"]]


def test_the_workspace_slack_webhook_gets_the_notice_with_its_link(
    store: Store,
    dispatcher: Dispatcher,
    receiver: HttpSink,
    smtp: tuple[SmtpSink, int],
    client: TestClient,
) -> None:
    configure(store, alerts={"slack_webhook_url": f"{receiver.url}/hooks/approvals"})
    ask(store, "approvers: [lead@shop.example],")
    assert dispatcher.run_once().sent == 2
    [call] = receiver.requests
    assert call.path == "/hooks/approvals"
    text = call.json()["text"]
    assert text.startswith("Approval needed: Call ann@example.com?")
    assert client.get(link_in(text)).status_code == 303


def test_a_moved_approval_is_for_the_new_approvers_who_are_told_and_old_links_still_open_it(
    store: Store, dispatcher: Dispatcher, smtp: tuple[SmtpSink, int], client: TestClient
) -> None:
    ask(store, "approvers: [lead@shop.example],")
    dispatcher.run_once()
    old_link = link_in(smtp[0].received[0].message.get_content())
    # Version 2 renames the step, hands it to another approver and gives it four days.
    deploy(
        store,
        HANDOFF.replace("id: ask", "id: review")
        .replace("Call {{", "Review {{")
        .replace("APPROVERS timeout: 2d", "approvers: [other@shop.example], timeout: 4d"),
    )
    done = moves.apply(
        store.engine, store.clock, store.catalog, store.workspace_id, "handoff", {"ask": "review"}
    )
    assert [(m.from_step, m.to_step) for m in done.moves] == [("ask", "review")]
    [(approval_id, step_id, approvers, message)] = rows(
        store, "SELECT id, step_id, approvers, message FROM approvals"
    )
    assert (step_id, stored_json(approvers), message) == (
        "review", ["other@shop.example"], "Review ann@example.com?",
    )  # fmt: skip
    # The new approver is told, with a link that opens the inbox at the moved approval.
    assert dispatcher.run_once().sent == 1
    notice = smtp[0].received[1]
    assert notice.rcpt_to == ["other@shop.example"]
    assert "Review ann@example.com?" in notice.message["Subject"]
    new_link = link_in(notice.message.get_content())
    assert client.get(new_link).headers["location"] == f"/approvals?open={approval_id}"
    # The old notice's link still finds it, past its own two days: the approval has four.
    store.clock.advance(timedelta(days=2, seconds=1))
    opened = client.get(old_link)
    assert opened.status_code == 303, opened.text
    assert opened.headers["location"] == f"/approvals?open={approval_id}"
    # The old approver may no longer decide it.
    lead = Browser(client)
    assert lead.login("lead@shop.example").status_code == 200
    (listed,) = lead.call("GET", "/api/approvals").json()
    assert listed["may_decide"] is False
    refused = lead.call("POST", f"/api/approvals/{approval_id}/approve", json={"by": "x"})
    assert refused.status_code == 403
    lead.call("DELETE", "/api/session")
    # At the approval's real deadline, both links say it has expired.
    store.clock.advance(timedelta(days=2))
    assert client.get(old_link).status_code == 410
    assert client.get(new_link).status_code == 410
