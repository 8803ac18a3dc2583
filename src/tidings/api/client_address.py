"""The client's address, as every per-address limit and the access log see it.

The peer's address, or behind a trusted proxy (TIDINGS_TRUST_PROXY) the address that proxy
appended to X-Forwarded-For. The last entry, not the first: a proxy appends the address it
saw to whatever the client sent, so every entry before its own can be made up, and
counting against a made-up address would let one client escape its limit (the login
throttle's included). Without the setting the header is ignored: anyone can send it.
"""

from __future__ import annotations

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["ForwardedClient", "client_address", "last_entry"]


def _forwarded(connection: HTTPConnection) -> str | None:
    auth = getattr(connection.app.state, "auth", None)
    if not getattr(auth, "trust_proxy", False):
        return None
    return last_entry(connection.headers.getlist("x-forwarded-for"))


def last_entry(lines: list[str]) -> str | None:
    """The last comma-separated entry over all of a header's lines: a proxy may append its
    own line (HAProxy does) rather than extend the client's, so the first line alone can be
    entirely the client's invention."""
    entries = [entry.strip() for line in lines for entry in line.split(",")]
    return entries[-1] if entries and entries[-1] else None


def client_address(connection: HTTPConnection) -> str:
    """The address a request is counted against (see the module's docstring)."""
    forwarded = _forwarded(connection)
    if forwarded:
        return forwarded
    return connection.client.host if connection.client else "unknown"


class ForwardedClient:
    """Puts `client_address` in the request's scope, so that `request.client` and the
    access log (uvicorn reads the same scope) name the client the limits count."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            forwarded = _forwarded(HTTPConnection(scope))
            if forwarded:
                scope["client"] = (forwarded, 0)
        await self.app(scope, receive, send)
