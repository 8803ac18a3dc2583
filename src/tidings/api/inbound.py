"""Inbound SMS from a Twilio-compatible provider: STOP and START keywords change consent."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import Connection

from tidings.api.errors import ApiError
from tidings.api.links import LinkService
from tidings.cleaning import to_e164
from tidings.delivery.sms import START_WORDS, STOP_WORDS, twilio_signature
from tidings.runtime import engagement
from tidings.runtime.transactions import transact
from tidings.storage.contacts import contacts_by_address
from tidings.storage.workspaces import find_workspace

router = APIRouter(include_in_schema=False)

_EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


async def _form_fields(request: Request) -> dict[str, str]:
    form = await request.form()
    return {str(k): v for k, v in form.items() if isinstance(v, str)}


def _called_url(service: LinkService, request: Request) -> str:
    """The URL the provider called, as it signed it: the public base URL, the path and the
    query string exactly as sent (a webhook URL set with `?...` is signed with it)."""
    url = service.public_url + request.url.path
    query = request.scope.get("query_string", b"").decode("latin-1")
    return f"{url}?{query}" if query else url


@router.post("/v1/sms/inbound/{workspace}")
def inbound_sms(
    workspace: str, request: Request, fields: Annotated[dict[str, str], Depends(_form_fields)]
) -> Response:
    """A text to the workspace's number. Set this URL as the number's messaging webhook."""
    # A plain def: the number cleaning and the transaction run in the thread pool.
    service: LinkService = request.app.state.links
    if not service.sms_token:
        # Unsigned texts could subscribe anyone: without the provider's token, none are taken.
        raise ApiError(403, "Forbidden", "inbound SMS needs TIDINGS_SMS_TOKEN to check signatures")
    expected = twilio_signature(service.sms_token, _called_url(service, request), fields)
    given = request.headers.get("x-twilio-signature", "")
    if not hmac.compare_digest(expected, given):
        raise ApiError(403, "Forbidden", "the X-Twilio-Signature does not match this request")
    sender = fields.get("From", "")
    word = fields.get("Body", "").strip().upper()
    if word in STOP_WORDS:
        status = "unsubscribed"
    elif word in START_WORDS:
        status = "subscribed"
    else:
        return Response(_EMPTY_TWIML, media_type="text/xml")
    number = to_e164(sender, service.sms_region) or sender
    now = service.clock.now()

    def work(conn: Connection) -> None:
        workspace_id = find_workspace(conn, workspace)
        if workspace_id is None:
            raise ApiError(404, "Not Found", f"no workspace {workspace!r}")
        for contact_id in contacts_by_address(conn, workspace_id, "phone", number):
            engagement.consent_changed(
                conn, workspace_id, contact_id, {"sms": status}, f"SMS {word}", now, service.catalog
            )

    transact(service.engine, work)
    return Response(_EMPTY_TWIML, media_type="text/xml")
