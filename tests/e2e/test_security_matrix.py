"""The authorization matrix: every route and socket event against every kind of credential.

The expectations are written out below, one entry per route; a route the application serves
without an entry here (or one the OpenAPI document describes differently) fails the test, so a
new endpoint cannot go out without someone deciding who may call it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from enum import Enum
from typing import Any

import aiohttp
import pytest
import socketio

from kenkogo_master.api.cookies import COOKIE
from kenkogo_master.keys import SIO
from kenkogo_master.transport import app_events
from tests.conftest import ADMIN_TOKEN, RunningMaster, StartMaster
from tests.support.browser import Browser, first_password

APP_TOKEN = "matrix-app-token"
DRIVER_TOKEN = "matrix-driver-token"
ONEBOT_TOKEN = "matrix-onebot-token"
METRICS_TOKEN = "matrix-metrics-token"


class Need(Enum):
    """Who may call an operation."""

    PUBLIC = "public"  # nobody needs to sign in
    READ = "read"  # any API token (read or admin) or a session
    ADMIN = "admin"  # the admin scope or a session, even to read
    SESSION = "session"  # a signed-in account only: no bearer token
    METRICS = "metrics"  # [metrics] token, nothing else
    SOCKET = "socket"  # a socket endpoint: the socket matrix below decides


P, R, A, S = Need.PUBLIC, Need.READ, Need.ADMIN, Need.SESSION
# Every route the Master serves (HEAD follows GET). Writes need the admin scope whatever the entry.
EXPECTED: dict[tuple[str, str], Need] = {
    ("GET", "/socket.io/"): Need.SOCKET,
    ("POST", "/socket.io/"): Need.SOCKET,
    ("OPTIONS", "/socket.io/"): Need.SOCKET,
    ("*", "/socket.io/"): Need.SOCKET,  # every other method, refused as the protocol says
    ("GET", "/ws"): Need.SOCKET,
    ("GET", "/onebot/v11/ws"): Need.SOCKET,
    ("GET", "/onebot/v11/ws/"): Need.SOCKET,
    ("GET", "/onebot/v11/app/ws"): Need.SOCKET,
    ("GET", "/onebot/v11/app/ws/"): Need.SOCKET,
    ("GET", "/health"): P,
    ("GET", "/"): P,
    ("GET", "/static"): P,
    ("GET", "/swagger-ui"): P,
    ("GET", "/metrics"): Need.METRICS,
    ("GET", "/api/v1/openapi.json"): P,
    ("GET", "/api/v1/docs"): P,
    ("POST", "/api/v1/auth/login"): P,
    ("POST", "/api/v1/auth/logout"): A,  # a bearer token may end no session, harmlessly
    ("GET", "/api/v1/auth/me"): R,
    ("POST", "/api/v1/auth/password"): S,
    ("GET", "/api/v1/accounts"): A,
    ("POST", "/api/v1/accounts"): A,
    ("POST", "/api/v1/accounts/{name}/disable"): A,
    ("POST", "/api/v1/accounts/{name}/enable"): A,
    ("GET", "/api/v1/apps"): R,
    ("GET", "/api/v1/apps/{id}"): R,
    ("POST", "/api/v1/apps/{id}/pause"): A,
    ("POST", "/api/v1/apps/{id}/resume"): A,
    ("POST", "/api/v1/apps/{id}/kick"): A,
    ("GET", "/api/v1/app-names"): R,
    ("POST", "/api/v1/app-names/{name}/hold"): A,
    ("POST", "/api/v1/app-names/{name}/release"): A,
    ("GET", "/api/v1/messages"): R,
    ("GET", "/api/v1/messages/{id}"): R,
    ("GET", "/api/v1/messages/{id}/routing"): R,
    ("GET", "/api/v1/messages/{id}/trace"): R,
    ("POST", "/api/v1/routing/explain"): A,
    ("GET", "/api/v1/driver-tokens"): A,
    ("POST", "/api/v1/driver-tokens"): A,
    ("DELETE", "/api/v1/driver-tokens/{id}"): A,
    ("GET", "/api/v1/drivers"): R,
    ("GET", "/api/v1/onebot-apps"): A,
    ("POST", "/api/v1/onebot-apps"): A,
    ("DELETE", "/api/v1/onebot-apps/{id}"): A,
    ("GET", "/api/v1/i18n/texts"): R,
    ("GET", "/api/v1/i18n/texts/{locale}/{key}"): R,
    ("PUT", "/api/v1/i18n/texts/{locale}/{key}"): A,
    ("DELETE", "/api/v1/i18n/texts/{locale}/{key}"): A,
    ("GET", "/api/v1/i18n/locales"): R,
    ("POST", "/api/v1/i18n/locales"): A,
    ("DELETE", "/api/v1/i18n/locales/{locale}"): A,
    ("GET", "/api/v1/i18n/chat-locales"): R,
    ("GET", "/api/v1/chats/{platform}/{chat_id}/locale"): R,
    ("PUT", "/api/v1/chats/{platform}/{chat_id}/locale"): A,
    ("DELETE", "/api/v1/chats/{platform}/{chat_id}/locale"): A,
    ("GET", "/api/v1/i18n/panel"): R,
    ("GET", "/api/v1/i18n/panel/login"): P,
    ("GET", "/api/v1/tokens"): A,
    ("POST", "/api/v1/tokens"): A,
    ("DELETE", "/api/v1/tokens/{id}"): A,
    ("GET", "/api/v1/audit"): A,
    ("GET", "/api/v1/files"): R,
    ("GET", "/api/v1/files/usage"): R,
    ("GET", "/api/v1/files/content"): R,
    ("PUT", "/api/v1/files/content"): A,
    ("DELETE", "/api/v1/files/content"): A,
    ("POST", "/api/v1/files/upload"): A,
    ("POST", "/api/v1/files/folder"): A,
    ("POST", "/api/v1/files/move"): A,
    ("POST", "/api/v1/files/copy"): A,
    ("DELETE", "/api/v1/files"): A,
    ("GET", "/api/v1/files/text"): R,
    ("PUT", "/api/v1/files/text"): A,
    ("GET", "/api/v1/files/uploads"): R,
    ("POST", "/api/v1/files/uploads"): A,
    ("GET", "/api/v1/files/uploads/{id}"): R,
    ("PUT", "/api/v1/files/uploads/{id}"): A,
    ("POST", "/api/v1/files/uploads/{id}/commit"): A,
    ("DELETE", "/api/v1/files/uploads/{id}"): A,
    ("GET", "/api/v1/stats/overview"): R,
    ("GET", "/api/v1/stats/messages"): R,
    ("GET", "/api/v1/stats/apps"): R,
    ("GET", "/api/v1/stats/apps/{name}"): R,
    ("GET", "/api/v1/stats/commands"): R,
    ("GET", "/api/v1/stats/users/active"): R,
    ("GET", "/api/v1/stats/top-senders"): R,
    ("GET", "/api/v1/stats/top-chats"): R,
    ("GET", "/api/v1/stats/storage"): R,
    ("GET", "/api/v1/traces"): R,
    ("GET", "/api/v1/traces/{trace_id}"): R,
    ("GET", "/api/v1/system"): R,
    ("GET", "/api/v1/system/history"): R,
    ("GET", "/api/v1/db"): R,
    ("POST", "/api/v1/db/vacuum"): A,
    ("POST", "/api/v1/db/analyze"): A,
    ("POST", "/api/v1/db/integrity-check"): A,
    ("GET", "/api/v1/db/backup"): A,
    ("GET", "/api/v1/db/retention"): R,
    ("PUT", "/api/v1/db/retention"): A,
    ("POST", "/api/v1/db/prune"): A,
    ("GET", "/api/v1/db/tables/{name}"): R,
    ("GET", "/api/v1/logs"): A,
    ("GET", "/api/v1/logs/files"): A,
    ("GET", "/api/v1/logs/files/{name}"): A,
    ("GET", "/api/v1/settings"): A,
    ("PATCH", "/api/v1/settings"): A,
    ("DELETE", "/api/v1/settings/{key}"): A,
    ("GET", "/api/v1/events"): R,
    ("POST", "/api/v1/simulate"): A,
    ("GET", "/api/v1/packages"): A,
    ("POST", "/api/v1/packages"): A,
    ("GET", "/api/v1/packages/{id}"): A,
    ("GET", "/api/v1/packages/{id}/revisions/{sha256}/download"): A,
    ("GET", "/api/v1/packages/{id}/revisions/{sha256}/install"): A,
    ("POST", "/api/v1/packages/{id}/revisions/{sha256}/install"): A,
    ("DELETE", "/api/v1/packages/{id}/revisions/{sha256}"): A,
    ("GET", "/api/v1/deployments"): A,
    ("POST", "/api/v1/deployments"): A,
    ("GET", "/api/v1/deployments/{id}"): A,
    ("PATCH", "/api/v1/deployments/{id}"): A,
    ("DELETE", "/api/v1/deployments/{id}"): A,
    ("POST", "/api/v1/deployments/{id}/start"): A,
    ("POST", "/api/v1/deployments/{id}/stop"): A,
    ("POST", "/api/v1/deployments/{id}/restart"): A,
    ("GET", "/api/v1/deployments/{id}/logs"): A,
    ("GET", "/api/v1/runner-enrolments"): A,
    ("POST", "/api/v1/runner-enrolments"): A,
    ("DELETE", "/api/v1/runner-enrolments/{id}"): A,
    ("GET", "/api/v1/runners"): R,
    ("GET", "/api/v1/runners/{id}"): R,
    ("DELETE", "/api/v1/runners/{id}"): A,
    ("POST", "/api/v1/runners/{id}/commands"): A,
    ("GET", "/api/v1/runners/{id}/commands/{command_id}"): R,
    ("GET", "/api/v1/runners/{id}/apps/{deployment}/logs"): R,
}

# Path parameters: values that name nothing, so that an allowed call changes nothing.
PARAMS = {
    "id": "01nomatrix0000000000000000",
    "name": "matrix-nobody",
    "locale": "en",
    "key": "error.not_found",
    "platform": "matrix",
    "chat_id": "matrix-chat",
    "trace_id": "0" * 32,
    "sha256": "0" * 64,
    "command_id": "01nomatrix0000000000000001",
    "deployment": "01nomatrix0000000000000002",
}


# Static folders are probed with a file they hold (the folder itself lists nothing).
STATIC_PROBES = {"/static": "/static/index.html", "/swagger-ui": "/swagger-ui/swagger-ui.css"}


def routes(master: RunningMaster) -> Iterator[tuple[str, str]]:
    """Yield (method, template) of every route the application serves, HEAD left out."""
    for route in master.app.router.routes():
        if route.method != "HEAD" and route.resource is not None:
            yield route.method, route.resource.canonical


@pytest.fixture
async def matrix_master(start_master: StartMaster) -> RunningMaster:
    """One Master for the whole matrix, with every kind of credential configured."""
    return await start_master(
        apps__require_token="true",
        apps__tokens=f'["{APP_TOKEN}"]',
        drivers__tokens=f'["{DRIVER_TOKEN}"]',
        onebot__access_token=ONEBOT_TOKEN,
        metrics__token=METRICS_TOKEN,
    )


async def test_every_route_has_an_expectation(matrix_master: RunningMaster) -> None:
    served = set(routes(matrix_master))
    assert sorted(served - set(EXPECTED)) == [], "routes without an authorization expectation"
    assert sorted(set(EXPECTED) - served) == [], "expectations of routes no longer served"


async def test_openapi_document_agrees(matrix_master: RunningMaster) -> None:
    status, document = await matrix_master.api("GET", "/api/v1/openapi.json")
    assert status == 200
    documented = set()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            key = (method.upper(), path)
            documented.add(key)
            need = EXPECTED.get(key)
            assert need is not None, f"{key} is documented but has no expectation"
            public = operation.get("security") == []
            assert public == (need is Need.PUBLIC), key
            if need in (Need.ADMIN, Need.SESSION) or (need is Need.READ and method != "get"):
                assert "403" in operation["responses"], f"{key} does not document its 403"
            if need is Need.READ and method == "get":
                assert "403" not in operation["responses"], f"{key} documents a 403 for reads"
    api = {key for key in EXPECTED if key[1].startswith("/api/v1/")}
    assert sorted(api - documented) == [], "REST operations missing from the OpenAPI document"


def _url(master: RunningMaster, template: str) -> str:
    if template in STATIC_PROBES:
        return master.url + STATIC_PROBES[template]
    return master.url + re.sub(r"\{(\w+)\}", lambda m: PARAMS[m.group(1)], template)


async def _call(
    http: aiohttp.ClientSession, method: str, url: str, headers: dict[str, str]
) -> tuple[int, str | None]:
    # No body: an allowed write is then refused by validation, or names nothing, and changes
    # nothing. The event stream never ends: only its status is read.
    async with http.request(method, url, headers=headers, allow_redirects=False) as resp:
        code = None
        if resp.content_type == "application/json" and resp.status >= 400:
            code = (await resp.json()).get("code")
        elif resp.content_type != "text/event-stream":
            await resp.read()  # a download read to its end, so the server's write completes
        return resp.status, code


def _expect(need: Need, method: str, who: str) -> tuple[int, str] | None:
    """Return the refusal (status, code) `who` must get, or None when it must get through."""
    write = method not in ("GET", "HEAD", "OPTIONS")
    if need is Need.PUBLIC:
        return None
    if need is Need.METRICS:
        return None if who == "metrics" else (401, "")
    if who in ("none", "wrong", "driver-as-api", "app-as-api", "metrics", "expired-session"):
        return 401, "unauthorized"
    if who == "read":
        return (403, "forbidden") if write or need in (Need.ADMIN, Need.SESSION) else None
    if who == "admin":
        return (403, "session_required") if need is Need.SESSION else None
    assert who == "session-no-csrf"
    return (403, "csrf_failed") if write else None


async def test_rest_matrix(matrix_master: RunningMaster) -> None:
    master = matrix_master
    _, created = await master.api("POST", "/api/v1/tokens", json={"name": "m", "scope": "read"})
    password = first_password(master.settings.storage.data_dir)
    signed_in, ended = Browser(master.url), Browser(master.url)
    try:
        assert (await signed_in.login("admin", password))[0] == 200
        assert (await ended.login("admin", password))[0] == 200
        expired_cookie = ended.secret
        assert (await ended.call("POST", "/api/v1/auth/logout"))[0] in (200, 204)
        bearer = {
            "none": None,
            "wrong": "not-a-token-at-all",
            "read": created["token"],
            "admin": ADMIN_TOKEN,
            "driver-as-api": DRIVER_TOKEN,
            "app-as-api": APP_TOKEN,
            "metrics": METRICS_TOKEN,
        }
        who_headers: dict[str, tuple[aiohttp.ClientSession, dict[str, str]]] = {
            who: (master.http, {"Authorization": f"Bearer {token}"} if token else {})
            for who, token in bearer.items()
        }
        who_headers["session-no-csrf"] = (signed_in.http, {})
        cookie = f"{COOKIE}={expired_cookie}"
        who_headers["expired-session"] = (master.http, {"Cookie": cookie})
        wrong: list[str] = []
        for method, template in sorted(routes(master)):
            need = EXPECTED[(method, template)]
            if need is Need.SOCKET:
                continue
            for who, (http, headers) in who_headers.items():
                status, code = await _call(http, method, _url(master, template), headers)
                expected = _expect(need, method, who)
                if expected is None:
                    ok = status not in (401, 403) and status < 500
                else:
                    ok = status == expected[0] and (not expected[1] or code == expected[1])
                if not ok:
                    wrong.append(f"{method} {template} as {who}: {status} {code}, not {expected}")
        assert wrong == [], "\n".join(wrong)
    finally:
        await signed_in.close()
        await ended.close()


# -- sockets --------------------------------------------------------------------------------------


async def _sio_refusal(master: RunningMaster, namespace: str, auth: Any) -> Any:
    """Connect to `namespace` with `auth`; return None when it connected, else the refusal."""
    client = socketio.AsyncClient(reconnection=False)
    refusals: list[Any] = []
    client.on("connect_error", refusals.append, namespace=namespace)
    try:
        await client.connect(
            master.url, namespaces=[namespace], transports=["websocket"], auth=auth, wait_timeout=5
        )
    except socketio.exceptions.ConnectionError:
        return refusals[0] if refusals else "refused"
    finally:
        await client.disconnect()
    return None


SOCKET_CREDENTIALS = {
    "none": None,
    "wrong": "not-a-token-at-all",
    "admin-api": ADMIN_TOKEN,
    "app": APP_TOKEN,
    "driver": DRIVER_TOKEN,
    "onebot": ONEBOT_TOKEN,
}
# Which credential each socket endpoint takes; every other one is refused.
SOCKET_ACCEPTS = {"/app": "app", "/ws": "app", "/driver": "driver", "/onebot/v11/ws": "onebot"}


async def test_socket_matrix(matrix_master: RunningMaster) -> None:
    master = matrix_master
    wrong: list[str] = []
    for endpoint, accepted in SOCKET_ACCEPTS.items():
        for who, token in SOCKET_CREDENTIALS.items():
            if endpoint in ("/app", "/driver"):
                refusal = await _sio_refusal(master, endpoint, {"token": token} if token else None)
                refused = refusal is not None
            else:
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                if endpoint == "/onebot/v11/ws":
                    headers |= {"X-Client-Role": "Universal", "X-Self-ID": "10001"}
                try:
                    ws = await master.http.ws_connect(master.url + endpoint, headers=headers)
                except aiohttp.WSServerHandshakeError as exc:
                    refused = exc.status in (401, 403)
                else:
                    refused = False
                    await ws.close()
            if refused != (who != accepted):
                wrong.append(f"{endpoint} with the {who} token: refused={refused}")
    assert wrong == []


# What each event answers, with a well-formed payload, on a connection that has not registered:
# nothing gets through before `register`. Every event the Master handles needs an entry.
CHAT = {"type": "group", "id": "g1"}
INBOUND = {"platform_message_id": "m1", "chat": CHAT, "sender": {"id": "u1"}, "content": "hi"}
APP_EVENTS_UNREGISTERED: dict[str, tuple[Any, str]] = {
    "register": ({}, "the way in: refused here only for its empty payload"),
    "heartbeat": (None, "not_registered"),
    "reply": ({"message_id": "01nomatrix", "content": "hi"}, "not_registered"),
    "send": ({"target": {"platform": "qq", "chat": CHAT}, "content": "hi"}, "not_registered"),
    "answer_request": ({"request_id": "01nomatrix", "approve": True}, "not_registered"),
}
DRIVER_EVENTS_UNREGISTERED: dict[str, tuple[Any, str]] = {
    "register": ({}, "the way in: refused here only for its empty payload"),
    "event": (INBOUND, "not_registered"),
    "events": ({"events": [INBOUND]}, "not_registered"),
    "heartbeat": (None, "not_registered"),
}


async def test_app_events_before_register(matrix_master: RunningMaster) -> None:
    master = matrix_master
    events = set(app_events._HANDLERS)
    assert sorted(events) == sorted(APP_EVENTS_UNREGISTERED), "app events without an expectation"
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(
        master.url, namespaces=["/app"], transports=["websocket"], auth={"token": APP_TOKEN}
    )
    try:
        observed = {}
        for event in sorted(events - {"register"}):
            payload = APP_EVENTS_UNREGISTERED[event][0]
            answer = await client.call(event, payload, namespace="/app", timeout=5)
            observed[event] = answer["error"]["code"] if not answer.get("success") else "success"
    finally:
        await client.disconnect()
    assert observed == {key: "not_registered" for key in events - {"register"}}


async def test_driver_events_before_register(matrix_master: RunningMaster) -> None:
    master = matrix_master
    events = set(master.app[SIO].namespace_handlers["/driver"]._handlers)
    assert sorted(events) == sorted(DRIVER_EVENTS_UNREGISTERED), "driver events without one"
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(
        master.url, namespaces=["/driver"], transports=["websocket"], auth={"token": DRIVER_TOKEN}
    )
    try:
        observed = {}
        for event in sorted(events - {"register"}):
            payload = DRIVER_EVENTS_UNREGISTERED[event][0]
            answer = await client.call(event, payload, namespace="/driver", timeout=5)
            success = isinstance(answer, dict) and answer.get("success")
            observed[event] = "success" if success else answer["error"]["code"]
    finally:
        await client.disconnect()
    assert observed == {key: "not_registered" for key in events - {"register"}}
