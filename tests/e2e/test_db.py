"""Database care over REST on SQLite: info, maintenance, one operation at a time, the browser."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from kenkogo_master.keys import MAINTENANCE
from kenkogo_master.store.migrate import head_revision
from tests.conftest import RunningMaster

OPERATIONS = {
    "/api/v1/db/vacuum": "vacuum",
    "/api/v1/db/analyze": "analyze",
    "/api/v1/db/integrity-check": "integrity_check",
}


async def _send(master: RunningMaster, *contents: str) -> list[str]:
    """Inject messages through the simulator; return their ids."""
    ids = []
    for content in contents:
        status, body = await master.api(
            "POST", "/api/v1/simulate", json={"content": content, "wait_ms": 0}
        )
        assert status == 200, body
        ids.append(body["id"])
    return ids


async def test_info_tells_engine_size_revision_and_every_table(master: RunningMaster) -> None:
    await _send(master, "one", "two", "three")

    status, info = await master.api("GET", "/api/v1/db")

    assert status == 200, info
    assert info["engine"] == "sqlite" and info["version"] == sqlite3.sqlite_version
    database = master.settings.storage.data_dir / "kenkogo.db"
    assert info["path"] == str(database.resolve())
    assert info["url"].endswith(str(database.resolve()))
    assert info["files"]["database"] == database.stat().st_size
    assert info["bytes"] == sum(info["files"].values()) > 0
    assert (info["revision"], info["head_revision"], info["at_head"]) == (
        head_revision(),
        head_revision(),
        True,
    )
    tables = {item["name"]: item for item in info["tables"]}
    assert tables["messages"]["rows"] == 3
    assert tables["i18n_texts"]["rows"] > 0
    assert info["table_sizes_from"] == "dbstat"
    assert all(item["bytes"] > 0 for item in tables.values())
    assert tables["messages"]["browsable"] and not tables["alembic_version"]["browsable"]
    assert info["maintenance_running"] is None


async def test_vacuum_analyze_and_integrity_check_report_duration_and_result(
    master: RunningMaster,
) -> None:
    await _send(master, *(f"message {n}" for n in range(20)))

    results = {}
    for path, operation in OPERATIONS.items():
        status, body = await master.api("POST", path)
        assert status == 200, body
        assert body["operation"] == operation and body["engine"] == "sqlite"
        assert body["ok"] is True and body["problems"] == [] and body["checked"]
        assert body["duration_ms"] > 0
        results[operation] = body

    vacuum = results["vacuum"]
    # The WAL, grown by every write so far, was folded into the file and emptied.
    assert vacuum["bytes_after"] < vacuum["bytes_before"]
    assert 0 < vacuum["writes_paused_ms"] <= vacuum["duration_ms"]
    assert results["integrity_check"]["result"] == "ok"
    assert results["integrity_check"]["writes_paused_ms"] == 0
    # Messages go on being stored after the writer was held back.
    assert len(await _send(master, "after")) == 1


async def test_integrity_check_reports_what_it_finds(master: RunningMaster) -> None:
    await _send(master, "hello")
    database = master.settings.storage.data_dir / "kenkogo.db"
    # A delivery whose message is gone: written behind the Master's back, foreign keys off.
    with sqlite3.connect(database) as connection:
        connection.execute(
            "INSERT INTO deliveries (id, message_id, app_name, attempt, status, created_ms, "
            "blocked) VALUES ('d-orphan', 'no-such-message', 'x', 1, 'sent', 0, 0)"
        )

    status, body = await master.api("POST", "/api/v1/db/integrity-check")

    assert status == 200
    assert body["ok"] is False
    assert body["problems"] == ["deliveries row 1 refers to a missing row of messages"]
    assert body["result"] == f"{len(body['problems'])} problem(s) found"


async def test_one_operation_at_a_time(master: RunningMaster) -> None:
    async with master.app[MAINTENANCE].hold("vacuum"):
        status, info = await master.api("GET", "/api/v1/db")
        assert info["maintenance_running"] == "vacuum"
        for path in [*OPERATIONS, "/api/v1/db/prune"]:
            status, body = await master.api("POST", path)
            assert (status, body["code"]) == (409, "maintenance_running"), path
            assert "vacuum" in body["message"]
        async with master.http.get(
            master.url + "/api/v1/db/backup", headers=master.auth()
        ) as response:
            assert response.status == 409
            assert (await response.json())["code"] == "maintenance_running"
        # Reads go on meanwhile.
        status, _ = await master.api("GET", "/api/v1/db/tables/messages")
        assert status == 200

    status, body = await master.api("POST", "/api/v1/db/analyze")
    assert status == 200, body


async def test_the_browser_pages_known_tables_and_never_shows_a_secret(
    master: RunningMaster,
) -> None:
    status, created = await master.api(
        "POST", "/api/v1/tokens", json={"name": "dashboard", "scope": "read"}
    )
    assert status == 201
    secret = created["token"]
    status, driver_token = await master.api("POST", "/api/v1/driver-tokens", json={"name": "bot"})
    assert status == 201
    secrets = {
        secret,
        hashlib.sha256(secret.encode()).hexdigest(),
        driver_token["token"],
        hashlib.sha256(driver_token["token"].encode()).hexdigest(),
    }

    for table in ("api_tokens", "driver_tokens"):
        for order in (None, "id", "-created_ms", "name"):
            query = f"?order={order}" if order else ""
            async with master.http.get(
                f"{master.url}/api/v1/db/tables/{table}{query}", headers=master.auth()
            ) as response:
                text = await response.text()
                body = await response.json()
            assert response.status == 200, text
            assert not any(value in text for value in secrets), (table, order)
            assert body["hidden"] == ["token_hash"]
            assert "token_hash" not in {column["name"] for column in body["columns"]}
            assert body["total"] == 1 and "token_hash" not in body["items"][0]

    status, body = await master.api("GET", "/api/v1/db/tables/api_tokens?order=token_hash")
    assert (status, body["code"]) == (400, "invalid_payload")
    assert "token_hash" in body["message"]


async def test_the_browser_orders_and_pages(master: RunningMaster) -> None:
    ids = await _send(master, "a", "b", "c", "d", "e")

    status, body = await master.api("GET", "/api/v1/db/tables/messages?order=-content&limit=2")
    assert status == 200, body
    assert body["total"] == 5 and body["limit"] == 2 and body["offset"] == 0
    assert [item["content"] for item in body["items"]] == ["e", "d"]
    assert {column["name"] for column in body["columns"]} >= {"id", "content", "received_ms"}
    status, body = await master.api("GET", "/api/v1/db/tables/messages?order=id&offset=3")
    assert [item["id"] for item in body["items"]] == sorted(ids)[3:]
    status, body = await master.api("GET", "/api/v1/db/tables/messages?offset=99")
    assert status == 200 and body["items"] == [] and body["total"] == 5


async def test_bad_parameters_are_answered_with_code_and_message(master: RunningMaster) -> None:
    for table in ("nope", "alembic_version", "sqlite_master"):
        status, body = await master.api("GET", f"/api/v1/db/tables/{table}")
        assert (status, body["code"]) == (404, "not_found"), table
    for query in (
        "limit=0",
        "limit=501",
        "limit=x",
        "offset=-1",
        "order=nope",
        "order=-",
        "order=Robert');DROP",
        "order=content%20desc",
        "colour=red",
    ):
        status, body = await master.api("GET", f"/api/v1/db/tables/messages?{query}")
        assert (status, body["code"]) == (400, "invalid_payload"), query
        assert body["message"]


async def test_a_read_token_may_look_but_not_maintain_or_download(
    master: RunningMaster, tmp_path: Path
) -> None:
    status, created = await master.api(
        "POST", "/api/v1/tokens", json={"name": "viewer", "scope": "read"}
    )
    reader = master.auth(created["token"])
    for path in ("/api/v1/db", "/api/v1/db/retention", "/api/v1/db/tables/messages"):
        status, _ = await master.api("GET", path, headers=reader)
        assert status == 200, path
    for method, path in [
        *(("POST", path) for path in OPERATIONS),
        ("POST", "/api/v1/db/prune"),
        ("PUT", "/api/v1/db/retention"),
        ("GET", "/api/v1/db/backup"),
    ]:
        status, body = await master.api(method, path, headers=reader, json={})
        assert (status, body["code"]) == (403, "forbidden"), path
    async with master.http.get(master.url + "/api/v1/db") as response:
        assert response.status == 401
