"""Messages, deliveries and replies in SQL, on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from kenkogo_master.hub.drivers import DriverSession
from kenkogo_master.hub.ingest import Ingest, IngestResult
from kenkogo_master.hub.messages import InboundMessage
from kenkogo_master.protocol.drivers import InboundEvent
from kenkogo_master.settings import StorageSettings
from kenkogo_master.store import migrate
from kenkogo_master.store.db import create_engine
from kenkogo_master.store.driver_records import DriverRecords
from kenkogo_master.store.message_records import MessageQuery, MessageRecords
from kenkogo_master.store.writer import Writer
from tests.support.postgres import PostgresServer


@dataclass
class Store:
    engine: AsyncEngine
    writer: Writer
    records: MessageRecords
    driver: DriverSession
    dispatched: list[InboundMessage]

    def ingest(self) -> Ingest:
        """A fresh Ingest: an empty memory, as after a restart."""
        return Ingest(self.records, self.dispatched.extend)


class NoPeer:
    transport = "socket.io"
    remote = "test"


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    url = None
    if request.param == "postgresql":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        url = server.new_database()
    engine = create_engine(StorageSettings(data_dir=tmp_path, database_url=url))
    await migrate.upgrade(engine)
    writer = Writer(engine, interval=0.002, max_rows=100, queue_limit=10_000)
    await writer.start()
    drivers = DriverRecords(engine, writer)
    row = {
        "id": "driver-1",
        "platform": "qq",
        "self_id": "10001",
        "name": "bot",
        "transport": "socket.io",
        "remote": "test",
        "locale": None,
        "first_seen_ms": 1,
        "last_seen_ms": 1,
    }
    await drivers.created(row)
    driver = DriverSession("driver-1", "qq", "10001", "bot", NoPeer(), None, 1)  # type: ignore[arg-type]
    yield Store(engine, writer, MessageRecords(engine, writer), driver, [])
    await writer.stop()
    await engine.dispose()


def inbound(pid: str, content: str = "hi", chat: str = "1", sender: str = "u") -> InboundEvent:
    return InboundEvent.model_validate(
        {
            "platform_message_id": pid,
            "chat": {"type": "group", "id": chat, "name": "Chat"},
            "sender": {"id": sender},
            "content": content,
        }
    )


async def test_ingest_stores_once_per_platform_message_id(store: Store) -> None:
    ingest = store.ingest()
    first = await ingest.ingest(store.driver, inbound("a"))
    assert first == IngestResult(first.id)
    assert await ingest.ingest(store.driver, inbound("a", "again")) == IngestResult(first.id, True)
    racing = await asyncio.gather(*(ingest.ingest(store.driver, inbound("b")) for _ in range(5)))
    assert len({result.id for result in racing}) == 1
    assert [result.duplicate for result in racing].count(False) == 1
    assert [message.platform_message_id for message in store.dispatched] == ["a", "b"]
    row = await store.records.message(first.id)
    assert row is not None and row.content == "hi" and row.status == "pending"


async def test_the_unique_index_catches_duplicates_memory_forgot(store: Store) -> None:
    before = await store.ingest().ingest(store.driver, inbound("kept"))
    restarted = store.ingest()
    again = await restarted.ingest(store.driver, inbound("kept"))
    assert again == IngestResult(before.id, True)
    results = await restarted.ingest_many(
        store.driver, [inbound("new-1"), inbound("kept"), inbound("new-2"), inbound("new-1")]
    )
    assert [(r.id == before.id, r.duplicate) for r in results] == [  # type: ignore[union-attr]
        (False, False),
        (True, True),
        (False, False),
        (False, True),
    ]
    assert results[0].id == results[3].id  # type: ignore[union-attr]
    assert len(store.dispatched) == 3  # kept (first run), new-1, new-2


async def test_a_batch_is_one_commit_and_concurrent_batches_share_their_keys(
    store: Store,
) -> None:
    ingest = store.ingest()
    timed = InboundEvent.model_validate(
        {**inbound("t").model_dump(), "time": "2026-11-22T08:00:00.5+08:00"}
    )
    groups = store.writer.committed_groups
    first, second = await asyncio.gather(
        ingest.ingest_many(store.driver, [inbound("a"), timed, inbound("b"), inbound("a")]),
        ingest.ingest_many(store.driver, [inbound("b"), inbound("c")]),
    )
    a, t, b, a_again = first
    b_again, c = second
    assert isinstance(a, IngestResult) and isinstance(a_again, IngestResult)
    assert a_again == IngestResult(a.id, True)
    assert b_again == IngestResult(b.id, True)  # type: ignore[union-attr]
    assert not c.duplicate  # type: ignore[union-attr]
    assert store.writer.committed_groups - groups <= 2
    assert [m.platform_message_id for m in store.dispatched] == ["a", "t", "b", "c"]
    message = store.dispatched[1]
    assert message.time_ms == 1_795_305_600_500
    assert message.payload()["time"] == "2026-11-22T00:00:00.500Z"
    row = await store.records.message(t.id)  # type: ignore[union-attr]
    assert row is not None and row.time_ms == 1_795_305_600_500
    assert row.chat_name == "Chat" and row.sender_name is None
    assert row.segments == [{"type": "text", "data": {"text": "hi"}}]


async def test_search_filters_and_pages(store: Store) -> None:
    ingest = store.ingest()
    ids = []
    for n in range(6):
        result = await ingest.ingest(
            store.driver, inbound(f"p{n}", chat="a" if n < 3 else "b", sender=f"s{n % 2}")
        )
        ids.append(result.id)
        await asyncio.sleep(0.002)  # distinct received_ms
    newest_first = ids[::-1]

    async def search(**query: Any) -> list[str]:
        return [row["id"] for row in await store.records.search(MessageQuery(**query))]

    assert await search() == newest_first
    assert await search(chat="a") == ids[:3][::-1]
    assert await search(sender="s1") == [ids[5], ids[3], ids[1]]
    assert await search(limit=4) == newest_first[:4]
    assert await search(limit=4, cursor=newest_first[3]) == newest_first[4:]
    assert await search(platform="qq", driver="driver-1", status="pending") == newest_first
    assert await search(status="handled") == []
    row = await store.records.message(ids[2])
    assert row is not None
    assert await search(from_ms=row.received_ms) == newest_first[:4]
    assert await search(to_ms=row.received_ms) == ids[:3][::-1]


async def test_deliveries_replies_and_the_cleanup_after_a_crash(store: Store) -> None:
    result = await store.ingest().ingest(store.driver, inbound("x"))
    records = store.records
    delivery = {
        "id": "d1",
        "message_id": result.id,
        "app_name": "app",
        "instance_id": "i1",
        "attempt": 1,
        "status": "sent",
        "created_ms": 5,
        "sent_ms": 5,
        "answered_ms": None,
        "latency_ms": None,
        "blocked": False,
        "error": None,
    }
    await store.writer.write(records.insert_delivery, delivery)
    reply = {
        "id": "r1",
        "message_id": result.id,
        "app_name": "app",
        "instance_id": "i1",
        "driver_id": "driver-1",
        "chat_type": "group",
        "chat_id": "1",
        "content": "yo",
        "template": None,
        "status": "pending",
        "platform_message_id": None,
        "error_code": None,
        "error_message": None,
        "created_ms": 6,
        "done_ms": None,
    }
    await store.writer.write(records.insert_reply, reply)
    # Within the recovery window everything unfinished is kept: the message stays pending for
    # pending_page, the reply pending to be sent again; only the attempt in flight is expired.
    assert await records.close_stale(99, keep_since_ms=5) == ({}, 1)
    assert [page_row.id for page_row in await records.pending_page("~", None, 10)] == [result.id]
    assert [reply_row.id for reply_row in await records.pending_replies()] == ["r1"]
    # Past the window, the message is interrupted and the reply failed.
    assert await records.close_stale(99, keep_since_ms=None) == ({"qq": 1}, 0)
    assert await records.pending_page("~", None, 10) == []
    detail = await records.detail(result.id)
    assert detail is not None and detail["status"] == "interrupted"
    assert [(d["status"], d["error"], d["answered_ms"]) for d in detail["deliveries"]] == [
        ("expired", "master_restarted", 99)
    ]
    assert [(r["status"], r["error_code"]) for r in detail["replies"]] == [
        ("failed", "master_restarted")
    ]
    assert await records.detail("missing") is None
