"""Cross-site WebSocket hijacking and CSRF: browser Origins outside the allowed ones are refused."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
import socketio

from kenkogo_master.settings import SettingsError
from tests.conftest import RunningMaster, StartMaster, make_settings
from tests.support.browser import Browser, first_password

EVIL = "https://evil.example"
FRIEND = "https://panel.example.com:8443"
UNIVERSAL = {"X-Client-Role": "Universal", "X-Self-ID": "10001"}


def own(master: RunningMaster) -> str:
    """Return the Master's own origin as a browser on its panel would send it."""
    return master.url


async def _status(
    master: RunningMaster, path: str, origin: str | None, **headers: str
) -> tuple[int, Any]:
    sent = {**headers, **({"Origin": origin} if origin is not None else {})}
    async with master.http.get(master.url + path, headers=sent) as resp:
        body = await resp.json() if resp.content_type == "application/json" else None
        return resp.status, body


async def _poll_open(master: RunningMaster, **headers: str) -> tuple[int, dict[str, str]]:
    """Open an Engine.IO polling session with `headers`; close it again if it opened."""
    url = master.url + "/socket.io/?EIO=4&transport=polling"
    async with master.http.get(url, headers=headers) as resp:
        status, answer_headers, text = resp.status, dict(resp.headers), await resp.text()
    if status == 200:  # `0{"sid": ...}`: leave at once, or the stop waits for its ping timeout
        sid = json.loads(text[1:])["sid"]
        async with master.http.post(f"{url}&sid={sid}", data="1", headers=headers) as resp:
            assert resp.status == 200
    return status, answer_headers


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/ws", {}),
        ("/onebot/v11/ws", UNIVERSAL),
        ("/onebot/v11/app/ws?name=bot", {}),
        ("/socket.io/?EIO=4&transport=websocket", {}),
    ],
)
async def test_websocket_from_a_foreign_page_is_refused(
    master: RunningMaster, path: str, headers: dict[str, str]
) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await master.http.ws_connect(master.url + path, headers={**headers, "Origin": EVIL})
    assert refused.value.status == 403
    # Without an Origin (a bot) and from the Master's own pages the origin is no obstacle (the
    # forward OneBot endpoint then answers 503: no bot account is connected in this test).
    for origin in (None, own(master)):
        sent = {**headers, **({"Origin": origin} if origin else {})}
        try:
            ws = await master.http.ws_connect(master.url + path, headers=sent)
        except aiohttp.WSServerHandshakeError as exc:
            assert (path, exc.status) == ("/onebot/v11/app/ws?name=bot", 503)
        else:
            await ws.close()


async def test_refusal_is_a_translated_error(master: RunningMaster) -> None:
    status, body = await _status(master, "/socket.io/?EIO=4&transport=polling", EVIL)
    assert status == 403
    assert body["code"] == "origin_not_allowed"
    assert EVIL in body["message"]
    async with master.http.get(
        master.url + "/socket.io/?EIO=4&transport=polling",
        headers={"Origin": EVIL, "Accept-Language": "ja"},
    ) as resp:
        assert "allowed_origins" in (await resp.json())["message"]


@pytest.mark.parametrize("namespace", ["/app", "/driver"])
async def test_socketio_namespaces_refuse_a_foreign_page(
    master: RunningMaster, namespace: str
) -> None:
    sio = socketio.AsyncClient(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await sio.connect(
            master.url, namespaces=[namespace], headers={"Origin": EVIL}, wait_timeout=5
        )
    await sio.disconnect()
    ok = socketio.AsyncClient(reconnection=False)
    await ok.connect(
        master.url, namespaces=["/app"], headers={"Origin": own(master)}, wait_timeout=5
    )
    assert ok.connected
    await ok.disconnect()


@pytest.mark.parametrize("origin", ["null", "file://", "https://evil.example:443/path", "nonsense"])
async def test_odd_origins_are_foreign(master: RunningMaster, origin: str) -> None:
    status, body = await _status(master, "/socket.io/?EIO=4&transport=polling", origin)
    assert (status, body["code"]) == (403, "origin_not_allowed")


async def test_own_origin_with_a_default_port_matches(start_master: StartMaster) -> None:
    master = await start_master()
    status, _ = await _poll_open(master, Origin="HTTP://Panel.Example:80", Host="panel.example")
    assert status == 200


async def test_cookie_rest_and_event_stream_refuse_a_foreign_page(master: RunningMaster) -> None:
    browser = Browser(master.url)
    try:
        # Login CSRF: a foreign page cannot sign a browser in either.
        status, body = await browser.call(
            "POST",
            "/api/v1/auth/login",
            json={"name": "admin", "password": first_password(master.settings.storage.data_dir)},
            headers={"Origin": EVIL},
            csrf=False,
        )
        assert (status, body["code"]) == (403, "origin_not_allowed")
        assert browser.secret is None
        status, _ = await browser.login("admin", first_password(master.settings.storage.data_dir))
        assert status == 200
        status, body = await browser.call("GET", "/api/v1/apps", headers={"Origin": EVIL})
        assert (status, body["code"]) == (403, "origin_not_allowed")
        status, _ = await browser.call("GET", "/api/v1/apps", headers={"Origin": own(master)})
        assert status == 200
        status, body = await browser.call("POST", "/api/v1/auth/logout", headers={"Origin": EVIL})
        assert (status, body["code"]) == (403, "origin_not_allowed")
        async with browser.http.get(
            master.url + "/api/v1/events", headers={"Origin": EVIL}
        ) as resp:
            assert resp.status == 403
        async with browser.http.get(
            master.url + "/api/v1/events", headers={"Origin": own(master)}
        ) as resp:
            assert resp.status == 200
            assert resp.content_type == "text/event-stream"
    finally:
        await browser.close()


async def test_bearer_token_requests_are_not_origin_bound(master: RunningMaster) -> None:
    # A foreign page cannot borrow a bearer token the way it borrows a cookie.
    status, _ = await _status(master, "/api/v1/apps", EVIL, **master.auth())
    assert status == 200


async def test_configured_origins_are_accepted_with_cors_headers(
    start_master: StartMaster,
) -> None:
    master = await start_master(server__allowed_origins=f'["{FRIEND}"]')
    status, headers = await _poll_open(master, Origin=FRIEND)
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == FRIEND
    ws = await master.http.ws_connect(master.url + "/ws", headers={"Origin": FRIEND})
    await ws.close()
    status, _ = await _poll_open(master, Origin=own(master))
    assert status == 200  # the Master's own panel still works
    status, body = await _status(master, "/socket.io/?EIO=4&transport=polling", EVIL)
    assert (status, body["code"]) == (403, "origin_not_allowed")


@pytest.mark.parametrize(
    "value",
    ['["evil.example"]', '["ftp://x.example"]', '["https://x.example/path"]', '["https://"]'],
)
def test_a_bad_allowed_origin_is_a_configuration_error(tmp_path: Any, value: str) -> None:
    with pytest.raises(SettingsError, match="allowed_origins"):
        make_settings(tmp_path, server__allowed_origins=value)


def test_allowed_origins_are_normalized(tmp_path: Any) -> None:
    settings = make_settings(
        tmp_path, server__allowed_origins='["HTTPS://Panel.Example:443/", "http://[::1]:8080"]'
    )
    assert settings.server.allowed_origins == ["https://panel.example", "http://[::1]:8080"]
