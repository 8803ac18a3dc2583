"""The forms, form_consents and form_hits tables: definitions, proofs of consent, figures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, case, func, insert, select, update

from tidings.core.forms import ConsentBox, FormSpec
from tidings.core.state import ContactView
from tidings.storage.contacts import contact_from_row
from tidings.storage.tables import contacts, form_consents, form_hits, forms


@dataclass(frozen=True)
class StoredForm:
    """A form as stored: its spec and version."""

    key: str
    version: int
    spec: FormSpec
    updated_at: datetime


def save_form(conn: Connection, workspace_id: int, spec: FormSpec, now: datetime) -> int:
    """Store `spec` as the form's next version (1 for a new form); returns the version."""
    found = conn.execute(
        select(forms.c.id, forms.c.version, forms.c.spec)
        .where(forms.c.workspace_id == workspace_id, forms.c.key == spec.key)
        .with_for_update()
    ).first()
    document = spec.model_dump(mode="json")
    if found is None:
        conn.execute(
            insert(forms).values(
                workspace_id=workspace_id,
                key=spec.key,
                version=1,
                spec=document,
                created_at=now,
                updated_at=now,
            )
        )
        return 1
    if found.spec == document:
        return int(found.version)  # nothing changed: no new version for proofs to name
    version = int(found.version) + 1
    conn.execute(
        update(forms)
        .where(forms.c.id == found.id)
        .values(version=version, spec=document, updated_at=now)
    )
    return version


def _stored(row: Any) -> StoredForm:
    return StoredForm(row.key, row.version, FormSpec.model_validate(row.spec), row.updated_at)


def load_form(conn: Connection, workspace_id: int, key: str) -> StoredForm | None:
    """One form, or None."""
    row = conn.execute(
        select(forms).where(forms.c.workspace_id == workspace_id, forms.c.key == key)
    ).first()
    return None if row is None else _stored(row)


def list_forms(conn: Connection, workspace_id: int) -> list[StoredForm]:
    """The workspace's forms, by key."""
    rows = conn.execute(
        select(forms).where(forms.c.workspace_id == workspace_id).order_by(forms.c.key)
    )
    return [_stored(row) for row in rows]


def form_fields(conn: Connection, workspace_id: int) -> dict[str, frozenset[str]]:
    """Each form's submission fields, for validating workflows that start on a form."""
    return {form.key: form.spec.field_names() for form in list_forms(conn, workspace_id)}


def known_traits(
    conn: Connection, workspace_id: int, user_id: str | None, anonymous_id: str | None
) -> frozenset[str]:
    """The traits the visitor's profile holds (empty for a stranger)."""
    if user_id is None and anonymous_id is None:
        return frozenset()
    who = (
        contacts.c.external_id == user_id
        if user_id is not None
        else contacts.c.anonymous_id == anonymous_id
    )
    row = conn.execute(
        select(contacts.c.email, contacts.c.phone, contacts.c.attributes, contacts.c.consent).where(
            contacts.c.workspace_id == workspace_id, who
        )
    ).first()
    if row is None:
        return frozenset()
    held = {k for k, v in (row.attributes or {}).items() if v not in (None, "")}
    held |= {name for name in ("email", "phone") if getattr(row, name)}
    # Consent already given (or waiting for its confirmation) is not asked for again.
    held |= {
        f"consent:{key}"
        for key, status in (row.consent or {}).items()
        if status in ("subscribed", "pending")
    }
    return frozenset(held)


def visitor_contact(conn: Connection, workspace_id: int, anonymous_id: str) -> ContactView | None:
    """The contact a form visitor's id names."""
    row = conn.execute(
        select(contacts).where(
            contacts.c.workspace_id == workspace_id, contacts.c.anonymous_id == anonymous_id
        )
    ).first()
    return None if row is None else contact_from_row(row)


def record_hit(
    conn: Connection,
    workspace_id: int,
    form_key: str,
    kind: str,
    page: str,
    source: str,
    now: datetime,
) -> None:
    """Count a view, a start or a submission of the form, with its page and source."""
    conn.execute(
        insert(form_hits).values(
            workspace_id=workspace_id,
            form_key=form_key,
            kind=kind,
            page=page[:2000],
            source=source[:200],
            at=now,
        )
    )


def record_consents(
    conn: Connection,
    workspace_id: int,
    contact_id: int,
    form: StoredForm,
    boxes: Sequence[ConsentBox],
    status: str,
    page: str,
    now: datetime,
) -> None:
    """Keep the proof of each consent given: the exact wording, the form's version, the page
    and the time."""
    if not boxes:
        return
    conn.execute(
        insert(form_consents),
        [
            {
                "workspace_id": workspace_id,
                "contact_id": contact_id,
                "form_key": form.key,
                "form_version": form.version,
                "channel": box.channel,
                "topic": box.topic,
                "status": status if box.channel == "email" else "subscribed",
                "wording": box.wording,
                "page": page[:2000],
                "given_at": now,
            }
            for box in boxes
        ],
    )


def consent_proofs(conn: Connection, workspace_id: int, contact_id: int) -> list[dict[str, Any]]:
    """Every consent a contact gave through a form, oldest first."""
    rows = conn.execute(
        select(form_consents)
        .where(
            form_consents.c.workspace_id == workspace_id,
            form_consents.c.contact_id == contact_id,
        )
        .order_by(form_consents.c.id)
    )
    return [
        {
            "form": r.form_key,
            "form_version": r.form_version,
            "channel": r.channel,
            "topic": r.topic,
            "status": r.status,
            "wording": r.wording,
            "page": r.page,
            "given_at": r.given_at,
        }
        for r in rows
    ]


def form_figures(conn: Connection, workspace_id: int, form_key: str, by: str) -> list[Any]:
    """Views, starts and submissions of a form, in all (`by` "") or by "page" or "source"."""
    column = {"page": form_hits.c.page, "source": form_hits.c.source}.get(by)
    group = [column] if column is not None else []
    kinds = [
        func.coalesce(func.sum(case((form_hits.c.kind == kind, 1), else_=0)), 0).label(kind)
        for kind in ("view", "start", "submit")
    ]
    stmt = (
        select(*group, *kinds)
        .where(form_hits.c.workspace_id == workspace_id, form_hits.c.form_key == form_key)
        .group_by(*group)
    )
    if column is not None:
        stmt = stmt.order_by(column)
    return list(conn.execute(stmt))
