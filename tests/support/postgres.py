"""A throwaway PostgreSQL cluster on loopback for tests that need a real server."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

USER = "kenkogo"


def _binary(name: str) -> str:
    """Find a PostgreSQL server binary; the test command installs the server."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    path = found[-1] if found else shutil.which(name)
    if not path:
        raise RuntimeError(f"PostgreSQL's {name} not found: `bash scripts/test.sh` installs it")
    return path


def _as_server_user(args: list[str]) -> list[str]:
    """Run as `postgres` when we are root: the server refuses to run as root."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class PostgresServer:
    """A running cluster: create a fresh database per test with `new_database`."""

    port: int
    socket_dir: str

    def psql(self, sql: str) -> None:
        """Run one SQL command as the test user against the `postgres` database."""
        command = [_binary("psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", USER]
        subprocess.run(
            [*command, "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-qc", sql],
            check=True,
            capture_output=True,
        )

    def new_database(self) -> str:
        """Create an empty database and return its SQLAlchemy URL."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        self.psql(f"CREATE DATABASE {name}")
        return f"postgresql+asyncpg://{USER}@127.0.0.1:{self.port}/{name}"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """Start a private PostgreSQL cluster for the test session and stop it afterwards."""
    root = tempfile.mkdtemp(prefix="kenkogo-pg-")
    data_dir = os.path.join(root, "data")
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    port = _free_port()
    initdb = [_binary("initdb"), "-D", data_dir, "-U", USER, "--auth=trust", "-E", "UTF8"]
    subprocess.run(
        _as_server_user(initdb),
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    pg_ctl = _binary("pg_ctl")
    start = [pg_ctl, "-D", data_dir, "-o", options, "-w", "-l", f"{root}/log", "start"]
    subprocess.run(
        _as_server_user(start),
        check=True,
        capture_output=True,
    )
    try:
        yield PostgresServer(port, root)
    finally:
        subprocess.run(
            _as_server_user([pg_ctl, "-D", data_dir, "-m", "immediate", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """Return the URL of a fresh, empty database."""
    return postgres_server.new_database()
