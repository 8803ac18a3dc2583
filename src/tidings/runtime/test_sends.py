"""Test sends: render a send step's message and send it, marked "[Test]", through the real
transport to an address the editor chose.

A test send never touches `messages` or the outbox: it is recorded in its own table, so no
figure (reports, the canvas's numbers, frequency caps, duplicate suppression, engagement)
can count it. Its email is neither tracked nor footed with an unsubscribe link, so opening
or clicking it records nothing either.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import yaml
from sqlalchemy import Connection, Engine

from tidings.cleaning import to_e164
from tidings.core.channels import Channel
from tidings.core.preview import Preview, preview_template
from tidings.core.problems import Problem
from tidings.core.render import TimeLimit
from tidings.core.spec import MessageTemplate, SendStep, Workflow
from tidings.core.state import ContactView
from tidings.core.validate import validate_workflow
from tidings.delivery import compose
from tidings.delivery.results import Failed
from tidings.delivery.settings import DeliverySettings, address_problem
from tidings.delivery.transports import Transports
from tidings.errors import ContactNotFound, TidingsError, WorkflowNotFound
from tidings.runtime.transactions import attempts
from tidings.storage import browse
from tidings.storage.contacts import find_contact, load_contacts
from tidings.storage.drafts import get_draft
from tidings.storage.test_sends import TestSendRecord, record_test_send
from tidings.storage.workflows import Catalog
from tidings.storage.workspaces import load_workspace

#: What marks a test in the subject (and at the start of a text message).
TEST_MARK = "[Test]"


class TestSendRefused(TidingsError):
    """The test cannot be sent as asked (no such step, a bad address, a broken template)."""

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class TransportMissing(TidingsError):
    """The channel's transport is not configured on this install."""


@dataclass(frozen=True)
class TestSendRequest:
    """Which step to try, to whom, rendered for which contact and sample event."""

    workspace_id: int
    key: str
    step_id: str
    to: str
    sent_by: str
    #: The contact to render for (id, user id or email); a contact with no fields when None.
    contact: str | None = None
    event: dict[str, Any] = field(default_factory=dict)
    #: The template text being edited, rendered in place of the stored one.
    source: MessageTemplate | None = None


@dataclass(frozen=True)
class TestSent:
    """A test send, as recorded."""

    id: int
    channel: str
    recipient: str
    subject: str | None
    sent: bool
    detail: str


def workflow_to_test(conn: Connection, catalog: Catalog, workspace_id: int, key: str) -> Workflow:
    """The workflow an editor is working on: its draft when that validates, else the
    published version."""
    draft = get_draft(conn, workspace_id, key)
    if draft is not None:
        try:
            workflow, found = validate_workflow(yaml.safe_load(draft.source))
        except (yaml.YAMLError, RecursionError):
            workflow, found = None, []
        if workflow is not None and not any(p.severity == "error" for p in found):
            return workflow
    row = browse.get_workflow(conn, workspace_id, key)
    if row is None:
        raise WorkflowNotFound(f"no workflow {key!r} in this workspace (nor a valid draft)")
    return catalog.version(conn, row.id, row.current_version)


def _send_step(workflow: Workflow, step_id: str) -> SendStep:
    step = next((s for s in workflow.steps if s.id == step_id), None)
    if step is None:
        known = ", ".join(s.id for s in workflow.steps if isinstance(s, SendStep))
        raise TestSendRefused(
            f"no step {step_id!r} in {workflow.id}; its send steps are {known or 'none'}"
        )
    if not isinstance(step, SendStep):
        raise TestSendRefused(f"step {step_id!r} is a {step.type} step, not a send")
    return step


