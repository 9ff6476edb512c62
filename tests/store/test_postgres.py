"""The store on a real PostgreSQL server: migrations, and the Master's state across a restart."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from kenkogo_master.store import migrate
from tests.conftest import StartMaster, stop_master
from tests.support.clients import SioApp


async def _tables(url: str) -> set[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


async def test_migrations_go_up_and_down_on_postgres(postgres_url: str) -> None:
    engine = create_async_engine(postgres_url)
    try:
        await migrate.upgrade(engine)
        assert {"apps", "app_instances", "state_transitions", "api_tokens"} <= await _tables(
            postgres_url
        )
        await migrate.downgrade(engine, "base")
        assert await _tables(postgres_url) <= {"alembic_version"}
    finally:
        await engine.dispose()


async def test_master_keeps_its_state_in_postgres_across_a_restart(
    start_master: StartMaster, postgres_url: str, tmp_path: Path
) -> None:
    first = await start_master(tmp_path / "a", storage__database_url=postgres_url)
    app = await SioApp(first.url).connect()
    ack = await app.register("weather")
    assert ack["state"] == "scheduling"
    status, _ = await first.api("POST", "/api/v1/app-names/weather/hold")
    assert status == 200
    await app.close()
    await stop_master(first)

    second = await start_master(tmp_path / "b", storage__database_url=postgres_url)
    status, names = await second.api("GET", "/api/v1/app-names")
    assert status == 200
    assert [(n["name"], n["held"]) for n in names["items"]] == [("weather", True)]
    status, instance = await second.api("GET", f"/api/v1/apps/{ack['id']}")
    assert status == 200
    assert instance["state"] == "disconnected"
    assert [(t["from"], t["to"]) for t in instance["transitions"]] == [
        ("connected", "paused"),
        ("paused", "scheduling"),
        ("scheduling", "paused"),
        ("paused", "disconnected"),
    ]
    again = await SioApp(second.url).connect()
    assert (await again.register("weather"))["state"] == "paused"
    await again.close()
