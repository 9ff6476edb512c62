"""CSRF tokens of browser sessions: derived from the session's secret, compared in constant time.

The token is an HMAC of the cookie's secret, so it needs no storage, survives a restart with its
session, and only someone who holds the cookie (or was told the token) can know it. A page of
another site can make the browser send the cookie, but cannot read the token to send with it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

HEADER = "X-CSRF-Token"
_LABEL = b"kenkogo csrf token v1"


def csrf_token(secret: str) -> str:
    """Return the CSRF token of the session whose cookie holds `secret`."""
    digest = hmac.new(secret.encode(), _LABEL, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def csrf_ok(secret: str, presented: str | None) -> bool:
    """Tell whether a request's header carries the session's CSRF token."""
    if not presented:
        return False
    return hmac.compare_digest(presented.encode(), csrf_token(secret).encode())
