"""Backups taken while a driver inserts at full speed, and restores with `python main.py db`."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import aiohttp

from kenkogo_master.store.migrate import head_revision
from tests.conftest import RunningMaster, StartMaster
from tests.support.flow_clients import SioDriver
from tests.support.process import free_port, master_environ, run_main, running_master

TOKEN = "driver-token"
API = "backup-test-token"


def message_ids(database: Path) -> set[str]:
    """Return the ids of the messages a SQLite file holds."""
    with closing(sqlite3.connect(database)) as connection:
        return {row[0] for row in connection.execute("SELECT id FROM messages")}


def integrity(database: Path) -> list[str]:
    """Return what PRAGMA integrity_check says of a SQLite file."""
    with closing(sqlite3.connect(database)) as connection:
        return [row[0] for row in connection.execute("PRAGMA integrity_check")]


async def download(master: RunningMaster, target: Path) -> aiohttp.ClientResponse:
    async with master.http.get(master.url + "/api/v1/db/backup", headers=master.auth()) as got:
        target.write_bytes(await got.read())
        return got


async def test_a_backup_under_full_load_is_sound_and_holds_every_acked_message(
    start_master: StartMaster, tmp_path: Path
) -> None:
    master = await start_master(drivers__tokens=f'["{TOKEN}"]')
    drivers = [await SioDriver(master.url).connect(TOKEN) for _ in range(2)]
    for number, driver in enumerate(drivers):
        await driver.register("qq", f"1000{number}")
    acked: list[str] = []
    stop = asyncio.Event()

    async def insert(driver: SioDriver) -> None:
        while not stop.is_set():
            ack = await driver.send("load")
            assert ack["success"], ack
            acked.append(ack["id"])

    inserting = [asyncio.create_task(insert(driver)) for driver in drivers for _ in range(4)]
    await asyncio.sleep(0.5)
    before_backup = set(acked)
    backup = tmp_path / "backup.db"
    response = await download(master, backup)
    acked_during = len(acked) - len(before_backup)
    await asyncio.sleep(0.2)
    stop.set()
    await asyncio.gather(*inserting)
    for driver in drivers:
        await driver.close()

    assert response.status == 200
    assert response.headers["Content-Type"] == "application/vnd.sqlite3"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="kenkogo-') and disposition.endswith('.db"')
    assert int(response.headers["Content-Length"]) == backup.stat().st_size
    assert len(before_backup) > 100 and acked_during > 0, "the driver was not inserting"
    assert integrity(backup) == ["ok"]
    stored = message_ids(backup)
    assert before_backup <= stored
    assert len(stored) < len(acked)  # a snapshot of one moment, not the end
    with closing(sqlite3.connect(backup)) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    # The temporary copy is gone once sent.
    leftovers = list(master.settings.storage.data_dir.glob(".backup-*"))
    assert leftovers == []


async def _simulate(url: str, content: str) -> str:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            url + "/api/v1/simulate",
            json={"content": content, "wait_ms": 0},
            headers={"Authorization": f"Bearer {API}"},
        ) as response,
    ):
        body: dict[str, Any] = await response.json()
        assert response.status == 200, body
        return str(body["id"])


async def test_backup_and_restore_with_the_command_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    database = data / "kenkogo.db"
    port = free_port()
    environ = master_environ(data, port, KENKOGO_API__TOKEN=API)
    backup = tmp_path / "saved.db"
    async with running_master(environ, port) as master:
        await master.wait_healthy()
        kept_id = await _simulate(master.url, "before the backup")
        code, out, err = await run_main(["db", "backup", str(backup)], environ)
        assert code == 0, err
        assert str(backup) in out
        lost_id = await _simulate(master.url, "after the backup")

        code, out, err = await run_main(["db", "backup", str(backup)], environ)
        assert code == 2 and "exists" in err and "--force" in err
        code, out, err = await run_main(["db", "restore", str(backup)], environ)
        assert code == 1, out
        assert "running" in err and "stop it first" in err
        assert lost_id in message_ids(database)
        assert await master.stop() == 0

    assert integrity(backup) == ["ok"]
    assert kept_id in message_ids(backup) and lost_id not in message_ids(backup)

    code, out, err = await run_main(["db", "restore", str(backup)], environ)

    assert code == 0, err
    assert "Traceback" not in out + err
    kept = [path for path in data.iterdir() if ".before-restore-" in path.name]
    assert len(kept) == 1 and str(kept[0]) in out
    assert lost_id in message_ids(kept[0])
    assert message_ids(database) == {kept_id}
    async with running_master(environ, port) as master:
        await master.wait_healthy()
        async with (
            aiohttp.ClientSession() as http,
            http.get(
                master.url + "/api/v1/messages", headers={"Authorization": f"Bearer {API}"}
            ) as response,
        ):
            listed = await response.json()
        assert [item["id"] for item in listed["items"]] == [kept_id]
        assert await master.stop() == 0


async def test_restore_refuses_a_bad_file_and_leaves_the_database_alone(
    master: RunningMaster, tmp_path: Path
) -> None:
    good = tmp_path / "good.db"
    assert (await download(master, good)).status == 200
    data = tmp_path / "restored"
    environ = master_environ(data, 0)
    code, _, err = await run_main(["migrate"], environ)
    assert code == 0, err
    database = data / "kenkogo.db"
    before = database.read_bytes()

    corrupt = tmp_path / "corrupt.db"
    with closing(sqlite3.connect(good)) as connection:
        (page_size,) = connection.execute("PRAGMA page_size").fetchone()
        (root,) = connection.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'i18n_texts'"
        ).fetchone()
    raw = bytearray(good.read_bytes())
    start = (root - 1) * page_size
    raw[start : start + 64] = b"\xff" * 64  # the b-tree page's header and first cell pointers
    corrupt.write_bytes(bytes(raw))
    # Opens, but an index's pages belong to nothing any more.
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(good.read_bytes())
    with closing(sqlite3.connect(damaged)) as connection, connection:
        connection.execute("PRAGMA writable_schema=ON")
        connection.execute("DELETE FROM sqlite_master WHERE name = 'ix_messages_chat'")
    newer = tmp_path / "newer.db"
    newer.write_bytes(good.read_bytes())
    with closing(sqlite3.connect(newer)) as connection, connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999_future'")
    foreign = tmp_path / "foreign.db"
    with closing(sqlite3.connect(foreign)) as connection:
        connection.execute("CREATE TABLE t (x)")
    text = tmp_path / "notes.txt"
    text.write_text("not a database\n" * 100)

    refusals = {
        # Which check meets the broken page first depends on where the schema put it.
        corrupt: ("corrupt.db",),
        damaged: ("fails its integrity check", "never used"),
        newer: ("newer", "9999_future", head_revision()),
        foreign: ("no schema revision",),
        text: ("not a SQLite database",),
        tmp_path / "missing.db": ("cannot be read",),
    }
    for path, words in refusals.items():
        code, out, err = await run_main(["db", "restore", str(path)], environ)
        assert code == 1, (path, out, err)
        assert "Traceback" not in err
        assert all(word in err for word in words), err
        if path == corrupt:
            assert "malformed" in err or "fails its integrity check" in err, err
        assert database.read_bytes() == before
        assert not any(".before-restore-" in p.name for p in data.iterdir())
