"""Every state-changing route, found in the app's route table: a read token and a cookie without
the CSRF token are refused, so a route added later is covered without touching this test."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from kenkogo_master.api.auth import PUBLIC_PATHS, SAFE_METHODS
from tests.conftest import RunningMaster
from tests.support.browser import Browser, first_password

PLACEHOLDER = re.compile(r"\{[^}]*\}")


def state_changing_routes(master: RunningMaster) -> list[tuple[str, str]]:
    """Return (method, path with placeholders filled) of every non-safe /api route."""
    found = []
    for route in master.app.router.routes():
        template = route.resource.canonical if route.resource is not None else ""
        if route.method in SAFE_METHODS or not template.startswith("/api/"):
            continue
        if template in PUBLIC_PATHS:
            continue
        found.append((route.method, PLACEHOLDER.sub("x", template)))
    return sorted(found)


@pytest.fixture
async def browser(master: RunningMaster) -> AsyncIterator[Browser]:
    """A browser signed in as admin."""
    signed_in = Browser(master.url)
    status, _ = await signed_in.login("admin", first_password(master.settings.storage.data_dir))
    assert status == 200
    yield signed_in
    await signed_in.close()


async def test_the_walk_sees_the_routes_that_change_state(master: RunningMaster) -> None:
    routes = state_changing_routes(master)
    assert ("POST", "/api/v1/apps/x/pause") in routes
    assert ("DELETE", "/api/v1/tokens/x") in routes
    assert ("POST", "/api/v1/auth/password") in routes
    assert ("POST", "/api/v1/auth/login") not in routes  # reachable without any credentials
    assert len(routes) >= 18


async def test_a_read_token_is_refused_every_state_change(master: RunningMaster) -> None:
    status, created = await master.api("POST", "/api/v1/tokens", json={"name": "ro"})
    assert status == 201 and created["scope"] == "read"
    routes = state_changing_routes(master)
    for method, path in routes:
        async with master.http.request(
            method, master.url + path, headers=master.auth(created["token"]), json={}
        ) as response:
            body = await response.json()
            assert (response.status, body["code"]) == (403, "forbidden"), (method, path, body)
    status, audit = await master.api("GET", "/api/v1/audit", params={"actor": "ro", "limit": "500"})
    assert len(audit["items"]) == len(routes)
    assert {row["result"] for row in audit["items"]} == {"forbidden"}


async def test_a_session_without_its_csrf_token_is_refused_every_state_change(
    master: RunningMaster, browser: Browser
) -> None:
    for method, path in state_changing_routes(master):
        for csrf in (False, "forged"):
            status, body = await browser.call(method, path, csrf=csrf, json={})
            assert (status, body["code"]) == (403, "csrf_failed"), (method, path, csrf, body)
    status, me = await browser.call("GET", "/api/v1/auth/me")
    assert (
        status == 200 and me["name"] == "admin"
    )  # none of that ended the session (logout was refused too)
