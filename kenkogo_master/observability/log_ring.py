"""The newest log records in memory, bounded, for GET /api/v1/logs."""

from __future__ import annotations

import logging
import threading
from collections import deque

from kenkogo_master.observability.log_records import LogEntry, entry_of


class LogRing:
    """Keep the last `size` entries; the oldest goes when a new one comes."""

    def __init__(self, size: int, run: str | None) -> None:
        self.size = size
        self.run = run  # the run whose records the ring holds (see logs.py)
        self._entries: deque[LogEntry] = deque(maxlen=size)
        # Records come from any thread; a reader copies under the lock.
        self._lock = threading.Lock()

    def append(self, entry: LogEntry) -> None:
        """Keep an entry."""
        with self._lock:
            self._entries.append(entry)

    def snapshot(self) -> list[LogEntry]:
        """Return the entries held now, oldest first."""
        with self._lock:
            return list(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


class RingHandler(logging.Handler):
    """A logging handler that keeps every record it is given in a ring."""

    def __init__(self, ring: LogRing) -> None:
        super().__init__(logging.NOTSET)
        self.ring = ring

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the record."""
        try:
            self.ring.append(entry_of(record))
        except Exception:
            self.handleError(record)
