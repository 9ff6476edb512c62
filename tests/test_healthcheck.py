"""`python main.py healthcheck`: the container's HEALTHCHECK follows the configured port."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from kenkogo_master.healthcheck import url_of
from kenkogo_master.settings import ServerSettings
from tests.support.process import free_port, master_environ, run_main, running_master


async def test_healthy_on_the_configured_port_and_unhealthy_once_stopped(tmp_path: Path) -> None:
    port = free_port()  # never the default 17680: the check must read the setting
    environ = master_environ(tmp_path / "data", port, KENKOGO_LOGGING__FILE="false")
    async with running_master(environ, port) as master:
        await master.wait_healthy()
        code, out, err = await run_main(["healthcheck"], environ, cwd=tmp_path)
        assert (code, err) == (0, ""), err
        assert out.startswith(f"healthy: http://127.0.0.1:{port}/health: ")
        assert '"ok"' in out
        assert await master.stop() == 0
    assert "KenkoGo Master stopped" in master.text
    code, out, err = await run_main(["healthcheck"], environ, cwd=tmp_path)
    assert (code, out) == (1, "")
    assert err.startswith(f"unhealthy: http://127.0.0.1:{port}/health: ")


@pytest.fixture
async def unhealthy_server() -> AsyncIterator[int]:
    """Serve /health answering 503, as a Master whose database refuses writes does."""

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "unhealthy"}, status=503)

    app = web.Application()
    app.router.add_get("/health", health)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield port
    finally:
        await runner.cleanup()


async def test_a_503_is_unhealthy(unhealthy_server: int, tmp_path: Path) -> None:
    environ = master_environ(tmp_path, unhealthy_server)
    code, out, err = await run_main(["healthcheck"], environ, cwd=tmp_path)
    assert (code, out) == (1, "")
    assert f":{unhealthy_server}/health answered 503: " in err
    assert "unhealthy" in err


async def test_a_silent_server_is_unhealthy_within_the_timeout(tmp_path: Path) -> None:
    # A listening socket that never answers: the check must give up, not hang the container.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        environ = master_environ(tmp_path, silent.getsockname()[1])
        code, out, err = await run_main(["healthcheck", "--timeout", "0.5"], environ, cwd=tmp_path)
    assert (code, out) == (1, "")
    assert "timed out" in err


@pytest.mark.parametrize("timeout", ["0", "-1", "soon", "3601"])
async def test_a_bad_timeout_is_refused(timeout: str, tmp_path: Path) -> None:
    environ = master_environ(tmp_path, free_port())
    code, _, err = await run_main(["healthcheck", "--timeout", timeout], environ, cwd=tmp_path)
    assert code == 2
    assert "--timeout" in err


async def test_a_bad_port_setting_is_a_configuration_error(tmp_path: Path) -> None:
    environ = master_environ(tmp_path, 1)
    environ["KENKOGO_SERVER__PORT"] = "70000"
    code, _, err = await run_main(["healthcheck"], environ, cwd=tmp_path)
    assert code == 2
    assert "server.port" in err


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("0.0.0.0", "http://127.0.0.1:8080/health"),
        ("::", "http://[::1]:8080/health"),
        ("10.1.2.3", "http://10.1.2.3:8080/health"),
        ("fd00::5", "http://[fd00::5]:8080/health"),
        ("master.local", "http://master.local:8080/health"),
    ],
)
def test_the_address_asked_follows_server_host(host: str, url: str) -> None:
    assert url_of(ServerSettings(host=host, port=8080)) == url
