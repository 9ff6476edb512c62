"""apps.require_token: apps without one of apps.tokens are refused on both transports."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
import socketio

from tests.support.clients import SioApp, WsApp
from tests.support.texts import shown_text

APP_TOKEN = "app-secret-1"


@pytest.fixture
async def guarded(start_master: Any) -> Any:
    """A Master that demands app tokens."""
    return await start_master(apps__require_token="true", apps__tokens=f'["{APP_TOKEN}", "t2"]')


async def refused_sio(url: str, auth: dict[str, Any] | None) -> Any:
    """Try to connect to /app; return the data of the refusal."""
    app = SioApp(url)
    refusals: list[Any] = []
    app.client.on("connect_error", refusals.append, namespace="/app")
    with pytest.raises(socketio.exceptions.ConnectionError):
        await app.connect(auth)
    await app.client.disconnect()
    assert refusals, "the Master refused without saying why"
    return refusals[0]


@pytest.mark.parametrize(
    "auth",
    [
        pytest.param(None, id="no-auth"),
        pytest.param({}, id="empty-auth"),
        pytest.param({"token": "wrong"}, id="wrong-token"),
        pytest.param({"token": 12345}, id="token-not-a-string"),
        pytest.param({"token": APP_TOKEN + "x"}, id="token-with-suffix"),
    ],
)
async def test_socketio_app_without_a_right_token_is_refused(guarded: Any, auth: Any) -> None:
    refusal = await refused_sio(guarded.url, auth)

    # Socket.IO carries a refusal as {message, data}; `data` is the Master's {code, message}.
    message = shown_text(guarded, "error.unauthorized")
    assert refusal == {"message": message, "data": {"code": "unauthorized", "message": message}}
    _, listed = await guarded.api("GET", "/api/v1/apps")
    assert listed["count"] == 0


async def test_socketio_app_with_a_right_token_registers(guarded: Any) -> None:
    app = await SioApp(guarded.url).connect({"token": APP_TOKEN})
    try:
        ack = await app.register()
    finally:
        await app.close()

    assert ack["success"] is True


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-token"),
        pytest.param({"Authorization": "Bearer wrong"}, id="wrong-token"),
        pytest.param({"Authorization": f"Basic {APP_TOKEN}"}, id="wrong-scheme"),
    ],
)
async def test_websocket_app_without_a_right_token_is_refused(
    guarded: Any, headers: dict[str, str]
) -> None:
    ws_url = guarded.url.replace("http", "ws", 1) + "/ws"
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await guarded.http.ws_connect(ws_url, headers=headers)
    async with guarded.http.get(guarded.url + "/ws", headers=headers) as response:
        body = await response.json()

    assert refused.value.status == 401
    assert response.status == 401
    assert body == {"code": "unauthorized", "message": shown_text(guarded, "error.unauthorized")}


async def test_websocket_app_with_a_wrong_query_token_is_refused(guarded: Any) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await WsApp.connect(guarded.http, guarded.url, params={"token": "wrong"})

    assert refused.value.status == 401


@pytest.mark.parametrize(
    ("headers", "params"),
    [
        pytest.param({"Authorization": f"Bearer {APP_TOKEN}"}, {}, id="bearer-header"),
        pytest.param({}, {"token": "t2"}, id="query-token"),
    ],
)
async def test_websocket_app_with_a_right_token_registers(
    guarded: Any, headers: dict[str, str], params: dict[str, str]
) -> None:
    app = await WsApp.connect(guarded.http, guarded.url, headers=headers, params=params)
    try:
        answer = await app.request("register", {"name": "weather", "version": "1"})
    finally:
        await app.close()

    assert answer["data"]["success"] is True


async def test_tokens_are_optional_by_default(master: Any) -> None:
    app = await SioApp(master.url).connect({"token": "anything"})
    ws = await WsApp.connect(master.http, master.url)
    try:
        sio_ack = await app.register()
        ws_answer = await ws.request("register", {"name": "weather", "version": "1"})
    finally:
        await app.close()
        await ws.close()

    assert sio_ack["success"] is True
    assert ws_answer["data"]["success"] is True
