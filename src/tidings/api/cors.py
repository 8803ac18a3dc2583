"""CORS for /v1, so web pages on a workspace's allowed origins can send events.

A preflight names no key, so it is answered for an origin any workspace allows; the call
itself is then checked against its own key's workspace (api/browser.py), which refuses it
with nothing stored. An origin no workspace allows gets no CORS headers at all, and the
browser keeps the call from leaving (or, for a simple request, hides the answer).
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tidings.api.browser import OriginCache

PREFIX = "/v1/"
#: What analytics.js sends: a text/plain or JSON body, Basic auth, its retry count.
ALLOWED_HEADERS = "Authorization, Content-Type, Content-Encoding, X-Retry-Count"
ALLOWED_METHODS = "GET, POST, OPTIONS"
#: How long a browser may reuse a preflight's answer (Chromium caps it at 2 hours).
MAX_AGE_SECONDS = 600


class BrowserCors:
    """ASGI middleware answering preflights and adding CORS headers under /v1."""

    def __init__(self, app: ASGIApp, origins: OriginCache) -> None:
        self.app = app
        self.origins = origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None:
            await self.app(scope, receive, send)
            return
        # Reading the settings may query the database: off the event loop.
        known = await run_in_threadpool(self.origins.known, origin)
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await self._preflight(send, origin if known else None)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                out.append("Vary", "Origin")
                if known:
                    out["Access-Control-Allow-Origin"] = origin
                    # analytics.js waits as long as Retry-After says, if it can read it.
                    out["Access-Control-Expose-Headers"] = "Retry-After"
            await send(message)

        await self.app(scope, receive, send_with_cors)

    async def _preflight(self, send: Send, origin: str | None) -> None:
        headers = [(b"vary", b"Origin"), (b"content-length", b"0")]
        if origin is not None:
            headers += [
                (b"access-control-allow-origin", origin.encode("latin-1")),
                (b"access-control-allow-methods", ALLOWED_METHODS.encode()),
                (b"access-control-allow-headers", ALLOWED_HEADERS.encode()),
                (b"access-control-max-age", str(MAX_AGE_SECONDS).encode()),
            ]
        await send(
            {"type": "http.response.start", "status": 204 if origin else 403, "headers": headers}
        )
        await send({"type": "http.response.body", "body": b""})
