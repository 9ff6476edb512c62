"""Install one package revision from its archive: no database, no event bus, no Master needed.

Each revision gets <root>/<id>/<sha256>/ with the unpacked app in `app/` and, for Python, a
virtual environment in `venv/`. It is built in a staging folder beside it and moved into place
only when complete; the READY marker is written last, so a folder without one is never
started. A failed install removes its staging folder and leaves every other revision as it
was. Steps: received, verified, extracted, environment, dependencies, ready. The Master's
Installer and a runner both install with `install_archive`; each says through an
`InstallReport` where the steps and the tools' output go.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.metadata
import secrets
import shutil
import sys
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import kenkogo_master
from kenkogo_master.deploy import manifest as manifests
from kenkogo_master.deploy.archive import ArchiveLimits, extract
from kenkogo_master.deploy.installed import InstalledApps
from kenkogo_master.deploy.spec import LaunchSpec
from kenkogo_master.deploy.tools import InstallFailed, TimeLimits, run_tool
from kenkogo_master.errors import HubError

STEPS = ("received", "verified", "extracted", "environment", "dependencies")
SDK_FOLDER = ".sdk"
SDK_PTH = "kenkogo-sdk.pth"
# What the SDK imports, at the versions this KenkoGo runs with: an app talks to it with these.
SDK_DISTRIBUTIONS = ("python-socketio", "python-engineio", "aiohttp")


@dataclass(frozen=True, slots=True)
class InstallLimits:
    """How large an archive may unpack, and how long its tools may take and stay silent."""

    archive: ArchiveLimits = field(default_factory=ArchiveLimits)
    timeout: float = 900.0
    idle: float = 300.0


class InstallReport(Protocol):
    """Where an install tells how it goes."""

    def step(self, step: str, status: str, detail: str = "") -> None:
        """Note a step as `running`, `ok` (with what it did) or `failed`."""

    def line(self, line: str) -> None:
        """Take one line of a tool's output."""

    async def saved(self) -> None:
        """Keep the progress so far (called after each step that went well)."""


class QuietReport:
    """A report that keeps only the output's tail (for the reason of a failure)."""

    def __init__(self, lines: int = 200) -> None:
        self.tail: deque[str] = deque(maxlen=lines)

    def step(self, step: str, status: str, detail: str = "") -> None:
        """Forget the step."""

    def line(self, line: str) -> None:
        """Keep the line in the tail."""
        self.tail.append(line)

    async def saved(self) -> None:
        """Nothing is kept."""


def sdk_requirements() -> list[str]:
    """Return the SDK's own requirements pinned to what this KenkoGo runs with."""
    pins = []
    for name in SDK_DISTRIBUTIONS:
        try:
            pins.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            pins.append(name)
    return pins


def sdk_path(root: Path) -> Path:
    """Return the folder an app's environment imports the SDK from (this KenkoGo's code).

    It holds only a link to the `kenkogo_master` package, so that the project's other
    top-level names (tests, examples) stay out of the apps' imports.
    """
    package = Path(kenkogo_master.__file__).resolve().parent
    folder = root / SDK_FOLDER
    link = folder / "kenkogo_master"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        if link.is_symlink() and link.resolve() == package:
            return folder
        if link.is_symlink():
            link.unlink()
        link.symlink_to(package, target_is_directory=True)
        return folder
    except OSError:  # no links here: the project's root, with its other names
        return package.parent


async def install_archive(
    archive: Path,
    app_id: str,
    revision: str,
    root: Path,
    limits: InstallLimits,
    report: InstallReport,
    tail: Sequence[str],
    sdk: Path | None = None,
) -> LaunchSpec:
    """Install `archive` as `app_id` at `revision` under `root`; raise InstallFailed in words.

    `tail` is where the report keeps the tools' last lines: a failed tool's reason is read
    there. The staging folder is gone by the time this returns or raises.
    """
    job = _Install(archive, app_id, revision, root, limits, report, tail, sdk)
    return await job.run()


