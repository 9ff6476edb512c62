"""Start and stop the systems under test, each as its own process on a free loopback port."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = BENCH_DIR.parent
START_TIMEOUT_S = 30.0
STOP_GRACE_S = 5.0


class Unavailable(Exception):
    """The system cannot be started here; its row is reported as unavailable."""


@dataclass(frozen=True)
class SystemSpec:
    """How to launch one system and how to tell that it is ready."""

    name: str
    argv: Callable[[int], list[str]]
    env: Callable[[int, Path], dict[str, str]]
    ready: str  # "line": prints "ready" on stdout; "health": answers GET /health with 200
    needs: Path

    def check(self) -> None:
        """Raise Unavailable when the system's entry point is missing."""
        if not self.needs.exists():
            raise Unavailable(f"{self.needs} does not exist")


def _no_env(_port: int, _data_dir: Path) -> dict[str, str]:
    return {}


def _master_env(port: int, data_dir: Path) -> dict[str, str]:
    return {
        "KENKOGO_SERVER__HOST": "127.0.0.1",
        "KENKOGO_SERVER__PORT": str(port),
        "KENKOGO_STORAGE__DATA_DIR": str(data_dir),
        "KENKOGO_DRIVERS__TOKENS": '["bench"]',
    }


SYSTEMS: dict[str, SystemSpec] = {
    spec.name: spec
    for spec in (
        SystemSpec(
            name="py-relay",
            argv=lambda port: [
                sys.executable,
                str(BENCH_DIR / "relays" / "py_relay.py"),
                str(port),
            ],
            env=_no_env,
            ready="line",
            needs=BENCH_DIR / "relays" / "py_relay.py",
        ),
        SystemSpec(
            name="node-relay",
            argv=lambda port: ["node", str(BENCH_DIR / "relays" / "node_relay.js"), str(port)],
            env=_no_env,
            ready="line",
            needs=BENCH_DIR / "node_modules" / "socket.io",
        ),
        SystemSpec(
            name="master",
            argv=lambda _port: [sys.executable, str(REPO_DIR / "main.py"), "serve"],
            env=_master_env,
            ready="health",
            needs=REPO_DIR / "main.py",
        ),
    )
}


@dataclass
class Running:
    """A started system: its process, port and the log it writes."""

    spec: SystemSpec
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        """Return the base URL the load process connects to."""
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 20) -> str:
        """Return the last lines the system wrote, for a failure report."""
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def free_port() -> int:
    """Return a loopback port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _is_ready(running: Running) -> bool:
    if running.spec.ready == "line":
        try:
            return "ready" in running.log.read_text(errors="replace").split()
        except OSError:
            return False
    try:
        with urllib.request.urlopen(f"{running.url}/health", timeout=1.0) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _wait_ready(running: Running, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if running.process.poll() is not None:
            raise Unavailable(
                f"exited with {running.process.returncode} before it was ready:\n"
                f"{running.log_tail()}"
            )
        if _is_ready(running):
            return
        time.sleep(0.05)
    raise Unavailable(f"not ready within {timeout_s:.0f} s:\n{running.log_tail()}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a system and everything it started: SIGTERM to its group, then SIGKILL."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_GRACE_S)


@contextlib.contextmanager
def started(spec: SystemSpec, timeout_s: float = START_TIMEOUT_S) -> Iterator[Running]:
    """Run a system with a fresh data directory for the duration of the block."""
    spec.check()
    data_dir = Path(tempfile.mkdtemp(prefix=f"kenkogo-bench-{spec.name}-"))
    port = free_port()
    log = data_dir / "server.log"
    env = {**os.environ, **spec.env(port, data_dir), "PYTHONUNBUFFERED": "1"}
    with log.open("wb") as sink:
        process = subprocess.Popen(
            spec.argv(port),
            cwd=REPO_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so stop() reaches its children too
        )
    running = Running(spec, process, port, log)
    try:
        _wait_ready(running, timeout_s)
        yield running
    finally:
        stop(process)
        shutil.rmtree(data_dir, ignore_errors=True)
