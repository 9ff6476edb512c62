"""HTTPS and WSS on the Master's one port, and client certificates required of agents."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio
from aiohttp import web

from kenkogo_master.app import create_app
from kenkogo_master.transport.tls import server_context
from tests.conftest import make_settings
from tests.support.certs import Authority, Issued, client_context, make_authority
from tests.support.process import free_port, master_environ, run_main, running_master

DRIVER_TOKEN = "tls-driver-token"


@dataclass
class Pki:
    """A CA for the server and agents, a certificate it gave an agent, and a stranger's."""

    ca: Authority
    server: Issued
    agent: Issued
    stranger: Issued


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """Make the certificates once for the module (key generation is the slow part)."""
    folder = tmp_path_factory.mktemp("pki")
    ca = make_authority(folder, "kenkogo-test-ca")
    other = make_authority(folder, "someone-else-ca")
    return Pki(
        ca,
        ca.issue(folder, "server", server=True),
        ca.issue(folder, "agent", server=False),
        other.issue(folder, "stranger", server=False),
    )


@dataclass
class TlsMaster:
    """A Master served over TLS on loopback."""

    port: int

    @property
    def url(self) -> str:
        """Return the base URL."""
        return f"https://127.0.0.1:{self.port}"


StartTls = Callable[..., Awaitable[TlsMaster]]


@pytest.fixture
async def start_tls(tmp_path: Path, pki: Pki) -> AsyncIterator[StartTls]:
    """Start Masters serving HTTPS/WSS with the test's certificates; stop them afterwards."""
    runners: list[web.AppRunner] = []

    async def start(client_ca: bool = True) -> TlsMaster:
        extra = {"server__tls_client_ca": str(pki.ca.path)} if client_ca else {}
        settings = make_settings(
            tmp_path / f"data{len(runners)}",
            server__tls_cert=str(pki.server.cert),
            server__tls_key=str(pki.server.key),
            drivers__tokens=f'["{DRIVER_TOKEN}"]',
            **extra,
        )
        runner = web.AppRunner(create_app(settings), handle_signals=False)
        await runner.setup()
        runners.append(runner)
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_context(settings.server))
        await site.start()
        return TlsMaster(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]

    yield start
    for runner in runners:
        await runner.cleanup()


def _session(pki: Pki, client: Issued | None = None) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(ssl=client_context(pki.ca.path, client))
    return aiohttp.ClientSession(connector=connector)


async def _sio_connect(
    master: TlsMaster,
    pki: Pki,
    namespace: str,
    client: Issued | None,
    auth: Any = None,
    refusals: list[Any] | None = None,
) -> tuple[socketio.AsyncClient, aiohttp.ClientSession]:
    http = _session(pki, client)
    sio = socketio.AsyncClient(reconnection=False, http_session=http)
    if refusals is not None:
        sio.on("connect_error", refusals.append, namespace=namespace)
    try:
        await sio.connect(
            master.url, namespaces=[namespace], transports=["websocket"], auth=auth, wait_timeout=5
        )
    except BaseException:
        await sio.disconnect()
        await http.close()
        raise
    return sio, http


async def test_https_serves_health_and_plain_http_fails_cleanly(
    start_tls: StartTls, pki: Pki
) -> None:
    master = await start_tls(client_ca=False)
    async with _session(pki) as http, http.get(master.url + "/health") as resp:
        assert resp.status == 200
        assert (await resp.json())["status"] == "ok"
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Strict-Transport-Security"] == "max-age=31536000"
    # Plain HTTP to the TLS port: the handshake fails and the connection closes, nothing hangs.
    async with aiohttp.ClientSession() as plain:
        with pytest.raises(aiohttp.ClientError):
            async with plain.get(
                f"http://127.0.0.1:{master.port}/health", timeout=aiohttp.ClientTimeout(total=5)
            ) as resp:
                await resp.read()
    async with _session(pki) as http, http.get(master.url + "/health") as resp:
        assert resp.status == 200  # and the server serves TLS on as before


async def test_wss_app_needs_no_client_certificate(start_tls: StartTls, pki: Pki) -> None:
    master = await start_tls()
    sio, http = await _sio_connect(master, pki, "/app", None)
    try:
        answer = await sio.call(
            "register", {"name": "tls-app", "version": "1.0.0"}, namespace="/app", timeout=5
        )
        assert answer["success"] is True
    finally:
        await sio.disconnect()
        await http.close()


async def test_driver_without_client_certificate_is_refused(start_tls: StartTls, pki: Pki) -> None:
    master = await start_tls()
    refusals: list[Any] = []
    with pytest.raises(socketio.exceptions.ConnectionError):
        await _sio_connect(master, pki, "/driver", None, {"token": DRIVER_TOKEN}, refusals)
    assert [refusal["code"] for refusal in refusals] == ["client_certificate_required"]
    assert "tls_client_ca" in refusals[0]["message"]


