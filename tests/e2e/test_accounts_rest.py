"""Admin accounts over REST: list, create, disable, enable — bad input, scopes, rules, the trail."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.conftest import RunningMaster, StartMaster
from tests.e2e.test_events import SseReader
from tests.support.browser import Browser, first_password

PASSWORD = "correct horse battery"


@pytest.fixture
async def browsers() -> AsyncIterator[list[Browser]]:
    """Browsers a test opens; closed at teardown."""
    opened: list[Browser] = []
    yield opened
    for browser in opened:
        await browser.close()


async def sign_in(
    master: RunningMaster, browsers: list[Browser], name: str = "admin", password: str = ""
) -> Browser:
    """Return a browser signed in as `name`."""
    browser = Browser(master.url)
    browsers.append(browser)
    password = password or first_password(master.settings.storage.data_dir)
    status, body = await browser.login(name, password)
    assert status == 200, body
    return browser


async def audit(master: RunningMaster, **filters: str) -> list[dict[str, Any]]:
    """Return the audit rows that match, newest first."""
    status, body = await master.api("GET", "/api/v1/audit", params={"limit": "500", **filters})
    assert status == 200, body
    rows: list[dict[str, Any]] = body["items"]
    return rows


async def test_create_list_disable_enable_with_a_token(master: RunningMaster) -> None:
    status, listing = await master.api("GET", "/api/v1/accounts")
    assert status == 200
    assert [item["name"] for item in listing["items"]] == ["admin"]
    assert listing["items"][0]["password_generated"] is True and listing["count"] == 1

    status, created = await master.api(
        "POST", "/api/v1/accounts", json={"name": "bob", "password": PASSWORD}
    )
    assert status == 201, created
    assert created["name"] == "bob" and created["disabled"] is False
    assert created["password_generated"] is False and created["last_login_ms"] is None
    assert "password" not in created and "password_hash" not in created
    status, listing = await master.api("GET", "/api/v1/accounts")
    assert [item["name"] for item in listing["items"]] == ["admin", "bob"]

    status, body = await master.api("POST", "/api/v1/accounts/bob/disable")
    assert status == 200, body
    assert body["disabled"] is True and body["sessions_ended"] == 0
    bob = Browser(master.url)
    try:
        status, body = await bob.login("bob", PASSWORD)
        assert status == 401 and body["code"] == "invalid_credentials"
        # Disabling a disabled account changes nothing.
        status, body = await master.api("POST", "/api/v1/accounts/bob/disable")
        assert status == 200 and body["disabled"] is True
        status, body = await master.api("POST", "/api/v1/accounts/bob/enable")
        assert status == 200 and body["disabled"] is False and body["sessions_ended"] == 0
        status, body = await bob.login("bob", PASSWORD)
        assert status == 200, body
    finally:
        await bob.close()

    actions = [
        (row["action"], row["target"], row["result"])
        for row in await audit(master)
        if row["action"].endswith("_account")
    ]
    assert actions == [
        ("enable_account", "bob", "ok"),
        ("disable_account", "bob", "ok"),
        ("disable_account", "bob", "ok"),
        ("create_account", "bob", "ok"),
        ("create_account", "admin", "ok"),  # by the Master itself, at first start
    ], actions
    row = (await audit(master, action="create_account"))[0]
    assert row["actor"]["kind"] == "token" and PASSWORD not in str(row)


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"name": "bob"}, "password"),
        ({"password": PASSWORD}, "name"),
        ({"name": "", "password": PASSWORD}, "name"),
        ({"name": "-bob", "password": PASSWORD}, "name"),
        ({"name": "bob smith", "password": PASSWORD}, "name"),
        ({"name": "b" * 65, "password": PASSWORD}, "name"),
        ({"name": "bob", "password": "short"}, "password"),
        ({"name": "bob", "password": 12345678910}, "password"),
        ({"name": "bob", "password": PASSWORD, "admin": True}, "admin"),
        ([], ""),
    ],
)
async def test_bad_input_is_refused_and_nothing_is_created(
    master: RunningMaster, body: Any, detail: str
) -> None:
    status, answer = await master.api("POST", "/api/v1/accounts", json=body)
    assert status == 400 and answer["code"] == "invalid_payload", answer
    assert detail in answer["message"]
    status, listing = await master.api("GET", "/api/v1/accounts")
    assert [item["name"] for item in listing["items"]] == ["admin"]


async def test_a_taken_name_an_unknown_account_and_a_bad_path(master: RunningMaster) -> None:
    status, body = await master.api(
        "POST", "/api/v1/accounts", json={"name": "admin", "password": PASSWORD}
    )
    assert status == 409 and body["code"] == "already_exists", body
    for verb in ("disable", "enable"):
        status, body = await master.api("POST", f"/api/v1/accounts/nobody/{verb}")
        assert status == 404 and body["code"] == "not_found", body
        status, body = await master.api("POST", f"/api/v1/accounts/-x/{verb}")
        assert status == 400 and body["code"] == "invalid_payload", body
    assert (await audit(master, action="create_account"))[0]["result"] == "already_exists"
    refused = await audit(master, action="disable_account", target="nobody")
    assert [row["result"] for row in refused] == ["not_found"]


async def test_a_read_token_may_not_even_list(master: RunningMaster) -> None:
    status, token = await master.api(
        "POST", "/api/v1/tokens", json={"name": "reader", "scope": "read"}
    )
    assert status == 201
    read = {"Authorization": f"Bearer {token['token']}"}
    for method, path, body in (
        ("GET", "/api/v1/accounts", None),
        ("POST", "/api/v1/accounts", {"name": "eve", "password": PASSWORD}),
        ("POST", "/api/v1/accounts/admin/disable", None),
        ("POST", "/api/v1/accounts/admin/enable", None),
    ):
        async with master.http.request(method, master.url + path, headers=read, json=body) as r:
            answer = await r.json()
            assert r.status == 403 and answer["code"] == "forbidden", (path, answer)
    status, listing = await master.api("GET", "/api/v1/accounts")
    assert [item["name"] for item in listing["items"]] == ["admin"]
    refused = await audit(master, actor="reader")
    assert {row["action"] for row in refused} == {
        "create_account",
        "disable_account",
        "enable_account",
    }
    assert {row["result"] for row in refused} == {"forbidden"}


async def test_the_last_enabled_account_and_ones_own_cannot_be_disabled(
    master: RunningMaster, browsers: list[Browser]
) -> None:
    status, body = await master.api("POST", "/api/v1/accounts/admin/disable")
    assert status == 409 and body["code"] == "last_account", body
    assert "admin" in body["message"]
    await master.api("POST", "/api/v1/accounts", json={"name": "bob", "password": PASSWORD})
    admin = await sign_in(master, browsers)
    # Signed in as admin: admin may not disable itself, even with bob enabled.
    status, body = await admin.call("POST", "/api/v1/accounts/admin/disable")
    assert status == 409 and body["code"] == "own_account", body
    # The same refusal in the caller's language.
    status, body = await admin.call(
        "POST", "/api/v1/accounts/admin/disable", headers={"Accept-Language": "ja"}
    )
    assert status == 409 and "サインイン中" in body["message"], body
    # Bob disables admin; then bob is the last one and cannot be disabled by anyone.
    bob = await sign_in(master, browsers, "bob", PASSWORD)
    status, body = await bob.call("POST", "/api/v1/accounts/admin/disable")
    assert status == 200 and body["sessions_ended"] == 1, body
    status, body = await master.api("POST", "/api/v1/accounts/bob/disable")
    assert status == 409 and body["code"] == "last_account", body
    # A session of a disabled account is gone at once.
    status, body = await admin.call("GET", "/api/v1/auth/me")
    assert status == 401, body
    # The first-start password file goes with the account it belonged to.
    assert not (master.settings.storage.data_dir / "admin-password").exists()
    results = [
        (row["actor"]["name"], row["target"], row["result"])
        for row in await audit(master, action="disable_account")
    ]
    assert results == [
        ("api.token", "bob", "last_account"),
        ("bob", "admin", "ok"),
        ("admin", "admin", "own_account"),
        ("admin", "admin", "own_account"),
        ("api.token", "admin", "last_account"),
    ], results


async def test_two_disables_at_once_leave_one_account_enabled(master: RunningMaster) -> None:
    for name in ("bob", "carol"):
        status, _ = await master.api(
            "POST", "/api/v1/accounts", json={"name": name, "password": PASSWORD}
        )
        assert status == 201
    await master.api("POST", "/api/v1/accounts/admin/disable")
    answers = await asyncio.gather(
        master.api("POST", "/api/v1/accounts/bob/disable"),
        master.api("POST", "/api/v1/accounts/carol/disable"),
    )
    assert sorted(status for status, _ in answers) == [200, 409], answers
    status, listing = await master.api("GET", "/api/v1/accounts")
    assert [item["disabled"] for item in listing["items"]].count(False) == 1


async def test_disabling_ends_the_accounts_sessions_and_event_streams(
    start_master: StartMaster, browsers: list[Browser]
) -> None:
    master = await start_master(events__keepalive="0.2")
    await master.api("POST", "/api/v1/accounts", json={"name": "bob", "password": PASSWORD})
    bob = await sign_in(master, browsers, "bob", PASSWORD)
    other = await sign_in(master, browsers, "bob", PASSWORD)
    async with bob.http.get(master.url + "/api/v1/events?topics=app") as response:
        assert response.status == 200
        reader = SseReader(response)
        await reader.event("ready")
        status, body = await master.api("POST", "/api/v1/accounts/bob/disable")
        assert status == 200 and body["sessions_ended"] == 2, body
        dropped = await reader.event("dropped")
        assert dropped["reason"] == "session_ended", dropped
    for browser in (bob, other):
        status, body = await browser.call("GET", "/api/v1/auth/me")
        assert status == 401 and body["code"] == "unauthorized"
    # Enabled again, bob signs in anew with the same password.
    status, _ = await master.api("POST", "/api/v1/accounts/bob/enable")
    assert status == 200
    await sign_in(master, browsers, "bob", PASSWORD)
