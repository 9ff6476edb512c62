"""The landing page at `/` and its static files: where to go, and whether the Master is up."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"


async def landing(_: web.Request) -> web.FileResponse:
    """Serve the landing page."""
    return web.FileResponse(STATIC_DIR / "index.html")


def setup(app: web.Application) -> None:
    """Serve `/` and `/static/` (files under static/ only; no directory listings)."""
    app.router.add_get("/", landing)
    app.router.add_static("/static/", STATIC_DIR, show_index=False, follow_symlinks=False)
