"""Contact data in bulk: CSV imports, duplicate merging, one contact's personal data."""

from __future__ import annotations

import io
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from tidings.api.admin.deps import AdminDep, RawBody
from tidings.api.admin.views import IdPath
from tidings.api.auth import requires
from tidings.api.errors import ApiError
from tidings.api.openapi import problems
from tidings.cleaning import Unclean, clean_region
from tidings.errors import ContactNotFound
from tidings.runtime.imports import import_contacts
from tidings.runtime.merges import merge_duplicates
from tidings.storage.people import Role
from tidings.storage.personal_data import personal_data

router = APIRouter(
    prefix="/contacts",
    tags=["contacts"],
    # Exporting everything about a person is an owner's decision, like erasing them.
    dependencies=[requires(Role.EDITOR, routes={"export": Role.OWNER})],
)
MAX_IMPORT_BYTES = 64 * 1024 * 1024


class RejectionOut(BaseModel):
    """A row that was not imported."""

    row: int
    reason: str


class ImportOut(BaseModel):
    """What an import did (or, in a dry run, would do)."""

    dry_run: bool
    rows: int
    created: int
    updated: int
    unchanged: int
    merged: list[tuple[int, int]]
    rejected: list[RejectionOut]
    #: Rows sharing an email or phone with another person, imported apart from them.
    conflicts: list[RejectionOut]


class MergeOut(BaseModel):
    """A group of duplicates and what became of it."""

    shared: str
    survivor: int
    merged: list[int]
    events: int
    journeys: int
    skipped: str


@router.post(
    "/import",
    response_model=ImportOut,
    responses=problems(413, 422),
    openapi_extra={
        "requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}
    },
)
def import_csv(
    admin: AdminDep,
    raw: RawBody,
    dry_run: bool = Query(False, description="report only; write nothing"),
    region: str | None = Query(None, max_length=2, description="country of local phone numbers"),
    map_: list[str] = Query([], alias="map", description="COLUMN=FIELD, or COLUMN= to skip"),
) -> ImportOut:
    """Import contacts from a CSV body in one transaction; rejections name their row."""
    if len(raw) > MAX_IMPORT_BYTES:
        raise ApiError(413, "Body too large", f"at most {MAX_IMPORT_BYTES:,} bytes; use the CLI")
    try:
        text = raw.decode("utf-8-sig")
        phone_region = clean_region(region) if region else None
    except UnicodeDecodeError as exc:
        raise ApiError(400, "Unreadable CSV", f"not UTF-8 text (byte {exc.start})") from exc
    except Unclean as exc:
        raise ApiError(400, "Bad region", str(exc)) from exc
    mapping = {}
    for item in map_:
        column, sep, target = item.partition("=")
        if not sep:
            raise ApiError(400, "Bad mapping", f"{item!r}: write COLUMN=FIELD")
        mapping[column] = target
    report = import_contacts(
        admin.engine,
        admin.workspace_id,
        io.StringIO(text, newline=""),
        admin.clock.now(),
        mapping=mapping,
        region=phone_region,
        dry_run=dry_run,
    )
    # The report's fields are the answer's; pydantic reads the dataclasses as they are.
    return ImportOut.model_validate(asdict(report))


def _merges(admin: AdminDep, dry_run: bool) -> list[MergeOut]:
    found = merge_duplicates(admin.engine, admin.workspace_id, admin.clock.now(), dry_run=dry_run)
    return [MergeOut.model_validate(asdict(m)) for m in found]


@router.get("/duplicates", response_model=list[MergeOut])
def duplicates(admin: AdminDep) -> list[MergeOut]:
    """Contacts sharing an email or phone, and what merging them would do."""
    return _merges(admin, dry_run=True)


@router.post("/duplicates/merge", response_model=list[MergeOut])
def merge(admin: AdminDep) -> list[MergeOut]:
    """Merge every group of duplicates, keeping events, journeys and consent withdrawals."""
    return _merges(admin, dry_run=False)


@router.get("/{contact_id}/export")
def export(contact_id: IdPath, admin: AdminDep) -> JSONResponse:
    """Everything stored about one contact, as a JSON file (a data-subject access request)."""
    with admin.engine.connect() as conn:
        data: dict[str, Any] | None = personal_data(conn, admin.workspace_id, contact_id)
    if data is None:
        raise ContactNotFound(f"no contact {contact_id} in this workspace")
    return JSONResponse(
        data,
        headers={"Content-Disposition": f'attachment; filename="contact-{contact_id}.json"'},
    )
