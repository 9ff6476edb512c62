"""Build a package from a folder: `python main.py app pack DIR [-o FILE]`."""

from __future__ import annotations

import os
import stat
import sys
import zipfile
from pathlib import Path

from kenkogo_master.deploy import manifest as manifests
from kenkogo_master.errors import HubError

# What a folder holds that a package must not carry: caches, environments, version control.
SKIPPED = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "__pycache__",
        ".venv",
        "venv",
        "node_modules",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".DS_Store",
    }
)
SKIPPED_SUFFIXES = (".pyc", ".pyo")
# One fixed time for every entry: the same files make the same bytes, so the same revision.
FIXED_TIME = (1980, 1, 1, 0, 0, 0)


class PackError(Exception):
    """The folder cannot be packed; the message says why."""


def _files(folder: Path, output: Path) -> list[Path]:
    """Return the files to pack, sorted; refuse links, which a package may not hold."""
    found = []
    for current, dirs, names in os.walk(folder):
        dirs[:] = sorted(name for name in dirs if name not in SKIPPED)
        base = Path(current)
        for name in sorted(dirs):
            if (base / name).is_symlink():
                raise PackError(f"{base / name} is a link; packages may not contain links")
        for name in sorted(names):
            path = base / name
            if name in SKIPPED or name.endswith(SKIPPED_SUFFIXES) or path == output:
                continue
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                raise PackError(f"{path} is a link; packages may not contain links")
            if not stat.S_ISREG(mode):
                raise PackError(f"{path} is not a regular file")
            found.append(path)
    return found


def pack(folder: Path, output: Path | None = None) -> tuple[Path, manifests.Manifest]:
    """Write the folder's files into a zip with the manifest at its root; return where."""
    if not folder.is_dir():
        raise PackError(f"{folder} is not a folder")
    try:
        manifest = manifests.load(folder)
    except HubError as exc:
        raise PackError(
            f"{manifests.MANIFEST}: {exc.params.get('field')}: {exc.params.get('detail')}"
        ) from None
    target = (output or Path(f"{manifest.id}-{manifest.version}.zip")).absolute()
    files = _files(folder, target)
    partial = target.with_name(target.name + ".part")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            name = path.relative_to(folder).as_posix()
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            executable = path.stat().st_mode & 0o111
            info.external_attr = (stat.S_IFREG | (0o755 if executable else 0o644)) << 16
            info.create_system = 3  # Unix: the mode bits above are read back
            archive.writestr(info, path.read_bytes())
    partial.replace(target)
    return target, manifest


def pack_command(folder: Path, output: Path | None) -> int:
    """Run `app pack`; return the exit code."""
    try:
        target, manifest = pack(folder, output)
    except (PackError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"packed {manifest.id} {manifest.version} into {target}")
    return 0
