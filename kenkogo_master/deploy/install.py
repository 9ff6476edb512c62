"""Install a package revision into its own environment, step by step, reported as it goes.

Each revision gets <data_dir>/apps/<id>/<sha256>/ with the unpacked app in `app/` and, for
Python, a virtual environment in `venv/`. It is built in a staging folder beside it and moved
into place only when complete; the READY marker is written last, so a folder without one is
never started. A failed install removes its staging folder and leaves every other revision as
it was. Steps: received, verified, extracted, environment, dependencies, ready (or failed).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib.metadata
import logging
import secrets
import shutil
import sys
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import kenkogo_master
from kenkogo_master.deploy import manifest as manifests
from kenkogo_master.deploy.archive import extract
from kenkogo_master.deploy.installed import InstalledApps
from kenkogo_master.deploy.packages import PackageStore
from kenkogo_master.deploy.spec import LaunchSpec
from kenkogo_master.deploy.tools import InstallFailed, TimeLimits, run_tool
from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.hub.events import EventBus
from kenkogo_master.ids import now_ms
from kenkogo_master.settings import PackageSettings

log = logging.getLogger(__name__)

TOPIC_STEP = "deploy.install"
TOPIC_OUTPUT = "deploy.output"
SDK_FOLDER = ".sdk"
SDK_PTH = "kenkogo-sdk.pth"
# What the SDK imports, at the versions this Master runs with: an app talks to it with these.
SDK_DISTRIBUTIONS = ("python-socketio", "python-engineio", "aiohttp")


@dataclass
class Progress:
    """One install under way: its steps and the tail of its output, as the record shows them."""

    sha256: str
    package_id: str
    tail: deque[str]
    started_ms: int = field(default_factory=now_ms)
    status: str = "installing"
    steps: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    ended_ms: int | None = None

    def row(self) -> dict[str, Any]:
        """Return the record as it is stored."""
        return {
            "sha256": self.sha256,
            "package_id": self.package_id,
            "status": self.status,
            "steps": [dict(step) for step in self.steps],
            "output": "\n".join(self.tail),
            "error": self.error,
            "started_ms": self.started_ms,
            "ended_ms": self.ended_ms,
        }


def sdk_requirements() -> list[str]:
    """Return the SDK's own requirements pinned to what this Master runs with."""
    pins = []
    for name in SDK_DISTRIBUTIONS:
        try:
            pins.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            pins.append(name)
    return pins


