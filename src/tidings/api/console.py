"""The console: the built web app at `/`, under a strict Content-Security-Policy.

The app is built from `ui/` by Vite into `tidings/console/` inside the package (`make` does
it when npm is there), so a wheel or an editable install serves whatever was last built.
Client routes (/workflows/cart_recovery) all answer with index.html; the API's own prefixes
never reach this router, so their 404 and 405 answers stay problem documents.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from fastapi.routing import APIRoute
from starlette.routing import Match
from starlette.types import Scope

#: No inline script or style, no framing, nothing fetched from anywhere but this server.
#: React Flow positions nodes through the CSSOM (element.style), which `style-src` allows.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
#: Vite names every asset by a hash of its content, so a name never changes meaning.
IMMUTABLE = "public, max-age=31536000, immutable"
#: index.html names the current assets: always ask again.
NO_CACHE = "no-cache"

#: First path segments that belong to the API, tracking and probes, never to the console.
API_PREFIXES = frozenset(
    {
        "api",
        "v1",
        "t",
        "u",
        "p",
        "preview-frames",
        "healthz",
        "readyz",
        "docs",
        "redoc",
        "openapi.json",
    }
)

_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".woff2": "font/woff2",
    ".json": "application/json",
    ".map": "application/json",
}

_NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tidings console not built</title></head>
<body><h1>The Tidings console is not built</h1>
<p>The API is running. To build the console, from a clone of Tidings with Node.js 20 or newer:</p>
<pre>make console</pre>
<p>(that runs <code>npm ci</code> and <code>npm run build</code> in <code>ui/</code>), then
restart <code>tidings serve</code>.</p></body></html>
"""


def _headers(cache: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": CSP,
        "Cache-Control": cache,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }


class ConsoleRoute(APIRoute):
    """A route that never claims a path under an API prefix, so the API's answers stand."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path: str = scope.get("path", "")
        if path.lstrip("/").split("/", 1)[0] in API_PREFIXES:
            return Match.NONE, {}
        return super().matches(scope)


def console_files() -> Traversable:
    """Where the built console lives inside the installed package."""
    return resources.files("tidings") / "console"


def make_router(root: Traversable | None = None) -> APIRouter:
    """The console's routes over the build in `root` (the package's own by default)."""
    base = root if root is not None else console_files()
    router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

    def index() -> Response:
        page = base / "index.html"
        if not page.is_file():
            return HTMLResponse(_NOT_BUILT, status_code=503, headers=_headers(NO_CACHE))
        return HTMLResponse(page.read_bytes(), headers=_headers(NO_CACHE))

    @router.api_route("/assets/{name}", methods=["GET", "HEAD"])
    def asset(name: str) -> Response:
        """A hashed build asset; an unknown name is a 404, never index.html."""
        suffix = name[name.rfind(".") :] if "." in name else ""
        target = base / "assets" / name
        if "/" in name or name.startswith(".") or suffix not in _TYPES or not target.is_file():
            return Response("not found", status_code=404, media_type="text/plain")
        return Response(target.read_bytes(), media_type=_TYPES[suffix], headers=_headers(IMMUTABLE))

    @router.api_route("/{path:path}", methods=["GET", "HEAD"])
    def page(path: str) -> Response:
        """Every client route is the app's one page; the app routes in the browser."""
        if path.startswith("assets/"):
            # Never index.html for a script: the browser would refuse it, confusingly.
            return Response("not found", status_code=404, media_type="text/plain")
        return index()

    return router
