"""The OpenAPI document at /api/v1/openapi.json, and Swagger UI over it at /api/v1/docs.

Swagger UI comes from the pinned `swagger-ui-bundle-v2` package and is served from where it is
installed (under /swagger-ui/); the page and the script that starts it are the panel's own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web
from swagger_ui_bundle import swagger_ui_path

from kenkogo_master import __version__
from kenkogo_master.api.openapi_build import build_document
from kenkogo_master.api.openapi_spec import DOCS, PATH_DEFAULTS, TAGS
from kenkogo_master.api.routes_panel import STATIC_DIR
from kenkogo_master.protocol import codec

DESCRIPTION = """\
The REST API of KenkoGo Master: accounts and the audit trail, apps, messages, drivers, \
translations, tokens, the file area, statistics, traces, system data and the live event stream.

Every request under /api/v1 (but this document, its page and the login) carries \
`Authorization: Bearer <token>`, or the session cookie that POST /api/v1/auth/login sets. A \
`read` token may use every GET; everything else needs an `admin` token or a session. With a \
session, every request but a GET must carry the session's CSRF token as `X-CSRF-Token` \
(else 403 `csrf_failed`).

Every failure is answered with a JSON object `{code, message}`: `code` is stable, \
`message` is translated by Accept-Language. Bad input is answered 400, unknown ids 404.

Times are epoch milliseconds (`*_ms`) unless named otherwise; where a parameter takes a \
time, an RFC 3339 time such as 2026-03-01T08:00:00Z is accepted too."""


def document(app: web.Application) -> dict[str, Any]:
    """Return the OpenAPI 3.1 document of the routes `app` serves."""
    info = {"title": "KenkoGo Master API", "version": __version__, "description": DESCRIPTION}
    return build_document(app.router.routes(), DOCS, info, TAGS, PATH_DEFAULTS)


DOCS_PAGE = STATIC_DIR / "api-docs" / "index.html"
SWAGGER_UI_DIR = Path(str(swagger_ui_path))


class Published:
    """The document, made on first request, when the router is complete."""

    def __init__(self) -> None:
        self._json: bytes | None = None

    def json(self, app: web.Application) -> bytes:
        """Return the document as JSON bytes."""
        if self._json is None:
            self._json = codec.dumpb(document(app))
        return self._json


PUBLISHED = web.AppKey("openapi", Published)
routes = web.RouteTableDef()


@routes.get("/api/v1/openapi.json")
async def openapi_json(request: web.Request) -> web.Response:
    """Return this document (no token needed)."""
    body = request.app[PUBLISHED].json(request.app)
    return web.Response(body=body, content_type="application/json")


@routes.get("/api/v1/docs")
async def docs_page(_: web.Request) -> web.FileResponse:
    """Return Swagger UI over this document (no token needed; "try it out" uses the session)."""
    return web.FileResponse(DOCS_PAGE, headers={"Cache-Control": "no-cache"})


def setup(app: web.Application) -> None:
    """Serve the document, Swagger UI's files and the page that starts it."""
    app[PUBLISHED] = Published()
    app.router.add_routes(routes)
    app.router.add_static("/swagger-ui/", SWAGGER_UI_DIR, show_index=False, follow_symlinks=False)
