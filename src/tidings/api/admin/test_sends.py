"""Test sends: a send step's message, rendered and sent marked "[Test]" to one address."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from tidings.api.admin.deps import AdminDep
from tidings.api.admin.views import WorkflowKey
from tidings.api.admin.workflows import TemplateSource
from tidings.api.audit import note_change
from tidings.api.auth import requires
from tidings.api.errors import ApiError
from tidings.api.openapi import problems
from tidings.core.render import TimeLimit
from tidings.runtime.test_sends import (
    TestSendRefused,
    TestSendRequest,
    TransportMissing,
    send_test,
)
from tidings.storage.people import Role

router = APIRouter(prefix="/workflows", tags=["workflows"], dependencies=[requires(Role.EDITOR)])


class TestSendIn(BaseModel):
    """Where to send the test, and what to render it for."""

    #: An email address (email steps) or phone number (SMS steps).
    to: str = Field(min_length=3, max_length=320)
    #: The contact to render for: its id, user id or email; a contact with no fields when unset.
    contact: str | None = Field(None, max_length=320)
    #: The trigger event's properties, as `event.*` and `trigger.*` read them.
    event: dict[str, Any] = Field(default_factory=dict)
    #: The step's template as the editor has it now, when it differs from the saved one.
    source: TemplateSource | None = None


class TestSendOut(BaseModel):
    """A test send the transport accepted; it is recorded as a test and counted nowhere."""

    id: int
    channel: str
    to: str
    subject: str | None


def _limit(admin: AdminDep) -> TimeLimit:
    return TimeLimit(admin.limits.render_seconds, admin.limits.render_clock)


@router.post(
    "/{key}/steps/{step}/test-send",
    response_model=TestSendOut,
    responses=problems(400, 404, 409, 429, 502),
)
def test_send(
    request: Request, key: WorkflowKey, step: str, body: TestSendIn, admin: AdminDep
) -> TestSendOut:
    """Render send step `step` of the workflow's draft (else its published version) and send
    it through the real transport to `to`, with "[Test]" before the subject. The message is
    recorded as a test and left out of every figure; its links are not tracked."""
    caller = admin.caller
    request.app.state.test_send_limit.hit(
        f"{caller.workspace_id}:{caller.actor}", per=caller.actor_type
    )
    transports = request.app.state.transports
    if transports is None:
        # A state of the install, not a fault of the server: 409, like any other conflict.
        raise ApiError(409, "No transport", "this server sends nothing (it runs no dispatcher)")
    source = body.source.template() if body.source is not None else None
    ask = TestSendRequest(
        workspace_id=admin.workspace_id,
        key=key,
        step_id=step,
        to=body.to,
        sent_by=caller.actor,
        contact=body.contact,
        event=body.event,
        source=source,
    )
    try:
        sent = send_test(
            admin.engine, transports, admin.catalog, ask, admin.clock.now(), _limit(admin)
        )
    except TestSendRefused as exc:
        raise ApiError(400, "Cannot send the test", str(exc), exc.problems) from exc
    except TransportMissing as exc:
        raise ApiError(409, "No transport", str(exc)) from exc
    # The recipient stays on the test send's own row, which erasing the person deletes; the
    # audit trail is not searched at erasure, so it keeps only the row's id.
    note_change(request, key, step=step, test_send=sent.id)
    if not sent.sent:
        raise ApiError(502, "The transport refused the test", sent.detail)
    return TestSendOut(id=sent.id, channel=sent.channel, to=sent.recipient, subject=sent.subject)
