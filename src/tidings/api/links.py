"""The links in messages: open pixel, click redirect, unsubscribe, preferences, confirmation.

These pages are public (a person clicking a link in an email has no key); each is
authorized by its signed token alone. They set no cookie. The unsubscribe page follows
RFC 8058: a POST unsubscribes at once and answers with a page, not a redirect; a GET only
shows a confirmation form, because mail scanners follow links in every message.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection, Engine
from starlette.concurrency import run_in_threadpool

from tidings.api.client_address import client_address
from tidings.api.throttle import RateLimit
from tidings.clock import Clock
from tidings.delivery.settings import DeliverySettings
from tidings.delivery.tokens import BadToken, Opened, Purpose, make_token, read_token
from tidings.runtime import engagement
from tidings.runtime.transactions import transact
from tidings.storage import outbox
from tidings.storage.contacts import load_contacts
from tidings.storage.messages import MessageStatus, enqueue_messages
from tidings.storage.workflows import Catalog
from tidings.storage.workspaces import load_workspace

router = APIRouter(include_in_schema=False)

#: A transparent 1x1 GIF.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")

_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"
    ),
}


@dataclass
class LinkService:
    """What the link routes share."""

    engine: Engine
    clock: Clock
    catalog: Catalog
    public_url: str = "http://localhost:8000"
    #: The SMS provider's auth token: inbound texts must carry its signature.
    sms_token: str = ""
    sms_region: str | None = None
    _secrets: dict[int, str] = field(default_factory=dict)

    def secret_of(self, workspace_id: int) -> str | None:
        """The workspace's signing secret (kept after the first look: it never changes)."""
        if workspace_id not in self._secrets:
            with self.engine.connect() as conn:
                record = load_workspace(conn, workspace_id)
            if record is None or not record.secret:
                return None
            self._secrets[workspace_id] = record.secret
        return self._secrets[workspace_id]

    def open(self, token: str, purpose: Purpose) -> Opened:
        """Check a token; `BadToken` when it is forged, changed or for something else."""
        return read_token(token, purpose, self.secret_of)


def _service(request: Request) -> LinkService:
    service: LinkService = request.app.state.links
    return service


def _link_limit(request: Request) -> RateLimit:
    limit: RateLimit = request.app.state.link_limit
    return limit


def _may_record(request: Request) -> bool:
    """Count a hit on the open pixel or a click; False past the link rate limit, when the
    hit is answered as usual (a person behind a shared proxy still gets their page) but
    not recorded, so a flood writes nothing."""
    return _link_limit(request).allows(client_address(request))


async def _limited(request: Request) -> None:
    """The state-changing routes (unsubscribe, preferences, confirm) answer 429 past the
    link rate limit, with Retry-After."""
    _link_limit(request).hit(client_address(request))


#: What a POST that changes consent depends on.
_WRITES = [Depends(_limited)]


