"""The audit trail: every successful state change under /api is recorded in one place.

A pure ASGI middleware, so it sees the final status after the route and its error
handlers: only changes that happened (2xx/3xx) are written. Routes may add what only they
know with `note_change` (which object, which version); the workflow deploy diff is
worked out here from the stored versions.
"""

from __future__ import annotations

import difflib
from typing import Any

from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tidings.api.auth import SAFE_METHODS, Caller
from tidings.clock import Clock
from tidings.runtime.transactions import attempts
from tidings.storage.audit import record_change
from tidings.storage.workflows import version_sources

#: The most diff text kept in one entry; a bigger change is cut, and says so.
MAX_DIFF_CHARS = 64 * 1024


def note_change(request: Request, subject_key: str, **details: Any) -> None:
    """Tell the audit trail what a route changed when the path does not say it."""
    request.state.audit = {"subject_key": subject_key, **details}


def note_unchanged(request: Request) -> None:
    """Tell the audit trail a POST changed nothing (a dry check), so it records nothing."""
    request.state.audit = {"unchanged": True}


class AuditTrail:
    """Record each successful state-changing /api request with its caller."""

    def __init__(self, app: ASGIApp, engine: Engine, clock: Clock) -> None:
        self.app = app
        self.engine = engine
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] in SAFE_METHODS
            or not scope["path"].startswith("/api/")
        ):
            await self.app(scope, receive, send)
            return
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        await self.app(scope, receive, capture)
        state = scope.get("state") or {}
        caller = state.get("caller")
        noted = dict(state.get("audit") or {})
        if status < 400 and isinstance(caller, Caller) and not noted.get("unchanged"):
            await run_in_threadpool(self._record, scope, caller, noted)

    def _record(self, scope: Scope, caller: Caller, noted: dict[str, Any]) -> None:
        route = scope.get("route")
        endpoint = getattr(scope.get("endpoint"), "__name__", "call")
        tags = getattr(route, "tags", None) or []
        subject_type = str(tags[0]) if tags else scope["path"].split("/")[2]
        params = {k: str(v) for k, v in (scope.get("path_params") or {}).items()}
        subject_key = str(noted.pop("subject_key", "") or next(iter(params.values()), ""))
        details: dict[str, Any] = {
            "method": scope["method"],
            "path": getattr(route, "path", scope["path"]),
            **({"params": params} if params else {}),
            **noted,
        }
        for attempt in attempts(self.engine):
            with attempt as conn:
                version = noted.get("version")
                if subject_type == "workflows" and isinstance(version, int) and version > 1:
                    sources = version_sources(
                        conn, caller.workspace_id, subject_key, (version - 1, version)
                    )
                    details["diff"] = spec_diff(
                        sources.get(version - 1, ""), sources.get(version, ""), version
                    )
                record_change(
                    conn,
                    caller.workspace_id,
                    actor_type=caller.actor_type,
                    actor=caller.actor,
                    at=self.clock.now(),
                    action=f"{subject_type}.{endpoint}",
                    subject_type=subject_type,
                    subject_key=subject_key,
                    details=details,
                )


def spec_diff(before: str, after: str, version: int) -> str:
    """A unified diff of two deployed workflow sources, as `git diff` shows it."""
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=f"version {version - 1}",
        tofile=f"version {version}",
    )
    text = "".join(lines)
    if len(text) > MAX_DIFF_CHARS:
        return text[:MAX_DIFF_CHARS] + "\n... (cut: the full versions are in GET /api/workflows)"
    return text
