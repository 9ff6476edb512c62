"""The session cookie: HttpOnly, SameSite=Strict, and over TLS Secure with the `__Host-` prefix."""

from __future__ import annotations

from aiohttp import web

COOKIE = "kenkogo_session"
# Over TLS the browser accepts a __Host- cookie only with Secure, Path=/ and no Domain, so no
# other host or path (and no plain-HTTP page) can set or shadow it.
HOST_COOKIE = "__Host-" + COOKIE


def cookie_name(secure: bool) -> str:
    """Return the session cookie's name for a request over TLS or not."""
    return HOST_COOKIE if secure else COOKIE


def session_secret(request: web.Request) -> str | None:
    """Return the session secret the request's cookie carries, if any."""
    return request.cookies.get(cookie_name(request.secure)) or None


def set_session_cookie(
    response: web.StreamResponse, secure: bool, secret: str, max_age: int
) -> None:
    """Give the browser its session cookie."""
    response.set_cookie(
        cookie_name(secure),
        secret,
        max_age=max_age,
        path="/",
        secure=secure,
        httponly=True,
        samesite="Strict",
    )


def clear_session_cookie(response: web.StreamResponse, secure: bool) -> None:
    """Tell the browser to drop its session cookie."""
    response.del_cookie(
        cookie_name(secure), path="/", secure=secure, httponly=True, samesite="Strict"
    )
