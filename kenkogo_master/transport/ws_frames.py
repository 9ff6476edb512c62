"""WebSocket frames gathered over one loop iteration and written with one send per connection.

aiohttp writes every frame with a send system call of its own; a driver's acks and an app's
messages come many to a loop iteration, so gathering them costs no latency and saves most of
those calls. Only uncompressed server frames are gathered (RFC 6455 section 5.2: no mask from a
server); a compressed connection keeps aiohttp's writer, which owns the compressor's state.
"""

from __future__ import annotations

import asyncio
import struct
from typing import Any

_TEXT = 0x81  # FIN and the text opcode
_BINARY = 0x82
_SHORT = struct.Struct("!BB")
_MEDIUM = struct.Struct("!BBH")
_LONG = struct.Struct("!BBQ")


def frame(payload: str | bytes) -> bytes:
    """Return one unmasked, unfragmented frame carrying `payload` (text for str)."""
    if isinstance(payload, str):
        first, data = _TEXT, payload.encode()
    else:
        first, data = _BINARY, payload
    size = len(data)
    if size < 126:
        return _SHORT.pack(first, size) + data
    if size < 65536:
        return _MEDIUM.pack(first, 126, size) + data
    return _LONG.pack(first, 127, size) + data


class FrameBatch:
    """The frames one connection has to send in the current loop iteration."""

    __slots__ = ("_frames", "_loop", "_protocol", "_transport")

    def __init__(self, transport: asyncio.Transport, protocol: Any) -> None:
        self._transport = transport
        self._protocol = protocol  # aiohttp's protocol: its flow control tells a slow reader
        self._frames: list[bytes] = []
        self._loop = asyncio.get_running_loop()

    @classmethod
    def of(cls, response: Any) -> FrameBatch | None:
        """Return a batch writing to `response`'s connection, or None when it compresses."""
        writer = getattr(response, "_writer", None)
        if writer is None or writer.compress or writer.use_mask:
            return None
        return cls(writer.transport, writer.protocol)

    async def send(self, payload: str | bytes) -> None:
        """Queue a frame for the end of this iteration; wait while the peer is not reading."""
        if self._transport.is_closing():
            raise ConnectionResetError("the connection is closing")
        if not self._frames:
            self._loop.call_soon(self.flush)
        self._frames.append(frame(payload))
        if self._protocol.writing_paused:
            self.flush()
            await self._protocol._drain_helper()

    def flush(self) -> None:
        """Write what is queued, in one call."""
        frames = self._frames
        if not frames:
            return
        self._frames = []
        if not self._transport.is_closing():
            self._transport.write(frames[0] if len(frames) == 1 else b"".join(frames))
