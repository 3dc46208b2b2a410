"""``/docs``: the API's Swagger UI, served whole by the gateway, so that it works offline.

FastAPI's own page loads Swagger UI from a CDN (unpinned, without SRI, with an inline script):
on a network without internet it is blank, and its scripts come from a third party on the
portal's origin. Here the page is ours and everything it loads is this origin's:

- Swagger UI's script, style sheet, icon and license come from the pinned ``swagger-ui-py``
  package (Swagger UI is Apache-2.0; its ``LICENSE`` is served beside it and linked from the
  page), under :data:`ASSETS`;
- the call that starts Swagger UI is ``docs_static/docs.js``, so the page's Content Security
  Policy needs no inline script (nor inline style, nor ``eval``);
- the page is never cached and may not be framed; ``/openapi.json`` stays where it was.
"""

from __future__ import annotations

import html
import importlib.metadata
import os
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.staticfiles import PathLike
from starlette.types import Scope

__all__ = ["ASSETS", "DOCS", "PAGE_HEADERS", "install"]

DOCS = "/docs"
#: Where the page's scripts, style sheets, icon and Swagger UI's license are served.
ASSETS = "/docs/assets"
SWAGGER_UI_PACKAGE = "swagger-ui-py"
HERE = Path(__file__).parent
#: The files of ``ASSETS``: ours (``docs_static``) and the few of Swagger UI's package the
#: page uses; nothing else of either folder is served.
SERVED = frozenset(
    {
        "docs.js",
        "docs.css",
        "swagger-ui-bundle.js",
        "swagger-ui.css",
        "favicon-32x32.png",
        "LICENSE",
    }
)
#: Headers of the page: never cached, never framed, only this origin's scripts (no inline
#: script, no eval), styles, images (Swagger UI's style sheet draws its icons as data: URLs)
#: and requests ("Try it out" calls this gateway).
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    ),
}


class _Assets(StaticFiles):
    """:data:`SERVED` from ``docs_static`` and Swagger UI's package folder, as static files
    (content type, ETag and Last-Modified, 304 on revalidation); any other name is 404."""

    def lookup_path(self, path: str) -> tuple[str, os.stat_result | None]:
        if path not in SERVED:
            return "", None
        return super().lookup_path(path)

    def file_response(
        self, full_path: PathLike, stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        if os.path.basename(full_path) == "LICENSE":  # no suffix to guess its type from
            response.headers["Content-Type"] = "text/plain; charset=utf-8"
        return response


def page(title: str, openapi_url: str) -> str:
    """The HTML of ``/docs``: Swagger UI's style sheet and script, ours, and no inline code."""
    version = importlib.metadata.version(SWAGGER_UI_PACKAGE)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{html.escape(title)} - Swagger UI</title>
  <link rel="icon" type="image/png" href="{ASSETS}/favicon-32x32.png">
  <link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
  <link rel="stylesheet" href="{ASSETS}/docs.css">
</head>
<body>
  <div id="swagger-ui" data-openapi-url="{html.escape(openapi_url)}"></div>
  <footer class="docs-notice">
    Swagger UI, from the {SWAGGER_UI_PACKAGE} {html.escape(version)} package:
    <a href="{ASSETS}/LICENSE">Apache License 2.0</a>.
    The API document: <a href="{html.escape(openapi_url)}">{html.escape(openapi_url)}</a>.
  </footer>
  <script src="{ASSETS}/swagger-ui-bundle.js"></script>
  <script src="{ASSETS}/docs.js"></script>
</body>
</html>
"""


def install(app: FastAPI) -> None:
    """Serve ``/docs`` and its assets on ``app`` (created with ``docs_url=None``)."""
    assert app.openapi_url is not None, "the docs page shows the app's OpenAPI document"
    body = page(app.title, app.openapi_url)

    @app.get(DOCS, include_in_schema=False)
    def docs() -> Response:
        return HTMLResponse(body, headers=PAGE_HEADERS)

    assets = _Assets(directory=HERE / "docs_static", packages=[("swagger_ui", "static")])
    app.mount(ASSETS, assets, name="docs-assets")
