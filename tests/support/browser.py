"""A browser-like client of the REST API: its own cookie jar, the session's CSRF token."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp

from kenkogo_master.api.cookies import COOKIE


def first_password(data_dir: Path) -> str:
    """Return the password generated for `admin` on first start."""
    return (data_dir / "admin-password").read_text(encoding="utf-8").strip()


class Browser:
    """One signed-in (or not) browser: cookies kept between requests, like a panel's tab."""

    def __init__(self, url: str) -> None:
        self.url = url
        # unsafe: the Master is on 127.0.0.1, and aiohttp keeps no cookies of IP hosts otherwise.
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf: str | None = None

    async def close(self) -> None:
        """Close the client."""
        await self.http.close()

    @property
    def secret(self) -> str | None:
        """Return the session cookie's value, if the browser holds one."""
        for cookie in self.http.cookie_jar:
            if cookie.key == COOKIE:
                return cookie.value
        return None

    async def login(self, name: str, password: str) -> tuple[int, Any]:
        """POST /api/v1/auth/login; keep the CSRF token of a session it starts."""
        status, body = await self.call(
            "POST", "/api/v1/auth/login", json={"name": name, "password": password}, csrf=False
        )
        if status == 200:
            self.csrf = body["csrf_token"]
        return status, body

    async def call(
        self, method: str, path: str, *, csrf: bool | str = True, **kwargs: Any
    ) -> tuple[int, Any]:
        """Send a request with the cookie and (unless `csrf` is False) the CSRF header."""
        headers = dict(kwargs.pop("headers", {}))
        if csrf is True and self.csrf is not None:
            headers["X-CSRF-Token"] = self.csrf
        elif isinstance(csrf, str):
            headers["X-CSRF-Token"] = csrf
        async with self.http.request(method, self.url + path, headers=headers, **kwargs) as resp:
            body = (
                await resp.json() if resp.content_type == "application/json" else await resp.text()
            )
            return resp.status, body
