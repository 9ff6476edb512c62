"""The log folder: its files, the rotation's order, and reading a file backwards by lines."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

LOG_FILE = "master.log"
READ_CHUNK = 64 * 1024
# Names a download may ask for: one plain name in the folder, no separators, not hidden.
SAFE_NAME = r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$"
_SAFE_NAME = re.compile(SAFE_NAME)
_ROTATED = re.compile(rf"^{re.escape(LOG_FILE)}(?:\.(\d{{1,4}}))?$")


def log_dir(data_dir: Path) -> Path:
    """Return the folder the rotating files are written to."""
    return data_dir / "logs"


@dataclass(frozen=True, slots=True)
class LogFile:
    """One regular file of the log folder."""

    name: str
    size: int
    modified_ms: int
    inode: int
    generation: int | None  # 0 for master.log, N for master.log.N, None for other files

    def as_dict(self) -> dict[str, object]:
        """Return what the API shows of the file."""
        return {
            "name": self.name,
            "size": self.size,
            "modified_ms": self.modified_ms,
            "current": self.generation == 0,
        }


def list_files(folder: Path) -> list[LogFile]:
    """Return the folder's regular files: the rotation newest first, then any others by name."""
    files: list[LogFile] = []
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return []
    for entry in entries:
        if not _SAFE_NAME.match(entry.name):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except FileNotFoundError:
            continue  # rotated away meanwhile
        if not stat.S_ISREG(info.st_mode):
            continue
        rotated = _ROTATED.match(entry.name)
        generation = int(rotated[1] or 0) if rotated else None
        modified_ms = info.st_mtime_ns // 1_000_000
        files.append(LogFile(entry.name, info.st_size, modified_ms, info.st_ino, generation))
    files.sort(key=lambda f: (f.generation is None, f.generation or 0, f.name))
    return files


def rotation(folder: Path) -> list[LogFile]:
    """Return master.log and its rotated copies, newest first."""
    return [item for item in list_files(folder) if item.generation is not None]


def find_file(folder: Path, name: str) -> LogFile | None:
    """Return the listed file called `name`; None for any other name (no path ever leaves)."""
    if not _SAFE_NAME.match(name):
        return None
    return next((item for item in list_files(folder) if item.name == name), None)


def open_file(folder: Path, item: LogFile) -> IO[bytes] | None:
    """Open a listed file for reading without following a link; None if it changed meanwhile."""
    try:
        descriptor = os.open(folder / item.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    handle = os.fdopen(descriptor, "rb")
    info = os.fstat(descriptor)
    if not stat.S_ISREG(info.st_mode) or info.st_ino != item.inode:
        handle.close()
        return None
    return handle


def lines_backward(handle: IO[bytes], end: int) -> Iterator[tuple[int, bytes]]:
    """Yield (offset, line) of the lines that end before `end`, last first; empty ones skipped."""
    position = end
    carry = b""
    while position > 0:
        size = min(READ_CHUNK, position)
        position -= size
        handle.seek(position)
        data = handle.read(size) + carry
        stop = len(data)
        while True:
            newline = data.rfind(b"\n", 0, stop)
            if newline < 0:
                break
            if stop > newline + 1:
                yield position + newline + 1, data[newline + 1 : stop]
            stop = newline
        carry = data[:stop]
    if carry:
        yield 0, carry
