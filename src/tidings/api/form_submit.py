"""A form as the hosted pages use it, and what a valid submission stores."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from sqlalchemy import Connection

from tidings.api.ingest import IngestService
from tidings.api.links import LinkService, queue_confirmation
from tidings.api.segment_protocol import Rejected, read_call
from tidings.core.forms import FORM_SUBMITTED, Submission, consent_key
from tidings.core.problems import Problem
from tidings.runtime.ingest import Incoming
from tidings.storage import forms as stored_forms
from tidings.storage.workspaces import find_workspace, load_workspace


@dataclass(frozen=True)
class LoadedForm:
    """A stored form with what serving it needs from its workspace."""

    workspace_id: int
    workspace_key: str
    secret: str
    allowed: tuple[str, ...]
    double_opt_in: bool
    stored: stored_forms.StoredForm


def load_form(engine: Any, workspace_key: str, form_key: str) -> LoadedForm | None:
    """The form `form_key` of the workspace `workspace_key`, or None."""
    with engine.connect() as conn:
        workspace_id = find_workspace(conn, workspace_key)
        if workspace_id is None:
            return None
        record = load_workspace(conn, workspace_id)
        found = stored_forms.load_form(conn, workspace_id, form_key)
    if record is None or found is None:
        return None
    settings = record.settings
    return LoadedForm(
        workspace_id,
        workspace_key,
        record.secret,
        tuple(settings.get("allowed_origins") or ()),
        bool(found.spec.double_opt_in or settings.get("double_opt_in")),
        found,
    )


def source_of(hidden: dict[str, str]) -> str:
    """Where the visitor came from: the campaign's source, else the referring site."""
    if hidden.get("utm_source"):
        return hidden["utm_source"]
    referrer = urlsplit(hidden.get("referrer", "")).hostname
    return referrer or "direct"


def store_submission(
    request: Request,
    service: IngestService,
    form: LoadedForm,
    visitor: str,
    submission: Submission,
    hidden: dict[str, str],
    now: datetime,
) -> list[Problem]:
    """Identify the contact, emit form_submitted, keep the consent proofs; the problems
    cleaning finds (an email that is not one) are shown on the form, and nothing is stored."""
    spec = form.stored.spec
    page = hidden.get("page", "")
    email_status = "pending" if form.double_opt_in else "subscribed"
    consent = {
        consent_key(box): (
            email_status if box.channel == "email" and not box.topic else "subscribed"
        )
        for box in submission.consents
    }
    traits = {k: v for k, v in submission.values.items() if v is not None}
    identify = read_call(
        {
            "anonymousId": visitor,
            "traits": {**traits, **({"consent": consent} if consent else {})},
            "context": {"page": {"url": page}},
        },
        "",
        now,
        "identify",
    )
    if isinstance(identify, Rejected):
        return [Problem(p.path.removeprefix("traits."), p.message) for p in identify.problems]
    properties = {
        **submission.values,
        **{box.key: True for box in submission.consents},
        **hidden,
        "form": spec.key,
        "form_version": form.stored.version,
        "source": source_of(hidden),
    }
    track = Incoming(
        message_id=str(uuid.uuid4()),
        user_id=None,
        anonymous_id=visitor,
        name=FORM_SUBMITTED,
        timestamp=now,
        properties=properties,
    )
    assert isinstance(identify, Incoming)

    def proofs(conn: Connection) -> None:
        # In the transaction that stores the submission: a crash never leaves the event (and
        # the journeys it starts) without the consent's proof, nor a proof without its event.
        contact = stored_forms.visitor_contact(conn, form.workspace_id, visitor)
        assert contact is not None  # the identify above made or found it
        stored_forms.record_consents(
            conn, form.workspace_id, contact.id, form.stored, submission.consents,
            email_status, page, now,
        )  # fmt: skip
        stored_forms.record_hit(
            conn, form.workspace_id, spec.key, "submit", page, source_of(hidden), now
        )
        if form.double_opt_in and consent.get("email") == "pending" and contact.email:
            links: LinkService = request.app.state.links
            queue_confirmation(
                conn, links, form.workspace_id, form.secret, contact, "email",
                "Please confirm your subscription", now,
            )  # fmt: skip

    service.store(form.workspace_id, [identify, track], then=proofs)
    return []
