"""Run a bare python-socketio relay: the ceiling of the Master's own stack.

Apps register on `/app`, a driver sends `event` (or `events` batches) on `/driver`, and each
message goes round robin to one registered app with a Socket.IO ack. Nothing else happens: no
SQL, no statistics, no traces, no matching. Usage: `python bench/relays/py_relay.py PORT`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

import socketio
from aiohttp import web


@dataclass
class AppSlot:
    """One registered app connection and the batch size it accepts."""

    sid: str
    batch_max: int


@dataclass
class Relay:
    """Hold the registered apps and hand each message to the next one in turn."""

    sio: socketio.AsyncServer
    apps: list[AppSlot] = field(default_factory=list)
    turn: int = 0
    ids: itertools.count[int] = field(default_factory=itertools.count)

    def next_id(self) -> str:
        """Return a fresh message id."""
        return f"m{next(self.ids)}"

    def pick(self) -> AppSlot | None:
        """Return the next app in round-robin order, or None when none is registered."""
        if not self.apps:
            return None
        self.turn = (self.turn + 1) % len(self.apps)
        return self.apps[self.turn]

    async def deliver(self, events: list[dict[str, Any]], driver_id: str) -> list[str]:
        """Turn driver events into messages, send them out and return their ids."""
        per_app: dict[str, tuple[AppSlot, list[dict[str, Any]]]] = {}
        ids: list[str] = []
        for event in events:
            message = to_message(
                event if isinstance(event, dict) else {}, self.next_id(), driver_id
            )
            ids.append(message["id"])
            slot = self.pick()
            if slot is None:
                continue  # nobody to deliver to: the message is dropped, as "unrouted"
            per_app.setdefault(slot.sid, (slot, []))[1].append(message)
        for slot, messages in per_app.values():
            await self.send(slot, messages)
        return ids

    async def send(self, slot: AppSlot, messages: list[dict[str, Any]]) -> None:
        """Send messages to one app: as a `messages` batch when it accepts one."""
        if len(messages) > 1 and slot.batch_max > 1:
            for start in range(0, len(messages), slot.batch_max):
                chunk = messages[start : start + slot.batch_max]
                await self.sio.emit(
                    "messages", {"messages": chunk}, to=slot.sid, namespace="/app", callback=noop
                )
            return
        for message in messages:
            await self.sio.emit("message", message, to=slot.sid, namespace="/app", callback=noop)

    def drop(self, sid: str) -> None:
        """Forget a disconnected app."""
        self.apps = [slot for slot in self.apps if slot.sid != sid]


def noop(*_answer: Any) -> None:
    """Accept an app's ack; a bare relay only asks for it."""


def to_message(event: dict[str, Any], message_id: str, driver_id: str) -> dict[str, Any]:
    """Shape a driver event as the message an app receives (PROTOCOL.md 2.3)."""
    return {
        "id": message_id,
        "content": event.get("content", ""),
        "segments": event.get("segments", []),
        "platform": "bench",
        "driver": driver_id,
        "chat": event.get("chat"),
        "sender": event.get("sender"),
        "time": event.get("time"),
        "locale": event.get("locale"),
        "attempt": 1,
        "traceparent": event.get("traceparent"),
    }


def batch_max(data: Any) -> int:
    """Read the batch size an app asked for at register, 1 when it asked for none."""
    batch = data.get("batch") if isinstance(data, dict) else None
    if isinstance(batch, dict) and isinstance(batch.get("max"), int):
        return max(1, batch["max"])
    return 1


def build(relay: Relay) -> None:
    """Attach the `/app` and `/driver` handlers to the relay's server."""
    sio = relay.sio

    @sio.on("register", namespace="/app")
    async def app_register(sid: str, data: Any) -> dict[str, Any]:
        relay.apps.append(AppSlot(sid, batch_max(data)))
        return {"success": True, "id": sid, "state": "scheduling", "heartbeat_interval": 30}

    @sio.on("heartbeat", namespace="/app")
    async def app_heartbeat(sid: str, *_data: Any) -> dict[str, Any]:
        return {"time_ms": int(time.time() * 1000)}

    @sio.on("disconnect", namespace="/app")
    async def app_disconnect(sid: str, *_reason: Any) -> None:
        relay.drop(sid)

    @sio.on("register", namespace="/driver")
    async def driver_register(sid: str, data: Any) -> dict[str, Any]:
        return {"success": True, "id": sid}

    @sio.on("event", namespace="/driver")
    async def driver_event(sid: str, data: Any) -> dict[str, Any]:
        (message_id,) = await relay.deliver([data], sid)
        return {"success": True, "id": message_id}

    @sio.on("events", namespace="/driver")
    async def driver_events(sid: str, data: Any) -> list[dict[str, Any]]:
        events = data.get("events", []) if isinstance(data, dict) else []
        ids = await relay.deliver(events, sid)
        return [{"success": True, "id": message_id} for message_id in ids]

    @sio.on("connect", namespace="/driver")
    async def driver_connect(sid: str, environ: Any, auth: Any = None) -> None:
        """Accept every driver: a bare relay checks no token."""

    @sio.on("connect", namespace="/app")
    async def app_connect(sid: str, environ: Any, auth: Any = None) -> None:
        """Accept every app."""


async def serve(port: int) -> None:
    """Listen on loopback until the process is stopped."""
    sio = socketio.AsyncServer(async_mode="aiohttp")
    app = web.Application()
    sio.attach(app)
    build(Relay(sio))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    print("ready", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def main() -> None:
    """Parse the port and run the relay."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("port", type=int)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.port))


if __name__ == "__main__":
    main()
