"""The lead-scoring model: named scores, their rules and thresholds."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body

from tidings.api.admin.deps import AdminDep
from tidings.api.auth import requires
from tidings.runtime.scoring import set_scoring
from tidings.storage.people import Role
from tidings.storage.workspaces import load_scoring_document

router = APIRouter(prefix="/scoring", tags=["scoring"], dependencies=[requires(Role.EDITOR)])


@router.get("")
def get_scoring(admin: AdminDep) -> dict[str, Any]:
    """The scoring model as it was stored."""
    with admin.engine.connect() as conn:
        return load_scoring_document(conn, admin.workspace_id)


@router.put("")
def put_scoring(admin: AdminDep, document: dict[str, Any] = Body(...)) -> dict[str, Any]:
    """Replace the scoring model; problems come back as 422, each with its path. Points
    already awarded stay; new rules apply to events from now on."""
    set_scoring(admin.engine, admin.workspace_id, document)
    return get_scoring(admin)
