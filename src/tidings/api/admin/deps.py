"""What admin routes share: the caller's workspace (from a secret key) and the services."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine

from tidings.api.errors import ApiError
from tidings.api.keys import KeyCache, presented_key
from tidings.clock import Clock
from tidings.storage.api_keys import KeyKind, KeyOwner
from tidings.storage.workflows import Catalog

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="Tidings"'}


@dataclass(frozen=True)
class Admin:
    """An authenticated admin call: whose workspace, and the shared services."""

    owner: KeyOwner
    engine: Engine
    clock: Clock
    catalog: Catalog

    @property
    def workspace_id(self) -> int:
        """The workspace every query is scoped to."""
        return self.owner.workspace_id


def _secret_key(request: Request) -> str:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return presented_key(request, None)


def admin(request: Request) -> Admin:
    """The workspace of the secret key presented as `Authorization: Bearer tds_...`."""
    service = request.app.state.ingest
    keys: KeyCache = service.keys
    try:
        owner = keys.owner(_secret_key(request))
    except ApiError as exc:
        raise ApiError(
            401, "Unauthorized", "send a secret key as a Bearer token", headers=_CHALLENGE
        ) from exc
    if owner is None or owner.kind is not KeyKind.SECRET:
        raise ApiError(
            401, "Unauthorized", "a valid secret key is needed for /api", headers=_CHALLENGE
        )
    return Admin(owner, service.engine, service.clock, service.catalog)


AdminDep = Annotated[Admin, Depends(admin)]


async def _raw_body(request: Request) -> bytes:
    return await request.body()


#: The request body as sent. Reading it needs the event loop; a plain `def` route that takes
#: it then does its parsing and database work in the thread pool, where it stalls no one.
RawBody = Annotated[bytes, Depends(_raw_body)]
