"""Rendered email previews, each at a URL of its own, for the console's preview frame.

A message's HTML must keep its inline styles (`style="…"`, `<style>`), which the console's
page policy (`style-src 'self'`) forbids. So the preview is not written into the page: the
render route keeps the HTML here under a fresh random id and answers with its URL, and the
console shows that URL in a sandboxed iframe. The frame's own policy allows inline styles
and images, and nothing else: no scripts, no fetches, no forms, an opaque origin.

The id is the credential. The iframe is sandboxed without `allow-same-origin`, so it has no
origin to send cookies from, and it needs none: the id is 256 random bits, minted only for
a caller the render route authenticated and authorised, and forgotten after
`FRAME_TTL`. Previews live in the memory of the process that rendered them (`tidings
serve` runs one); a restart forgets them, and the console renders again on the next edit.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse

from tidings.clock import Clock

#: Where frames are served: outside /api, whose routes all take a session or key, and among
#: the prefixes the console's catch-all leaves alone (console.API_PREFIXES).
FRAME_PATH = "/preview-frames/"
#: How long a rendered preview can be opened: the console asks for a new one on each edit.
FRAME_TTL = timedelta(minutes=10)
#: At most this many previews, and this many bytes of them, are kept; the oldest go first.
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


@dataclass(frozen=True)
class _Frame:
    html: str
    expires_at: datetime


class FrameStore:
    """Rendered previews by id, each until it expires; thread-safe (routes run in a pool)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._frames: OrderedDict[str, _Frame] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def keep(self, html: str) -> str:
        """Keep a rendered document; the URL path that shows it."""
        frame_id = secrets.token_urlsafe(32)
        frame = _Frame(html, self._clock.now() + FRAME_TTL)
        with self._lock:
            self._frames[frame_id] = frame
            self._bytes += len(html)
            self._forget_old()
        return FRAME_PATH + frame_id

    def open(self, frame_id: str) -> str | None:
        """The document kept under `frame_id`, or None when unknown or expired."""
        with self._lock:
            self._forget_old()
            frame = self._frames.get(frame_id)
        return frame.html if frame is not None else None

    def _forget_old(self) -> None:
        now = self._clock.now()
        while self._frames:
            oldest_id, oldest = next(iter(self._frames.items()))
            too_many = len(self._frames) > MAX_FRAMES or self._bytes > MAX_FRAME_BYTES
            if not too_many and oldest.expires_at > now:
                break
            del self._frames[oldest_id]
            self._bytes -= len(oldest.html)


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
