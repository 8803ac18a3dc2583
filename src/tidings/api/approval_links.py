"""The link in an approval notice: it checks its signed token, then sends the person to
the console's approvals inbox at that approval. It decides nothing; the inbox asks the
person to log in, and deciding there needs their session, its CSRF token and their right
to decide (see `tidings.core.approvers`). It redirects only to a fixed path here."""

from __future__ import annotations

import html

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from tidings.api.client_address import client_address
from tidings.api.links import LinkService, message_page
from tidings.api.throttle import RateLimit
from tidings.delivery.approval_links import LINK_PATH, read_approval_link
from tidings.delivery.tokens import BadToken
from tidings.storage.approvals import ApprovalStatus, approval_of_visit

router = APIRouter(include_in_schema=False)

#: The console page a valid link opens; the approval's id is the only thing added.
INBOX = "/approvals"


@router.get(LINK_PATH + "{token}")
async def open_approval(token: str, request: Request) -> Response:
    """Check the link and open the inbox at its approval; a changed, forged or expired
    link gets a page that says so."""
    limit: RateLimit = request.app.state.link_limit
    limit.hit(client_address(request))
    service: LinkService = request.app.state.links
    return await run_in_threadpool(_open, service, token)


def _open(service: LinkService, token: str) -> Response:
    try:
        visit = read_approval_link(token, service.secret_of)
    except BadToken:
        return message_page(
            "This link is not valid",
            "<p>The link may have been copied incompletely. Please use the link in the "
            "message.</p>",
            status=404,
        )
    with service.engine.connect() as conn:
        row = approval_of_visit(
            conn, visit.workspace_id, visit.enrollment_id, visit.step_id, visit.attempt
        )
    now = service.clock.now()
    if row is None:
        if now >= visit.expires_at:
            return _expired()
        return message_page(
            "This approval no longer exists", "<p>Its journey has been erased.</p>", 404
        )
    # The approval's own deadline, not the token's: a move onto a new version may have
    # changed it since the notice was sent.
    if row.status == ApprovalStatus.EXPIRED or (
        row.status == ApprovalStatus.PENDING and now >= row.expires_at
    ):
        return _expired()
    if row.status != ApprovalStatus.PENDING:
        by = f" by {html.escape(row.decided_by)}" if row.decided_by else ""
        return message_page(
            "This approval is closed", f"<p>It was {html.escape(row.status)}{by}.</p>", 410
        )
    response = RedirectResponse(f"{INBOX}?open={int(row.id)}", status_code=303)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _expired() -> Response:
    return message_page(
        "This approval link has expired",
        "<p>The time to decide has passed, and the journey went on without a decision.</p>",
        status=410,
    )
