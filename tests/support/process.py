"""Run `python main.py` as a child process, the way a user starts the Master."""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import signal
import socket
import sqlite3
import sys
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

REPO = Path(__file__).resolve().parents[2]
MAIN = REPO / "main.py"


def free_port() -> int:
    """Return a TCP port that is free on loopback right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def master_environ(data_dir: Path, port: int, **extra: str) -> dict[str, str]:
    """Return the environment of a child Master: no inherited KENKOGO_ keys, quiet and local."""
    environ = {key: value for key, value in os.environ.items() if not key.startswith("KENKOGO_")}
    environ.update(
        {
            "KENKOGO_STORAGE__DATA_DIR": str(data_dir),
            "KENKOGO_SERVER__HOST": "127.0.0.1",
            "KENKOGO_SERVER__PORT": str(port),
            "PYTHONUNBUFFERED": "1",
        }
    )
    environ.update(extra)
    return environ


async def run_main(
    args: Sequence[str],
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 30,
    stdin: bytes | None = None,
) -> tuple[int, str, str]:
    """Run `python main.py <args>` to completion (fed `stdin`); return exit code, out and err."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(MAIN),
        *args,
        env=dict(environ) if environ is not None else None,
        cwd=cwd,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(stdin), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@dataclass
class MasterProcess:
    """A Master running as `python main.py` in a child process."""

    process: asyncio.subprocess.Process
    port: int
    output: list[str] = field(default_factory=list)
    _readers: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def url(self) -> str:
        """Return the base URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def text(self) -> str:
        """Return everything the process wrote so far, stdout and stderr interleaved."""
        return "".join(self.output)

    async def _collect(self, stream: asyncio.StreamReader) -> None:
        # Read in chunks, not lines: a line longer than the reader's limit would end a readline
        # loop, and a child whose pipe nobody drains blocks on its next write.
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        while chunk := await stream.read(65_536):
            self.output.append(decoder.decode(chunk))

    async def wait_healthy(self, timeout: float = 20) -> None:
        """Wait until GET /health answers 200; fail with the process output if it never does."""
        deadline = asyncio.get_running_loop().time() + timeout
        async with aiohttp.ClientSession() as http:
            while True:
                if self.process.returncode is not None:
                    raise AssertionError(f"the Master exited early:\n{self.text}")
                try:
                    async with http.get(self.url + "/health") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientConnectionError:
                    pass
                if asyncio.get_running_loop().time() > deadline:
                    raise AssertionError(f"no /health within {timeout} s:\n{self.text}")
                await asyncio.sleep(0.1)

    async def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 10) -> int:
        """Send `sig` and wait for the exit code; kill and fail if it does not exit in time."""
        if self.process.returncode is None:
            self.process.send_signal(sig)
        try:
            code = await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            raise AssertionError(
                f"the Master did not exit within {timeout} s of {sig.name}:\n{self.text}"
            ) from None
        await asyncio.gather(*self._readers, return_exceptions=True)
        return code


async def spawn_master(environ: Mapping[str, str], port: int, *args: str) -> MasterProcess:
    """Start `python main.py <args>` with `environ`, listening on `port`; do not wait for it."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(MAIN),
        *args,
        env=dict(environ),
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    master = MasterProcess(process, port)
    assert process.stdout is not None and process.stderr is not None
    master._readers = [
        asyncio.create_task(master._collect(process.stdout)),
        asyncio.create_task(master._collect(process.stderr)),
    ]
    return master


@asynccontextmanager
async def running_master(
    environ: Mapping[str, str], port: int, *args: str
) -> AsyncIterator[MasterProcess]:
    """Start `python main.py` and make sure it is gone afterwards, even when a test fails."""
    master = await spawn_master(environ, port, *args)
    try:
        yield master
    finally:
        if master.process.returncode is None:
            master.process.kill()
            await master.process.wait()
        await asyncio.gather(*master._readers, return_exceptions=True)


