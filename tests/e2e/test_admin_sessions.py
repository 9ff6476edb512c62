"""Signing in with an account, over the real server: cookie, CSRF, expiry, revocation, restarts."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from kenkogo_master.keys import LIVE_STREAMS
from tests.conftest import RunningMaster, StartMaster, stop_master
from tests.e2e.test_events import SseReader
from tests.support.browser import Browser, first_password


@pytest.fixture
async def browsers() -> AsyncIterator[list[Browser]]:
    """Browsers a test opens; closed at teardown."""
    opened: list[Browser] = []
    yield opened
    for browser in opened:
        await browser.close()


async def signed_in(master: RunningMaster, browsers: list[Browser]) -> Browser:
    """Return a browser signed in as `admin` with the first-start password."""
    browser = Browser(master.url)
    browsers.append(browser)
    status, body = await browser.login("admin", first_password(master.settings.storage.data_dir))
    assert status == 200, body
    return browser


async def audit_rows(master: RunningMaster, **filters: str) -> list[dict[str, Any]]:
    """Return the audit rows that match, newest first."""
    status, body = await master.api("GET", "/api/v1/audit", params={"limit": "500", **filters})
    assert status == 200, body
    rows: list[dict[str, Any]] = body["items"]
    return rows


async def test_login_sets_a_strict_http_only_cookie_and_logout_ends_it(
    master: RunningMaster, browsers: list[Browser]
) -> None:
    password = first_password(master.settings.storage.data_dir)
    async with master.http.post(
        master.url + "/api/v1/auth/login", json={"name": "admin", "password": password}
    ) as response:
        assert response.status == 200
        cookie = response.headers["Set-Cookie"]
        body = await response.json()
    assert cookie.startswith("kenkogo_session=")
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite", "path", "max-age"} <= attributes
    assert "SameSite=Strict" in cookie and "Path=/" in cookie
    assert "secure" not in attributes  # plain HTTP here; over TLS it is __Host- and Secure
    assert body["name"] == "admin" and body["password_generated"] is True
    assert len(body["csrf_token"]) >= 32
    assert body["created_ms"] < body["idle_expires_ms"] <= body["expires_ms"]

    browser = await signed_in(master, browsers)
    status, me = await browser.call("GET", "/api/v1/auth/me")
    assert status == 200 and me["kind"] == "account" and me["name"] == "admin", me
    assert me["csrf_token"] == browser.csrf and me["scope"] == "admin"
    status, apps = await browser.call("GET", "/api/v1/apps")
    assert status == 200 and apps["items"] == []

    status, out = await browser.call("POST", "/api/v1/auth/logout")
    assert (status, out) == (200, {"signed_out": True, "name": "admin"})
    assert browser.secret is None  # the answer told the browser to drop the cookie
    status, body = await browser.call("GET", "/api/v1/auth/me")
    assert status == 401 and body["code"] == "unauthorized"

    logins = await audit_rows(master, action="login")
    assert len(logins) == 2 and {row["result"] for row in logins} == {"ok"}
    assert logins[0]["actor"]["kind"] == "account" and logins[0]["actor"]["name"] == "admin"
    assert logins[0]["address"] == "127.0.0.1"
    [logout] = await audit_rows(master, action="logout")
    assert logout["result"] == "ok" and logout["actor"]["name"] == "admin"


async def test_a_bearer_token_still_works_and_has_no_session(master: RunningMaster) -> None:
    status, me = await master.api("GET", "/api/v1/auth/me")
    assert status == 200 and me == {
        "kind": "token",
        "id": "config",
        "name": "api.token",
        "scope": "admin",
    }
    status, out = await master.api("POST", "/api/v1/auth/logout")
    assert (status, out["signed_out"]) == (200, False)
    body = {"old_password": "whatever-it-was", "new_password": "something-longer"}
    status, refused = await master.api("POST", "/api/v1/auth/password", json=body)
    assert status == 403 and refused["code"] == "session_required"


async def test_a_wrong_name_and_a_wrong_password_are_answered_alike(
    master: RunningMaster, browsers: list[Browser], caplog: pytest.LogCaptureFixture
) -> None:
    browser = Browser(master.url)
    browsers.append(browser)
    caplog.set_level(logging.INFO)
    wrong_password = await browser.login("admin", "not-the-password-123")
    unknown_name = await browser.login("nobody", "not-the-password-456")
    assert wrong_password == unknown_name
    assert wrong_password[0] == 401 and wrong_password[1]["code"] == "invalid_credentials"
    assert browser.secret is None

    logged = caplog.text
    assert "failed login as 'admin' from 127.0.0.1" in logged
    assert "failed login as 'nobody' from 127.0.0.1" in logged
    assert "not-the-password" not in logged
    failed = await audit_rows(master, action="login")
    assert [(row["actor"]["name"], row["result"]) for row in failed] == [
        ("nobody", "invalid_credentials"),
        ("admin", "invalid_credentials"),
    ]
    assert all(row["actor"]["kind"] == "anonymous" for row in failed)
    assert "not-the-password" not in str(failed)


@pytest.mark.parametrize(
    "body",
    [
        {"name": "admin"},
        {"name": "", "password": "x"},
        {"name": "admin", "password": ""},
        {"name": "admin", "password": "x", "remember": True},
        {"name": 1, "password": "x"},
        {"name": "a" * 65, "password": "x"},
        {"name": "admin", "password": "x" * 1025},
        [],
    ],
)
async def test_bad_login_bodies_are_refused(master: RunningMaster, body: Any) -> None:
    async with master.http.post(master.url + "/api/v1/auth/login", json=body) as response:
        assert response.status == 400
        assert (await response.json())["code"] == "invalid_payload"


async def test_a_login_that_is_not_declared_json_is_refused(master: RunningMaster) -> None:
    password = first_password(master.settings.storage.data_dir)
    # What a form on another site could send: a text/plain body that reads as JSON.
    text = orjson.dumps({"name": "admin", "password": password}).decode()
    async with master.http.post(
        master.url + "/api/v1/auth/login", data=text, headers={"Content-Type": "text/plain"}
    ) as response:
        assert response.status == 400
        assert "Set-Cookie" not in response.headers
    async with master.http.post(master.url + "/api/v1/auth/login", data=b"{") as response:
        assert response.status == 400


async def test_a_session_ends_when_idle(start_master: StartMaster, browsers: list[Browser]) -> None:
    master = await start_master(admin__idle_timeout="1.0")
    browser = await signed_in(master, browsers)
    for _ in range(6):  # used every 0.3 s: alive well past one idle timeout
        await asyncio.sleep(0.3)
        status, _ = await browser.call("GET", "/api/v1/auth/me")
        assert status == 200
    await asyncio.sleep(1.3)
    status, body = await browser.call("GET", "/api/v1/auth/me")
    assert status == 401 and body["code"] == "unauthorized"
    assert browser.secret is None


async def test_a_session_ends_at_its_absolute_limit_however_busy(
    start_master: StartMaster, browsers: list[Browser]
) -> None:
    master = await start_master(admin__absolute_timeout="1.2", admin__idle_timeout="60")
    started = time.monotonic()
    browser = await signed_in(master, browsers)
    while True:
        status, _ = await browser.call("GET", "/api/v1/auth/me")
        if status != 200:
            break
        assert time.monotonic() - started < 3, "the session outlived its absolute limit"
        await asyncio.sleep(0.1)
    assert status == 401
    assert time.monotonic() - started >= 1.2


async def test_changing_the_password_ends_every_session(
    master: RunningMaster, browsers: list[Browser]
) -> None:
    data_dir = master.settings.storage.data_dir
    old = first_password(data_dir)
    changer, other = await signed_in(master, browsers), await signed_in(master, browsers)
    old_secret = changer.secret
    path = "/api/v1/auth/password"

    status, body = await changer.call(
        "POST", path, json={"old_password": "wrong-one-123", "new_password": "a-new-password-1"}
    )
    assert status == 403 and body["code"] == "wrong_password"
    status, body = await changer.call(
        "POST", path, json={"old_password": old, "new_password": "short"}
    )
    assert status == 400 and "at least 10 characters" in body["message"]
    status, body = await changer.call("POST", path, json={"old_password": old}, csrf=False)
    assert status == 403 and body["code"] == "csrf_failed"
    assert (data_dir / "admin-password").exists()

    status, renewed = await changer.call(
        "POST", path, json={"old_password": old, "new_password": "a-new-password-1"}
    )
    assert status == 200 and renewed["password_generated"] is False, renewed
    assert changer.secret != old_secret and renewed["csrf_token"] != changer.csrf
    changer.csrf = renewed["csrf_token"]
    assert (await changer.call("GET", "/api/v1/auth/me"))[0] == 200
    assert (await other.call("GET", "/api/v1/auth/me"))[0] == 401
    stale = Browser(master.url)
    browsers.append(stale)
    stale.http.cookie_jar.update_cookies({"kenkogo_session": old_secret or ""})
    assert (await stale.call("GET", "/api/v1/auth/me"))[0] == 401
    assert not (data_dir / "admin-password").exists()  # the generated password is gone

    assert (await stale.login("admin", old))[0] == 401
    assert (await stale.login("admin", "a-new-password-1"))[0] == 200
    rows = await audit_rows(master, action="change_password")
    assert [row["result"] for row in rows] == [
        "ok",
        "csrf_failed",
        "invalid_payload",
        "wrong_password",
    ]


async def test_sessions_survive_a_restart(
    start_master: StartMaster, browsers: list[Browser], tmp_path: Path
) -> None:
    data_dir = tmp_path / "kept"
    first = await start_master(data_dir)
    browser = await signed_in(first, browsers)
    await stop_master(first)

    second = await start_master(data_dir)
    browser.url = second.url  # another port; cookies do not care about ports
    status, me = await browser.call("GET", "/api/v1/auth/me")
    assert status == 200 and me["name"] == "admin" and me["csrf_token"] == browser.csrf
    status, held = await browser.call("POST", "/api/v1/app-names/echo/hold")
    assert status == 200 and held["held"] is True
    assert (data_dir / "admin-password").exists()  # no second account, no second password
    with sqlite3.connect(data_dir / "kenkogo.db") as connection:
        [(count,)] = connection.execute("SELECT count(*) FROM admin_accounts")
        stored = [row[0] for row in connection.execute("SELECT id FROM admin_sessions")]
    assert count == 1 and len(stored) == 1
    assert browser.secret is not None and browser.secret not in stored[0]  # only a hash


async def test_a_write_with_the_cookie_but_no_right_csrf_header_changes_nothing(
    master: RunningMaster, browsers: list[Browser]
) -> None:
    browser = await signed_in(master, browsers)
    for csrf in (False, "", "wrong", browser.csrf + "x" if browser.csrf else "x"):
        status, body = await browser.call("POST", "/api/v1/app-names/echo/hold", csrf=csrf)
        assert status == 403 and body["code"] == "csrf_failed", (csrf, body)
    status, names = await master.api("GET", "/api/v1/app-names")
    assert names["items"] == []  # never held
    status, body = await browser.call("POST", "/api/v1/tokens", json={"name": "x"}, csrf=False)
    assert status == 403
    status, tokens = await master.api("GET", "/api/v1/tokens")
    assert tokens["items"] == []

    status, held = await browser.call("POST", "/api/v1/app-names/echo/hold")
    assert status == 200 and held["held"] is True
    rows = await audit_rows(master, action="hold_name")
    assert [row["result"] for row in rows] == ["ok"] + ["csrf_failed"] * 4
    assert all(row["target"] == "echo" and row["actor"]["kind"] == "account" for row in rows)


async def test_failed_logins_are_slowed_then_refused_until_the_lockout_ends(
    start_master: StartMaster, browsers: list[Browser]
) -> None:
    master = await start_master(
        admin__login_free_attempts="2",
        admin__login_max_attempts="5",
        admin__login_delay="0.3",
        admin__login_max_delay="0.7",
        admin__lockout="2",
    )
    browser = Browser(master.url)
    browsers.append(browser)
    answers = []
    for attempt in range(10):
        started = time.monotonic()
        status, body = await browser.login("admin", f"wrong-password-{attempt}")
        answers.append((status, body["code"], time.monotonic() - started))
    assert [status for status, _, _ in answers] == [401] * 5 + [429] * 5
    assert {code for _, code, _ in answers[5:]} == {"too_many_attempts"}
    free, slowed, refused = answers[:2], answers[2:5], answers[5:]
    assert all(took < 0.3 for _, _, took in free), answers
    waited = [took for _, _, took in slowed]  # 0.3 doubled per failure, capped at 0.7
    assert waited[0] >= 0.3 and waited[1] >= 0.6 and waited[2] >= 0.7, answers
    assert all(took < 0.3 for _, _, took in refused), answers

    password = first_password(master.settings.storage.data_dir)
    async with browser.http.post(
        master.url + "/api/v1/auth/login", json={"name": "admin", "password": password}
    ) as response:
        assert response.status == 429  # even the right password, while locked out
        assert 1 <= int(response.headers["Retry-After"]) <= 2
    status, _ = await browser.login("someone-else", "also-wrong-pass")
    assert status == 429  # the address is locked out too
    await asyncio.sleep(2.1)
    status, body = await browser.login("admin", password)
    assert status == 200, body
    rows = await audit_rows(master, action="login")
    assert [row["result"] for row in reversed(rows)] == (
        ["invalid_credentials"] * 5 + ["too_many_attempts"] * 7 + ["ok"]
    )


async def test_the_event_stream_of_a_session_closes_when_it_ends(
    start_master: StartMaster, browsers: list[Browser]
) -> None:
    master = await start_master(admin__idle_timeout="1", events__keepalive="0.2")
    browser = await signed_in(master, browsers)
    other = await signed_in(master, browsers)

    async def ends_with(reader: SseReader) -> dict[str, str]:
        while True:
            fields = await reader.frame(timeout=5)
            if fields.get("event") == "dropped":
                return fields

    async with (
        browser.http.get(master.url + "/api/v1/events?topics=app") as mine,
        other.http.get(master.url + "/api/v1/events?topics=app") as idle,
        master.http.get(master.url + "/api/v1/events?topics=app", headers=master.auth()) as script,
    ):
        assert (mine.status, idle.status, script.status) == (200, 200, 200)
        status, _ = await browser.call("POST", "/api/v1/auth/logout")
        assert status == 200
        dropped = await ends_with(SseReader(mine))
        assert dropped["data"] == '{"reason":"session_ended"}'
        assert await mine.content.read() == b""  # and the stream is over
        # The other session ends by idling: its stream notices at a keep-alive.
        dropped = await ends_with(SseReader(idle))
        assert dropped["data"] == '{"reason":"session_ended"}'
        # A bearer token's stream has no session to end.
        await asyncio.sleep(0.5)
        assert not script.content.at_eof()
        assert len(master.app[LIVE_STREAMS]) == 1


async def test_a_raised_hash_cost_rehashes_the_password_at_the_next_login(
    start_master: StartMaster, browsers: list[Browser], tmp_path: Path
) -> None:
    data_dir = tmp_path / "kept"

    def stored_hash() -> str:
        with sqlite3.connect(data_dir / "kenkogo.db") as connection:
            [(hashed,)] = connection.execute("SELECT password_hash FROM admin_accounts")
        return str(hashed)

    await stop_master(await start_master(data_dir))
    assert stored_hash().startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    master = await start_master(data_dir, admin__hash_time_cost="3")
    await signed_in(master, browsers)
    assert stored_hash().startswith("$argon2id$v=19$m=19456,t=3,p=1$")
