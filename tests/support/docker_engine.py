"""A private Docker daemon for the image tests: started here, stopped afterwards.

Debian's docker.io (scripts/test.sh installs it) runs `dockerd` by hand: its own socket and run
state in a temporary folder, its images in ~/.cache/kenkogo/docker, kept between runs so that the
base and the build's layers are cached. It makes no bridge and touches no firewall rule: builds
and containers use the host's network, and the containers listen on loopback only.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "kenkogo"


class EngineUnavailable(Exception):
    """No container engine can run here; the message says why."""


@dataclass
class Engine:
    """A running dockerd and the docker command that talks to it."""

    docker: str
    socket: Path

    @property
    def environ(self) -> dict[str, str]:
        """Return an environment whose `docker` talks to this daemon, with the classic builder."""
        return {
            **os.environ,
            "DOCKER_HOST": f"unix://{self.socket}",
            "DOCKER": self.docker,
            # Debian's daemon has no BuildKit front-end installed; the classic builder needs none.
            "DOCKER_BUILDKIT": "0",
        }

    def run(
        self, *args: str, timeout: float = 60, check: bool = True, env: Mapping[str, str] = {}
    ) -> subprocess.CompletedProcess[str]:
        """Run `docker <args>`; fail with its output when `check` and it exits non-zero."""
        done = subprocess.run(
            [self.docker, *args],
            env={**self.environ, **env},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and done.returncode != 0:
            raise AssertionError(
                f"docker {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
            )
        return done

    def inspect(self, name: str, template: str) -> str:
        """Return `docker inspect -f <template> <name>`, stripped."""
        return self.run("inspect", "-f", template, name).stdout.strip()


def _docker_command() -> str:
    """Return the docker client of the daemon's own package, else the first on PATH."""
    for candidate in ("/usr/bin/docker", shutil.which("docker")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise EngineUnavailable("no docker command (scripts/test.sh installs Debian's docker.io)")


def _tail(path: Path, lines: int = 15) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """Hold a lock on the shared image store: two daemons on one data-root would corrupt it."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _stop(process: subprocess.Popen[bytes], log: IO[bytes]) -> None:
    """SIGTERM the daemon (it stops its containers and its containerd), SIGKILL if it hangs."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    log.close()


def _unmount_under(folder: Path) -> None:
    """Unmount what the daemon left mounted in its run folder (its network namespace file)."""
    prefix = f"{folder}/"
    with contextlib.suppress(OSError):
        mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
        for point in sorted((m for m in mounts if m.startswith(prefix)), reverse=True):
            subprocess.run(["umount", "--lazy", point], check=False, capture_output=True)


@contextlib.contextmanager
def private_engine(start_timeout: float = 30) -> Iterator[Engine]:
    """Start a private dockerd for the block; raise EngineUnavailable where none can run."""
    dockerd = shutil.which("dockerd")
    if dockerd is None:
        raise EngineUnavailable("dockerd is not installed (scripts/test.sh installs docker.io)")
    if os.geteuid() != 0:
        raise EngineUnavailable("dockerd needs root here, and the tests do not run as root")
    docker = _docker_command()
    with _exclusive(CACHE / "docker.lock"):
        # Short paths: containerd's sockets live under the exec-root, and unix socket paths are
        # limited to 108 bytes.
        run_dir = Path(tempfile.mkdtemp(prefix="kkd.", dir="/tmp"))
        log_path = run_dir / "dockerd.log"
        log = log_path.open("wb")
        socket = run_dir / "docker.sock"
        process = subprocess.Popen(
            [
                dockerd,
                f"--data-root={CACHE / 'docker'}",
                f"--exec-root={run_dir / 'exec'}",
                f"--pidfile={run_dir / 'dockerd.pid'}",
                f"--host=unix://{socket}",
                "--storage-driver=overlay2",
                "--bridge=none",
                "--iptables=false",
                "--ip-forward=false",
                "--ip-masq=false",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C of the test run reaches it through _stop only
        )
        engine = Engine(docker, socket)
        try:
            deadline = time.monotonic() + start_timeout
            while True:
                if process.poll() is not None:
                    raise EngineUnavailable(
                        f"dockerd exited {process.returncode} at start:\n{_tail(log_path)}"
                    )
                if socket.exists() and engine.run("version", check=False).returncode == 0:
                    break
                if time.monotonic() > deadline:
                    raise EngineUnavailable(
                        f"dockerd did not answer within {start_timeout} s:\n{_tail(log_path)}"
                    )
                time.sleep(0.2)
            yield engine
        finally:
            _stop(process, log)
            _unmount_under(run_dir)
            shutil.rmtree(run_dir, ignore_errors=True)