class Installer:
    """Install revisions, one task each, and tell which are installed."""

    def __init__(self, root: Path, store: PackageStore, bus: EventBus, settings: PackageSettings):
        self.root = root
        self.store = store
        self.bus = bus
        self.settings = settings
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._progress: dict[str, Progress] = {}
        self._sdk: Path | None = None
        self.apps = InstalledApps(root)

    async def open(self) -> None:
        """Create the folders, link the SDK, and close installs a stopped Master left open."""
        await asyncio.to_thread(self._prepare)
        left = await self.store.records.fail_unfinished(
            "the Master stopped during the install", now_ms()
        )
        for row in left:
            log.warning(
                "the install of %s %s was cut short by a stop", row["package_id"], row["sha256"]
            )

    def _prepare(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.apps.sweep()
        self._sdk = self.sdk_path()

    def sdk_path(self) -> Path:
        """Return the folder an app's environment imports the SDK from (this Master's code).

        It holds only a link to the `kenkogo_master` package, so that the project's other
        top-level names (tests, examples) stay out of the apps' imports.
        """
        package = Path(kenkogo_master.__file__).resolve().parent
        folder = self.root / SDK_FOLDER
        link = folder / "kenkogo_master"
        folder.mkdir(exist_ok=True)
        try:
            if link.is_symlink() and link.resolve() == package:
                return folder
            if link.is_symlink():
                link.unlink()
            link.symlink_to(package, target_is_directory=True)
            return folder
        except OSError:  # no links here: the project's root, with its other names
            return package.parent

    async def close(self) -> None:
        """Stop the installs under way (their tools are killed, their staging removed)."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def busy(self, sha256: str) -> bool:
        """Tell whether a revision is being installed."""
        return sha256 in self._tasks

    async def status(self, sha256: str) -> dict[str, Any] | None:
        """Return a revision's install record: live while it runs, else as stored."""
        progress = self._progress.get(sha256)
        if progress is not None:
            return progress.row()
        return await self.store.records.install(sha256)

    async def start(self, row: dict[str, Any]) -> dict[str, Any]:
        """Begin installing a revision (again); return its record as it starts."""
        sha = row["sha256"]
        if self.busy(sha):
            raise HubError(ErrorCode.INSTALL_RUNNING, id=row["package_id"], revision=sha)
        progress = Progress(sha, row["package_id"], deque(maxlen=self.settings.output_lines))
        self._progress[sha] = progress
        await self.store.records.save_install(progress.row())
        self._tasks[sha] = asyncio.create_task(
            self._install(row, progress), name=f"install-{sha[:12]}"
        )
        return progress.row()

    # -- the steps ------------------------------------------------------------------------

    def _step(self, progress: Progress, step: str, status: str, detail: str = "") -> None:
        entry = {"step": step, "status": status, "at_ms": now_ms(), "detail": detail}
        if progress.steps and progress.steps[-1]["step"] == step:
            progress.steps[-1] = entry
        else:
            progress.steps.append(entry)
        self.bus.publish(
            TOPIC_STEP,
            {"package": progress.package_id, "revision": progress.sha256, **entry},
        )

    def _line(self, progress: Progress, line: str) -> None:
        progress.tail.append(line)
        self.bus.publish(
            TOPIC_OUTPUT,
            {"package": progress.package_id, "revision": progress.sha256, "line": line},
        )

    async def _install(self, row: dict[str, Any], progress: Progress) -> None:
        app_root = self.root / row["package_id"]
        staging = app_root / f".staging-{row['sha256'][:16]}-{secrets.token_hex(4)}"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.install_timeout
        current = "received"
        try:
            try:
                for current in ("received", "verified", "extracted", "environment", "dependencies"):
                    self._step(progress, current, "running")
                    detail = await self._run_step(current, row, progress, staging, deadline)
                    self._step(progress, current, "ok", detail)
                    await self.store.records.save_install(progress.row())
                current = "ready"
                await asyncio.to_thread(self.apps.place, staging, row["package_id"], row["sha256"])
            except HubError as exc:
                raise InstallFailed(self._hub_text(exc)) from None
            except OSError as exc:
                raise InstallFailed(
                    f"{exc.strerror or exc}: {exc.filename or ''}".strip(": ")
                ) from None
        except InstallFailed as exc:
            progress.error = str(exc)
            log.warning("install of %s %s failed: %s", row["package_id"], row["sha256"], exc)
        except asyncio.CancelledError:
            progress.error = "the Master stopped during the install"
            raise
        except Exception as exc:  # a bug: the install still ends, and says so
            log.exception("install of %s %s", row["package_id"], row["sha256"])
            progress.error = f"internal error: {exc}"
        else:
            log.info("package %s %s installed", row["package_id"], row["sha256"])
        finally:
            # The record says how it ended only once the staging folder is gone.
            await asyncio.shield(asyncio.to_thread(shutil.rmtree, staging, True))
            if progress.error is None:
                progress.status = "ready"
                self._step(progress, "ready", "ok", str(app_root / row["sha256"]))
            else:
                progress.status = "failed"
                self._step(progress, current, "failed", progress.error)
                self._step(progress, "failed", "failed", progress.error)
            progress.ended_ms = now_ms()
            with contextlib.suppress(Exception):
                await asyncio.shield(self.store.records.save_install(progress.row()))
            self._tasks.pop(row["sha256"], None)
            self._progress.pop(row["sha256"], None)

    @staticmethod
    def _hub_text(error: HubError) -> str:
        params = ", ".join(f"{key}={value}" for key, value in error.params.items())
        return f"{error.code.value}: {params}" if params else error.code.value

    async def _run_step(
        self, step: str, row: dict[str, Any], progress: Progress, staging: Path, deadline: float
    ) -> str:
        archive = self.store.path(row)
        if step == "received":
            if not archive.is_file():
                raise InstallFailed(f"the package's archive {archive.name} is missing")
            return f"{archive.stat().st_size} bytes"
        if step == "verified":
            digest = await asyncio.to_thread(_sha256, archive)
            if digest != row["sha256"]:
                raise InstallFailed(f"the archive's sha256 is {digest}, not {row['sha256']}")
            return "sha256 matches"
        manifest = await asyncio.to_thread(self._manifest_of, row, staging, step == "extracted")
        if step == "extracted":
            return f"{manifest.id} {manifest.version} ({manifest.runtime.type})"
        if step == "environment":
            return await self._environment(manifest, progress, staging, deadline)
        return await self._dependencies(manifest, progress, staging, deadline)

    def _manifest_of(self, row: dict[str, Any], staging: Path, unpack: bool) -> manifests.Manifest:
        if unpack:
            staging.mkdir(parents=True)
            extract(self.store.path(row), staging / "app", self.store.limits)
        manifest = manifests.load(staging / "app")
        if manifest.id != row["package_id"]:
            raise InstallFailed(f"the manifest's id is {manifest.id}, not {row['package_id']}")
        return manifest

    async def _environment(
        self, manifest: manifests.Manifest, progress: Progress, staging: Path, deadline: float
    ) -> str:
        if manifest.runtime.type != "python":
            return "nothing to build"
        venv = staging / "venv"
        uv = shutil.which("uv")
        if uv is not None:
            argv = [uv, "venv", "--quiet", "--python", sys.executable, str(venv)]
        else:
            argv = [sys.executable, "-m", "venv", str(venv)]
        await self._run(progress, argv, staging, deadline)
        site = await asyncio.to_thread(_site_packages, venv)
        sdk = self._sdk or await asyncio.to_thread(self.sdk_path)
        await asyncio.to_thread((site / SDK_PTH).write_text, f"{sdk}\n", "utf-8")
        return f"{'uv venv' if uv else 'python -m venv'}; the SDK from {sdk}"

    async def _dependencies(
        self, manifest: manifests.Manifest, progress: Progress, staging: Path, deadline: float
    ) -> str:
        app_dir = staging / "app"
        named = manifest.runtime.dependencies
        file = manifest.dependency_file()
        present = file is not None and (app_dir / file).is_file()
        if named is not None and not present:
            raise InstallFailed(f"runtime.dependencies names {named}, which the package lacks")
        if manifest.runtime.type == "command":
            return "nothing to install"
        if manifest.runtime.type == "node":
            if not present:
                return "no package.json: nothing to install"
            if not any(
                (app_dir / lock).is_file() for lock in ("package-lock.json", "npm-shrinkwrap.json")
            ):
                raise InstallFailed("npm ci needs package-lock.json beside package.json")
            npm = shutil.which("npm")
            if npm is None:
                raise InstallFailed("npm is not installed on this machine")
            await self._run(progress, [npm, "ci"], app_dir, deadline)
            return "npm ci"
        python = str(manifests.venv_python(staging / "venv"))
        wanted = sdk_requirements()
        if present and file is not None:
            wanted += ["-r", file] if not file.endswith(".toml") else ["."]
        uv = shutil.which("uv")
        if uv is not None:
            argv = [uv, "pip", "install", "--python", python, *wanted]
        else:
            argv = [python, "-m", "pip", "install", "--no-input", *wanted]
        await self._run(progress, argv, app_dir, deadline)
        return " ".join(["uv pip install" if uv else "pip install", *wanted])

    async def _run(self, progress: Progress, argv: list[str], cwd: Path, deadline: float) -> None:
        """Run one tool, its output to the record live; stopped past either time limit."""
        limits = TimeLimits(deadline, self.settings.install_timeout, self.settings.install_idle)
        await run_tool(argv, cwd, limits, lambda line: self._line(progress, line), progress.tail)

    # -- what is installed: the supervisor's side reads these -------------------------------

    def revisions(self, app_id: str) -> list[str]:
        """Return the revisions of an app that are installed, newest install first."""
        return self.apps.revisions(app_id)

    def installed(self, app_id: str, revision: str) -> LaunchSpec | None:
        """Return how to start an installed revision, or None when it is not installed."""
        return self.apps.installed(app_id, revision)

    def remove(self, app_id: str, revision: str) -> None:
        """Delete an installed revision's folder (the caller made sure nothing runs it)."""
        self.apps.remove(app_id, revision)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _site_packages(venv: Path) -> Path:
    """Return a virtual environment's site-packages folder."""
    if sys.platform == "win32":
        return venv / "Lib" / "site-packages"
    found = sorted(venv.glob("lib/python*/site-packages"))
    if not found:
        raise InstallFailed(f"the environment at {venv} has no site-packages")
    return found[0]
