"""The API's documentation page at /docs: Swagger UI from a pinned copy shipped with Tidings.

FastAPI's own /docs and /redoc load unpinned scripts and fonts from public CDNs, which many
installs cannot reach and which a strict Content-Security-Policy would have to trust. This
page loads only files this server serves, under a policy that allows nothing else.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

_OWN = Path(__file__).parent / "static"
#: The two files of Swagger UI's bundle the page loads, and only those: the bundle also holds
#: its demo page (index.html, which loads the petstore's API from the internet) and an OAuth
#: redirect page with an inline script, which must not be pages of this server.
_SWAGGER_FILES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
}
#: Swagger UI sets inline style attributes, so styles (never scripts) may be inline.
DOCS_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} API</title>
<link rel="stylesheet" href="/docs/static/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script src="/docs/own/docs.js"></script>
</body></html>
"""


def install_docs(app: FastAPI) -> None:
    """Serve /docs from local files; the app must be built with docs_url=None, redoc_url=None."""
    app.mount("/docs/own", StaticFiles(directory=_OWN), name="docs-own")
    page = _PAGE.format(title=app.title)

    @app.get("/docs/static/{name}", include_in_schema=False)
    def swagger_file(name: str) -> Response:
        media_type = _SWAGGER_FILES.get(name)
        if media_type is None:
            return Response("not found", status_code=404, media_type="text/plain")
        return FileResponse(
            Path(swagger_ui_path) / name,
            media_type=media_type,
            headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "public, max-age=3600"},
        )

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(
            page,
            headers={
                "Content-Security-Policy": DOCS_POLICY,
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
            },
        )
