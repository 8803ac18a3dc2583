"""Delivery administration: settings, bounces and complaints, the suppression list,
disabled webhook endpoints, and double opt-in requests."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Request
from pydantic import BaseModel, Field, model_validator
from sqlalchemy import Connection

from tidings.api.admin.deps import Admin, AdminDep, RawBody
from tidings.api.admin.views import TEXT, IdPath
from tidings.api.auth import requires
from tidings.api.body import unstorable_message
from tidings.api.errors import ApiError
from tidings.api.links import LinkService, queue_confirmation
from tidings.api.openapi import problems
from tidings.core.values import unstorable
from tidings.delivery.dsn import NotAReport, parse_report
from tidings.delivery.results import Bounce
from tidings.delivery.settings import (
    DeliverySettings,
    keep_masked,
    mask_credentials,
    with_known_timezone,
)
from tidings.delivery.webhooks import webhook_secret
from tidings.errors import ContactNotFound, NotFound
from tidings.runtime import engagement
from tidings.runtime.transactions import attempts, transact
from tidings.storage import browse, outbox
from tidings.storage.contacts import contact_from_row
from tidings.storage.people import Role
from tidings.storage.suppressions import SuppressionReason, suppress, suppressed, unsuppress
from tidings.storage.workspaces import load_workspace, save_settings

router = APIRouter(
    tags=["delivery"],
    # Sending settings, suppressions and endpoints decide what reaches people: owners only.
    dependencies=[requires(Role.OWNER)],
)


class _In(BaseModel):
    """A request body; what cannot be stored and read back (NUL, lone surrogates, NaN...)
    is refused, each bad value named by its path."""

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        if (why := unstorable_message(data)) is not None:
            raise ValueError(why)
        return data


Address = Annotated[str, Query(min_length=3, max_length=320, pattern=TEXT)]


class WebhookSecretOut(BaseModel):
    """The secret webhook receivers check signatures with (Standard Webhooks form)."""

    webhook_secret: str


@router.get("/settings", response_model=DeliverySettings)
def get_settings(admin: AdminDep) -> DeliverySettings:
    """Sender identity, send-time policies, topics and alert targets; what GET answers,
    PUT takes back unchanged. The Slack webhook URL shows only its scheme and host (PUT
    keeps the stored one while it is sent back so), and the webhook secret is not among
    them: see `POST /api/settings/webhook-secret`."""
    with admin.engine.connect() as conn:
        record = load_workspace(conn, admin.workspace_id)
    assert record is not None
    shown = DeliverySettings.model_validate(record.settings).model_dump(mode="json", by_alias=True)
    return DeliverySettings.model_validate(mask_credentials(shown))


@router.put("/settings", response_model=DeliverySettings)
def put_settings(settings: DeliverySettings, admin: AdminDep) -> DeliverySettings:
    """Replace the delivery settings; the dispatcher uses them within seconds."""
    found = unstorable(settings.model_dump(mode="json"), "body")
    if found:
        raise ApiError(400, "Bad Request", "settings that cannot be stored", found)
    settings, wrong = with_known_timezone(settings)
    if wrong:
        # A 400 like the body's other bad values, the path said the same way.
        named = [replace(p, path=f"body.{p.path}") for p in wrong]
        raise ApiError(400, "Bad Request", wrong[0].message, named)
    wanted = settings.model_dump(mode="json", by_alias=True)

    def save(conn: Connection) -> None:
        record = load_workspace(conn, admin.workspace_id)
        stored = record.settings if record is not None else {}
        save_settings(conn, admin.workspace_id, keep_masked(wanted, stored))

    transact(admin.engine, save)
    return get_settings(admin)


@router.post("/settings/webhook-secret", response_model=WebhookSecretOut)
def reveal_webhook_secret(admin: AdminDep) -> WebhookSecretOut:
    """The workspace's webhook signing secret, for the receivers' configuration. A POST of
    its own, so that reading (and caching, and logging) the settings never shows it."""
    with admin.engine.connect() as conn:
        record = load_workspace(conn, admin.workspace_id)
    assert record is not None
    return WebhookSecretOut(webhook_secret=webhook_secret(record.secret))


# ---------------------------------------------------------------- bounces and complaints


class BounceIn(_In):
    """A bounce or complaint reported by a provider's webhook or by hand."""

    address: str = Field(min_length=3, max_length=320, description="the email or phone number")
    channel: Literal["email", "sms"] = "email"
    type: Bounce
    reason: str = Field("", max_length=500)
    message_id: str | None = Field(
        None, max_length=200, description="the Message-ID (or SMS id) of the message it is about"
    )