# What every restartable Master accepts: one admin token and one driver token.
ADMIN_TOKEN = "restart-admin-token"
DRIVER_TOKEN = "driver-token"


class RestartableMaster:
    """One data directory and port, served by `python main.py` again after each stop or kill.

    Settings are KENKOGO_-style overrides, e.g. `apps__ack_timeout="30"`. Every run listens on
    the same port, so that clients which reconnect by themselves find the next run.
    """

    def __init__(
        self, data_dir: Path, settings: Mapping[str, str] | None = None, port: int | None = None
    ) -> None:
        self.data_dir = data_dir
        self.port = port if port is not None else free_port()
        self.settings = dict(settings or {})
        self.run: MasterProcess | None = None
        self.runs: list[MasterProcess] = []

    @property
    def url(self) -> str:
        """Return the base URL (the same for every run)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def database(self) -> Path:
        """Return the SQLite file in the data directory."""
        return self.data_dir / "kenkogo.db"

    @property
    def text(self) -> str:
        """Return everything every run wrote so far, run after run."""
        return "".join(run.text for run in self.runs)

    @property
    def running(self) -> bool:
        """Tell whether a run is up."""
        return self.run is not None and self.run.process.returncode is None

    def environ(self) -> dict[str, str]:
        """Return the environment of the next run."""
        return master_environ(
            self.data_dir,
            self.port,
            KENKOGO_API__TOKEN=ADMIN_TOKEN,
            KENKOGO_DRIVERS__TOKENS=f'["{DRIVER_TOKEN}"]',
            KENKOGO_LOGGING__FILE="false",
            **{f"KENKOGO_{key.upper()}": value for key, value in self.settings.items()},
        )

    async def start(self, timeout: float = 30, **settings: str) -> MasterProcess:
        """Start a run (with `settings` changed from now on) and wait until /health is 200."""
        assert not self.running, "the previous run is still up"
        self.settings.update(settings)
        self.run = await spawn_master(self.environ(), self.port)
        self.runs.append(self.run)
        await self.run.wait_healthy(timeout)
        return self.run

    async def kill(self) -> None:
        """SIGKILL the run: a crash, nothing flushed."""
        assert self.run is not None
        await self.run.stop(signal.SIGKILL)

    async def terminate(self, timeout: float = 10) -> int:
        """SIGTERM the run and return its exit code; fail if it is not gone within `timeout`."""
        assert self.run is not None
        return await self.run.stop(signal.SIGTERM, timeout)

    async def close(self) -> None:
        """Make sure no run is left behind."""
        for run in self.runs:
            if run.process.returncode is None:
                run.process.kill()
                await run.process.wait()
            await asyncio.gather(*run._readers, return_exceptions=True)

    def messages(self) -> dict[str, tuple[str, str]]:
        """Read every stored message straight from the SQLite file: id -> (pid, status)."""
        with contextlib.closing(sqlite3.connect(self.database, timeout=10)) as connection:
            rows = connection.execute("SELECT id, platform_message_id, status FROM messages")
            return {row[0]: (row[1], row[2]) for row in rows}

    async def api(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        """Call the REST API of the run with the admin token; return status and JSON body."""
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}", **kwargs.pop("headers", {})}
        async with (
            aiohttp.ClientSession() as http,
            http.request(method, self.url + path, headers=headers, **kwargs) as response,
        ):
            return response.status, await response.json()


MakeMaster = Callable[..., RestartableMaster]


@pytest.fixture
async def restartable_master(tmp_path: Path) -> AsyncIterator[MakeMaster]:
    """Make restartable Masters (data in tmp_path/data unless given); none outlives the test."""
    made: list[RestartableMaster] = []

    def make(data_dir: Path | None = None, **settings: str) -> RestartableMaster:
        master = RestartableMaster(data_dir or tmp_path / "data", settings)
        made.append(master)
        return master

    yield make
    for master in made:
        await master.close()
