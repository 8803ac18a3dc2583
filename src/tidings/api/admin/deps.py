"""What admin routes share: the caller's workspace and role, and the services."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine

from tidings.api.auth import Caller, authenticate
from tidings.clock import Clock
from tidings.runtime.journeys import JourneyLimits
from tidings.storage.workflows import Catalog


@dataclass(frozen=True)
class Admin:
    """An authenticated admin call: who, in which workspace, and the shared services."""

    caller: Caller
    engine: Engine
    clock: Clock
    catalog: Catalog
    #: The render and journey limits the server was started with (TIDINGS_RENDER_SECONDS),
    #: for the journeys an admin call runs on (an approval decided).
    limits: JourneyLimits = field(default_factory=JourneyLimits)

    @property
    def workspace_id(self) -> int:
        """The workspace every query is scoped to."""
        return self.caller.workspace_id


def admin(request: Request, caller: Annotated[Caller, Depends(authenticate)]) -> Admin:
    """The caller (by Bearer secret key or session cookie) and the services."""
    service = request.app.state.ingest
    return Admin(caller, service.engine, service.clock, service.catalog, service.limits)


AdminDep = Annotated[Admin, Depends(admin)]


async def _raw_body(request: Request) -> bytes:
    return await request.body()


#: The request body as sent. Reading it needs the event loop; a plain `def` route that takes
#: it then does its parsing and database work in the thread pool, where it stalls no one.
RawBody = Annotated[bytes, Depends(_raw_body)]
