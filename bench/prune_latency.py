"""The hot path's latency before and during a prune of a large messages table (SQLite).

Fills a fresh data directory with old messages (each with a delivery and a reply, all past the
retention), starts `python main.py serve` on it, and connects a driver and an app over Socket.IO.
The driver sends events on a clock (open loop, like the harness's `light` scenario); each
latency is the time from the driver's send to the app's receipt, both in this process. First
`--before` seconds without a prune, then `POST /api/v1/db/prune` while the events go on until
it answers. Prints p50/p99/max of both phases and what the prune removed.

    python bench/prune_latency.py                     # 200 000 old messages, 200 events/s
    python bench/prune_latency.py --messages 50000 --rate 500 --batch-rows 200

Not a test: the figures depend on the machine. bench/README.md quotes the last run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import socket
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import socketio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kenkogo_master.settings import StorageSettings  # noqa: E402
from kenkogo_master.store import migrate  # noqa: E402
from kenkogo_master.store.db import create_engine  # noqa: E402

DAY_MS = 86_400_000
TOKEN = "bench"
API = "bench-admin-token"
WARM_UP = 3.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=200_000, help="old messages to prune")
    parser.add_argument("--rate", type=float, default=200.0, help="events a second")
    parser.add_argument("--before", type=float, default=10.0, help="seconds measured first")
    parser.add_argument("--batch-rows", type=int, default=500, help="[retention] batch_rows")
    return parser.parse_args()


async def prepare(data_dir: Path) -> None:
    engine = create_engine(StorageSettings(data_dir=data_dir))
    await migrate.upgrade(engine)
    await engine.dispose()


def fill(database: Path, messages: int) -> int:
    """Write `messages` old messages with a delivery and a reply each; return the rows."""
    old = int(time.time() * 1000) - 60 * DAY_MS
    connection = sqlite3.connect(database)
    connection.execute("PRAGMA synchronous=OFF")
    connection.execute(
        "INSERT INTO drivers (id, platform, self_id, name, transport, remote, first_seen_ms, "
        "last_seen_ms) VALUES ('old-driver', 'qq', 'old', '', 'socketio', '', ?, ?)",
        (old, old),
    )
    step = 50_000
    for start in range(0, messages, step):
        ids = [f"old{n:012d}" for n in range(start, min(start + step, messages))]
        connection.executemany(
            "INSERT INTO messages (id, driver_id, platform, platform_message_id, chat_type, "
            "chat_id, sender_id, content, segments, traceparent, time_ms, received_ms, status) "
            "VALUES (?, 'old-driver', 'qq', ?, 'group', 'g1', 'u1', 'an old message', '[]', "
            "'', ?, ?, 'handled')",
            [(id, id, old + n, old + n) for n, id in enumerate(ids)],
        )
        connection.executemany(
            "INSERT INTO deliveries (id, message_id, app_name, attempt, status, created_ms, "
            "blocked) VALUES (?, ?, 'echo', 1, 'acked', ?, 0)",
            [("d" + id, id, old) for id in ids],
        )
        connection.executemany(
            "INSERT INTO replies (id, message_id, chat_type, chat_id, content, status, "
            "created_ms) VALUES (?, ?, 'group', 'g1', 'ok', 'sent', ?)",
            [("r" + id, id, old) for id in ids],
        )
        connection.commit()
    connection.close()
    return messages * 3


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def wait_healthy(url: str) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(300):
            try:
                async with http.get(url + "/health") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("the Master did not start")


def summary(latencies: list[float]) -> str:
    if not latencies:
        return "no messages"
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"{len(ordered)} messages, p50 {statistics.median(ordered):.2f} ms, "
        f"p99 {p99:.2f} ms, max {ordered[-1]:.2f} ms"
    )


async def measure(args: argparse.Namespace, url: str) -> None:
    sent: dict[str, float] = {}
    phase: dict[str, str] = {}
    latencies: dict[str, list[float]] = {"warm-up": [], "before": [], "during": []}
    now = time.perf_counter

    app = socketio.AsyncClient(reconnection=False)

    async def on_message(message: dict[str, Any]) -> dict[str, Any]:
        key = message["content"]
        if key in sent:
            latencies[phase[key]].append((now() - sent.pop(key)) * 1000)
        return {}

    app.on("message", on_message, namespace="/app")
    await app.connect(url, namespaces=["/app"], transports=["websocket"])
    ack = await app.call("register", {"name": "echo", "version": "1"}, namespace="/app")
    assert ack["success"], ack
    driver = socketio.AsyncClient(reconnection=False)
    await driver.connect(
        url, namespaces=["/driver"], transports=["websocket"], auth={"token": TOKEN}
    )
    await driver.call("register", {"platform": "bench", "self_id": "1"}, namespace="/driver")
    errors = 0

    async def send(key: str) -> None:
        nonlocal errors
        sent[key] = now()
        event = {
            "platform_message_id": key,
            "chat": {"type": "group", "id": "g"},
            "sender": {"id": "u"},
            "content": key,
        }
        answer = await driver.call("event", event, namespace="/driver", timeout=30)
        if not answer.get("success"):
            errors += 1

    tasks: set[asyncio.Task[None]] = set()
    count = 0

    async def pump(name: str, until: asyncio.Event | float) -> None:
        nonlocal count
        started = now()
        while True:
            if isinstance(until, float) and now() - started >= until:
                return
            if isinstance(until, asyncio.Event) and until.is_set():
                return
            count += 1
            key = f"m{count}"
            phase[key] = name
            task = asyncio.create_task(send(key))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            # On a clock: the n-th event goes at n / rate, whatever the answers do.
            delay = started + (count - first[name]) / args.rate - now()
            if delay > 0:
                await asyncio.sleep(delay)

    # Start-up's own work (catalogs, first flushes) and the connections' first messages are
    # not measured.
    first = {"warm-up": 0}
    await pump("warm-up", WARM_UP)
    first["before"] = count
    await pump("before", args.before)
    await asyncio.gather(*tasks)
    done = asyncio.Event()
    first["during"] = count
    report: dict[str, Any] = {}

    async def prune() -> None:
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                url + "/api/v1/db/prune", headers={"Authorization": f"Bearer {API}"}
            ) as response,
        ):
            report.update(await response.json())
        done.set()

    pruning = asyncio.create_task(prune())
    await pump("during", done)
    await pruning
    await asyncio.gather(*tasks)
    await asyncio.sleep(0.5)
    await driver.disconnect()
    await app.disconnect()

    removed = {item["table"]: item["removed"] for item in report.get("items", ())}
    print(
        f"prune: {report.get('duration_ms', 0) / 1000:.1f} s, removed {report.get('removed')} "
        f"rows (messages {removed.get('messages')}, deliveries {removed.get('deliveries')}, "
        f"replies {removed.get('replies')}), batches of {args.batch_rows}"
    )
    print(f"before the prune: {summary(latencies['before'])}")
    print(f"during the prune: {summary(latencies['during'])}")
    if errors:
        print(f"{errors} events were refused")


def main() -> None:
    args = parse_args()
    directory = Path(tempfile.mkdtemp(prefix="kenkogo-prune-bench-"))
    try:
        asyncio.run(prepare(directory))
        started = time.perf_counter()
        rows = fill(directory / "kenkogo.db", args.messages)
        size = (directory / "kenkogo.db").stat().st_size / 1e6
        print(f"{rows} old rows ({size:.0f} MB) written in {time.perf_counter() - started:.0f} s")
        port = free_port()
        environ = {
            key: value for key, value in os.environ.items() if not key.startswith("KENKOGO_")
        }
        environ.update(
            {
                "KENKOGO_STORAGE__DATA_DIR": str(directory),
                "KENKOGO_SERVER__HOST": "127.0.0.1",
                "KENKOGO_SERVER__PORT": str(port),
                "KENKOGO_DRIVERS__TOKENS": f'["{TOKEN}"]',
                "KENKOGO_API__TOKEN": API,
                "KENKOGO_RETENTION__MESSAGES_DAYS": "30",
                "KENKOGO_RETENTION__BATCH_ROWS": str(args.batch_rows),
                "KENKOGO_LOGGING__FILE": "false",
            }
        )
        server = subprocess_master(environ)
        try:
            url = f"http://127.0.0.1:{port}"
            asyncio.run(wait_healthy(url))
            asyncio.run(measure(args, url))
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(10)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def subprocess_master(environ: dict[str, str]) -> Any:
    import subprocess

    return subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "serve"],
        env=environ,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


if __name__ == "__main__":
    main()
