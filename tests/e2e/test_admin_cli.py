"""`python main.py admin ...` and the first start, run as child processes as an operator would."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path
from typing import Any

from tests.conftest import StartMaster
from tests.support.browser import Browser, first_password
from tests.support.process import free_port, master_environ, run_main, running_master


def accounts(database: Path) -> dict[str, tuple[bool, str]]:
    """Return each account's name with (disabled, password hash)."""
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT name, disabled, password_hash FROM admin_accounts")
        return {name: (bool(disabled), hashed) for name, disabled, hashed in rows}


def audit_rows(database: Path) -> list[tuple[str, str, str, str]]:
    """Return (actor_kind, action, target, result) of every audit row, oldest first."""
    with sqlite3.connect(database) as connection:
        return list(
            connection.execute("SELECT actor_kind, action, target, result FROM audit ORDER BY id")
        )


async def admin(
    environ: dict[str, str], *args: str, stdin: str | None = None
) -> tuple[int, str, str]:
    """Run `python main.py admin <args>`."""
    data = stdin.encode() if stdin is not None else None
    return await run_main(["admin", *args], environ, stdin=data)


async def test_create_list_passwd_disable_and_enable(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    environ = master_environ(data_dir, 0, KENKOGO_LOGGING__FILE="false")
    database = data_dir / "kenkogo.db"

    code, out, err = await admin(
        environ, "create", "alice", "--password-stdin", stdin="first-password\n"
    )
    assert (code, out.strip()) == (0, "created the account 'alice'"), err
    hashed = accounts(database)["alice"][1]
    assert hashed.startswith("$argon2id$") and "first-password" not in hashed

    code, _, err = await admin(
        environ, "create", "alice", "--password-stdin", stdin="first-password\n"
    )
    assert code == 1 and "exists already" in err
    code, _, err = await admin(environ, "create", "bob", "--password-stdin", stdin="short\n")
    assert code == 1 and "at least 10 characters" in err
    code, _, err = await admin(
        environ, "create", "bad name", "--password-stdin", stdin="long-enough-1\n"
    )
    assert code == 1 and "not an account name" in err
    code, _, err = await admin(environ, "create", "carol", "--password-stdin", stdin="")
    assert code == 1 and "no password" in err
    code, _, err = await admin(environ, "create")
    assert code == 2 and "NAME" in err
    assert set(accounts(database)) == {"alice"}

    code, out, err = await admin(environ, "list")
    assert code == 0, err
    header, row = out.strip().splitlines()
    assert header.split()[:2] == ["NAME", "STATE"] and row.split()[:2] == ["alice", "enabled"]

    code, out, err = await admin(
        environ, "passwd", "alice", "--password-stdin", stdin="second-password\n"
    )
    assert code == 0 and "changed the password of 'alice'" in out, err
    assert accounts(database)["alice"][1] != hashed
    code, _, err = await admin(
        environ, "passwd", "nobody", "--password-stdin", stdin="second-password\n"
    )
    assert code == 1 and "no account is named 'nobody'" in err

    code, out, err = await admin(environ, "disable", "alice")
    assert code == 0 and "disabled the account 'alice'" in out, err
    assert accounts(database)["alice"][0] is True
    code, out, _ = await admin(environ, "list")
    assert out.strip().splitlines()[1].split()[:2] == ["alice", "disabled"]
    code, out, err = await admin(environ, "enable", "alice")
    assert code == 0 and accounts(database)["alice"][0] is False, err

    assert audit_rows(database) == [
        ("cli", "create_account", "alice", "ok"),
        ("cli", "create_account", "alice", "refused"),
        ("cli", "create_account", "bob", "refused"),
        ("cli", "create_account", "bad name", "refused"),
        ("cli", "change_password", "alice", "ok"),
        ("cli", "disable_account", "alice", "ok"),
        ("cli", "enable_account", "alice", "ok"),
    ]


async def test_commands_end_the_sessions_of_a_running_master(
    start_master: StartMaster, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    master = await start_master(data_dir)
    environ = master_environ(data_dir, 0, KENKOGO_LOGGING__FILE="false")
    code, _, err = await admin(
        environ, "create", "dana", "--password-stdin", stdin="dana-password-1\n"
    )
    assert code == 0, err
    browsers = [Browser(master.url), Browser(master.url)]
    try:
        for browser in browsers:
            assert (await browser.login("dana", "dana-password-1"))[0] == 200
        code, out, err = await admin(environ, "disable", "dana")
        assert code == 0 and "2 session(s) ended" in out, (out, err)
        assert (await browsers[0].call("GET", "/api/v1/auth/me"))[0] == 401
        assert (await browsers[1].login("dana", "dana-password-1"))[0] == 401  # disabled
        code, _, _ = await admin(environ, "enable", "dana")
        assert (await browsers[1].login("dana", "dana-password-1"))[0] == 200
        code, _, _ = await admin(
            environ, "passwd", "dana", "--password-stdin", stdin="dana-password-2\n"
        )
        assert code == 0
        assert (await browsers[1].call("GET", "/api/v1/auth/me"))[0] == 401
    finally:
        for browser in browsers:
            await browser.close()
    status, rows = await master.api("GET", "/api/v1/audit", params={"actor": "dana"})
    assert status == 200
    results = [(row["action"], row["result"]) for row in rows["items"]]
    assert ("login", "invalid_credentials") in results and ("login", "ok") in results


async def test_first_start_prints_the_password_once_and_keeps_it_only_in_its_file(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    async with running_master(master_environ(data_dir, port), port) as first:
        await first.wait_healthy()
        password = first_password(data_dir)
        mode = stat.S_IMODE((data_dir / "admin-password").stat().st_mode)
        browser = Browser(first.url)
        try:
            status, session = await browser.login("admin", password)
            secret = browser.secret
        finally:
            await browser.close()
        assert await first.stop() == 0
    token = (data_dir / "admin-token").read_text().strip()
    log_file = (data_dir / "logs" / "master.log").read_text(encoding="utf-8")

    assert len(password) >= 20 and mode == 0o600
    assert status == 200 and session["password_generated"] is True
    assert first.text.count(password) == 1  # printed once, on the console
    assert first.text.count(token) == 1
    assert "admin-password" in log_file and "admin-token" in log_file  # where, not what
    assert password not in log_file and token not in log_file
    assert secret is not None and secret not in log_file and secret not in first.text
    assert session["csrf_token"] not in log_file

    port = free_port()
    async with running_master(master_environ(data_dir, port), port) as second:
        await second.wait_healthy()
        assert await second.stop() == 0
    assert password not in second.text and first_password(data_dir) == password

    environ: dict[str, Any] = master_environ(data_dir, 0, KENKOGO_LOGGING__FILE="false")
    code, _, err = await admin(
        environ, "passwd", "admin", "--password-stdin", stdin="my-own-password\n"
    )
    assert code == 0, err
    assert not (data_dir / "admin-password").exists()  # gone once the password changed