@dataclass
class _Install:
    archive: Path
    app_id: str
    revision: str
    root: Path
    limits: InstallLimits
    report: InstallReport
    tail: Sequence[str]
    sdk: Path | None
    deadline: float = 0.0
    staging: Path = field(init=False)

    def __post_init__(self) -> None:
        nonce = secrets.token_hex(4)
        self.staging = self.root / self.app_id / f".staging-{self.revision[:16]}-{nonce}"

    async def run(self) -> LaunchSpec:
        self.deadline = asyncio.get_running_loop().time() + self.limits.timeout
        try:
            try:
                for step in STEPS:
                    self.report.step(step, "running")
                    detail = await self._run_step(step)
                    self.report.step(step, "ok", detail)
                    await self.report.saved()
                self.report.step("ready", "running")
                apps = InstalledApps(self.root)
                final = await asyncio.to_thread(
                    apps.place, self.staging, self.app_id, self.revision
                )
                spec = await asyncio.to_thread(apps.installed, self.app_id, self.revision)
                if spec is None:
                    raise InstallFailed(f"the installed revision at {final} cannot be read")
            except HubError as exc:
                raise InstallFailed(_hub_text(exc)) from None
            except OSError as exc:
                raise InstallFailed(
                    f"{exc.strerror or exc}: {exc.filename or ''}".strip(": ")
                ) from None
        finally:
            # How it ended is said only once the staging folder is gone.
            await asyncio.shield(asyncio.to_thread(shutil.rmtree, self.staging, True))
        self.report.step("ready", "ok", str(final))
        return spec

    async def _run_step(self, step: str) -> str:
        if step == "received":
            if not self.archive.is_file():
                raise InstallFailed(f"the package's archive {self.archive.name} is missing")
            return f"{self.archive.stat().st_size} bytes"
        if step == "verified":
            digest = await asyncio.to_thread(_sha256, self.archive)
            if digest != self.revision:
                raise InstallFailed(f"the archive's sha256 is {digest}, not {self.revision}")
            return "sha256 matches"
        manifest = await asyncio.to_thread(self._manifest, step == "extracted")
        if step == "extracted":
            return f"{manifest.id} {manifest.version} ({manifest.runtime.type})"
        if step == "environment":
            return await self._environment(manifest)
        return await self._dependencies(manifest)

    def _manifest(self, unpack: bool) -> manifests.Manifest:
        if unpack:
            self.staging.mkdir(parents=True)
            extract(self.archive, self.staging / "app", self.limits.archive)
        manifest = manifests.load(self.staging / "app")
        if manifest.id != self.app_id:
            raise InstallFailed(f"the manifest's id is {manifest.id}, not {self.app_id}")
        return manifest

    async def _environment(self, manifest: manifests.Manifest) -> str:
        if manifest.runtime.type != "python":
            return "nothing to build"
        venv = self.staging / "venv"
        uv = shutil.which("uv")
        if uv is not None:
            argv = [uv, "venv", "--quiet", "--python", sys.executable, str(venv)]
        else:
            argv = [sys.executable, "-m", "venv", str(venv)]
        await self._tool(argv, self.staging)
        site = await asyncio.to_thread(_site_packages, venv)
        sdk = self.sdk or await asyncio.to_thread(sdk_path, self.root)
        await asyncio.to_thread((site / SDK_PTH).write_text, f"{sdk}\n", "utf-8")
        return f"{'uv venv' if uv else 'python -m venv'}; the SDK from {sdk}"

    async def _dependencies(self, manifest: manifests.Manifest) -> str:
        app_dir = self.staging / "app"
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
            await self._tool([npm, "ci"], app_dir)
            return "npm ci"
        python = str(manifests.venv_python(self.staging / "venv"))
        wanted = sdk_requirements()
        if present and file is not None:
            wanted += ["-r", file] if not file.endswith(".toml") else ["."]
        uv = shutil.which("uv")
        if uv is not None:
            argv = [uv, "pip", "install", "--python", python, *wanted]
        else:
            argv = [python, "-m", "pip", "install", "--no-input", *wanted]
        await self._tool(argv, app_dir)
        return " ".join(["uv pip install" if uv else "pip install", *wanted])

    async def _tool(self, argv: list[str], cwd: Path) -> None:
        """Run one tool, its output to the report live; stopped past either time limit."""
        limits = TimeLimits(self.deadline, self.limits.timeout, self.limits.idle)
        await run_tool(argv, cwd, limits, self.report.line, self.tail)


def _hub_text(error: HubError) -> str:
    params = ", ".join(f"{key}={value}" for key, value in error.params.items())
    return f"{error.code.value}: {params}" if params else error.code.value


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
