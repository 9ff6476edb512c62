"""The data directory's lock: held by a serving Master, so that a restore knows it is alone."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import IO

LOCK_NAME = "master.lock"


class DataDirLock:
    """An advisory lock on `<data_dir>/master.lock`; the system drops it when the process ends.

    The file holds the owner's process id, for the message of whoever finds it taken.
    """

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_NAME
        self._file: IO[str] | None = None

    def acquire(self) -> bool:
        """Take the lock without waiting; return False when another process holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+", encoding="utf-8")
        try:
            _lock(handle)
        except OSError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle
        return True

    def holder(self) -> str:
        """Return the process id written by the holder ("?" when unknown)."""
        try:
            return self.path.read_text(encoding="utf-8").strip() or "?"
        except OSError:
            return "?"

    def release(self) -> None:
        """Let the lock go."""
        if self._file is not None:
            self._file.close()  # closing the file drops the lock
            self._file = None


def _lock(handle: IO[str]) -> None:
    """Lock the whole file for this process, or raise OSError when it is taken."""
    if sys.platform == "win32":
        import msvcrt

        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
