"""The Master's installs: one task a revision, its record stored and its steps published.

The install itself (staging, tools, READY) is install_core's, shared with the runners; this
adds what only the Master has: the package store's archives, the install records in SQL, the
event stream (`deploy.install`, `deploy.output`), and the steps `ready` or `failed` at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kenkogo_master.deploy.install_core import InstallLimits, install_archive, sdk_path
from kenkogo_master.deploy.installed import InstalledApps
from kenkogo_master.deploy.packages import PackageStore
from kenkogo_master.deploy.spec import LaunchSpec
from kenkogo_master.deploy.tools import InstallFailed
from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.hub.events import EventBus
from kenkogo_master.ids import now_ms
from kenkogo_master.settings import PackageSettings

log = logging.getLogger(__name__)

TOPIC_STEP = "deploy.install"
TOPIC_OUTPUT = "deploy.output"


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
        """Return the folder an app's environment imports the SDK from (this Master's code)."""
        return sdk_path(self.root)

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
        limits = InstallLimits(
            self.store.limits, self.settings.install_timeout, self.settings.install_idle
        )
        report = _RecordReport(self, progress)
        try:
            await install_archive(
                self.store.path(row),
                row["package_id"],
                row["sha256"],
                self.root,
                limits,
                report,
                progress.tail,
                self._sdk,
            )
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
            if progress.error is None:
                progress.status = "ready"
            else:
                progress.status = "failed"
                current = progress.steps[-1]["step"] if progress.steps else "received"
                self._step(progress, current, "failed", progress.error)
                self._step(progress, "failed", "failed", progress.error)
            progress.ended_ms = now_ms()
            with contextlib.suppress(Exception):
                await asyncio.shield(self.store.records.save_install(progress.row()))
            self._tasks.pop(row["sha256"], None)
            self._progress.pop(row["sha256"], None)

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


class _RecordReport:
    """An install's report as the Master keeps it: the record, and the event stream."""

    def __init__(self, installer: Installer, progress: Progress) -> None:
        self._installer = installer
        self._progress = progress

    def step(self, step: str, status: str, detail: str = "") -> None:
        """Note the step in the record and publish it."""
        self._installer._step(self._progress, step, status, detail)

    def line(self, line: str) -> None:
        """Keep the line in the record's tail and publish it."""
        self._installer._line(self._progress, line)

    async def saved(self) -> None:
        """Store the record as it stands."""
        await self._installer.store.records.save_install(self._progress.row())
