"""The signed link in an approval notice: it opens the console's inbox at that approval.

The token names the approval by its journey visit (enrollment, step, attempt), which is
what the outbox knows when the notice is queued, and carries the deadline of that time.
The page the link opens finds the approval even if its journey moved to another step
since, and goes by the approval's own deadline (a move may change it): after it, the
link is refused. The link never decides anything: deciding needs a logged-in person (and
the CSRF token), and the page it leads to is a fixed path on this server, so the link
cannot send anyone elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tidings.delivery.tokens import BadToken, Purpose, make_token, read_token

#: Where the link lives under the server's public URL.
LINK_PATH = "/approvals/open/"


@dataclass(frozen=True)
class ApprovalVisit:
    """What an approval link names: one visit of one approval step, and its deadline."""

    workspace_id: int
    enrollment_id: int
    step_id: str
    attempt: int
    expires_at: datetime


def notice_payload(
    enrollment_id: int, step_id: str, attempt: int, expires_at: datetime
) -> dict[str, Any]:
    """What an approval notice keeps in the outbox so the dispatcher can sign its link."""
    return {"approval": [enrollment_id, step_id, attempt, int(expires_at.timestamp())]}


def approval_link(
    public_url: str, workspace_id: int, secret: str, payload: dict[str, Any]
) -> str | None:
    """The link for a notice's payload; None when the payload names no approval."""
    visit = payload.get("approval")
    if not isinstance(visit, list) or len(visit) != 4:
        return None
    token = make_token(workspace_id, secret, Purpose.APPROVAL, *visit)
    return f"{public_url.rstrip('/')}{LINK_PATH}{token}"


def read_approval_link(token: str, secret_of: Callable[[int], str | None]) -> ApprovalVisit:
    """What a link's token names; whether it is too late is for its approval to say.

    Raises:
        BadToken: not made by this install, changed, or not in canonical form.
    """
    opened = read_token(token, Purpose.APPROVAL, secret_of)
    match opened.payload:
        case [int() as enrollment_id, str() as step_id, int() as attempt, int() as expires]:
            pass
        case _:
            raise BadToken("malformed payload")
    expires_at = datetime.fromtimestamp(expires, UTC)
    return ApprovalVisit(opened.workspace_id, enrollment_id, step_id, attempt, expires_at)
