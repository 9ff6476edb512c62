"""Which browser origins may use the Master: its own, and `[server] allowed_origins`."""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web

from kenkogo_master.settings import normalize_origin


def own_origin(request: web.Request) -> str | None:
    """Return the origin the request came to: its scheme and `Host` header."""
    try:
        parts = urlsplit(f"//{request.host}")
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    return normalize_origin("https" if request.secure else "http", parts.hostname, port)


def origin_allowed(request: web.Request, origin: str, allowed: list[str]) -> bool:
    """Tell whether a browser page at `origin` may use this request's endpoint."""
    try:
        parts = urlsplit(origin.strip())
        normalized = normalize_origin(parts.scheme, parts.hostname or "", parts.port)
    except ValueError:
        return False
    if not parts.hostname or parts.scheme not in ("http", "https") or parts.path or parts.query:
        return False  # "null" (sandboxed frames, files) and anything no browser sends
    # The Master's own pages always may: the panel is served from here.
    return normalized == own_origin(request) or normalized in allowed
