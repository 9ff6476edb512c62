"""What the hub needs from the outside world, as small protocols (no aiohttp, no Socket.IO)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol


class Peer(Protocol):
    """One connected client, whatever wire it speaks."""

    transport: str  # "socket.io" or "websocket"
    remote: str  # the peer's address, for operators

    async def send(self, event: str, data: Any) -> None:
        """Send an event; never raises for a peer that has gone."""

    async def request(self, event: str, data: Any, on_answer: Callable[[Any], None]) -> None:
        """Send an event that expects an answer; `on_answer` is called with it when it comes."""

    async def close(self) -> None:
        """Close the connection."""


class Texts(Protocol):
    """Translated texts by key, in a locale."""

    def text(self, key: str, locale: str | None, /, **params: Any) -> str:
        """Return the text for `key` in `locale`, with `params` filled in."""
        ...
