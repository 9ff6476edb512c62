"""CSRF tokens and the session cookie's attributes, over TLS and not."""

from __future__ import annotations

from aiohttp import web

from kenkogo_master.admin.csrf import csrf_ok, csrf_token
from kenkogo_master.api.cookies import clear_session_cookie, set_session_cookie


def set_cookie(response: web.Response) -> str:
    """Return the Set-Cookie header's value the response will send."""
    return response.cookies.output(header="").strip()


def test_the_token_belongs_to_one_session_and_is_compared_exactly() -> None:
    token = csrf_token("secret-one")
    assert token == csrf_token("secret-one") and token != csrf_token("secret-two")
    assert "secret" not in token and len(token) >= 40
    assert csrf_ok("secret-one", token)
    for wrong in (None, "", token[:-1], token + "x", token.upper(), csrf_token("secret-two")):
        assert not csrf_ok("secret-one", wrong)


def test_over_tls_the_cookie_is_secure_and_host_prefixed() -> None:
    response = web.Response()
    set_session_cookie(response, True, "s3cret", 3600)
    header = set_cookie(response)
    assert header.startswith("__Host-kenkogo_session=s3cret;")
    parts = {part.strip() for part in header.split(";")}
    assert {"HttpOnly", "Secure", "Path=/", "SameSite=Strict", "Max-Age=3600"} <= parts
    assert not any(part.lower().startswith("domain") for part in parts)


def test_over_plain_http_the_cookie_has_no_prefix_and_no_secure() -> None:
    response = web.Response()
    set_session_cookie(response, False, "s3cret", 60)
    header = set_cookie(response)
    assert header.startswith("kenkogo_session=s3cret;")
    assert "Secure" not in header and "HttpOnly" in header and "SameSite=Strict" in header


def test_clearing_expires_the_cookie_with_the_same_attributes() -> None:
    response = web.Response()
    clear_session_cookie(response, True)
    header = set_cookie(response)
    assert header.startswith('__Host-kenkogo_session="";')
    assert "Max-Age=0" in header and "Secure" in header and "Path=/" in header
