"""The README's first command, `bash scripts/start.sh`, from a clean clone as a new user runs it."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.process import MasterProcess, free_port, master_environ

REPO = Path(__file__).resolve().parents[1]


def clone(tmp_path: Path) -> Path:
    """Clone the repository's HEAD: only what is committed, no .venv, no data."""
    target = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "--quiet", "--no-hardlinks", str(REPO), str(target)],
        check=True,
        timeout=60,
    )
    return target


def script_environ(data_dir: Path, port: int, **extra: str) -> dict[str, str]:
    """Return a child Master's environment without this test run's virtualenv on it."""
    environ = master_environ(data_dir, port, KENKOGO_LOGGING__FILE="false", **extra)
    environ.pop("VIRTUAL_ENV", None)
    environ.pop("PYTHONPATH", None)
    return environ


async def start_script(checkout: Path, environ: dict[str, str], *args: str) -> MasterProcess:
    """Run `bash scripts/start.sh <args>` in `checkout`, collecting its output."""
    process = await asyncio.create_subprocess_exec(
        "bash",
        "scripts/start.sh",
        *args,
        cwd=checkout,
        env=environ,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    master = MasterProcess(process, int(environ["KENKOGO_SERVER__PORT"]))
    assert process.stdout is not None and process.stderr is not None
    master._readers = [
        asyncio.create_task(master._collect(process.stdout)),
        asyncio.create_task(master._collect(process.stderr)),
    ]
    return master


@pytest.mark.timeout(240)
async def test_the_first_command_starts_the_master_from_a_clean_clone(tmp_path: Path) -> None:
    checkout = clone(tmp_path)
    assert not (checkout / ".venv").exists()
    port = free_port()
    environ = script_environ(tmp_path / "data", port)
    began = time.monotonic()
    master = await start_script(checkout, environ)
    try:
        # pip from its cache; the first start also makes the venv.
        await master.wait_healthy(timeout=180)
        first_start = time.monotonic() - began
        assert "start: making .venv with python3" in master.text
        assert "start: installing requirements.txt into .venv" in master.text
        assert await master.stop(signal.SIGTERM) == 0  # exec: the signal reaches the Master
    finally:
        if master.process.returncode is None:
            master.process.kill()
            await master.process.wait()
    assert "KenkoGo Master stopped" in master.text
    assert (tmp_path / "data" / "kenkogo.db").exists()
    assert (checkout / ".venv" / "bin" / "python").exists()

    # The second start reuses the venv and installs nothing; arguments reach main.py.
    began = time.monotonic()
    done = subprocess.run(
        ["bash", "scripts/start.sh", "admin", "list"],
        cwd=checkout,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert ["admin"] in [line.split()[:1] for line in done.stdout.splitlines()]
    assert "start:" not in done.stderr  # neither a new venv nor an install
    print(f"\nfirst start {first_start:.1f} s, second command {time.monotonic() - began:.1f} s")


def run_script(checkout: Path, environ: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run `bash scripts/start.sh --version` to completion."""
    return subprocess.run(
        ["bash", "scripts/start.sh", "--version"],
        cwd=checkout,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_missing_interpreter_is_named(tmp_path: Path) -> None:
    checkout = clone(tmp_path)
    environ = script_environ(tmp_path / "data", free_port(), PYTHON="python3.0-nowhere")
    done = run_script(checkout, environ)
    assert done.returncode == 1
    assert "start: no python3.0-nowhere here" in done.stderr
    assert "sudo apt install python3 python3-venv" in done.stderr
    assert not (checkout / ".venv").exists()


def test_an_old_python_is_refused(tmp_path: Path) -> None:
    checkout = clone(tmp_path)
    old = tmp_path / "python3.9"
    old.write_text('#!/bin/sh\n[ "$1" = --version ] && echo "Python 3.9.2" && exit 0\nexit 1\n')
    old.chmod(0o755)
    environ = script_environ(tmp_path / "data", free_port(), PYTHON=str(old))
    done = run_script(checkout, environ)
    assert done.returncode == 1
    assert "needs Python 3.11 or newer" in done.stderr
    assert "Python 3.9.2" in done.stderr
    assert not (checkout / ".venv").exists()


def test_a_python_without_venv_says_which_package_to_install(tmp_path: Path) -> None:
    # As Debian's python3 without python3-venv: `import ensurepip` fails.
    checkout = clone(tmp_path)
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "ensurepip.py").write_text('raise ImportError("no ensurepip, as on Debian")\n')
    environ = script_environ(tmp_path / "data", free_port(), PYTHON=sys.executable)
    environ["PYTHONPATH"] = str(shadow)
    done = run_script(checkout, environ)
    assert done.returncode == 1
    assert "cannot make a virtual environment (no ensurepip)" in done.stderr
    assert "sudo apt install python3-venv" in done.stderr
    assert not (checkout / ".venv").exists()


def test_the_script_is_executable_in_the_repository() -> None:
    mode = subprocess.run(
        ["git", "ls-files", "--stage", "scripts/start.sh"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[0]
    assert mode == "100755"
    assert os.access(REPO / "scripts" / "start.sh", os.X_OK)
