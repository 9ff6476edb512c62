"""Database care on a real PostgreSQL server: info, maintenance, amcheck, backups, pruning."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from kenkogo_master.keys import ENGINE
from kenkogo_master.store.migrate import head_revision
from tests.conftest import RunningMaster, StartMaster
from tests.support.old_rows import RETENTION, remaining, seed
from tests.support.postgres import PostgresServer
from tests.support.process import master_environ, run_main


async def _master(start_master: StartMaster, url: str, tmp_path: Path) -> RunningMaster:
    return await start_master(tmp_path / "data", storage__database_url=url, **RETENTION)


async def test_info_on_postgres(
    start_master: StartMaster, postgres_url: str, tmp_path: Path
) -> None:
    master = await _master(start_master, postgres_url.replace("kenkogo@", "kenkogo:pw@"), tmp_path)
    status, sent = await master.api("POST", "/api/v1/simulate", json={"content": "hi"})
    assert status == 200, sent

    status, info = await master.api("GET", "/api/v1/db")

    assert status == 200, info
    assert info["engine"] == "postgresql" and info["version"][:2].isdigit()
    assert ":***@" in info["url"] and "pw" not in info["url"]
    assert info["bytes"] > 0 and info["path"] is None and info["files"] == {}
    assert info["revision"] == info["head_revision"] == head_revision() and info["at_head"]
    assert info["table_sizes_from"] == "pg_total_relation_size"
    tables = {item["name"]: item for item in info["tables"]}
    assert tables["messages"]["rows"] == 1 and tables["messages"]["bytes"] > 0
    assert tables["i18n_texts"]["rows"] > 0


async def test_maintenance_on_postgres_with_and_without_amcheck(
    start_master: StartMaster, postgres_url: str, tmp_path: Path
) -> None:
    master = await _master(start_master, postgres_url, tmp_path)
    for path, operation in (
        ("/api/v1/db/vacuum", "vacuum"),
        ("/api/v1/db/analyze", "analyze"),
    ):
        status, body = await master.api("POST", path)
        assert status == 200, body
        assert (body["operation"], body["engine"], body["ok"]) == (operation, "postgresql", True)
        assert body["writes_paused_ms"] == 0  # PostgreSQL needs no pause of the writer
        assert body["checked"] == [operation.upper()]

    status, body = await master.api("POST", "/api/v1/db/integrity-check")
    assert status == 200 and body["ok"] is True, body
    assert "amcheck is not installed" in body["result"]
    assert body["checked"][0].startswith("read every row of ")

    async with master.app[ENGINE].begin() as connection:
        await connection.execute(text("CREATE EXTENSION amcheck"))
    status, body = await master.api("POST", "/api/v1/db/integrity-check")
    assert status == 200 and body["ok"] is True and body["problems"] == [], body
    assert body["result"].startswith("amcheck: ")
    assert body["checked"][0].startswith("bt_index_check of ")
    assert int(body["checked"][0].split()[2]) >= 10  # every B-tree index of the schema
    assert any(item.startswith("verify_heapam of ") for item in body["checked"])


async def test_backup_on_postgres_points_to_pg_dump(
    start_master: StartMaster, postgres_url: str, tmp_path: Path
) -> None:
    master = await _master(start_master, postgres_url, tmp_path)

    status, body = await master.api("GET", "/api/v1/db/backup")
    assert (status, body["code"]) == (409, "backup_unsupported")
    assert "pg_dump" in body["message"] and "postgresql" in body["message"]

    environ = master_environ(tmp_path / "data", 0, KENKOGO_STORAGE__DATABASE_URL=postgres_url)
    for action, tool in (("backup", "pg_dump"), ("restore", "pg_restore")):
        code, _, err = await run_main(["db", action, str(tmp_path / "x.db")], environ)
        assert code == 2 and tool in err, err
    assert not (tmp_path / "x.db").exists()


async def test_prune_on_postgres_removes_exactly_the_rows_past_retention(
    start_master: StartMaster, postgres_server: PostgresServer, tmp_path: Path
) -> None:
    url = postgres_server.new_database()
    master = await start_master(
        tmp_path / "data",
        storage__database_url=url,
        retention__batch_rows="2",
        stats__enabled="false",
        **RETENTION,
    )
    engine = master.app[ENGINE]
    kept = await seed(engine)

    status, report = await master.api("POST", "/api/v1/db/prune")

    assert status == 200, report
    assert report["removed"] == 7 + 7 + 8 + 1 + 1 + 6 + 1 + 1  # ... an audit row, a session
    left = await remaining(engine)
    for table, ids in kept.items():
        assert left[table] == ids, table
    assert left["audit"] & {"audit-old", "audit-new"} == {"audit-new"}
    assert left["admin_sessions"] & {"session-old", "session-new"} == {"session-new"}
