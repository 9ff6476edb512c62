"""The admin panel at `/`: one page, its ES modules and styles under /static/.

The page and its files are public (they hold no data); everything they show comes from
/api/v1, which wants a session. Without one the panel shows its sign-in page only.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"


async def panel(_: web.Request) -> web.FileResponse:
    """Serve the panel's page; it is checked for changes on every load."""
    return web.FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})


def setup(app: web.Application) -> None:
    """Serve `/` and `/static/` (files under static/ only; no directory listings)."""
    app.router.add_get("/", panel)
    app.router.add_static("/static/", STATIC_DIR, show_index=False, follow_symlinks=False)
