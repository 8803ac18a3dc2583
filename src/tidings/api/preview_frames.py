"""Rendered email previews, each at a URL of its own, for the console's preview frame.

A message's HTML must keep its inline styles (`style="…"`, `<style>`), which the console's
page policy (`style-src 'self'`) forbids. So the preview is not written into the page: the
render route keeps the HTML here under a fresh random id and answers with its URL, and the
console shows that URL in a sandboxed iframe. The frame's own policy allows inline styles
and images, and nothing else: no scripts, no fetches, no forms, an opaque origin.

The id is the credential. The iframe is sandboxed without `allow-same-origin`, so it has no
origin to send cookies from, and it needs none: the id is 256 random bits, minted only for
a caller the render route authenticated and authorised, and forgotten after
`FRAME_TTL`. Previews are kept in the database, under the SHA-256 of the id (never the id
itself), so that with several servers behind a load balancer the iframe's request may
reach any of them.

A preview can show a contact's data. It is kept `FRAME_TTL` (ten minutes) and tied to no
contact: erasing a contact leaves their previews to expire within those minutes, and
every insert deletes the expired ones.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import Engine

from tidings.clock import Clock
from tidings.runtime.transactions import transact
from tidings.storage.preview_frames import keep_frame, open_frame

#: Where frames are served: outside /api, whose routes all take a session or key, and among
#: the prefixes the console's catch-all leaves alone (console.API_PREFIXES).
FRAME_PATH = "/preview-frames/"
#: How long a rendered preview can be opened: the console asks for a new one on each edit.
FRAME_TTL = timedelta(minutes=10)
#: At most this many previews, and this many bytes (UTF-8) of them, are kept; the oldest go
#: first.
MAX_FRAMES = 500
MAX_FRAME_BYTES = 64 * 1024 * 1024

#: Inline styles and images from data: or https:, nothing else. `sandbox` makes the
#: document's origin opaque even when the URL is opened on its own, outside the iframe.
FRAME_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; font-src data:; "
    "sandbox; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)
_HEADERS = {
    "Content-Security-Policy": FRAME_CSP,
    # A preview shows a contact's data: never kept by the browser or any proxy.
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
}
_GONE = (
    "<!doctype html><meta charset='utf-8'><p style='font:14px sans-serif;color:#555'>"
    "This preview has expired; change the message, or pick the contact again, to render it "
    "anew.</p>"
)


class FrameStore:
    """Rendered previews by id, each until it expires, in the database every server shares."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    def keep(self, workspace_id: int, html: str) -> str:
        """Keep a rendered document; the URL path that shows it."""
        frame_id = secrets.token_urlsafe(32)
        now = self._clock.now()
        transact(
            self._engine,
            lambda conn: keep_frame(
                conn,
                workspace_id,
                frame_id,
                html,
                now=now,
                expires_at=now + FRAME_TTL,
                max_frames=MAX_FRAMES,
                max_bytes=MAX_FRAME_BYTES,
            ),
        )
        return FRAME_PATH + frame_id

    def open(self, frame_id: str) -> str | None:
        """The document kept under `frame_id`, or None when unknown or expired."""
        with self._engine.connect() as conn:
            return open_frame(conn, frame_id, self._clock.now())


def frame_document(html: str) -> str:
    """The page a frame shows: the message's HTML, read as UTF-8 at phone and desktop widths."""
    head = "<meta charset='utf-8'><meta name='viewport' content='width=device-width'>"
    return f"<!doctype html><html><head>{head}</head><body>{html}</body></html>"


router = APIRouter(include_in_schema=False)


@router.get(FRAME_PATH + "{frame_id}", response_class=HTMLResponse)
def show_frame(
    request: Request, frame_id: str = Path(min_length=20, max_length=64, pattern=r"^[\w-]+$")
) -> HTMLResponse:
    """One rendered preview, under its own strict policy; 404 once it has expired."""
    store: FrameStore = request.app.state.preview_frames
    html = store.open(frame_id)
    if html is None:
        return HTMLResponse(_GONE, status_code=404, headers=_HEADERS)
    return HTMLResponse(frame_document(html), headers=_HEADERS)
