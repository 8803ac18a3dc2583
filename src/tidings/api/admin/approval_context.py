"""What an approver needs to decide: the contact, the workflow, and the message that would go.

The preview renders the send an approval leads to (its `on_approve`, else the next step)
for this contact and the journey's trigger, exactly as the send step would; it is never
queued. A variant send previews its first variant, the one the test names first.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection

from tidings.core.render import RenderError, render, text_source_from_html
from tidings.core.spec import ApprovalStep, SendStep, Workflow
from tidings.core.steps.base import StepContext
from tidings.storage import browse
from tidings.storage.contacts import contact_from_row
from tidings.storage.enrollments import load_enrollment
from tidings.storage.workflows import Catalog


class ContactBrief(BaseModel):
    """Who the journey is about."""

    id: int
    email: str | None
    user_id: str | None
    name: str | None


class MessagePreview(BaseModel):
    """The message the journey sends next if approved, rendered for its contact."""

    step_id: str
    channel: str
    template: str
    subject: str | None = None
    text: str | None = None
    #: Why there is no rendered text: a template error, a missing template.
    problem: str | None = None


class ApprovalContext(BaseModel):
    """The workflow and contact of an approval, and what approving would send."""

    workflow: str
    workflow_name: str
    version: int
    contact: ContactBrief
    preview: MessagePreview | None


def _name(attributes: dict[str, Any]) -> str | None:
    first, last = attributes.get("first_name"), attributes.get("last_name")
    parts = [str(p) for p in (first, last) if isinstance(p, str) and p]
    if parts:
        return " ".join(parts)
    name = attributes.get("name")
    return name if isinstance(name, str) and name else None


def _preview(spec: Workflow, step_id: str, data: dict[str, Any]) -> MessagePreview | None:
    step = spec.step(step_id)
    if not isinstance(step, ApprovalStep):
        return None
    after = spec.step(step.on_approve or spec.next_of(step))
    if not isinstance(after, SendStep):
        return None
    name = after.template or after.variants[0].template
    found = spec.templates.get(name)
    shown = MessagePreview(step_id=after.id, channel=after.channel.value, template=name)
    if found is None:
        shown.problem = f"the template {name!r} does not exist in this version"
        return shown
    try:
        shown.subject = render(found.subject, data) if found.subject else None
        text = found.text or (text_source_from_html(found.html) if found.html else None)
        shown.text = render(text, data) if text else None
    except RenderError as exc:
        shown.problem = f"template error: {exc}"
    return shown


def approval_context(
    conn: Connection, catalog: Catalog, workspace_id: int, row: Any
) -> ApprovalContext | None:
    """The context of one approval row, or None when its journey is gone (erased)."""
    stored = load_enrollment(conn, row.enrollment_id)
    contact_row = browse.get_contact(conn, workspace_id, row.contact_id)
    if stored is None or contact_row is None:
        return None
    spec = catalog.version(conn, stored.workflow_id, stored.state.version)
    contact = contact_from_row(contact_row)
    # The very data the send step renders with (awaited events under `steps` included),
    # so the approver reads the text that would go out.
    step = StepContext(spec, stored.state, contact, datetime.now(UTC))
    data = step.template_context()
    return ApprovalContext(
        workflow=spec.id,
        workflow_name=spec.name,
        version=stored.state.version,
        contact=ContactBrief(
            id=contact.id,
            email=contact.email,
            user_id=contact.external_id,
            name=_name(dict(contact.attributes)),
        ),
        preview=_preview(spec, row.step_id, data),
    )
