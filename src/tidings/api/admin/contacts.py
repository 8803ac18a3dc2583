"""Contacts: list with filters and paging, and one contact with its whole timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from tidings.api.admin.deps import AdminDep
from tidings.api.admin.views import TEXT, AfterQuery, EnrollmentOut, IdPath, enrollment_out
from tidings.errors import ContactNotFound
from tidings.storage import browse
from tidings.storage.step_log import contact_story

router = APIRouter(prefix="/contacts", tags=["contacts"])


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
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


@router.get("", response_model=list[ContactOut])
def list_all(
    admin: AdminDep,
    email: str | None = Query(None, max_length=320, pattern=TEXT),
    tag: str | None = Query(None, max_length=200, pattern=TEXT),
    after: AfterQuery = 0,
    limit: int = Query(50, ge=1, le=500),
) -> list[ContactOut]:
    """Contacts in id order, a page at a time, optionally by email or tag."""
    with admin.engine.connect() as conn:
        rows = browse.list_contacts(
            conn, admin.workspace_id, email=email, tag=tag, after=after, limit=limit
        )
    return [ContactOut(**_out(r)) for r in rows]


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
    )
