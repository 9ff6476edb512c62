"""A day of work on `python main.py` at DEBUG leaves no secret in its log files or its ring.

Every kind of secret the Master takes is used, rightly and wrongly: the first-start password,
a changed password, a wrong one, session cookies and CSRF tokens, the configured API token, a
made API token and a wrong one, driver, app, OneBot and metrics tokens. Then every log file
and every record GET /api/v1/logs still gives are searched for each of them. (The whole test
run is searched as well, by the check tests/support/secrets.py adds to every run.)
"""

from __future__ import annotations

import secrets
from pathlib import Path

import aiohttp

from tests.conftest import ADMIN_TOKEN, StartMaster
from tests.support.browser import Browser, first_password
from tests.support.clients import SioApp, WsApp
from tests.support.flow_clients import SioDriver
from tests.support.onebot_client import OneBotClient
from tests.support.process import free_port, master_environ, running_master
from tests.support.secrets import BOOK


def secret(kind: str) -> str:
    """Return a fresh secret that names its kind (so that a finding says which it was)."""
    return f"{kind}-{secrets.token_urlsafe(12)}"


async def test_no_secret_used_reaches_a_log_file_or_the_ring(tmp_path: Path) -> None:
    used = {
        kind: secret(kind)
        for kind in ("api", "driver", "app", "onebot", "metrics", "wrong-password", "bad-token")
    }
    data_dir, port = tmp_path / "data", free_port()
    environ = master_environ(
        data_dir,
        port,
        KENKOGO_API__TOKEN=used["api"],
        KENKOGO_DRIVERS__TOKENS=f'["{used["driver"]}"]',
        KENKOGO_APPS__REQUIRE_TOKEN="true",
        KENKOGO_APPS__TOKENS=f'["{used["app"]}"]',
        KENKOGO_ONEBOT__ACCESS_TOKEN=used["onebot"],
        KENKOGO_METRICS__TOKEN=used["metrics"],
        KENKOGO_LOGGING__LEVEL="DEBUG",
    )
    api = {"Authorization": f"Bearer {used['api']}"}
    async with running_master(environ, port) as master:
        await master.wait_healthy()
        url = master.url
        used["first-password"] = first_password(data_dir)
        browser = Browser(url)
        try:
            status, _ = await browser.login("admin", used["wrong-password"])
            assert status == 401
            status, _ = await browser.login("admin", used["first-password"])
            assert status == 200 and browser.secret and browser.csrf
            used["first-session"], used["first-csrf"] = browser.secret, browser.csrf
            used["new-password"] = secret("new-password")
            change = {"old_password": used["first-password"], "new_password": used["new-password"]}
            status, changed = await browser.call("POST", "/api/v1/auth/password", json=change)
            assert status == 200, changed
            browser.csrf = changed["csrf_token"]
            assert browser.secret and browser.secret != used["first-session"]
            used["second-session"], used["second-csrf"] = browser.secret, browser.csrf
            status, made = await browser.call(
                "POST", "/api/v1/tokens", json={"name": "script", "scope": "admin"}
            )
            assert status == 201, made
            used["made-token"] = made["token"]
        finally:
            await browser.close()

        async with aiohttp.ClientSession() as http:
            for token, expected in ((used["made-token"], 200), (used["bad-token"], 401)):
                headers = {"Authorization": f"Bearer {token}"}
                async with http.get(url + "/api/v1/apps", headers=headers) as response:
                    assert response.status == expected
            metrics = {"Authorization": f"Bearer {used['metrics']}"}
            async with http.get(url + "/metrics", headers=metrics) as response:
                assert response.status == 200
            bot = await OneBotClient.connect(http, url, token=used["onebot"], token_in_query=True)
            await bot.ws.close()
            wrong = f"{url}/onebot/v11/ws?access_token={used['bad-token']}".replace("http", "ws", 1)
            try:
                await http.ws_connect(wrong, headers={"X-Client-Role": "Universal"})
            except aiohttp.WSServerHandshakeError as exc:
                assert exc.status == 403
            else:
                raise AssertionError("a wrong OneBot access token was let in")
            ws_app = await WsApp.connect(http, url, params={"token": used["app"]})
            answer = await ws_app.request("register", {"name": "echo", "version": "1.0.0"})
            assert answer["data"]["success"], answer
            await ws_app.ws.close()
        sio_app = await SioApp(url).connect(auth={"token": used["app"]})
        assert (await sio_app.register("weather"))["success"]
        await sio_app.close()
        driver = await SioDriver(url).connect(used["driver"])
        assert (await driver.register("qq", "10002"))["success"]
        await driver.client.disconnect()

        async with aiohttp.ClientSession(headers=api) as http:
            ring: list[str] = []
            cursor = None
            while True:
                query = {"limit": "1000", **({"cursor": cursor} if cursor else {})}
                async with http.get(url + "/api/v1/logs", params=query) as response:
                    assert response.status == 200
                    body = await response.json()
                ring += [str(item) for item in body["items"]]
                cursor = body["next_cursor"]
                if cursor is None:
                    break
        assert await master.stop() == 0

    records = "\n".join(ring)
    files = {path.name: path.read_text(encoding="utf-8") for path in (data_dir / "logs").iterdir()}
    # The logs do tell what happened: the test would prove nothing if they were empty.
    for happened in ("failed login as 'admin'", "'admin' signed in", "OneBot 10001 connected"):
        assert happened in records and happened in files["master.log"], happened
    assert "'DEBUG'" in records
    for kind, value in used.items():
        assert value not in records, f"the {kind} is in a record GET /api/v1/logs gave"
        for name, text in files.items():
            assert value not in text, f"the {kind} is in {name}"
    # The first-start secrets went to the console only, once.
    assert master.text.count(used["first-password"]) == 1


async def test_the_runs_check_notes_the_secrets_a_test_uses(start_master: StartMaster) -> None:
    master = await start_master(drivers__tokens='["noted-driver-token"]')
    browser = Browser(master.url)
    try:
        status, _ = await browser.login("admin", "noted-wrong-password")
        assert status == 401
        status, _ = await browser.login("admin", first_password(master.settings.storage.data_dir))
        assert status == 200 and browser.secret
        session = browser.secret
    finally:
        await browser.close()
    status, made = await master.api("POST", "/api/v1/tokens", json={"name": "n", "scope": "read"})
    assert status == 201
    for used in (ADMIN_TOKEN, "noted-driver-token", "noted-wrong-password", session, made["token"]):
        assert used in BOOK.secrets