def _recipient(channel: Channel, to: str, transports: Transports) -> str:
    if channel == Channel.EMAIL:
        if transports.smtp is None:
            raise TransportMissing("no mail server is configured (set TIDINGS_SMTP_URL)")
        problem = address_problem(to)
        if problem is not None:
            raise TestSendRefused(f"to: {problem}")
        return to
    if transports.sms is None:
        raise TransportMissing("no SMS provider is configured (set TIDINGS_SMS_URL)")
    number = to_e164(to, transports.sms_region)
    if number is None:
        raise TestSendRefused(f"to: {to!r} is not a phone number; write it like +447700900123")
    return number


def _contact(conn: Connection, workspace_id: int, ref: str | None) -> ContactView:
    if ref is None:
        return ContactView(id=0)
    found = find_contact(conn, workspace_id, ref)
    if found is None:
        raise ContactNotFound(f"no contact {ref!r} in this workspace")
    return load_contacts(conn, [found])[found]


def _email(
    transports: Transports, settings: DeliverySettings, to: str, shown: Preview, now: datetime
) -> bytes:
    sender, base = settings.sender, transports.public_url
    # A Message-ID that is not an outbox message's: a bounce of it is matched to nothing.
    header_id = f"<test.{secrets.token_hex(8)}.tidings-test@{sender.domain}>"
    out = compose.EmailParts(
        message_id=header_id,
        to=to,
        subject=f"{TEST_MARK} {shown.subject or ''}".rstrip(),
        html=shown.html,
        text=shown.text,
        marketing=False,  # no unsubscribe footer: it would unsubscribe nobody real
        track=False,  # no open pixel, no click redirects: engagement stays untouched
    )
    unused = compose.Links(open=base, click=lambda _: base, unsubscribe=base, preferences=base)
    raw, _ = compose.build_email(out, sender, unused, now)
    if transports.dkim is not None:
        selector, key = transports.dkim
        raw = compose.dkim_sign(raw, selector, sender.domain, key)
    return raw


def send_test(
    engine: Engine,
    transports: Transports,
    catalog: Catalog,
    ask: TestSendRequest,
    now: datetime,
    time_limit: TimeLimit | None = None,
) -> TestSent:
    """Render `ask.step_id`'s message and send it to `ask.to`; the send is recorded as a test
    whether the transport took it or not."""
    with engine.connect() as conn:
        workflow = workflow_to_test(conn, catalog, ask.workspace_id, ask.key)
        step = _send_step(workflow, ask.step_id)
        to = _recipient(step.channel, ask.to, transports)
        person = _contact(conn, ask.workspace_id, ask.contact)
        record = load_workspace(conn, ask.workspace_id)
    assert record is not None  # the caller was authenticated in it
    template = step.template or step.variants[0].template
    shown = preview_template(workflow, template, person, ask.event, time_limit, ask.source)
    if isinstance(shown, Problem):
        raise TestSendRefused(shown.message, [shown])
    if step.channel == Channel.EMAIL:
        assert transports.smtp is not None
        settings = DeliverySettings.model_validate(record.settings)
        raw = _email(transports, settings, to, shown, now)
        result = transports.smtp.send(settings.sender.from_email, to, raw)
        subject: str | None = f"{TEST_MARK} {shown.subject or ''}".rstrip()
    else:
        assert transports.sms is not None
        result = transports.sms.send(to, f"{TEST_MARK} {shown.text or ''}".rstrip())
        subject = None
    detail = result.error if isinstance(result, Failed) else ""
    row = TestSendRecord(
        workspace_id=ask.workspace_id,
        workflow_key=ask.key,
        step_id=ask.step_id,
        channel=step.channel.value,
        recipient=to,
        subject=subject,
        sent_by=ask.sent_by,
        sent_at=now,
        status="failed" if detail else "sent",
        detail=detail,
        # Kept so that erasing the contact deletes the test too: its subject can name them.
        contact_id=person.id or None,
    )
    # Retried on a conflict like every write: the message is out, its row must be kept so the
    # daily limit counts it.
    for attempt in attempts(engine):
        with attempt as conn:
            test_id = record_test_send(conn, row)
    return TestSent(test_id, row.channel, to, subject, not detail, detail)
