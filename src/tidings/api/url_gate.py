"""The gate for URLs: a path or query holding a character no database keeps is a 400.

A percent-encoded NUL (`%00`) decodes into the path parameters and query values routes
compare with stored text; PostgreSQL refuses NUL in text outright, so the lookup itself
failed with a 500 (`/f/default/%00`, `/api/people/a%00b`, `/api/audit?subject=%00`), and
on the public form pages anyone could set it off. No identifier, key or search Tidings
holds can contain one, so the request is refused at the door, before any route reads it.
"""

from __future__ import annotations

from urllib.parse import unquote_plus

from starlette.types import ASGIApp, Receive, Scope, Send

from tidings.api.errors import problem_response
from tidings.core.problems import Problem
from tidings.core.values import text_problem


def url_problems(path: str, query: str) -> list[Problem]:
    """What in a request's decoded path and raw query string cannot reach the database."""
    problems = []
    if (why := text_problem(path)) is not None:
        problems.append(Problem("path", why))
    # Decoded the way routes read query values; a bad character in any key or value counts.
    if query and (why := text_problem(unquote_plus(query, errors="replace"))) is not None:
        problems.append(Problem("query", why))
    return problems


class UrlGate:
    """Answer 400 to a request whose path or query holds NUL (or a lone surrogate)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"").decode("latin-1")
        problems = url_problems(scope["path"], query)
        if not problems:
            await self.app(scope, receive, send)
            return
        response = problem_response(
            400,
            "Bad URL",
            "the URL holds a character no identifier or search can contain; remove it",
            problems,
        )
        await response(scope, receive, send)
