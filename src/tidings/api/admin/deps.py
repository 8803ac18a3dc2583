"""What admin routes share: the caller's workspace and role, and the services."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine

from tidings.api.auth import Caller, authenticate
from tidings.clock import Clock
from tidings.storage.workflows import Catalog


@dataclass(frozen=True)
class Admin:
    """An authenticated admin call: who, in which workspace, and the shared services."""

    caller: Caller
    engine: Engine
    clock: Clock
    catalog: Catalog

    @property
    def workspace_id(self) -> int:
        """The workspace every query is scoped to."""
        return self.caller.workspace_id


def admin(request: Request, caller: Annotated[Caller, Depends(authenticate)]) -> Admin:
    """The caller (by Bearer secret key or session cookie) and the services."""
    service = request.app.state.ingest
    return Admin(caller, service.engine, service.clock, service.catalog)


AdminDep = Annotated[Admin, Depends(admin)]
