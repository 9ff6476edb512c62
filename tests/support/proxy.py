"""A TCP proxy in front of the Master whose connections a test can cut, like a network blip."""

from __future__ import annotations

import asyncio
import contextlib


class TcpProxy:
    """Forward a loopback port to `target_port`; `cut()` drops every connection through it."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._pipes: set[asyncio.Task[None]] = set()
        self.connections = 0

    @property
    def url(self) -> str:
        """Return the base URL through the proxy."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> TcpProxy:
        """Listen on a free port."""
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self._writers.update((writer, up_writer))
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(source, sink))
            self._pipes.add(task)
            task.add_done_callback(self._pipes.discard)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, ConnectionError):
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        sink.close()

    async def cut(self) -> None:
        """Close every connection through the proxy at once, both ways; new ones still pass."""
        for writer in tuple(self._writers):
            transport = writer.transport
            transport.abort()  # no FIN handshake: as abrupt as a dropped link
        self._writers.clear()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    async def close(self) -> None:
        """Stop listening and cut what is open."""
        if self._server is not None:
            self._server.close()
        await self.cut()
        if self._server is not None:
            await self._server.wait_closed()
