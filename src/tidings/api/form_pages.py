"""Hosted forms: `/f/<workspace>/<form>` shows a form, takes its submission, and embeds it.

Anyone may load and post a form, so nothing here needs a session, and so no CSRF token:
instead each rendering carries a signed token (the form, its version, when it was shown,
to whom, and which fields it asked), which a submission must return unchanged. A
submission is refused, with the reason shown to the person and nothing stored, when the
honeypot is filled, it came faster than a person types, the token is forged or stale, the
address sends too many, the body is too large, or an answer is not valid.

A valid one identifies or creates the contact through the same ingest as `/v1/identify`
(so it is cleaned the same way), emits `form_submitted` with the form's key and fields
(workflows with `trigger: {type: form, form: KEY}` start on it), and keeps the proof of
each consent given.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from tidings.api import form_html
from tidings.api.client_address import client_address
from tidings.api.form_submit import LoadedForm, load_form, source_of, store_submission
from tidings.api.ingest import IngestService
from tidings.api.throttle import RateLimit
from tidings.core.forms import (
    HONEYPOT,
    FormSpec,
    Submission,
    next_consents,
    next_fields,
    read_submission,
    redirect_problem,
)
from tidings.core.problems import Problem
from tidings.delivery.tokens import BadToken, Purpose, make_token, read_token
from tidings.runtime.transactions import attempts
from tidings.storage import forms as stored_forms

logger = logging.getLogger(__name__)

router = APIRouter(tags=["forms"], include_in_schema=False)

#: The largest submission accepted, in bytes.
MAX_SUBMISSION_BYTES = 16 * 1024
#: How long a rendered form may be submitted.
TOKEN_SECONDS = 24 * 3600
VISITOR_COOKIE = "tidings_visitor"
MAX_VISITOR_ID = 64
_ASSET_HEADERS = {"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"}


def _limit(request: Request) -> RateLimit:
    limit: RateLimit = request.app.state.form_limit
    return limit


def _headers(form: LoadedForm) -> dict[str, str]:
    """A strict CSP: this server's own CSS and script only; framed only by allowed sites."""
    frames = " ".join(["'self'", *form.allowed])
    targets = " ".join(["'self'", *form.allowed])
    return {
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "Content-Security-Policy": (
            "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; "
            f"img-src 'self'; base-uri 'none'; form-action {targets}; frame-ancestors {frames}"
        ),
    }


def _html(form: LoadedForm | None, title: str, body: str, status: int = 200) -> HTMLResponse:
    headers = (
        _headers(form)
        if form
        else {
            "Cache-Control": "no-store",
            "Content-Security-Policy": "default-src 'none'; style-src 'self'",
        }
    )
    return HTMLResponse(form_html.page(title, body), status_code=status, headers=headers)


def _not_found() -> HTMLResponse:
    return _html(
        None, "No such form", form_html.message_body("No such form", "Check the link."), 404
    )


@router.get("/f/form.css")
def stylesheet() -> Response:
    """The hosted forms' stylesheet."""
    return Response(form_html.STYLESHEET, media_type="text/css", headers=_ASSET_HEADERS)


@router.get("/f/form.js")
def script() -> Response:
    """The hosted forms' one script: counts a start, sizes an embedding frame."""
    return Response(form_html.SCRIPT, media_type="text/javascript", headers=_ASSET_HEADERS)


@router.get("/f/{workspace_key}/{form_key}/embed.js")
def embed(workspace_key: str, form_key: str) -> Response:
    """The script a website pastes to show the form in a frame."""
    return Response(form_html.EMBED, media_type="text/javascript", headers=_ASSET_HEADERS)


def _visitor(request: Request, form: LoadedForm) -> str:
    """Who is looking: the analytics.js id a website passes, else the signed cookie's."""
    given = request.query_params.get("aid", "").strip()
    # analytics.js ids are UUIDs; a longer one would not fit in the form's token.
    if given and len(given) <= MAX_VISITOR_ID and given.isprintable():
        return given
    cookie = request.cookies.get(VISITOR_COOKIE, "")
    if cookie:
        try:
            opened = read_token(cookie, Purpose.VISITOR, lambda _: form.secret)
            if opened.workspace_id == form.workspace_id and isinstance(opened.payload[0], str):
                return opened.payload[0]
        except (BadToken, IndexError):
            pass
    return str(uuid.uuid4())


