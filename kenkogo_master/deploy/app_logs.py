"""One deployed app's output: numbered lines in rotating files, and a ring for the live tail.

Lines are JSON (`seq`, `time_ms`, `stream`, `text`) in <folder>/output.log, rotated to
output.log.1 … when a file reaches its size; the numbering goes on across restarts of the app
and of the Master (it continues from the newest file), so `offset` in GET …/logs means the same
line before and after. Nothing here deletes a file except rotation; secrets are masked before a
line is kept anywhere.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

from kenkogo_master.ids import now_ms
from kenkogo_master.observability.redact import Redactor

FILE = "output.log"
MAX_LINE = 8192  # characters of one line kept; the rest is cut and marked


@dataclass(frozen=True, slots=True)
class LogLine:
    """One line an app wrote."""

    seq: int
    time_ms: int
    stream: str  # stdout, stderr, or supervisor (what the supervisor noted: start, exit)
    text: str

    def as_dict(self) -> dict[str, Any]:
        """Return the line as its JSON object."""
        return {"seq": self.seq, "time_ms": self.time_ms, "stream": self.stream, "text": self.text}


def _parse(raw: bytes) -> LogLine | None:
    try:
        data = orjson.loads(raw)
        return LogLine(int(data["seq"]), int(data["time_ms"]), str(data["stream"]), data["text"])
    except (ValueError, KeyError, TypeError):
        return None  # a line cut by a crash mid-write


class AppLog:
    """Keep, rotate and read back one deployment's output."""

    def __init__(
        self,
        folder: Path,
        file_bytes: int,
        files: int,
        tail_lines: int,
        redactor: Redactor,
        on_line: Callable[[LogLine], None] = lambda line: None,
    ) -> None:
        self.folder = folder
        self._file_bytes = file_bytes
        self._files = files
        self.tail: deque[LogLine] = deque(maxlen=tail_lines)
        self._redactor = redactor
        self._on_line = on_line
        self._out: IO[bytes] | None = None
        self._size = 0
        folder.mkdir(parents=True, exist_ok=True)
        self.next_seq = self._last_seq() + 1

    def _paths(self) -> list[Path]:
        """Return the files oldest first."""
        rotated = [self.folder / f"{FILE}.{n}" for n in range(self._files - 1, 0, -1)]
        return [path for path in (*rotated, self.folder / FILE) if path.exists()]

    def _last_seq(self) -> int:
        for path in reversed(self._paths()):
            lines = path.read_bytes().splitlines()
            for raw in reversed(lines):
                line = _parse(raw)
                if line is not None:
                    return line.seq
        return 0

    def write(self, stream: str, text: str) -> LogLine:
        """Keep one line (masked), publish it, and rotate when the file is full."""
        if len(text) > MAX_LINE:
            text = text[:MAX_LINE] + " …[cut]"
        line = LogLine(self.next_seq, now_ms(), stream, self._redactor.mask(text))
        self.next_seq += 1
        raw = orjson.dumps(line.as_dict()) + b"\n"
        if self._out is None:
            path = self.folder / FILE
            # Unbuffered: each line is on disk at once; a Master killed keeps the app's last words.
            self._out = open(path, "ab", buffering=0)  # noqa: SIM115 - kept open between writes
            self._size = path.stat().st_size
        if self._size and self._size + len(raw) > self._file_bytes:
            self._rotate()
            return self._finish(line, raw)
        return self._finish(line, raw)

    def _finish(self, line: LogLine, raw: bytes) -> LogLine:
        assert self._out is not None
        self._out.write(raw)
        self._size += len(raw)
        self.tail.append(line)
        self._on_line(line)
        return line

    def _rotate(self) -> None:
        assert self._out is not None
        self._out.close()
        oldest = self.folder / f"{FILE}.{self._files - 1}"
        if self._files == 1:
            (self.folder / FILE).unlink(missing_ok=True)
        else:
            oldest.unlink(missing_ok=True)
            for n in range(self._files - 2, 0, -1):
                source = self.folder / f"{FILE}.{n}"
                if source.exists():
                    os.replace(source, self.folder / f"{FILE}.{n + 1}")
            os.replace(self.folder / FILE, self.folder / f"{FILE}.1")
        self._out = open(self.folder / FILE, "ab", buffering=0)  # noqa: SIM115
        self._size = 0

    def close(self) -> None:
        """Close the open file (lines written later open it again)."""
        if self._out is not None:
            self._out.close()
            self._out = None

    def _lines(self) -> Iterator[LogLine]:
        for path in self._paths():
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                continue  # rotated away while reading
            for raw in data.splitlines():
                line = _parse(raw)
                if line is not None:
                    yield line

    def read(self, offset: int | None, limit: int) -> list[LogLine]:
        """Return up to `limit` lines from number `offset` on; without one, the last `limit`."""
        if offset is None:
            if len(self.tail) >= limit or (self.tail and self.tail[0].seq == 1):
                return list(self.tail)[-limit:]
            return list(deque(self._lines(), maxlen=limit))
        if self.tail and self.tail[0].seq <= offset:
            return [line for line in self.tail if line.seq >= offset][:limit]
        found: list[LogLine] = []
        for line in self._lines():
            if line.seq >= offset:
                found.append(line)
                if len(found) >= limit:
                    break
        return found
