"""Headers every answer carries so that a browser runs only the panel's own files, unframed."""

from __future__ import annotations

from aiohttp import web

# No inline script or style, nothing from elsewhere, no frames, no plugins. Images may be
# data: URLs (the API reference's icons are); the event stream and fetches go to this origin.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "Referrer-Policy": "same-origin",
}


# Over TLS, browsers are told to come back over TLS only (a year, as browsers' preload lists ask).
STRICT_TRANSPORT_SECURITY = "max-age=31536000"


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Add the headers to an answer about to be sent (every route, errors included)."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.secure:
        response.headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)


def setup(app: web.Application) -> None:
    """Add the headers to every answer of `app`."""
    app.on_response_prepare.append(add_security_headers)
