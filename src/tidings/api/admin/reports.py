"""Measurement for the UI: the same report `tidings report` prints, as JSON or as the
self-contained HTML page."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse

from tidings.api.admin.deps import AdminDep
from tidings.api.auth import requires
from tidings.api.errors import ApiError
from tidings.core.duration import parse_duration
from tidings.core.problems import Problem
from tidings.reporting.build import Options, Report, build_report
from tidings.reporting.html import render_html
from tidings.storage.people import Role
from tidings.storage.reports import Period
from tidings.storage.workspaces import report_time

router = APIRouter(prefix="/reports", tags=["reports"], dependencies=[requires(Role.EDITOR)])


def _duration(value: str, name: str) -> timedelta:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise ApiError(400, "Invalid query", problems=[Problem(name, str(exc))]) from exc


def _report(
    admin: AdminDep,
    since: date | None = Query(None, description="first day included, YYYY-MM-DD (UTC)"),
    until: date | None = Query(None, description="last day included, YYYY-MM-DD (UTC)"),
    window: str = Query("7d", description="attribution window before a conversion, like 7d"),
    half_life: str = Query("2d", description="time-decay attribution half-life, like 2d"),
) -> Report:
    """The report the query asks for: a dependency both routes share."""
    if since is not None and until is not None and since > until:
        raise ApiError(
            400, "Invalid query", problems=[Problem("since", "must be on or before until")]
        )
    options = Options(
        period=Period.of_days(since, until),
        attribution_window=_duration(window, "window"),
        half_life=_duration(half_life, "half_life"),
    )
    with admin.engine.connect() as conn:
        now = report_time(conn, admin.workspace_id, admin.clock.now())
        return build_report(conn, admin.workspace_id, admin.catalog, now, options)


ReportDep = Annotated[Report, Depends(_report)]


@router.get("")
def report_json(found: ReportDep) -> dict[str, Any]:
    """Funnels per workflow, version, step and day; experiments with their verdicts;
    holdout lift; attribution under every model; customer value; the audit. Durations are
    in seconds."""
    encoded: dict[str, Any] = jsonable_encoder(asdict(found))
    return encoded


@router.get("/html", response_class=HTMLResponse)
def report_html(found: ReportDep) -> HTMLResponse:
    """The same report as one HTML page with charts, nothing fetched from elsewhere."""
    # The page has no scripts and loads nothing: say so, so a browser refuses any that
    # could ever slip into it.
    policy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    return HTMLResponse(render_html(found), headers={"Content-Security-Policy": policy})
