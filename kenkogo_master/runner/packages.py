"""Package revisions fetched from the Master by digest, checked, and installed as it does."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from pathlib import Path
from urllib.parse import urljoin

import aiohttp

from kenkogo_master.deploy.install_core import InstallLimits, QuietReport, install_archive
from kenkogo_master.deploy.installed import InstalledApps
from kenkogo_master.deploy.spec import LaunchSpec
from kenkogo_master.deploy.tools import InstallFailed
from kenkogo_master.runner.executor import ExecutorError

log = logging.getLogger(__name__)

CHUNK = 256 * 1024
DOWNLOAD_TIMEOUT = 600.0


async def fetch_revision(
    master: str, url: str, revision: str, credential: str | None, folder: Path
) -> Path:
    """Download a package revision unless it is here already; refuse one whose sha256 differs.

    The archive is written under a temporary name and renamed only once its digest matched,
    so a file under the revision's name is always the revision.
    """
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{revision}.pkg"
    if final.exists():
        return final
    partial = folder / f"{revision}.part"
    digest = hashlib.sha256()
    headers = {"Authorization": f"Bearer {credential}"} if credential else {}
    timeout = aiohttp.ClientTimeout(total=DOWNLOAD_TIMEOUT)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as http,
            http.get(urljoin(master, url), headers=headers) as response,
        ):
            if response.status != 200:
                raise ExecutorError(
                    "download_failed", f"the Master answered {response.status} for {url}"
                )
            with partial.open("wb") as handle:
                async for chunk in response.content.iter_chunked(CHUNK):
                    digest.update(chunk)
                    handle.write(chunk)
    except aiohttp.ClientError as exc:
        partial.unlink(missing_ok=True)
        raise ExecutorError("download_failed", f"cannot download {url}: {exc}") from exc
    if digest.hexdigest() != revision:
        partial.unlink(missing_ok=True)
        raise ExecutorError(
            "digest_mismatch",
            f"the download of {url} has sha256 {digest.hexdigest()}, not {revision}",
        )
    os.replace(partial, final)
    return final


async def install_revision(archive: Path, package: str, revision: str, root: Path) -> LaunchSpec:
    """Install a fetched revision under `root` (once: an installed one is used as it is).

    The install is the Master's own (deploy/install_core.py): a fresh environment per
    revision, built in staging and moved into place when complete.
    """
    apps = InstalledApps(root)
    spec = await asyncio.to_thread(apps.installed, package, revision)
    if spec is not None:
        return spec
    await asyncio.to_thread(apps.sweep)  # what an install cut short by a kill left behind
    report = _LoggedReport(package, revision)
    try:
        return await install_archive(
            archive, package, revision, root, InstallLimits(), report, report.tail
        )
    except InstallFailed as exc:
        raise ExecutorError("install_failed", str(exc)) from exc


class _LoggedReport(QuietReport):
    """An install's steps in the runner's log; the output's tail kept for the reason."""

    def __init__(self, package: str, revision: str) -> None:
        super().__init__()
        self._name = f"{package} {revision[:12]}"

    def step(self, step: str, status: str, detail: str = "") -> None:
        """Log the steps that ended."""
        if status != "running":
            log.info("install of %s: %s %s %s", self._name, step, status, detail)
