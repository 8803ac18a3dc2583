"""Contacts: list with filters and paging, and one contact with its whole timeline."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tidings.api.admin.deps import AdminDep
from tidings.api.admin.views import TEXT, AfterQuery, EnrollmentOut, IdPath, enrollment_out
from tidings.api.auth import requires
from tidings.api.body import unstorable_message
from tidings.core.channels import Channel
from tidings.core.spec import ConsentStatus
from tidings.errors import ContactNotFound
from tidings.runtime.transactions import attempts
from tidings.storage import browse
from tidings.storage.contacts import contact_from_row, save_contacts
from tidings.storage.erasure import erase_contact
from tidings.storage.people import Role
from tidings.storage.segments import segments_of
from tidings.storage.step_log import contact_story

router = APIRouter(
    prefix="/contacts",
    tags=["contacts"],
    # Erasure cannot be undone: owners only.
    dependencies=[requires(Role.EDITOR, routes={"erase": Role.OWNER})],
)


class ContactOut(BaseModel):
    """A contact's profile."""

    id: int
    user_id: str | None
    anonymous_id: str | None
    email: str | None
    phone: str | None
    timezone: str
    attributes: dict[str, Any]
    tags: list[str]
    consent: dict[str, str]
    score: float
    #: Named lead scores as last computed (they fade between events; see /api/scoring).
    scores: dict[str, float]
    created_at: datetime
    updated_at: datetime


class EventOut(BaseModel):
    """Something the contact did."""

    id: int
    name: str
    properties: dict[str, Any]
    occurred_at: datetime
    message_id: str


class StepOut(BaseModel):
    """One line of the step log: what a workflow decided about the contact, and why."""

    at: datetime
    workflow: str | None
    enrollment_id: int | None
    step_id: str | None
    action: str
    detail: str


class ContactDetail(ContactOut):
    """A contact with its timeline: events, journeys, and the step log."""

    events: list[EventOut]
    enrollments: list[EnrollmentOut]
    steps: list[StepOut]
    #: The keys of the segments the contact is in now.
    segments: list[str]


def _out(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "user_id": row.external_id,
        "anonymous_id": row.anonymous_id,
        "email": row.email,
        "phone": row.phone,
        "timezone": row.timezone,
        "attributes": row.attributes,
        "tags": row.tags,
        "consent": row.consent,
        "score": row.score,
        "scores": row.scores or {},
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


@router.get("", response_model=list[ContactOut])
def list_all(
    admin: AdminDep,
    email: str | None = Query(None, max_length=320, pattern=TEXT),
    tag: str | None = Query(None, max_length=200, pattern=TEXT),
    q: str | None = Query(
        None, max_length=200, pattern=TEXT, description="text in the email, user id or phone"
    ),
    segment: str | None = Query(None, max_length=64, pattern=TEXT, description="a segment key"),
    after: AfterQuery = 0,
    limit: int = Query(50, ge=1, le=500),
) -> list[ContactOut]:
    """Contacts in id order, a page at a time, optionally by email, tag, segment or search."""
    with admin.engine.connect() as conn:
        rows = browse.list_contacts(
            conn,
            admin.workspace_id,
            email=email,
            tag=tag,
            search=q,
            segment=segment,
            after=after,
            limit=limit,
        )
    return [ContactOut(**_out(r)) for r in rows]


class ContactChanges(BaseModel):
    """Changes to a profile; an attribute set to null is removed."""

    model_config = ConfigDict(extra="forbid")

    email: str | None = Field(None, max_length=320, pattern=TEXT)
    phone: str | None = Field(None, max_length=32, pattern=TEXT)
    timezone: str | None = Field(None, max_length=64)
    attributes: dict[str, Any] = Field(default_factory=dict)
    add_tags: list[Annotated[str, Field(max_length=200, pattern=TEXT)]] = Field(
        default_factory=list
    )
    remove_tags: list[str] = Field(default_factory=list)
    consent: dict[Channel, ConsentStatus] = Field(default_factory=dict)

    @field_validator("timezone")
    @classmethod
    def _iana(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"{value!r} is not an IANA timezone, like Europe/Paris") from None
        return value

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        # The whole body, keys included, before any field reads it.
        if (why := unstorable_message(value)) is not None:
            raise ValueError(why)
        return value


def _row(admin: AdminDep, contact_id: int, conn: Any) -> Any:
    row = browse.get_contact(conn, admin.workspace_id, contact_id)
    if row is None:
        raise ContactNotFound(f"no contact {contact_id} in this workspace")
    return row


@router.patch("/{contact_id}", response_model=ContactOut)
def update(contact_id: IdPath, changes: ContactChanges, admin: AdminDep) -> ContactOut:
    """Change a profile: fields, attributes (null removes), tags, consent per channel."""
    for attempt in attempts(admin.engine):
        with attempt as conn:
            row = _row(admin, contact_id, conn)
            view = contact_from_row(row)
            attributes = {**view.attributes, **changes.attributes}
            attributes = {k: v for k, v in attributes.items() if v is not None}
            tags = (view.tags | set(changes.add_tags)) - set(changes.remove_tags)
            consent = {**view.consent, **{str(k): str(v) for k, v in changes.consent.items()}}
            updated = replace(
                view,
                email=changes.email if changes.email is not None else view.email,
                phone=changes.phone if changes.phone is not None else view.phone,
                timezone=changes.timezone or view.timezone,
                attributes=attributes,
                tags=frozenset(tags),
                consent=consent,
            )
            save_contacts(conn, [updated], admin.clock.now())
            row = _row(admin, contact_id, conn)
    return ContactOut(**_out(row))


@router.delete("/{contact_id}", status_code=204)
def erase(contact_id: IdPath, admin: AdminDep) -> None:
    """Erase a contact and everything about them (the GDPR right to erasure).

    Only hashes of their email, phone and ids remain, on the suppression list, so an import
    that brings them back can be recognised without keeping their data.
    """
    for attempt in attempts(admin.engine):
        with attempt as conn:
            row = _row(admin, contact_id, conn)
            erase_contact(conn, admin.workspace_id, row, admin.clock.now())


@router.get("/{contact_id}", response_model=ContactDetail)
def get_one(
    contact_id: IdPath,
    admin: AdminDep,
    events: int = Query(100, ge=0, le=1000, description="how many of the latest events"),
) -> ContactDetail:
    """A contact with its latest events, its journeys and every decision about it."""
    with admin.engine.connect() as conn:
        row = browse.get_contact(conn, admin.workspace_id, contact_id)
        if row is None:
            raise ContactNotFound(f"no contact {contact_id} in this workspace")
        happened = browse.contact_events(conn, contact_id, events)
        journeys = browse.list_enrollments(
            conn, admin.workspace_id, contact_id=contact_id, limit=1000
        )
        story = contact_story(conn, contact_id)
        member_of = segments_of(conn, contact_id)
    return ContactDetail(
        **_out(row),
        events=[
            EventOut(
                id=e.id,
                name=e.name,
                properties=e.properties,
                occurred_at=e.occurred_at,
                message_id=e.message_id,
            )
            for e in happened
        ],
        enrollments=[enrollment_out(j) for j in journeys],
        steps=[
            StepOut(
                at=s.at,
                workflow=s.workflow_key,
                enrollment_id=s.enrollment_id,
                step_id=s.step_id,
                action=s.action,
                detail=s.detail,
            )
            for s in story
        ],
        segments=member_of,
    )
