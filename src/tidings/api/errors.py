"""Every error the API returns is a problem document (RFC 9457) with the path of each mistake."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from tidings.api.request_ids import HEADER, request_id
from tidings.core.problems import Problem
from tidings.errors import NotFound, SpecInvalid, TidingsError

logger = logging.getLogger(__name__)
PROBLEM = "application/problem+json"


class ApiError(Exception):
    """An error with an HTTP status, a title and the problems behind it."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str = "",
        problems: Sequence[Problem] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.problems = list(problems)
        self.headers = headers or {}


def problem_response(
    status: int,
    title: str,
    detail: str = "",
    problems: Sequence[Problem] = (),
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    """A problem document response; `extra` adds members such as `request_id`."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if problems:
        body["errors"] = [
            {"path": p.path, "message": p.message, **({"hint": p.hint} if p.hint else {})}
            for p in problems
        ]
    body.update(extra or {})
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Map every error to a problem document; routes contain no try/except for them."""

    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        return problem_response(exc.status, exc.title, exc.detail, exc.problems, exc.headers)

    @app.exception_handler(SpecInvalid)
    async def _spec(_: Request, exc: SpecInvalid) -> JSONResponse:
        return problem_response(422, f"Invalid {exc.kind}", exc.source, exc.problems)

    @app.exception_handler(NotFound)
    async def _missing(_: Request, exc: NotFound) -> JSONResponse:
        return problem_response(404, "Not found", str(exc))

    @app.exception_handler(TidingsError)
    async def _tidings(_: Request, exc: TidingsError) -> JSONResponse:
        return problem_response(400, "Bad request", str(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            Problem(".".join(str(part) for part in error["loc"]), str(error["msg"]))
            for error in exc.errors()
        ]
        return problem_response(400, "Invalid request", problems=problems)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem_response(exc.status_code, str(exc.detail), headers=dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        rid = request_id(request)
        logger.exception(
            "unexpected error",
            exc_info=exc,
            extra={"request_id": rid, "method": request.method, "path": request.url.path},
        )
        # This handler answers outside the middleware that adds the header: add it here.
        return problem_response(
            500,
            "Internal error",
            "the error is logged on the server with this request id",
            headers={HEADER: rid},
            extra={"request_id": rid},
        )
