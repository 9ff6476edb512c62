"""Page through log records newest first: the ring in memory, then the rotating files.

A cursor says where the previous page stopped: `r<seq>` inside the ring (records numbered
below seq come next), `f<inode>:<offset>` inside a file (lines before that byte come next). A
file is named by its inode, so that a rotation between two pages (master.log becoming
master.log.1) does not lose the place. The files hold the ring's records too: those of the
running Master that the ring still held when the page began are skipped there.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kenkogo_master.observability.log_files import LogFile, lines_backward, open_file, rotation
from kenkogo_master.observability.log_records import (
    LogEntry,
    from_json_line,
    from_text_line,
)
from kenkogo_master.observability.log_ring import LogRing

CURSOR = r"^(r\d{1,19}|f\d{1,20}:\d{1,20})$"
_CURSOR = re.compile(CURSOR)
# Bytes of files one page reads at most: a filter that matches little still answers quickly,
# with a cursor to read on from.
SCAN_LIMIT = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class LogFilter:
    """Which records a page or the live stream shows."""

    min_level: int = 0
    logger: str | None = None  # a logger and its children
    text: str | None = None  # in the message or the exception, any case
    since_ms: int | None = None  # at or after
    until_ms: int | None = None  # before
    context: Mapping[str, str] = field(default_factory=dict)

    def matches(self, entry: LogEntry) -> bool:
        """Tell whether the entry passes every condition but the time range."""
        if entry.levelno < self.min_level:
            return False
        if self.logger is not None and not (
            entry.logger == self.logger or entry.logger.startswith(self.logger + ".")
        ):
            return False
        for name, value in self.context.items():
            if entry.context.get(name) != value:
                return False
        if self.text is not None:
            needle = self.text.casefold()
            if needle not in entry.message.casefold() and (
                entry.exception is None or needle not in entry.exception.casefold()
            ):
                return False
        return True


@dataclass(slots=True)
class LogPage:
    """One page of records, newest first."""

    items: list[tuple[LogEntry, str]] = field(default_factory=list)  # (entry, "memory"|"file")
    next_cursor: str | None = None
    scan_limited: bool = False  # the page stopped at SCAN_LIMIT before it was full


def parse_cursor(cursor: str | None) -> tuple[str, int, int] | None:
    """Return ("r", seq, 0) or ("f", inode, offset); None for the newest."""
    if cursor is None:
        return None
    if not _CURSOR.match(cursor):
        raise ValueError("cursor: not one this API gave")
    if cursor[0] == "r":
        return "r", int(cursor[1:]), 0
    inode, _, offset = cursor[1:].partition(":")
    return "f", int(inode), int(offset)


class _Done(Exception):
    """The page is full, or older records cannot match."""


def search(
    ring: LogRing | None,
    folder: Path | None,
    wanted: LogFilter,
    limit: int,
    cursor: str | None,
    scan_limit: int = SCAN_LIMIT,
) -> LogPage:
    """Return up to `limit` records older than the cursor that pass the filter, newest first."""
    page = LogPage()
    position = parse_cursor(cursor)
    held = ring.snapshot() if ring is not None else []
    # The running Master's records numbered from here on are in the ring (or were shown).
    skip_from: int | None = held[0].seq if held else None
    try:
        if position is None or position[0] == "r":
            below = position[1] if position is not None else None
            if below is not None:
                skip_from = below if skip_from is None else min(skip_from, below)
            for entry in reversed(held):
                if below is not None and entry.seq is not None and entry.seq >= below:
                    continue
                _take(page, wanted, limit, entry, "memory", f"r{entry.seq}")
            if folder is None:
                return page
            _from_files(page, wanted, limit, folder, None, ring, skip_from, scan_limit)
        elif folder is not None:
            _from_files(page, wanted, limit, folder, position[1:], ring, None, scan_limit)
    except _Done:
        return page
    page.next_cursor = None
    return page


def _take(
    page: LogPage, wanted: LogFilter, limit: int, entry: LogEntry, source: str, cursor: str
) -> None:
    """Add the entry to the page if it fits; stop the walk when the page is full or past since."""
    if wanted.since_ms is not None and entry.time_ms < wanted.since_ms:
        page.next_cursor = None
        raise _Done
    if wanted.until_ms is not None and entry.time_ms >= wanted.until_ms:
        return
    if not wanted.matches(entry):
        return
    page.items.append((entry, source))
    if len(page.items) >= limit:
        page.next_cursor = cursor
        raise _Done


def _from_files(
    page: LogPage,
    wanted: LogFilter,
    limit: int,
    folder: Path,
    start: tuple[int, int] | None,
    ring: LogRing | None,
    skip_from: int | None,
    scan_limit: int,
) -> None:
    """Walk the rotation from the newest file (or the cursor's place) to the oldest."""
    files = rotation(folder)
    if start is not None:
        inode, offset = start
        index = next((i for i, item in enumerate(files) if item.inode == inode), None)
        if index is None:
            return  # the file was rotated out of existence: nothing older is left
        files = files[index:]
    scanned = 0
    for number, item in enumerate(files):
        end = start[1] if start is not None and number == 0 else None
        for offset, entry in _entries(folder, item, end):
            if (
                skip_from is not None
                and ring is not None
                and entry.run == ring.run
                and entry.seq is not None
                and entry.seq >= skip_from
            ):
                continue
            _take(page, wanted, limit, entry, "file", f"f{item.inode}:{offset}")
            scanned += 1 + len(entry.message) + len(entry.exception or "")
            if scanned >= scan_limit:
                page.next_cursor = f"f{item.inode}:{offset}"
                page.scan_limited = True
                raise _Done


def _entries(folder: Path, item: LogFile, end: int | None) -> Iterator[tuple[int, LogEntry]]:
    """Yield (offset, entry) of one file, last first; lines of the readable format too."""
    handle = open_file(folder, item)
    if handle is None:
        return
    with handle:
        size = handle.seek(0, 2)
        continued: list[str] = []  # lines after a readable one that belong to it (a traceback)
        for offset, line in lines_backward(handle, size if end is None else min(end, size)):
            if line.startswith(b"{"):
                entry = from_json_line(line)
                if entry is not None:
                    continued.clear()
                    yield offset, entry
                continue
            text = line.decode("utf-8", "replace")
            entry = from_text_line(text)
            if entry is None:
                continued.append(text)
                continue
            if continued:
                exception = "\n".join(reversed(continued))
                entry = LogEntry(entry.time_ms, entry.level, entry.logger, entry.message, exception)
                continued.clear()
            yield offset, entry
