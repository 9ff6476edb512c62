"""Load for the panel's scale test, run as its own process so it does not share the Master's loop.

    python -m tests.support.panel_load --url http://127.0.0.1:PORT --apps 1000 --rate 100 \
        --connect-rate 100

Connects `--apps` plain-WebSocket apps (PROTOCOL.md section 3: light, one aiohttp socket each)
in names of ten instances, each name subscribed to one keyword, so every message goes to one
instance; then a Socket.IO driver. Prints one JSON line `{"event": "ready", …}`; then each line
on stdin is a command: `pump SECONDS` sends `--rate` messages a second for that long and prints
`{"event": "pumped", …}`; `quit` (or the end of stdin) closes everything and prints the totals.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import time
from typing import Any

import aiohttp
import socketio

PER_NAME = 10  # instances of one name: they share its messages
HEARTBEAT_S = 20.0  # the Master wants one at least every 30 s
CONNECT_AT_ONCE = 50


def say(**fields: Any) -> None:
    """Print one JSON line for the test that runs this process."""
    print(json.dumps(fields), flush=True)


class Fleet:
    """Many idle apps that ack every message they get."""

    def __init__(self, url: str, count: int, per_second: int) -> None:
        self.url = url.replace("http", "ws", 1) + "/ws"
        self.count = count
        self.per_second = per_second
        self.sockets: list[aiohttp.ClientWebSocketResponse] = []
        self.readers: list[asyncio.Task[None]] = []
        self.delivered = 0
        # No per-host limit: a thousand sockets to one Master is the point.
        self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))

    async def _one(self, number: int) -> None:
        ws = await self.http.ws_connect(self.url, timeout=aiohttp.ClientWSTimeout(ws_close=5))
        name = f"fleet-{number // PER_NAME:03d}"
        await ws.send_json(
            {
                "type": "register",
                "seq": 1,
                "data": {
                    "name": name,
                    "version": "1.0.0",
                    "subscribe": {"keywords": [f"[{name}]"]},
                },
            }
        )
        while True:
            frame = await ws.receive_json(timeout=30)
            if frame.get("type") == "register" and frame.get("seq") == 1:
                assert frame["data"]["success"], frame
                break
        self.sockets.append(ws)
        self.readers.append(asyncio.create_task(self._read(ws, number)))

    async def _read(self, ws: aiohttp.ClientWebSocketResponse, number: int) -> None:
        # Heartbeats spread over the interval, so the Master does not get 1 000 at once.
        next_beat = time.monotonic() + 1 + HEARTBEAT_S * (number % 97) / 97
        while not ws.closed:
            wait = max(0.01, next_beat - time.monotonic())  # 0 would mean "no timeout"
            try:
                message = await ws.receive(timeout=wait)
            except TimeoutError:
                await ws.send_json({"type": "heartbeat"})
                next_beat = time.monotonic() + HEARTBEAT_S
                continue
            if message.type != aiohttp.WSMsgType.TEXT:
                return
            frame = json.loads(message.data)
            if frame.get("type") == "message":
                self.delivered += 1
                await ws.send_json({"type": "ack", "data": {"id": frame["data"]["id"]}})

    async def connect(self) -> None:
        """Connect and register every app, a few at a time (`per_second` at most, unless 0)."""
        numbers = iter(range(self.count))
        started = time.monotonic()

        async def worker() -> None:
            for number in numbers:
                if self.per_second:
                    await asyncio.sleep(
                        max(0.0, started + number / self.per_second - time.monotonic())
                    )
                await self._one(number)

        await asyncio.gather(*(worker() for _ in range(CONNECT_AT_ONCE)))

    async def close(self) -> None:
        """Close every socket."""
        for task in self.readers:
            task.cancel()
        await asyncio.gather(*self.readers, return_exceptions=True)
        await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)
        await self.http.close()


class Pump:
    """A Socket.IO driver that sends chat messages at a steady rate."""

    def __init__(self, url: str, names: int) -> None:
        self.url = url
        self.names = names
        self.client = socketio.AsyncClient(reconnection=False)
        self.numbers = itertools.count(1)
        self.sent = 0
        self.acked = 0
        self.failed = 0

    async def connect(self) -> None:
        """Connect and register the driver."""
        await self.client.connect(
            self.url,
            namespaces=["/driver"],
            transports=["websocket"],
            auth={"token": "driver-token"},
            wait_timeout=10,
        )
        ack = await self.client.call(
            "register", {"platform": "qq", "self_id": "90001"}, namespace="/driver", timeout=10
        )
        assert ack["success"], ack

    def _answered(self, answer: Any) -> None:
        if isinstance(answer, dict) and answer.get("success"):
            self.acked += 1
        else:
            self.failed += 1

    async def pump(self, seconds: float, rate: int) -> None:
        """Send `rate` messages a second for `seconds`, paced against the clock."""
        started = time.monotonic()
        total = int(seconds * rate)
        for index in range(total):
            number = next(self.numbers)
            name = f"fleet-{number % self.names:03d}"
            event = {
                "platform_message_id": f"load-{number}",
                "chat": {"type": "group", "id": str(100 + number % 20), "name": "load"},
                "sender": {"id": str(200 + number % 50), "name": f"user {number % 50}"},
                "content": f"[{name}] message {number} with a few more words in it",
            }
            await self.client.emit("event", event, namespace="/driver", callback=self._answered)
            self.sent += 1
            await asyncio.sleep(max(0.0, started + (index + 1) / rate - time.monotonic()))

    async def close(self) -> None:
        """Disconnect."""
        await self.client.disconnect()


async def main() -> None:
    """Connect the fleet and the driver, then follow the commands on stdin."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--apps", type=int, default=1000)
    parser.add_argument("--rate", type=int, default=100)
    parser.add_argument("--connect-rate", type=int, default=0, help="apps a second; 0: at once")
    args = parser.parse_args()
    fleet = Fleet(args.url, args.apps, args.connect_rate)
    started = time.monotonic()
    await fleet.connect()
    pump = Pump(args.url, max(1, args.apps // PER_NAME))
    await pump.connect()
    say(event="ready", apps=len(fleet.sockets), connect_s=round(time.monotonic() - started, 1))
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    try:
        while line := (await reader.readline()).decode().split():
            if line[0] == "pump":
                began = time.monotonic()
                await pump.pump(float(line[1]), args.rate)
                say(event="pumped", sent=pump.sent, seconds=round(time.monotonic() - began, 1))
            elif line[0] == "quit":
                break
    finally:
        await asyncio.sleep(1)  # the last acks
        say(
            event="done",
            sent=pump.sent,
            acked=pump.acked,
            failed=pump.failed,
            delivered=fleet.delivered,
            open=sum(not ws.closed for ws in fleet.sockets),
        )
        await pump.close()
        await fleet.close()


if __name__ == "__main__":
    asyncio.run(main())
