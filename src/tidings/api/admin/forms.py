"""Forms: define (each change a new version), list, read with the embed snippet, figures."""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from tidings.api.admin.deps import AdminDep
from tidings.api.auth import requires
from tidings.api.body import unstorable_message
from tidings.api.errors import ApiError
from tidings.core.forms import FormSpec, redirect_problem
from tidings.core.problems import Problem
from tidings.errors import NotFound
from tidings.runtime.transactions import attempts
from tidings.storage import forms as store
from tidings.storage.people import Role
from tidings.storage.workspaces import load_workspace

router = APIRouter(prefix="/forms", tags=["forms"], dependencies=[requires(Role.EDITOR)])


class FormOut(BaseModel):
    """A form as defined, with where it lives and the snippet a website pastes."""

    key: str
    version: int
    updated_at: datetime
    spec: FormSpec
    url: str
    embed_html: str


class FiguresRow(BaseModel):
    """Views, starts and submissions, and the share of views that became submissions."""

    page: str | None = None
    source: str | None = None
    views: int
    starts: int
    submissions: int
    conversion_rate: float | None


class FiguresOut(BaseModel):
    """A form's figures, in all and by page or by source."""

    form: str
    total: FiguresRow
    rows: list[FiguresRow]


def _public_url(request: Request) -> str:
    url: str = request.app.state.links.public_url
    return url


def _out(request: Request, form: store.StoredForm, workspace_key: str) -> FormOut:
    url = f"{_public_url(request)}/f/{workspace_key}/{form.key}"
    title = escape(form.spec.title or form.spec.name)
    snippet = f'<script src="{escape(url)}/embed.js" data-title="{title}" async></script>'
    return FormOut(
        key=form.key,
        version=form.version,
        updated_at=form.updated_at,
        spec=form.spec,
        url=url,
        embed_html=snippet,
    )


@router.get("", response_model=list[FormOut])
def list_all(request: Request, admin: AdminDep) -> list[FormOut]:
    """The workspace's forms."""
    with admin.engine.connect() as conn:
        forms = store.list_forms(conn, admin.workspace_id)
    return [_out(request, f, admin.caller.workspace_key) for f in forms]


@router.get("/{key}", response_model=FormOut)
def get(key: str, request: Request, admin: AdminDep) -> FormOut:
    """One form, its URL and its embed snippet."""
    with admin.engine.connect() as conn:
        form = store.load_form(conn, admin.workspace_id, key)
    if form is None:
        raise NotFound(f"no form {key!r} in this workspace")
    return _out(request, form, admin.caller.workspace_key)


@router.put("/{key}", response_model=FormOut)
def put(key: str, spec: FormSpec, request: Request, admin: AdminDep) -> FormOut:
    """Define the form, or change it (a new version; proofs name the version they were on)."""
    if spec.key != key:
        raise ApiError(400, "Bad Request", problems=[Problem("body.key", f"must be {key!r}")])
    if found := unstorable_message(spec.model_dump(mode="json"), "body"):
        raise ApiError(400, "Bad Request", found)
    for attempt in attempts(admin.engine):
        with attempt as conn:
            record = load_workspace(conn, admin.workspace_id)
            allowed = tuple((record.settings if record else {}).get("allowed_origins") or ())
            if why := redirect_problem(spec.redirect, allowed):
                raise ApiError(422, "Form invalid", problems=[Problem("body.redirect", why)])
            store.save_form(conn, admin.workspace_id, spec, admin.clock.now())
            form = store.load_form(conn, admin.workspace_id, key)
    assert form is not None
    return _out(request, form, admin.caller.workspace_key)


def _row(row: object, page: str | None = None, source: str | None = None) -> FiguresRow:
    views, starts, submits = (int(getattr(row, k) or 0) for k in ("view", "start", "submit"))
    return FiguresRow(
        page=page,
        source=source,
        views=views,
        starts=starts,
        submissions=submits,
        conversion_rate=round(submits / views, 4) if views else None,
    )


@router.get("/{key}/figures", response_model=FiguresOut)
def figures(
    key: str,
    admin: AdminDep,
    by: Literal["page", "source"] = Query("source", description="split the figures by"),
) -> FiguresOut:
    """Views, starts, submissions and conversion rate, in all and by page or source."""
    with admin.engine.connect() as conn:
        if store.load_form(conn, admin.workspace_id, key) is None:
            raise NotFound(f"no form {key!r} in this workspace")
        total = store.form_figures(conn, admin.workspace_id, key, "")
        split = store.form_figures(conn, admin.workspace_id, key, by)
    rows = [
        _row(r, page=r.page if by == "page" else None, source=r.source if by == "source" else None)
        for r in split
    ]
    return FiguresOut(form=key, total=_row(total[0]), rows=rows)
