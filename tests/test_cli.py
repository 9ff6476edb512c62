"""`python main.py` as a user runs it: help, migrate, serve, and stopping with SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import time
from pathlib import Path

import aiohttp
from alembic.script import ScriptDirectory

from kenkogo_master.store.migrate import alembic_config
from tests.support.clients import SioApp
from tests.support.process import free_port, master_environ, run_main, running_master

FOUNDATION_TABLES = {"apps", "app_instances", "state_transitions", "api_tokens"}


def tables(database: Path) -> set[str]:
    """Return the table names of a SQLite file."""
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {name for (name,) in rows if not name.startswith("sqlite_")}


def schema_revision(database: Path) -> list[str]:
    """Return the alembic revision(s) a SQLite file is at."""
    with sqlite3.connect(database) as connection:
        return [row[0] for row in connection.execute("SELECT version_num FROM alembic_version")]


def head_revision() -> str:
    """Return the newest migration's id."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


async def test_help_lists_the_sub_commands() -> None:
    code, out, err = await run_main(["--help"])

    assert code == 0, err
    assert "serve" in out
    assert "migrate" in out
    assert "--config" in out


async def test_migrate_help_explains_down() -> None:
    code, out, _ = await run_main(["migrate", "--help"])

    assert code == 0
    assert "--down" in out
    assert "base" in out


async def test_migrate_creates_the_schema_and_down_to_base_empties_it(tmp_path: Path) -> None:
    environ = master_environ(tmp_path / "data", 0)
    del environ["KENKOGO_STORAGE__DATA_DIR"]  # the default, ./data, relative to where it runs
    database = tmp_path / "data" / "kenkogo.db"

    code, _, err = await run_main(["migrate"], environ, cwd=tmp_path)
    assert code == 0, err
    assert tables(database) >= FOUNDATION_TABLES
    assert schema_revision(database) == [head_revision()]

    code, _, err = await run_main(["migrate"], environ, cwd=tmp_path)
    assert code == 0, err  # a second run has nothing to do and says so calmly
    assert "Traceback" not in err

    code, _, err = await run_main(["migrate", "base", "--down"], environ, cwd=tmp_path)
    assert code == 0, err
    assert tables(database) <= {"alembic_version"}
    assert schema_revision(database) == []


async def test_migrate_to_an_unknown_revision_is_one_clear_line(tmp_path: Path) -> None:
    code, out, err = await run_main(
        ["migrate", "nonsense"], master_environ(tmp_path / "data", 0), cwd=tmp_path
    )

    assert code == 2
    assert "Traceback" not in out + err
    assert "nonsense" in err


async def test_serve_answers_health_on_the_configured_port_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    port = free_port()
    environ = master_environ(tmp_path / "data", port, KENKOGO_API__TOKEN="serve-test-token")
    async with running_master(environ, port) as master:
        await master.wait_healthy()
        async with aiohttp.ClientSession() as http, http.get(master.url + "/health") as response:
            health = await response.json()
        started = time.monotonic()
        code = await master.stop(signal.SIGTERM)
        took = time.monotonic() - started

    assert health["status"] == "ok"
    assert code == 0
    assert took < 5
    assert "Traceback" not in master.text
    assert str(port) in master.text  # the log says where it listens
    assert (tmp_path / "data" / "logs" / "master.log").is_file()


async def test_serve_is_also_the_explicit_sub_command(tmp_path: Path) -> None:
    port = free_port()
    environ = master_environ(tmp_path / "data", port, KENKOGO_API__TOKEN="serve-test-token")
    async with running_master(environ, port, "serve") as master:
        await master.wait_healthy()
        assert await master.stop(signal.SIGINT) == 0


async def test_sigterm_with_apps_connected_stops_promptly_and_tells_them(
    tmp_path: Path,
) -> None:
    port = free_port()
    environ = master_environ(tmp_path / "data", port, KENKOGO_API__TOKEN="serve-test-token")
    async with running_master(environ, port) as master:
        await master.wait_healthy()
        app = SioApp(master.url)
        await app.connect()
        await app.register()
        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect(master.url.replace("http", "ws", 1) + "/ws")
            started = time.monotonic()
            code = await master.stop(signal.SIGTERM, timeout=10)
            took = time.monotonic() - started
            await ws.close()
        await asyncio.wait_for(app.disconnected.wait(), 5)
        await app.close()

    assert code == 0
    # Engine.IO may wait a few seconds for a client's close; the ping timeout (45 s) is too long.
    assert took < 8, f"stopping took {took:.1f} s with apps connected"
    assert "Traceback" not in master.text


async def test_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    port = free_port()
    environ = master_environ(tmp_path / "data", port, KENKOGO_API__TOKEN="serve-test-token")
    blocker = await asyncio.start_server(lambda r, w: None, "127.0.0.1", port)
    try:
        code, out, err = await run_main([], environ, cwd=tmp_path, timeout=20)
    finally:
        blocker.close()
        await blocker.wait_closed()

    assert code != 0
    assert "Traceback" not in out + err
    refusal = err.strip().splitlines()[-1]
    assert "cannot start" in refusal
    assert str(port) in refusal
    assert "in use" in refusal
