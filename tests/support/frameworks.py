"""Bots of real OneBot frameworks, run as child processes the way their users run them."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from pathlib import Path

from tests.support.process import free_port

FRAMEWORKS = Path(__file__).resolve().parents[1] / "frameworks"
START_TIMEOUT = 30.0


class NoneBot:
    """`python bot.py` in tests/frameworks/nonebot, configured through its environment."""

    def __init__(self, **environ: str) -> None:
        self.port = free_port()
        self.environ = {**os.environ, "HOST": "127.0.0.1", "PORT": str(self.port), **environ}
        self.lines: list[str] = []
        self._process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None

    @property
    def reverse_url(self) -> str:
        """Return the reverse WebSocket URL the bot serves."""
        return f"ws://127.0.0.1:{self.port}/onebot/v11/ws"

    async def start(self) -> NoneBot:
        """Start the bot and wait until it listens."""
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "bot.py",
            cwd=FRAMEWORKS / "nonebot",
            env=self.environ,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        self._reader = asyncio.create_task(self._read())
        async with asyncio.timeout(START_TIMEOUT):
            while True:
                with contextlib.suppress(OSError):
                    _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                    writer.close()
                    return self
                if self._process.returncode is not None:
                    raise RuntimeError("NoneBot exited:\n" + "\n".join(self.lines[-30:]))
                await asyncio.sleep(0.1)

    async def _read(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        async for line in self._process.stdout:
            self.lines.append(line.decode(errors="replace").rstrip())

    def seen(self) -> list[str]:
        """Return the texts of the messages the bot heard, as `<message_id> <self_id> <text>`."""
        return [line[5:] for line in self.lines if line.startswith("SEEN ")]

    async def wait_for_line(self, fragment: str, timeout: float = 10) -> str:
        """Wait until a line of the bot's output contains `fragment`."""
        async with asyncio.timeout(timeout):
            while True:
                for line in self.lines:
                    if fragment in line:
                        return line
                await asyncio.sleep(0.05)

    async def stop(self) -> None:
        """Stop the bot (SIGTERM, then SIGKILL)."""
        if self._process is None or self._process.returncode is not None:
            return
        self._process.terminate()
        try:
            async with asyncio.timeout(10):
                await self._process.wait()
        except TimeoutError:
            self._process.kill()
            await self._process.wait()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
