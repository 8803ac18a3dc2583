"""A request id on every response, so a user's report of an error finds its log line."""

from __future__ import annotations

import re
import uuid

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Request-ID"
#: An incoming id is kept only when it is short and plain, so it cannot forge log lines.
_VALID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def request_id(request: Request) -> str:
    """The id the middleware gave this request ("" outside of it)."""
    return str(request.scope.get("state", {}).get("request_id", ""))


class RequestIdMiddleware:
    """Take a valid incoming X-Request-ID or make one; keep it in the request's state and
    send it back in the response header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = Request(scope).headers.get(HEADER, "")
        rid = given if _VALID.fullmatch(given) else uuid.uuid4().hex
        # The 500 handler runs outside this middleware; the scope's state is what it shares.
        scope.setdefault("state", {})["request_id"] = rid

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"
                ]
                headers.append((b"x-request-id", rid.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_id)
