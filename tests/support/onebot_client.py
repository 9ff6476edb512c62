"""A OneBot v11 implementation's reverse WebSocket client (Universal role), from the standard.

It plays go-cqhttp / NapCat: connects with X-Self-ID and X-Client-Role, pushes message and meta
events, and answers the Master's API calls (send_group_msg, send_private_msg) by `echo`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import os
import time
from typing import Any

import aiohttp

PATH = "/onebot/v11/ws"


def ws_url(base_url: str) -> str:
    """Return the reverse WebSocket URL of a Master at `base_url`."""
    return base_url.replace("http", "ws", 1) + PATH


def connect_headers(
    self_id: str | int | None = 10001,
    role: str | None = "Universal",
    token: str | None = None,
) -> dict[str, str]:
    """Build the headers an implementation sends when it opens the connection."""
    headers = {"User-Agent": "OneBotTestClient/1.0"}
    if self_id is not None:
        headers["X-Self-ID"] = str(self_id)
    if role is not None:
        headers["X-Client-Role"] = role
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return headers


async def refused(
    http: aiohttp.ClientSession, base_url: str, headers: dict[str, str], query: str = ""
) -> tuple[int, Any]:
    """Send the upgrade request and return the refusal's status and JSON body."""
    upgrade = {
        "Connection": "Upgrade",
        "Upgrade": "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
        **headers,
    }
    async with http.get(base_url + PATH + query, headers=upgrade) as resp:
        body = await resp.json() if resp.content_type == "application/json" else await resp.text()
        return resp.status, body


class OneBotClient:
    """One bot account connected to the Master; records the API calls it receives."""

    def __init__(
        self, ws: aiohttp.ClientWebSocketResponse, self_id: int, auto_respond: bool
    ) -> None:
        self.ws = ws
        self.self_id = self_id
        self.auto_respond = auto_respond
        self.actions: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.other_frames: list[Any] = []
        self._message_ids = itertools.count(90_001)
        self._ids = itertools.count(1)
        self.closed = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def connect(
        cls,
        http: aiohttp.ClientSession,
        base_url: str,
        self_id: int = 10001,
        token: str | None = None,
        token_in_query: bool = False,
        auto_respond: bool = True,
    ) -> OneBotClient:
        """Open the Universal connection and announce it with a lifecycle `connect` event."""
        headers = connect_headers(self_id, token=None if token_in_query else token)
        url = ws_url(base_url) + (f"?access_token={token}" if token_in_query else "")
        client = cls(await http.ws_connect(url, headers=headers), self_id, auto_respond)
        await client.lifecycle("connect")
        return client

    async def _read(self) -> None:
        async for message in self.ws:
            if message.type is not aiohttp.WSMsgType.TEXT:
                continue
            frame = message.json()
            if isinstance(frame, dict) and "action" in frame:
                await self.actions.put(frame)
                if self.auto_respond:
                    await self.respond(frame, message_id=next(self._message_ids))
            else:
                self.other_frames.append(frame)
        self.closed.set()

    def _base(self, post_type: str) -> dict[str, Any]:
        return {"time": int(time.time()), "self_id": self.self_id, "post_type": post_type}

    async def send(self, frame: Any) -> None:
        """Send one frame as JSON."""
        await self.ws.send_json(frame)

    async def send_raw(self, text: str) -> None:
        """Send a text frame as is (for malformed input)."""
        await self.ws.send_str(text)

    async def group_message(
        self,
        group_id: int,
        user_id: int,
        message: str | list[dict[str, Any]],
        message_id: int | None = None,
        nickname: str = "Alice",
        card: str = "",
    ) -> int:
        """Push a group message event; return its message_id."""
        message_id = message_id if message_id is not None else next(self._ids)
        await self.send(
            {
                **self._base("message"),
                "message_type": "group",
                "sub_type": "normal",
                "message_id": message_id,
                "group_id": group_id,
                "user_id": user_id,
                "anonymous": None,
                "message": message,
                "raw_message": message if isinstance(message, str) else "",
                "font": 0,
                "sender": {
                    "user_id": user_id,
                    "nickname": nickname,
                    "card": card,
                    "role": "member",
                },
            }
        )
        return message_id

    async def private_message(
        self,
        user_id: int,
        message: str | list[dict[str, Any]],
        message_id: int | None = None,
        nickname: str = "Bob",
    ) -> int:
        """Push a private (friend) message event; return its message_id."""
        message_id = message_id if message_id is not None else next(self._ids)
        await self.send(
            {
                **self._base("message"),
                "message_type": "private",
                "sub_type": "friend",
                "message_id": message_id,
                "user_id": user_id,
                "message": message,
                "raw_message": message if isinstance(message, str) else "",
                "font": 0,
                "sender": {"user_id": user_id, "nickname": nickname, "sex": "unknown", "age": 0},
            }
        )
        return message_id

    async def group_increase(self, group_id: int, user_id: int, operator_id: int = 0) -> None:
        """Push a `group_increase` notice: someone joined a group."""
        await self.send(
            {
                **self._base("notice"),
                "notice_type": "group_increase",
                "sub_type": "approve",
                "group_id": group_id,
                "operator_id": operator_id,
                "user_id": user_id,
            }
        )

    async def friend_request(self, user_id: int, flag: str, comment: str = "") -> None:
        """Push a friend request."""
        await self.send(
            {
                **self._base("request"),
                "request_type": "friend",
                "user_id": user_id,
                "comment": comment,
                "flag": flag,
            }
        )

    async def group_request(
        self, group_id: int, user_id: int, flag: str, sub_type: str = "add", comment: str = ""
    ) -> None:
        """Push a request to join a group (`add`) or an invitation into one (`invite`)."""
        await self.send(
            {
                **self._base("request"),
                "request_type": "group",
                "sub_type": sub_type,
                "group_id": group_id,
                "user_id": user_id,
                "comment": comment,
                "flag": flag,
            }
        )

    async def heartbeat(self, interval_ms: int = 5000) -> None:
        """Push a heartbeat meta event."""
        await self.send(
            {
                **self._base("meta_event"),
                "meta_event_type": "heartbeat",
                "status": {"online": True, "good": True},
                "interval": interval_ms,
            }
        )

    async def lifecycle(self, sub_type: str) -> None:
        """Push a lifecycle meta event (enable, disable, connect)."""
        await self.send(
            {**self._base("meta_event"), "meta_event_type": "lifecycle", "sub_type": sub_type}
        )

    async def respond(
        self,
        action: dict[str, Any],
        message_id: int | None = None,
        status: str = "ok",
        retcode: int = 0,
        **extra: Any,
    ) -> None:
        """Answer an API call, echoing its `echo`."""
        data = {"message_id": message_id} if message_id is not None else None
        frame = {"status": status, "retcode": retcode, "data": data, "echo": action.get("echo")}
        await self.send({**frame, **extra})

    async def next_action(self, timeout: float = 5) -> dict[str, Any]:
        """Wait for the next API call from the Master."""
        return await asyncio.wait_for(self.actions.get(), timeout)

    async def close(self) -> None:
        """Close the connection and stop reading."""
        await self.ws.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
