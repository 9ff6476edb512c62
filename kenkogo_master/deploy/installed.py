"""The installed revisions on disk: <root>/<app id>/<sha256>/ with `app/`, `venv/` and READY.

A revision counts as installed only with its READY marker, written last when it is placed and
removed first when it is deleted, so a half-made or half-deleted folder is never started.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import shutil
import sys
from pathlib import Path

from kenkogo_master.deploy import manifest as manifests
from kenkogo_master.deploy.spec import LaunchSpec

READY = "READY"
_SHA = re.compile(r"^[0-9a-f]{64}$")
_APP_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def is_revision(value: str) -> bool:
    """Tell whether `value` is a revision's name (a sha256 in hex)."""
    return bool(_SHA.fullmatch(value))


def relocate(env_dir: Path, old: Path, new: Path) -> None:
    """Point a moved virtual environment's scripts at their new place (shebangs, activate)."""
    bin_dir = env_dir / ("Scripts" if sys.platform == "win32" else "bin")
    before, after = str(old).encode(), str(new).encode()
    for script in bin_dir.iterdir():
        if script.is_symlink() or not script.is_file():
            continue
        data = script.read_bytes()
        if before in data[:65536] and b"\0" not in data[:1024]:
            script.write_bytes(data.replace(before, after))


class InstalledApps:
    """Place, list, describe and delete installed revisions."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def place(self, staging: Path, app_id: str, revision: str) -> Path:
        """Move a complete staging folder into place, then mark it READY (last)."""
        final = self.root / app_id / revision
        venv = staging / "venv"
        if venv.is_dir():
            relocate(venv, staging, final)
        old = None
        if final.exists():  # reinstalling the same revision: the new one replaces it whole
            old = final.with_name(f".old-{revision[:16]}-{secrets.token_hex(4)}")
            final.rename(old)
        staging.rename(final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        (final / READY).write_text(f"{revision}\n", encoding="utf-8")
        return final

    def revisions(self, app_id: str) -> list[str]:
        """Return the revisions of an app that are installed, newest install first."""
        if not _APP_ID.fullmatch(app_id):
            return []
        folder = self.root / app_id
        if not folder.is_dir():
            return []
        found = [
            entry
            for entry in folder.iterdir()
            if is_revision(entry.name) and (entry / READY).is_file()
        ]
        found.sort(key=lambda entry: (entry / READY).stat().st_mtime_ns, reverse=True)
        return [entry.name for entry in found]

    def installed(self, app_id: str, revision: str) -> LaunchSpec | None:
        """Return how to start an installed revision, or None when it is not installed."""
        if not _APP_ID.fullmatch(app_id) or not is_revision(revision):
            return None
        folder = self.root / app_id / revision
        if not (folder / READY).is_file():
            return None
        manifest = manifests.load(folder / "app")
        return manifest.launch_spec(revision, folder / "app", folder / "venv")

    def remove(self, app_id: str, revision: str) -> None:
        """Delete an installed revision's folder (the caller made sure nothing runs it)."""
        if _APP_ID.fullmatch(app_id) and is_revision(revision):
            folder = self.root / app_id / revision
            with contextlib.suppress(FileNotFoundError):
                (folder / READY).unlink()  # first: a half-deleted folder is never started
            shutil.rmtree(folder, ignore_errors=True)

    def sweep(self) -> None:
        """Remove what installs cut short by a stopped Master left: staging and replaced folders."""
        if not self.root.is_dir():
            return
        for app in self.root.iterdir():
            if app.is_dir() and not app.name.startswith("."):
                for stale in (*app.glob(".staging-*"), *app.glob(".old-*")):
                    shutil.rmtree(stale, ignore_errors=True)
