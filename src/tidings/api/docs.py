"""The API's documentation page at /docs: Swagger UI from a pinned copy shipped with Tidings.

FastAPI's own /docs and /redoc load unpinned scripts and fonts from public CDNs, which many
installs cannot reach and which a strict Content-Security-Policy would have to trust. This
page loads only files this server serves, under a policy that allows nothing else.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

_OWN = Path(__file__).parent / "static"
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
    app.mount("/docs/static", StaticFiles(directory=swagger_ui_path), name="swagger-ui")
    app.mount("/docs/own", StaticFiles(directory=_OWN), name="docs-own")
    page = _PAGE.format(title=app.title)

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
