"""The panel's server side: its files and headers, its texts, and what its pages rely on."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from tests.conftest import RunningMaster, StartMaster
from tests.e2e.test_events import stream
from tests.support.clients import SioApp
from tests.support.flow_clients import SioDriver, start_app

CSP = re.compile(r"default-src 'self'.*frame-ancestors 'none'")


async def get(master: RunningMaster, path: str, **kwargs: Any) -> tuple[int, dict[str, str], str]:
    async with master.http.get(master.url + path, **kwargs) as response:
        return response.status, dict(response.headers), await response.text()


async def test_the_panel_and_its_files_are_served_under_a_strict_policy(
    master: RunningMaster,
) -> None:
    status, headers, page = await get(master, "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert CSP.search(headers["Content-Security-Policy"])
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cache-Control"] == "no-cache"
    # No inline script or style: everything comes from /static/.
    assert re.findall(r"<script[^>]*>", page) == ['<script type="module" src="/static/js/main.js">']
    assert "<style" not in page and "style=" not in page
    for asset, kind in (("/static/js/main.js", "javascript"), ("/static/css/panel.css", "css")):
        status, headers, _ = await get(master, asset)
        assert status == 200 and kind in headers["Content-Type"], asset
        assert headers["X-Content-Type-Options"] == "nosniff"
    for path in ("/static/../main.py", "/static/%2e%2e/main.py", "/static/", "/static/js/"):
        status, _, _ = await get(master, path)
        assert status in (403, 404), path
    # The rest keeps working, with the same headers.
    status, headers, body = await get(master, "/health")
    assert status == 200 and json.loads(body)["status"] == "ok"
    assert headers["X-Content-Type-Options"] == "nosniff"
    status, headers, _ = await get(master, "/api/v1/apps")
    assert status == 401 and CSP.search(headers["Content-Security-Policy"])


async def test_the_api_reference_is_swagger_ui_from_the_installed_package(
    master: RunningMaster,
) -> None:
    status, headers, page = await get(master, "/api/v1/docs")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert CSP.search(headers["Content-Security-Policy"])
    scripts = re.findall(r'<script src="([^"]+)"></script>', page)
    assert scripts == ["/swagger-ui/swagger-ui-bundle.js", "/static/api-docs/api-docs.js"]
    assert "<script>" not in page and "style=" not in page
    for asset in (*scripts, "/swagger-ui/swagger-ui.css"):
        status, _, body = await get(master, asset)  # no token: the reference is public
        assert status == 200 and body, asset
    status, _, _ = await get(master, "/swagger-ui/../../__init__.py")
    assert status in (403, 404)


async def test_the_sign_in_texts_are_public_and_the_rest_needs_a_session(
    master: RunningMaster,
) -> None:
    status, _, body = await get(master, "/api/v1/i18n/panel/login")
    assert status == 200
    login = json.loads(body)
    assert login["locale"] == "en" and login["default_locale"] == "en"
    assert {item["locale"] for item in login["locales"]} >= {"en", "zh_Hans", "ja"}
    assert login["texts"]["panel.login.title"] == "Sign in"
    assert all(key.startswith(("panel.login.", "panel.shell.")) for key in login["texts"])
    status, _, body = await get(master, "/api/v1/i18n/panel")
    assert (status, json.loads(body)["code"]) == (401, "unauthorized")
    status, every = await master.api("GET", "/api/v1/i18n/panel")
    assert status == 200 and every["texts"]["panel.apps.kick"] == "Kick"
    assert set(login["texts"]) < set(every["texts"])
    assert all(key.startswith("panel.") for key in every["texts"])


async def test_panel_texts_follow_the_choice_then_the_browser_with_overrides(
    master: RunningMaster,
) -> None:
    path = "/api/v1/i18n/panel/login"
    _, _, body = await get(master, path, headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert json.loads(body)["locale"] == "zh_Hans"
    assert json.loads(body)["texts"]["panel.login.title"] == "登录"
    # The operator's choice wins over the browser's languages.
    _, _, body = await get(master, path + "?locale=ja", headers={"Accept-Language": "zh-CN"})
    assert json.loads(body)["texts"]["panel.login.title"] == "ログイン"
    # A locale nobody offers falls back to the default.
    _, _, body = await get(master, path + "?locale=fr")
    assert json.loads(body)["locale"] == "en"
    # An operator's override is what the panel shows, at once.
    status, _ = await master.api(
        "PUT", "/api/v1/i18n/texts/ja/panel.login.title", json={"text": "サインイン"}
    )
    assert status == 200
    _, _, body = await get(master, path + "?locale=ja")
    assert json.loads(body)["texts"]["panel.login.title"] == "サインイン"
    _, every = await master.api("GET", "/api/v1/i18n/panel?locale=ja")
    assert every["texts"]["panel.login.title"] == "サインイン"
    for query in ("?locale=", "?locale=not a locale", "?locale=x" * 40, "?lang=ja"):
        status, _, body = await get(master, path + query)
        assert (status, json.loads(body)["code"]) == (400, "invalid_payload"), query


async def test_a_kick_tells_the_app_the_operators_reason(master: RunningMaster) -> None:
    app = SioApp(master.url)
    await app.connect()
    await app.register("weather", locale="zh_Hans")
    instance = (await master.api("GET", "/api/v1/apps"))[1]["items"][0]
    assert instance["in_flight"] == 0
    bad_bodies: list[tuple[Any, str]] = [
        ({"reason": "x" * 201}, "invalid_payload"),
        ({"reason": 7}, "invalid_payload"),
        ({"why": "no"}, "invalid_payload"),
        ("not json", "invalid_json"),
    ]
    for body, code in bad_bodies:
        kwargs = {"json": body} if not isinstance(body, str) else {"data": body}
        status, answer = await master.api("POST", f"/api/v1/apps/{instance['id']}/kick", **kwargs)
        assert (status, answer["code"]) == (400, code), body
    assert app.connected  # nothing happened
    status, _ = await master.api(
        "POST", f"/api/v1/apps/{instance['id']}/kick", json={"reason": "  moving hosts  "}
    )
    assert status == 200
    error = await app.next_error()
    assert error == {"code": "kicked", "message": "已被管理员断开连接：moving hosts"}
    await app.wait_disconnected()
    # Without a body the app hears the plain message, as before.
    other = SioApp(master.url)
    await other.connect()
    await other.register("weather")
    instance = (await master.api("GET", "/api/v1/apps"))[1]["items"][0]
    status, _ = await master.api("POST", f"/api/v1/apps/{instance['id']}/kick")
    assert status == 200
    assert (await other.next_error())["message"] == "Disconnected by an operator"
    await app.close()
    await other.close()


async def test_load_and_system_history_for_the_live_pages(start_master: StartMaster) -> None:
    master = await start_master(stats__system_interval="0.2", drivers__tokens='["driver-token"]')
    async with stream(master, "?topics=app.load") as reader:
        app = await start_app(master.url, "slow")
        app.answer = app.never_ack
        driver = await SioDriver(master.url).connect()
        await driver.register()
        await driver.send("hello")
        load = await reader.event("app.load")
        instance = (await master.api("GET", "/api/v1/apps"))[1]["items"][0]
        assert load["data"]["in_flight"] == {instance["id"]: 1}
        assert instance["in_flight"] == 1
        app.release.set()
        load = await reader.event("app.load")
        assert load["data"]["in_flight"] == {instance["id"]: 0}
        await app.close()
        await driver.close()
    await asyncio.sleep(0.5)
    status, history = await master.api("GET", "/api/v1/system/history")
    assert status == 200 and history["interval_s"] == 0.2
    assert history["count"] == len(history["items"]) >= 2
    times = [item["time_ms"] for item in history["items"]]
    assert times == sorted(times)
    assert {"cpu_percent", "apps", "messages_per_second"} <= set(history["items"][-1])