def message_page(title: str, body: str, status: int = 200) -> HTMLResponse:
    """A small page of the public links (unsubscribe, preferences, approvals): `body` is
    HTML the caller has escaped."""
    document = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>body{{font:16px/1.5 system-ui,sans-serif;"
        "max-width:34em;margin:3em auto;padding:0 1em;color:#222}button{font:inherit;"
        "padding:.5em 1.2em}label{display:block;margin:.4em 0}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(document, status_code=status, headers=_PAGE_HEADERS)


def _invalid() -> HTMLResponse:
    return message_page(
        "This link is not valid",
        "<p>The link may have been copied incompletely. Please use the link in the message.</p>",
        status=404,
    )


def _message_of(service: LinkService, token: str, purpose: Purpose) -> tuple[int, Any, list[Any]]:
    opened = service.open(token, purpose)
    if not opened.payload or not isinstance(opened.payload[0], int):
        raise BadToken("malformed payload")
    with service.engine.connect() as conn:
        message = outbox.message_by_id(conn, opened.payload[0])
    if message is None or message.workspace_id != opened.workspace_id:
        raise BadToken("no such message")
    return opened.workspace_id, message, opened.payload


# ---------------------------------------------------------------- opens and clicks


@router.get("/t/o/{token}")
async def open_pixel(token: str, request: Request) -> Response:
    """The open pixel: always a GIF (a broken image helps nobody), recording valid opens."""
    service = _service(request)
    if not _may_record(request):
        return Response(PIXEL, media_type="image/gif", headers={"Cache-Control": "no-store"})

    def record() -> None:
        try:
            workspace_id, message, _ = _message_of(service, token, Purpose.OPEN)
        except BadToken:
            return
        now = service.clock.now()
        transact(
            service.engine,
            lambda conn: engagement.opened(conn, workspace_id, message, now, service.catalog),
        )

    await run_in_threadpool(record)
    return Response(PIXEL, media_type="image/gif", headers={"Cache-Control": "no-store"})


@router.get("/t/c/{token}")
async def click(token: str, request: Request) -> Response:
    """The click redirect: only ever to the URL the message stored for this link."""
    service = _service(request)
    recording = _may_record(request)

    def record() -> str | None:
        try:
            workspace_id, message, payload = _message_of(service, token, Purpose.CLICK)
        except BadToken:
            return None
        if len(payload) != 2 or not isinstance(payload[1], int):
            return None
        if not recording:
            return engagement.link_url(message, payload[1])
        now = service.clock.now()
        found: str | None = transact(
            service.engine,
            lambda conn: engagement.clicked(
                conn, workspace_id, message, payload[1], now, service.catalog
            ),
        )
        return found

    url = await run_in_threadpool(record)
    if url is None:
        return _invalid()
    return RedirectResponse(url, status_code=302, headers={"Cache-Control": "no-store"})


# ---------------------------------------------------------------- unsubscribe


@router.get("/u/{token}")
async def unsubscribe_page(token: str, request: Request) -> Response:
    """A confirmation form; following the link alone changes nothing."""
    service = _service(request)
    try:
        _, message, _ = await run_in_threadpool(_message_of, service, token, Purpose.UNSUBSCRIBE)
    except BadToken:
        return _invalid()
    topic = (message.payload or {}).get("topic")
    what = f"the topic “{html.escape(topic)}”" if topic else f"marketing {message.channel}"
    return message_page(
        "Unsubscribe",
        f"<p>Stop receiving {what} at <b>{html.escape(message.recipient)}</b>?</p>"
        '<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">'
        "<button type=submit>Unsubscribe</button></form>",
    )


@router.post("/u/{token}", dependencies=_WRITES)
async def unsubscribe(token: str, request: Request) -> Response:
    """RFC 8058 one-click: unsubscribe now, whatever the body, and say so."""
    service = _service(request)

    def run() -> str | None:
        try:
            workspace_id, message, _ = _message_of(service, token, Purpose.UNSUBSCRIBE)
        except BadToken:
            return None
        now = service.clock.now()
        left: str = transact(
            service.engine,
            lambda conn: engagement.unsubscribed(conn, workspace_id, message, now, service.catalog),
        )
        return left

    left = await run_in_threadpool(run)
    if left is None:
        return _invalid()
    return message_page(
        "You are unsubscribed", f"<p>You will no longer receive {html.escape(left)}.</p>"
    )


# ---------------------------------------------------------------- preference center


def _choices(settings: DeliverySettings, contact: Any) -> list[tuple[str, str]]:
    """The (consent key, label) pairs the contact can switch."""
    found = []
    if contact.email:
        found.append(("email", f"Marketing email to {contact.email}"))
    if contact.phone:
        found.append(("sms", f"Text messages to {contact.phone}"))
    found += [(f"topic:{t.key}", t.name) for t in settings.topics]
    return found


def _contact_of(service: LinkService, token: str) -> tuple[int, Any, DeliverySettings]:
    opened = service.open(token, Purpose.PREFERENCES)
    if len(opened.payload) != 1 or not isinstance(opened.payload[0], int):
        raise BadToken("malformed payload")
    with service.engine.connect() as conn:
        record = load_workspace(conn, opened.workspace_id)
        contact = load_contacts(conn, [opened.payload[0]]).get(opened.payload[0])
    if record is None or contact is None:
        raise BadToken("no such contact")
    return opened.workspace_id, contact, DeliverySettings.model_validate(record.settings)


def _preferences_form(settings: DeliverySettings, contact: Any, note: str = "") -> str:
    rows = []
    for key, label in _choices(settings, contact):
        status = contact.consent.get(key)
        on = status == "subscribed" if not key.startswith("topic:") else status != "unsubscribed"
        checked = " checked" if on else ""
        # Pending double opt-in: ticking does not subscribe; the emailed link does.
        waiting = " (waiting for you to confirm by the link we sent)" if status == "pending" else ""
        if key == "sms" and status != "subscribed":
            # A link in an email does not prove the phone is theirs: START, from the phone.
            waiting = " (to subscribe, text START to us from this phone)"
        elif key == "email" and status == "bounced":
            waiting = " (mail to this address cannot be delivered)"
        rows.append(
            f'<label><input type=checkbox name="{html.escape(key)}" value=on{checked}> '
            f"{html.escape(label)}{waiting}</label>"
        )
    saved = f"<p><b>{html.escape(note)}</b></p>" if note else ""
    return (
        f"{saved}<form method=post>{''.join(rows)}"
        "<p><button type=submit>Save my preferences</button></p></form>"
    )


@router.get("/p/{token}")
async def preferences_page(token: str, request: Request) -> Response:
    """What the contact receives, with a switch for each channel and topic."""
    service = _service(request)
    try:
        _, contact, settings = await run_in_threadpool(_contact_of, service, token)
    except BadToken:
        return _invalid()
    return message_page("Your preferences", _preferences_form(settings, contact))


@router.post("/p/{token}", dependencies=_WRITES)
async def save_preferences(token: str, request: Request) -> Response:
    """Store the switches the person changed (see `engagement.preference_changes`)."""
    service = _service(request)
    form = await request.form()
    chosen = {str(k) for k, v in form.multi_items() if v == "on"}

    def run() -> tuple[Any, DeliverySettings] | None:
        try:
            workspace_id, contact, settings = _contact_of(service, token)
        except BadToken:
            return None
        keys = [key for key, _ in _choices(settings, contact)]
        changes = engagement.preference_changes(
            keys, contact.consent, chosen, double_opt_in=settings.double_opt_in
        )
        now = service.clock.now()
        transact(
            service.engine,
            lambda conn: _save_preferences(conn, service, workspace_id, contact, changes, now),
        )
        return replace(contact, consent={**contact.consent, **changes}), settings

    saved = await run_in_threadpool(run)
    if saved is None:
        return _invalid()
    contact, settings = saved
    return message_page("Your preferences", _preferences_form(settings, contact, "Saved."))


def _save_preferences(
    conn: Connection,
    service: LinkService,
    workspace_id: int,
    contact: Any,
    changes: dict[str, str],
    now: datetime,
) -> None:
    """Record the changes; a complaint is lifted by a fresh tick, and a pending email
    consent gets its confirmation message."""
    source = "preference center"
    if changes.get("email") and contact.consent.get("email") == "complained":
        engagement.lift_complaint(conn, workspace_id, contact.email)
        source = "preference center, after a complaint"
    engagement.consent_changed(
        conn, workspace_id, contact.id, changes, source, now, service.catalog
    )
    if changes.get("email") == "pending":
        record = load_workspace(conn, workspace_id)
        assert record is not None  # the token's workspace was just read
        subject = "Please confirm your subscription"
        queue_confirmation(
            conn, service, workspace_id, record.secret, contact, "email", subject, now
        )


# ---------------------------------------------------------------- double opt-in


def confirmation_token(workspace_id: int, secret: str, contact_id: int, channel: str) -> str:
    """The token in a double opt-in message."""
    return make_token(workspace_id, secret, Purpose.CONFIRM, contact_id, channel)


def queue_confirmation(
    conn: Connection,
    links: LinkService,
    workspace_id: int,
    secret: str,
    contact: Any,
    channel: str,
    subject: str,
    now: datetime,
) -> None:
    """Queue the double opt-in message: a transactional email with the confirmation link."""
    token = confirmation_token(workspace_id, secret, contact.id, channel)
    url = f"{links.public_url}/confirm/{token}"
    enqueue_messages(
        conn,
        [
            {
                "workspace_id": workspace_id,
                "contact_id": contact.id,
                "enrollment_id": None,
                "workflow_id": None,
                "step_id": None,
                "idempotency_key": f"confirm:{contact.id}:{channel}:{now.isoformat()}",
                "channel": "email",
                "kind": "transactional",
                "recipient": contact.email,
                "subject": subject,
                "body_html": (
                    "<p>Please confirm that you want to hear from us.</p>"
                    f'<p><a href="{url}">Confirm my subscription</a></p>'
                    "<p>If you did not ask for this, ignore this message.</p>"
                ),
                "body_text": None,
                "payload": {"template": "double_opt_in", "untracked": True},
                "status": MessageStatus.QUEUED,
                "created_at": now,
                "send_after": now,
                "priority": 100,
                "expires_at": None,
            }
        ],
    )


def _confirmation_of(service: LinkService, token: str) -> tuple[int, int, str]:
    opened = service.open(token, Purpose.CONFIRM)
    payload = opened.payload
    if len(payload) != 2 or not isinstance(payload[0], int) or not isinstance(payload[1], str):
        raise BadToken("malformed payload")
    return opened.workspace_id, payload[0], payload[1]


@router.get("/confirm/{token}")
async def confirm_page(token: str, request: Request) -> Response:
    """Ask the person to confirm the subscription (a link scanner must not do it for them)."""
    try:
        _confirmation_of(_service(request), token)
    except BadToken:
        return _invalid()
    return message_page(
        "Confirm your subscription",
        "<form method=post><button type=submit>Yes, subscribe me</button></form>",
    )


@router.post("/confirm/{token}", dependencies=_WRITES)
async def confirm(token: str, request: Request) -> Response:
    """Double opt-in confirmed: the channel's consent becomes subscribed."""
    service = _service(request)

    def run() -> bool:
        try:
            workspace_id, contact_id, channel = _confirmation_of(service, token)
        except BadToken:
            return False
        now = service.clock.now()
        transact(
            service.engine,
            lambda conn: engagement.consent_changed(
                conn,
                workspace_id,
                contact_id,
                {channel: "subscribed"},
                "double opt-in",
                now,
                service.catalog,
            ),
        )
        return True

    if not await run_in_threadpool(run):
        return _invalid()
    return message_page("Subscription confirmed", "<p>Thank you: you are subscribed.</p>")
