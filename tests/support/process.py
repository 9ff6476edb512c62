"""Run `python main.py` as a child process, the way a user starts the Master."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

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
        while line := await stream.readline():
            self.output.append(line.decode(errors="replace"))

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