async def test_driver_with_the_cas_client_certificate_connects(
    start_tls: StartTls, pki: Pki
) -> None:
    master = await start_tls()
    sio, http = await _sio_connect(master, pki, "/driver", pki.agent, {"token": DRIVER_TOKEN})
    try:
        answer = await sio.call(
            "register",
            {"platform": "test", "self_id": "1", "name": "tls-driver"},
            namespace="/driver",
            timeout=5,
        )
        assert answer["success"] is True, answer
    finally:
        await sio.disconnect()
        await http.close()


async def test_runner_namespace_requires_a_client_certificate(
    start_tls: StartTls, pki: Pki
) -> None:
    master = await start_tls()
    refusals: list[Any] = []
    with pytest.raises(socketio.exceptions.ConnectionError):
        await _sio_connect(master, pki, "/runner", None, refusals=refusals)
    assert [refusal["code"] for refusal in refusals] == ["client_certificate_required"]


async def test_certificate_from_another_ca_fails_the_handshake(
    start_tls: StartTls, pki: Pki
) -> None:
    master = await start_tls()
    async with _session(pki, pki.stranger) as http:
        with pytest.raises(aiohttp.ClientError):
            async with http.get(master.url + "/health") as resp:
                await resp.read()


async def test_onebot_driver_endpoint_requires_a_client_certificate(
    start_tls: StartTls, pki: Pki
) -> None:
    master = await start_tls()
    headers = {"X-Client-Role": "Universal", "X-Self-ID": "10001"}
    async with (
        _session(pki) as http,
        http.get(master.url + "/onebot/v11/ws", headers=headers) as resp,
    ):
        assert resp.status == 403
        assert (await resp.json())["code"] == "client_certificate_required"
    async with _session(pki, pki.agent) as http:
        ws = await http.ws_connect(
            master.url.replace("https", "wss") + "/onebot/v11/ws", headers=headers
        )
        assert not ws.closed
        await ws.close()


async def test_client_ca_without_client_certificate_is_not_asked_of_browsers(
    start_tls: StartTls, pki: Pki
) -> None:
    master = await start_tls()
    async with _session(pki) as http, http.get(master.url + "/") as resp:
        assert resp.status == 200


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ({"KENKOGO_SERVER__TLS_CERT": "{missing}", "KENKOGO_SERVER__TLS_KEY": "{key}"}, "tls_cert"),
        (
            {"KENKOGO_SERVER__TLS_CERT": "{cert}", "KENKOGO_SERVER__TLS_KEY": "{cert}"},
            "tls_cert/tls_key",
        ),
        ({"KENKOGO_SERVER__TLS_CERT": "{cert}"}, "tls_cert and tls_key must be set together"),
        (
            {
                "KENKOGO_SERVER__TLS_CERT": "{cert}",
                "KENKOGO_SERVER__TLS_KEY": "{key}",
                "KENKOGO_SERVER__TLS_CLIENT_CA": "{key}",
            },
            "tls_client_ca",
        ),
    ],
)
async def test_bad_tls_files_stop_start_up_with_one_line(
    tmp_path: Path, pki: Pki, keys: dict[str, str], expected: str
) -> None:
    names = {
        "missing": str(tmp_path / "nope.pem"),
        "cert": str(pki.server.cert),
        "key": str(pki.server.key),
    }
    extra = {key: value.format(**names) for key, value in keys.items()}
    environ = master_environ(tmp_path / "data", free_port(), **extra)
    code, _, err = await run_main(["serve"], environ, timeout=30)
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and expected in lines[0], err


async def test_plain_http_request_does_not_disturb_a_waiting_tls_client(
    start_tls: StartTls, pki: Pki
) -> None:
    master = await start_tls(client_ca=False)
    reader, writer = await asyncio.open_connection("127.0.0.1", master.port)
    writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    await writer.drain()
    # The server closes (or sends a TLS alert) rather than answering in plain text or hanging.
    data = await asyncio.wait_for(reader.read(1024), timeout=5)
    assert b'"status"' not in data
    writer.close()


async def test_python_main_serves_tls_and_checks_agents(tmp_path: Path, pki: Pki) -> None:
    # The way an operator runs it: `python main.py` (on uvloop where installed), not in-process.
    port = free_port()
    environ = master_environ(
        tmp_path / "data",
        port,
        KENKOGO_SERVER__TLS_CERT=str(pki.server.cert),
        KENKOGO_SERVER__TLS_KEY=str(pki.server.key),
        KENKOGO_SERVER__TLS_CLIENT_CA=str(pki.ca.path),
        KENKOGO_LOGGING__FILE="false",
    )
    url = f"https://127.0.0.1:{port}"
    headers = {"X-Client-Role": "Universal", "X-Self-ID": "10001"}
    async with running_master(environ, port):
        async with _session(pki) as http:
            for _ in range(200):  # until it listens
                try:
                    async with http.get(url + "/health") as resp:
                        assert resp.status == 200
                        break
                except aiohttp.ClientConnectorError:
                    await asyncio.sleep(0.1)
            else:
                raise AssertionError("no /health over TLS")
            async with http.get(url + "/onebot/v11/ws", headers=headers) as resp:
                assert resp.status == 403
        async with _session(pki, pki.agent) as http:
            ws = await http.ws_connect(
                url.replace("https", "wss") + "/onebot/v11/ws", headers=headers
            )
            await ws.close()
