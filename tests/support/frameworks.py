"""Bots of real OneBot frameworks, run as child processes the way their users run them."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sys
from pathlib import Path
from typing import Self

from tests.support.process import free_port

FRAMEWORKS = Path(__file__).resolve().parents[1] / "frameworks"
START_TIMEOUT = 30.0
KOISHI_INSTALL_HINT = "install it with `npm ci --prefix tests/frameworks/koishi` (test.sh does)"


class FrameworkBot:
    """A bot process in tests/frameworks/<directory>; its output is kept line by line."""

    directory = ""
    name = "bot"

    def __init__(self, **environ: str) -> None:
        self.port = free_port()
        self.environ = {**os.environ, **self.defaults(), **environ}
        self.lines: list[str] = []
        self._process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None

    def defaults(self) -> dict[str, str]:
        """Return the environment the bot gets unless a test says otherwise."""
        return {}

    @property
    def reverse_url(self) -> str:
        """Return the reverse WebSocket URL the bot serves."""
        raise NotImplementedError

    @property
    def listens(self) -> bool:
        """Tell whether the bot serves a reverse WebSocket (else it dials the Master)."""
        return True

    def command(self) -> list[str]:
        """Return the command line that starts the bot."""
        raise NotImplementedError

    async def start(self) -> Self:
        """Start the bot and wait until it listens (or, when it dials, until it runs)."""
        program, *arguments = self.command()
        self._process = await asyncio.create_subprocess_exec(
            program,
            *arguments,
            cwd=FRAMEWORKS / self.directory,
            env=self.environ,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        self._reader = asyncio.create_task(self._read())
        if not self.listens:
            return self
        async with asyncio.timeout(START_TIMEOUT):
            while True:
                with contextlib.suppress(OSError):
                    _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                    writer.close()
                    return self
                if self._process.returncode is not None:
                    raise RuntimeError(f"{self.name} exited:\n" + "\n".join(self.lines[-30:]))
                await asyncio.sleep(0.1)

    async def _read(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        async for line in self._process.stdout:
            self.lines.append(line.decode(errors="replace").rstrip())

    def seen(self) -> list[str]:
        """Return the messages the bot heard, as the bot's `SEEN ` lines print them."""
        return [line[5:] for line in self.lines if line.startswith("SEEN ")]

    async def wait_for_line(self, fragment: str, timeout: float = 10) -> str:
        """Wait until a line of the bot's output contains `fragment`."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    for line in self.lines:
                        if fragment in line:
                            return line
                    await asyncio.sleep(0.05)
        except TimeoutError:
            raise AssertionError(
                f"{self.name} never printed {fragment!r}:\n" + "\n".join(self.lines[-30:])
            ) from None

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


class NoneBot(FrameworkBot):
    """`python bot.py` in tests/frameworks/nonebot, configured through its environment."""

    directory = "nonebot"
    name = "NoneBot"

    def defaults(self) -> dict[str, str]:
        """Return the environment the bot gets unless a test says otherwise."""
        return {"HOST": "127.0.0.1", "PORT": str(self.port)}

    @property
    def reverse_url(self) -> str:
        """Return the reverse WebSocket URL the bot serves."""
        return f"ws://127.0.0.1:{self.port}/onebot/v11/ws"

    def command(self) -> list[str]:
        """Return the command line that starts the bot."""
        return [sys.executable, "bot.py"]


class Koishi(FrameworkBot):
    """`node bot.js` in tests/frameworks/koishi: a Koishi app with the OneBot adapter.

    It listens for the Master at /onebot (`protocol: 'ws-reverse'`), or, given
    ONEBOT_ENDPOINT, dials it (`protocol: 'ws'`); SELF_ID is the account it is.
    """

    directory = "koishi"
    name = "Koishi"

    def defaults(self) -> dict[str, str]:
        """Return the environment the bot gets unless a test says otherwise."""
        return {"PORT": str(self.port), "SELF_ID": "10001"}

    @property
    def reverse_url(self) -> str:
        """Return the reverse WebSocket URL the bot serves."""
        return f"ws://127.0.0.1:{self.port}/onebot"

    @property
    def listens(self) -> bool:
        """Tell whether the bot serves a reverse WebSocket (else it dials the Master)."""
        return "ONEBOT_ENDPOINT" not in self.environ

    def command(self) -> list[str]:
        """Return the command line that starts the bot, failing when Node or Koishi is missing."""
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("node is not installed; the Koishi bot needs Node.js 18+")
        installed = FRAMEWORKS / self.directory / "node_modules" / "koishi" / "package.json"
        if not installed.is_file():
            raise RuntimeError(f"Koishi is not installed; {KOISHI_INSTALL_HINT}")
        return [node, "bot.js"]