def _hidden(request: Request, posted: dict[str, str] | None, spec: FormSpec) -> dict[str, str]:
    source = posted if posted is not None else dict(request.query_params)
    values = {name: source.get(name, "")[:2000] for name in spec.hidden}
    if posted is None and "page" in values and not values["page"]:
        values["page"] = request.headers.get("referer", "")[:2000]
    return values


def _token(form: LoadedForm, now: datetime, visitor: str, asked: list[str], embed: bool) -> str:
    spec = form.stored.spec
    # Field and box positions, two digits each, keep the token short.
    keys = [f.key for f in spec.fields] + [c.key for c in spec.consents]
    indexes = "".join(f"{keys.index(a):02d}" for a in asked)
    return make_token(
        form.workspace_id,
        form.secret,
        Purpose.FORM,
        form.stored.key,
        form.stored.version,
        int(now.timestamp()),
        visitor,
        indexes,
        1 if embed else 0,
    )


def _render(  # noqa: PLR0913 (the form and its visit; the answers keyword-only)
    request: Request,
    form: LoadedForm,
    visitor: str,
    asked: list[str],
    embed: bool,
    now: datetime,
    hidden: dict[str, str],
    *,
    values: dict[str, str] | None = None,
    problems: list[Problem] | None = None,
) -> HTMLResponse:
    spec = form.stored.spec
    action = f"/f/{form.workspace_key}/{spec.key}"
    fields = [f for f in spec.fields if f.key in asked]
    boxes = [b for b in spec.consents if b.key in asked]
    body = form_html.form_body(
        spec,
        action,
        _token(form, now, visitor, asked, embed),
        fields,
        boxes,
        hidden,
        values=values,
        problems=problems or (),
        target_top=embed and spec.redirect is not None,
    )
    response = _html(form, spec.title or spec.name, body, 400 if problems else 200)
    response.set_cookie(
        VISITOR_COOKIE,
        make_token(form.workspace_id, form.secret, Purpose.VISITOR, visitor),
        max_age=365 * 24 * 3600,
        path="/f/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


@router.get("/f/{workspace_key}/{form_key}")
async def show(workspace_key: str, form_key: str, request: Request) -> Response:
    """The hosted form, asking a returning visitor only for what their profile lacks."""
    service: IngestService = request.app.state.ingest
    form = await run_in_threadpool(load_form, service.engine, workspace_key, form_key)
    if form is None:
        return _not_found()
    visitor = _visitor(request, form)
    spec = form.stored.spec
    hidden = _hidden(request, None, spec)
    now = service.clock.now()

    def look_and_count() -> list[str]:
        for attempt in attempts(service.engine):
            with attempt as conn:
                known = stored_forms.known_traits(conn, form.workspace_id, None, visitor)
                # Past the address's limit the form is still shown, only not counted.
                if _limit(request).allows(client_address(request)):
                    stored_forms.record_hit(
                        conn, form.workspace_id, spec.key, "view", hidden.get("page", ""),
                        source_of(hidden), now,
                    )  # fmt: skip
        boxes = [b.key for b in next_consents(spec, known)]
        return [f.key for f in next_fields(spec, known)] + boxes

    asked = await run_in_threadpool(look_and_count)
    embed = request.query_params.get("embed") == "1"
    return _render(request, form, visitor, asked, embed, now, hidden)


async def _read_body(request: Request) -> bytes | None:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_SUBMISSION_BYTES:
        return None
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_SUBMISSION_BYTES:
            return None
    return bytes(raw)


def _posted(raw: bytes) -> dict[str, str] | None:
    try:
        parsed = parse_qs(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=200)
    except (UnicodeDecodeError, ValueError):
        return None
    return {k: v[0] for k, v in parsed.items()}


@dataclass(frozen=True)
class _Opened:
    visitor: str
    asked: list[str]
    rendered_at: float
    embed: bool


def _open_token(form: LoadedForm, token: str) -> _Opened | None:
    """The rendering a token describes, or None when it is forged or for another form."""
    try:
        opened = read_token(token, Purpose.FORM, lambda _: form.secret)
        key, version, rendered_at, visitor, indexes, embed = opened.payload
    except (BadToken, ValueError, TypeError):
        return None
    if opened.workspace_id != form.workspace_id or key != form.stored.key:
        return None
    spec = form.stored.spec
    keys = [f.key for f in spec.fields] + [c.key for c in spec.consents]
    try:
        asked = [keys[int(indexes[i : i + 2])] for i in range(0, len(indexes), 2)]
    except (ValueError, IndexError):
        return None  # the form lost fields since it was shown: show it again
    del version  # a submission is judged by the form as it is now
    return _Opened(str(visitor), asked, float(rendered_at), bool(embed))


def _refusal(form: LoadedForm, title: str, why: str, status: int) -> HTMLResponse:
    return _html(form, title, form_html.message_body(title, why), status)


@router.post("/f/{workspace_key}/{form_key}")
async def submit(workspace_key: str, form_key: str, request: Request) -> Response:
    """Take a submission; a refused one says why and stores nothing."""
    service: IngestService = request.app.state.ingest
    form = await run_in_threadpool(load_form, service.engine, workspace_key, form_key)
    if form is None:
        return _not_found()
    if not _limit(request).allows(client_address(request)):
        response = _refusal(
            form, "Too many submissions", "Too many forms were sent from your network; "
            "please try again in a minute.", 429,
        )  # fmt: skip
        response.headers["Retry-After"] = "60"
        return response
    raw = await _read_body(request)
    if raw is None:
        return _refusal(
            form, "Too long", "The answers are too long to send. Please shorten them.", 413
        )
    posted = _posted(raw)
    opened = _open_token(form, (posted or {}).get("token", ""))
    now = service.clock.now()
    if posted is None or opened is None or now.timestamp() - opened.rendered_at > TOKEN_SECONDS:
        return _refusal(
            form, "Please reload the form",
            "This form has expired or was changed. Reload the page and send it again.", 400,
        )  # fmt: skip
    spec = form.stored.spec
    if posted.get(HONEYPOT):
        logger.info("form honeypot filled", extra={"action": "form_spam", "form": spec.key})
        return _refusal(form, "Not sent", "This looks automated, so it was not sent.", 400)
    if now.timestamp() - opened.rendered_at < spec.min_seconds:
        return _refusal(
            form, "Not sent", "That was faster than a person can fill in the form. "
            "Go back, check your answers and send it again.", 400,
        )  # fmt: skip
    hidden = _hidden(request, posted, spec)
    checked = read_submission(spec, opened.asked, posted)
    if not isinstance(checked, Submission):
        return _render(
            request, form, opened.visitor, opened.asked, opened.embed, now, hidden,
            values=posted, problems=checked,
        )  # fmt: skip
    problems = await run_in_threadpool(
        store_submission, request, service, form, opened.visitor, checked, hidden, now
    )
    if problems:
        return _render(
            request, form, opened.visitor, opened.asked, opened.embed, now, hidden,
            values=posted, problems=problems,
        )  # fmt: skip
    if spec.redirect and redirect_problem(spec.redirect, form.allowed) is None:
        return RedirectResponse(spec.redirect, status_code=303, headers=_headers(form))
    return _html(form, spec.title or spec.name, form_html.message_body("Thank you", spec.thank_you))


@router.post("/f/{workspace_key}/{form_key}/start")
async def start(workspace_key: str, form_key: str, request: Request) -> Response:
    """Count a start: the visitor typed in the form (sent once by the form's script)."""
    service: IngestService = request.app.state.ingest
    form = await run_in_threadpool(load_form, service.engine, workspace_key, form_key)
    raw = await _read_body(request)
    if form is None or raw is None:
        return Response(status_code=204)
    opened = _open_token(form, raw.decode("utf-8", "replace").strip())
    if opened is not None and _limit(request).allows(client_address(request)):
        # The beacon comes from the form's page, whose address carries the hidden fields.
        query = parse_qs(urlsplit(request.headers.get("referer", "")).query)
        hidden = {name: values[0][:2000] for name, values in query.items() if values}

        def count() -> None:
            for attempt in attempts(service.engine):
                with attempt as conn:
                    stored_forms.record_hit(
                        conn, form.workspace_id, form.stored.key, "start", hidden.get("page", ""),
                        source_of(hidden), service.clock.now(),
                    )  # fmt: skip

        await run_in_threadpool(count)
    return Response(status_code=204)
