"""One shape for a log record everywhere: the ring, the files' JSON lines, the API, the stream."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from kenkogo_master.observability.log_context import FIELDS, record_context

LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}
# Set on each record by the record factory (logs.py): its number in this process, and the run.
SEQ_ATTRIBUTE = "kenkogo_seq"
RUN_ATTRIBUTE = "kenkogo_run"
# Lines of the readable format older versions wrote to the files.
_TEXT_LINE = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)(?:,(\d{3}))? (DEBUG|INFO|WARNING|ERROR|CRITICAL) +"
    r"([^:\s]+): (.*)$"
)


@dataclass(frozen=True, slots=True)
class LogEntry:
    """A log record as kept and shown: what, when, where from, and what it was about."""

    time_ms: int
    level: str
    logger: str
    message: str
    exception: str | None = None
    context: Mapping[str, str] = field(default_factory=dict)
    seq: int | None = None  # the record's number in the run that logged it
    run: str | None = None  # that run (one start of the Master)

    @property
    def levelno(self) -> int:
        """Return the level as a number."""
        return LEVELS.get(self.level, 0)

    def as_dict(self) -> dict[str, Any]:
        """Return the entry with every field named (absent context fields as None)."""
        return {
            "seq": self.seq,
            "time_ms": self.time_ms,
            "time": iso_time(self.time_ms),
            "level": self.level,
            "logger": self.logger,
            "message": self.message,
            "exception": self.exception,
            **{name: self.context.get(name) for name in FIELDS},
        }


def iso_time(time_ms: int) -> str:
    """Return an RFC 3339 UTC time with milliseconds."""
    moment = datetime.fromtimestamp(time_ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{time_ms % 1000:03d}Z"


def entry_of(record: logging.LogRecord) -> LogEntry:
    """Return the entry of a record (its message and exception already masked)."""
    exception = record.exc_text
    if record.exc_info and not exception:
        exception = logging.Formatter().formatException(record.exc_info)
    if record.stack_info:
        exception = f"{exception}\n{record.stack_info}" if exception else record.stack_info
    level = record.levelname if record.levelname in LEVELS else _level_name(record.levelno)
    return LogEntry(
        time_ms=int(record.created * 1000),
        level=level,
        logger=record.name,
        message=record.getMessage(),
        exception=exception,
        context=record_context(record),
        seq=record.__dict__.get(SEQ_ATTRIBUTE),
        run=record.__dict__.get(RUN_ATTRIBUTE),
    )


def _level_name(levelno: int) -> str:
    """Return the standard level at or below a custom number."""
    for name, number in sorted(LEVELS.items(), key=lambda item: -item[1]):
        if levelno >= number:
            return name
    return "DEBUG"


def to_json_line(entry: LogEntry) -> bytes:
    """Return the entry as the files keep it: one JSON object, only the fields it has."""
    line: dict[str, Any] = {
        "time": iso_time(entry.time_ms),
        "time_ms": entry.time_ms,
        "level": entry.level,
        "logger": entry.logger,
        "message": entry.message,
    }
    if entry.exception:
        line["exception"] = entry.exception
    line.update(entry.context)
    if entry.seq is not None:
        line["seq"] = entry.seq
        line["run"] = entry.run
    return orjson.dumps(line)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def from_json_line(data: bytes) -> LogEntry | None:
    """Read back a JSON line of the files (this version's or an older one's); None if not one."""
    try:
        line = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(line, dict) or not isinstance(line.get("message"), str):
        return None
    time_ms = line.get("time_ms")
    if not isinstance(time_ms, int):
        time_ms = _local_ms(_text(line.get("time")) or "")
        if time_ms is None:
            return None
    level = _text(line.get("level")) or "INFO"
    seq = line.get("seq")
    return LogEntry(
        time_ms=time_ms,
        level=level if level in LEVELS else "INFO",
        logger=_text(line.get("logger")) or "",
        message=line["message"],
        exception=_text(line.get("exception")),
        context={name: str(line[name]) for name in FIELDS if line.get(name) is not None},
        seq=seq if isinstance(seq, int) else None,
        run=_text(line.get("run")),
    )


def from_text_line(text: str) -> LogEntry | None:
    """Read back a line of the readable format; None for a line that continues another."""
    match = _TEXT_LINE.match(text)
    if match is None:
        return None
    time_ms = _local_ms(match[1])
    if time_ms is None:
        return None
    return LogEntry(
        time_ms=time_ms + int(match[2] or 0),
        level=match[3],
        logger=match[4],
        message=match[5],
    )


def _local_ms(text: str) -> int | None:
    """Return epoch milliseconds of an ISO time; one without an offset is the machine's time."""
    try:
        moment = datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return int(moment.timestamp() * 1000)
