"""The first-start admin token: generated when none is configured, kept hashed, shown once."""

from __future__ import annotations

import hashlib
import sqlite3
import stat
from pathlib import Path

import aiohttp

from tests.support.process import free_port, master_environ, running_master


def stored_tokens(database: Path) -> list[tuple[str, str]]:
    """Return (token_hash, scope) of every stored API token."""
    with sqlite3.connect(database) as connection:
        return list(connection.execute("SELECT token_hash, scope FROM api_tokens"))


async def status_with(url: str, token: str) -> int:
    """Return the status of GET /api/v1/apps with a bearer token."""
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        aiohttp.ClientSession() as http,
        http.get(url + "/api/v1/apps", headers=headers) as response,
    ):
        return response.status


async def test_first_start_generates_one_admin_token(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    token_file = data_dir / "admin-token"
    database = data_dir / "kenkogo.db"

    port = free_port()
    async with running_master(master_environ(data_dir, port), port) as first:
        await first.wait_healthy()
        token = token_file.read_text().strip()
        mode = stat.S_IMODE(token_file.stat().st_mode)
        works = await status_with(first.url, token)
        wrong = await status_with(first.url, token[:-1] + ("x" if token[-1] != "x" else "y"))
        assert await first.stop() == 0
    first_output = first.text

    assert len(token) >= 32
    assert mode == 0o600
    assert (works, wrong) == (200, 401)
    assert first_output.count(token) == 1  # shown once, on the console
    assert str(token_file) in first_output
    log_file = (data_dir / "logs" / "master.log").read_text(encoding="utf-8")
    assert str(token_file) in log_file and token not in log_file  # where it is, not what
    assert stored_tokens(database) == [(hashlib.sha256(token.encode()).hexdigest(), "admin")]
    for path in data_dir.rglob("kenkogo.db*"):
        assert token.encode() not in path.read_bytes(), f"the token is in clear in {path}"

    port = free_port()
    async with running_master(master_environ(data_dir, port), port) as second:
        await second.wait_healthy()
        still_works = await status_with(second.url, token)
        assert await second.stop() == 0

    assert still_works == 200
    assert token_file.read_text().strip() == token
    assert token not in second.text
    assert "admin-token" not in second.text
    assert len(stored_tokens(database)) == 1


async def test_configured_token_means_none_is_generated(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    environ = master_environ(data_dir, port, KENKOGO_API__TOKEN="configured-token-123")
    async with running_master(environ, port) as master:
        await master.wait_healthy()
        works = await status_with(master.url, "configured-token-123")
        assert await master.stop() == 0

    assert works == 200
    assert not (data_dir / "admin-token").exists()
    assert stored_tokens(data_dir / "kenkogo.db") == []