class BounceOut(BaseModel):
    """What a report changed."""

    address: str
    type: Bounce
    contacts: list[int]
    suppressed: bool


def _apply(
    conn: Connection, workspace_id: int, report: BounceIn, now: datetime, admin: Admin
) -> BounceOut:
    owners = engagement.report_failure(
        conn,
        workspace_id,
        channel=report.channel,
        address=report.address,
        kind=report.type,
        reason=report.reason or report.type.value,
        provider_id=report.message_id,
        now=now,
        catalog=admin.catalog,
    )
    suppressed = report.type is not Bounce.SOFT
    return BounceOut(
        address=report.address, type=report.type, contacts=owners, suppressed=suppressed
    )


@router.post("/bounces", response_model=BounceOut)
def report_bounce(report: BounceIn, admin: AdminDep) -> BounceOut:
    """Record a bounce or complaint: hard bounces and complaints suppress the address."""
    now = admin.clock.now()
    result: BounceOut = transact(
        admin.engine, lambda conn: _apply(conn, admin.workspace_id, report, now, admin)
    )
    return result


@router.post(
    "/bounces/dsn",
    response_model=list[BounceOut],
    responses=problems(413, 422),
    openapi_extra={
        "requestBody": {
            # Any content type is read as the raw message; text/plain is the one documented.
            "content": {"text/plain": {"schema": {"type": "string"}}},
            "required": True,
        }
    },
)
def report_dsn(admin: AdminDep, raw: RawBody) -> list[BounceOut]:
    """Read a bounce message (RFC 3464 delivery status) or complaint (ARF) as received."""
    if len(raw) > 5_000_000:
        raise ApiError(413, "Payload Too Large", "a report over 5 MB is not a bounce")
    try:
        reports = parse_report(raw)
    except NotAReport as exc:
        raise ApiError(422, "Not a bounce report", str(exc)) from None
    now = admin.clock.now()

    def work(conn: Connection) -> list[BounceOut]:
        return [
            _apply(
                conn,
                admin.workspace_id,
                BounceIn(
                    address=r.recipient, type=r.kind, reason=r.reason[:500], message_id=r.message_id
                ),
                now,
                admin,
            )
            for r in reports
        ]

    found: list[BounceOut] = transact(admin.engine, work)
    return found


# ---------------------------------------------------------------- suppression list


class SuppressionIn(_In):
    """An address that must never be sent to."""

    address: str = Field(min_length=3, max_length=320)
    channel: Literal["email", "sms"] = "email"
    reason: str = Field(
        "added by hand",
        max_length=200,
        description="for your records only: the list keeps the code 'manual', never text "
        "that could name the person",
    )


class SuppressionOut(BaseModel):
    """Whether an address is on the list, and why (hard_bounce, complaint, erased, manual)."""

    address: str
    suppressed: bool
    reason: str | None = None


@router.post("/suppressions", response_model=SuppressionOut, status_code=201)
def add_suppression(entry: SuppressionIn, admin: AdminDep) -> SuppressionOut:
    """Add an address to the suppression list (stored as a hash)."""
    kind = "email" if entry.channel == "email" else "phone"
    for attempt in attempts(admin.engine):
        with attempt as conn:
            suppress(
                conn,
                admin.workspace_id,
                [(kind, entry.address)],
                SuppressionReason.MANUAL,
                admin.clock.now(),
            )
            # An address already on the list keeps its first reason: say which.
            found = suppressed(conn, admin.workspace_id, [(kind, entry.address)])
    reason = found.get((kind, entry.address))
    return SuppressionOut(address=entry.address, suppressed=True, reason=reason)


