"""The OpenAPI document tells the truth: every error is a problem document, as the API sends.

FastAPI documents a 422 `{"detail": [...]}` for every operation with parameters, which this
API never sends (invalid input is a 400 problem document). Routers and routes declare the
problem responses they give with `problems(...)`; `describe_problems` drops the phantom 422s
and adds what every operation can answer.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field

from tidings.api.errors import PROBLEM

_REF = "#/components/schemas/{model}"
_DESCRIPTIONS = {
    400: "Invalid request: `errors` gives the path of each mistake",
    401: "No key or session, or an unknown, revoked or expired one",
    403: "The caller's role may not do this, or a session's CSRF token is missing",
    404: "Not found in this workspace",
    409: "Conflicts with the current state",
    413: "Body too large",
    415: "Unsupported Content-Encoding",
    422: "Understood but not valid: `errors` gives the path of each problem",
    429: "Too many requests: see Retry-After",
    500: "Internal error: `request_id` is in the server's log",
    502: "The mail server or SMS provider refused the message: `detail` gives its answer",
    503: "Overloaded, the database is busy, or (on /readyz) not ready",
}


class ProblemItem(BaseModel):
    """One mistake in a request, with where it is."""

    path: str
    message: str
    hint: str | None = None


class ProblemDocument(BaseModel):
    """An error answer (RFC 9457 problem details)."""

    type: str = Field(description="always about:blank")
    title: str
    status: int
    detail: str | None = None
    errors: list[ProblemItem] | None = None
    request_id: str | None = Field(None, description="on a 500: quote it to find the log line")


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI responses for `statuses`, each a problem document: for `responses=`."""
    ref = {"$ref": _REF.format(model="Problem")}
    return {
        status: {"description": _DESCRIPTIONS[status], "content": {PROBLEM: {"schema": ref}}}
        for status in statuses
    }


def _is_phantom(response: dict[str, Any]) -> bool:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return bool(schema.get("$ref", "").endswith("/HTTPValidationError"))


def describe_problems(document: dict[str, Any]) -> dict[str, Any]:
    """`document` without FastAPI's 422s, with the problem responses every operation has."""
    for path, operations in document.get("paths", {}).items():
        for operation in operations.values():
            responses: dict[str, Any] = operation.setdefault("responses", {})
            if _is_phantom(responses.get("422", {})):
                del responses["422"]
            statuses = [500]
            if operation.get("parameters") or operation.get("requestBody"):
                statuses.append(400)
            if "{" in path:
                statuses.append(404)
            for status, response in problems(*statuses).items():
                responses.setdefault(str(status), response)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    defs = ProblemDocument.model_json_schema(ref_template=_REF).pop("$defs", {})
    schemas.update(defs)
    schemas["Problem"] = ProblemDocument.model_json_schema(ref_template=_REF)
    schemas["Problem"].pop("$defs", None)
    return document


def install_openapi(app: FastAPI) -> None:
    """Serve the corrected document at /openapi.json, built once."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = describe_problems(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    description=app.description,
                    routes=app.routes,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
