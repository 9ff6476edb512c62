"""Output lines on their way to the Master: numbered chunks in a bounded queue."""

from __future__ import annotations

from collections import deque
from typing import Any

from kenkogo_master.runners.protocol import MAX_LINES

CHUNK_LIMIT = 256  # chunks waiting at most; past it the oldest go, and their numbers are missed


class LogOutbox:
    """Gather lines per app and stream, cut them into chunks numbered per app and stream.

    The queue is bounded: a runner cut off from the Master for long, or an app writing faster
    than the link carries, loses its oldest chunks, and the Master sees the gap in `seq`.
    """

    def __init__(self, limit: int = CHUNK_LIMIT) -> None:
        self._pending: dict[tuple[str, str], list[str]] = {}
        self._next_seq: dict[tuple[str, str], int] = {}
        self.chunks: deque[dict[str, Any]] = deque(maxlen=limit)
        self.dropped = 0

    def add(self, deployment: str, stream: str, line: str) -> None:
        """Queue one line; a full chunk is cut at once."""
        key = (deployment, stream)
        lines = self._pending.setdefault(key, [])
        lines.append(line)
        if len(lines) >= MAX_LINES:
            self._cut(key)

    def cut(self) -> None:
        """Cut every app's pending lines into chunks (called a few times a second)."""
        for key in list(self._pending):
            self._cut(key)

    def _cut(self, key: tuple[str, str]) -> None:
        lines = self._pending.pop(key, None)
        if not lines:
            return
        seq = self._next_seq.get(key, 0)
        self._next_seq[key] = seq + 1
        if len(self.chunks) == self.chunks.maxlen:
            self.dropped += 1
        self.chunks.append({"deployment": key[0], "stream": key[1], "seq": seq, "lines": lines})