@router.get("/suppressions/check", response_model=SuppressionOut)
def check_suppression(
    admin: AdminDep, address: Address, channel: Literal["email", "sms"] = "email"
) -> SuppressionOut:
    """Whether an address is suppressed (the list keeps hashes, so it cannot be listed)."""
    kind = "email" if channel == "email" else "phone"
    with admin.engine.connect() as conn:
        found = suppressed(conn, admin.workspace_id, [(kind, address)])
    reason = found.get((kind, address))
    return SuppressionOut(address=address, suppressed=reason is not None, reason=reason)


@router.delete("/suppressions", status_code=204, responses=problems(404))
def remove_suppression(
    admin: AdminDep, address: Address, channel: Literal["email", "sms"] = "email"
) -> None:
    """Take an address off the suppression list (after the person asked to come back)."""
    kind = "email" if channel == "email" else "phone"
    for attempt in attempts(admin.engine):
        with attempt as conn:
            if not unsuppress(conn, admin.workspace_id, kind, address):
                raise NotFound(f"{address} is not on the suppression list")


# ---------------------------------------------------------------- webhook endpoints


class EndpointOut(BaseModel):
    """A webhook URL that no longer receives calls."""

    url: str
    reason: str | None
    disabled_at: datetime | None


@router.get("/endpoints", response_model=list[EndpointOut])
def disabled(admin: AdminDep) -> list[EndpointOut]:
    """Webhook endpoints disabled after answering 410 Gone."""
    with admin.engine.connect() as conn:
        rows = outbox.list_endpoints(conn, admin.workspace_id)
    return [EndpointOut(url=r.url, reason=r.reason, disabled_at=r.disabled_at) for r in rows]


class EndpointIn(_In):
    """The endpoint to enable again."""

    url: str = Field(max_length=2048)


@router.post("/endpoints/enable", status_code=204, responses=problems(404))
def enable(endpoint: EndpointIn, admin: AdminDep) -> None:
    """Let calls go to a disabled endpoint again (messages already dropped stay dropped)."""
    for attempt in attempts(admin.engine):
        with attempt as conn:
            if not outbox.enable_endpoint(conn, admin.workspace_id, endpoint.url):
                raise NotFound(f"{endpoint.url} is not disabled")


# ---------------------------------------------------------------- double opt-in


class ConfirmationIn(_In):
    """Which channel to ask the contact to confirm."""

    channel: Literal["email"] = "email"
    subject: str = Field("Please confirm your subscription", max_length=200)


class ConfirmationOut(BaseModel):
    """The confirmation request queued."""

    contact_id: int
    channel: str
    status: str


@router.post(
    "/contacts/{contact_id}/confirmation",
    response_model=ConfirmationOut,
    status_code=202,
    responses=problems(422),
)
def request_confirmation(
    contact_id: IdPath,
    admin: AdminDep,
    request: Request,
    body: Annotated[ConfirmationIn, Body()] = ConfirmationIn(),
) -> ConfirmationOut:
    """Double opt-in: mark the channel pending and send a link that confirms it."""
    links: LinkService = request.app.state.links
    now = admin.clock.now()

    def work(conn: Connection) -> ConfirmationOut:
        row = browse.get_contact(conn, admin.workspace_id, contact_id)
        record = load_workspace(conn, admin.workspace_id)
        if row is None or record is None:
            raise ContactNotFound(f"no contact {contact_id} in this workspace")
        contact = contact_from_row(row)
        if not contact.email:
            raise ApiError(422, "No address", f"contact {contact_id} has no email address")
        if contact.consent.get(body.channel) == "subscribed":
            return ConfirmationOut(contact_id=contact_id, channel=body.channel, status="subscribed")
        engagement.set_consent(conn, contact_id, {body.channel: "pending"}, now)
        queue_confirmation(
            conn, links, admin.workspace_id, record.secret, contact, body.channel, body.subject, now
        )
        return ConfirmationOut(contact_id=contact_id, channel=body.channel, status="pending")

    result: ConfirmationOut = transact(admin.engine, work)
    return result
