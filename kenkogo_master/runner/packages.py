"""Package revisions fetched from the Master by digest, checked, and handed to the installer."""

from __future__ import annotations

import hashlib
import importlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import aiohttp

from kenkogo_master.deploy.spec import LaunchSpec
from kenkogo_master.runner.executor import ExecutorError

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


# The package side's installer: (archive, package id, revision, root) -> the installed revision.
Install = Callable[[Path, str, str, Path], LaunchSpec]


def _package_side(module: str, name: str) -> Any:
    """Return a name of the package side, which a runner of an older KenkoGo may lack."""
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise ExecutorError(
            "install_unavailable", "this runner's KenkoGo has no package installer: upgrade it"
        ) from exc


def install_revision(archive: Path, package: str, revision: str, root: Path) -> LaunchSpec:
    """Install a fetched revision under `root` (once: an installed one is used as it is)."""
    installed_apps = _package_side("kenkogo_master.deploy.installed", "InstalledApps")(root)
    spec: LaunchSpec | None = installed_apps.installed(package, revision)
    if spec is None:
        install: Install = _package_side("kenkogo_master.deploy.install", "install_archive")
        spec = install(archive, package, revision, root)
    return spec
