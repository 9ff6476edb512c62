"""Fixtures that start the real Master on a free port and connect real clients to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from kenkogo_master.app import create_app
from kenkogo_master.keys import HUB
from kenkogo_master.settings import Settings, load_settings

# Fixtures for tests that need a real PostgreSQL server, and for Masters run as child processes.
pytest_plugins = ["tests.support.postgres", "tests.support.process"]

ADMIN_TOKEN = "test-admin-token"


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add `--long`: also run the long proofs, which the default run leaves out."""
    parser.addoption(
        "--long",
        action="store_true",
        default=False,
        help="also run the tests marked `long` (minutes each, e.g. the 50-kill loop)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Declare the `long` marker."""
    config.addinivalue_line("markers", "long: a long proof, run only with --long")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the long proofs unless `--long` was given (deselected, not skipped)."""
    if config.getoption("--long"):
        return
    kept = [item for item in items if item.get_closest_marker("long") is None]
    if len(kept) < len(items):
        config.hook.pytest_deselected(
            items=[item for item in items if item.get_closest_marker("long") is not None]
        )
        items[:] = kept


@dataclass
class RunningMaster:
    """A Master served on loopback for one test."""

    settings: Settings
    runner: web.AppRunner
    port: int
    http: aiohttp.ClientSession
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """Return the base URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def app(self) -> web.Application:
        """Return the running aiohttp application."""
        return self.runner.app

    @property
    def hub(self) -> Any:
        """Return the running hub."""
        return self.app[HUB]

    def auth(self, token: str = ADMIN_TOKEN) -> dict[str, str]:
        """Return headers carrying a bearer token."""
        return {"Authorization": f"Bearer {token}"}

    async def api(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        """Call the REST API with the admin token; return status and JSON body."""
        headers = {**self.auth(), **kwargs.pop("headers", {})}
        async with self.http.request(method, self.url + path, headers=headers, **kwargs) as resp:
            return resp.status, await resp.json()


def make_settings(data_dir: Path, config: Path | None = None, **overrides: str) -> Settings:
    """Build settings for a test from KENKOGO_-style overrides, e.g. apps__ack_timeout="0.5"."""
    environ = {
        "KENKOGO_STORAGE__DATA_DIR": str(data_dir),
        "KENKOGO_API__TOKEN": ADMIN_TOKEN,
        "KENKOGO_LOGGING__FILE": "false",
        "KENKOGO_SERVER__HOST": "127.0.0.1",
    }
    environ.update({f"KENKOGO_{key.upper()}": value for key, value in overrides.items()})
    return load_settings(config, environ)


StartMaster = Callable[..., Awaitable[RunningMaster]]


@pytest.fixture
async def start_master(tmp_path: Path) -> AsyncIterator[StartMaster]:
    """Start Masters on free ports; each is stopped at the end of the test."""
    running: list[RunningMaster] = []

    async def start(
        data_dir: Path | None = None, config: Path | None = None, **overrides: str
    ) -> RunningMaster:
        settings = make_settings(data_dir or tmp_path / "data", config, **overrides)
        runner = web.AppRunner(create_app(settings), handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        master = RunningMaster(settings, runner, port, aiohttp.ClientSession())
        running.append(master)
        return master

    yield start
    for master in running:
        await stop_master(master)


async def stop_master(master: RunningMaster) -> None:
    """Stop a Master started by `start_master` (idempotent)."""
    if master.extra.get("stopped"):
        return
    master.extra["stopped"] = True
    await master.http.close()
    await master.runner.cleanup()


@pytest.fixture
async def master(start_master: StartMaster) -> RunningMaster:
    """One running Master with default test settings."""
    return await start_master()


@pytest.fixture
async def closing() -> AsyncIterator[list[Any]]:
    """Clients to close after the test, before the Master stops."""
    clients: list[Any] = []
    yield clients
    for client in clients:
        await client.close()
