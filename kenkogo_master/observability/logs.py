"""One logging set-up: readable console lines, JSON-lines files, the ring, masked secrets.

The files are always JSON lines, whatever the console shows, so that GET /api/v1/logs can
read them back with every field (level, logger, context) a filter needs; the console stays
readable for a person unless `json_lines` asks it to feed a collector.
"""

from __future__ import annotations

import itertools
import logging
import logging.handlers
import secrets
import sys
import threading
from asyncio import AbstractEventLoop
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kenkogo_master.observability.log_context import RECORD_ATTRIBUTE, current, record_context
from kenkogo_master.observability.log_files import LOG_FILE, log_dir
from kenkogo_master.observability.log_records import (
    RUN_ATTRIBUTE,
    SEQ_ATTRIBUTE,
    entry_of,
    to_json_line,
)
from kenkogo_master.observability.log_ring import LogRing, RingHandler
from kenkogo_master.observability.redact import Redactor
from kenkogo_master.settings import LoggingSettings

CONSOLE_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
LOG_TOPIC = "log"
# Library chatter stays at warnings unless we debug.
# Libraries that log every request, frame or statement: warnings only, whatever the level.
# (aiosqlite at DEBUG logs each statement with its parameters: whole batches on one line, and
# values such as session-id digests that have no place in a log.)
NOISY = ("aiohttp.access", "engineio", "socketio", "alembic", "aiosqlite")


class RecordFactory:
    """Make every record of the process carry its number, its run, its context, masked secrets."""

    def __init__(self, wrapped: Callable[..., logging.LogRecord]) -> None:
        self.wrapped = wrapped
        self.run = secrets.token_hex(4)
        self.redactor = Redactor()
        self._numbers = itertools.count(1)

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        """Make a record, then number, bind and mask it."""
        record = self.wrapped(*args, **kwargs)
        fields = record.__dict__
        fields[SEQ_ATTRIBUTE] = next(self._numbers)
        fields[RUN_ATTRIBUTE] = self.run
        context = current()
        if context:
            fields[RECORD_ATTRIBUTE] = context
        self.redactor.filter(record)
        return record


_install_lock = threading.Lock()


def record_factory() -> RecordFactory:
    """Install the process's record factory once (and the redactor on the root logger)."""
    with _install_lock:
        factory = logging.getLogRecordFactory()
        if not isinstance(factory, RecordFactory):
            factory = RecordFactory(factory)
            logging.setLogRecordFactory(factory)
        root = logging.getLogger()
        if factory.redactor not in root.filters:
            root.addFilter(factory.redactor)
        return factory


def guarded(handler: logging.Handler) -> logging.Handler:
    """Put the redactor on a handler too: it masks a record made before the factory was in."""
    handler.addFilter(record_factory().redactor)
    return handler


class JsonLineFormatter(logging.Formatter):
    """Format a record as one JSON object per line, context fields included."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as a JSON line."""
        return to_json_line(entry_of(record)).decode()


class ConsoleFormatter(logging.Formatter):
    """The readable line, with the record's context at its end."""

    def __init__(self) -> None:
        super().__init__(CONSOLE_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        """Return the readable line."""
        text = super().format(record)
        context = record_context(record)
        if not context:
            return text
        first, newline, rest = text.partition("\n")
        fields = " ".join(f"{name}={value}" for name, value in context.items())
        return f"{first} [{fields}]{newline}{rest}"


def setup_logging(settings: LoggingSettings, data_dir: Path | None) -> LogRing:
    """Configure the root logger once for the whole process; return the ring it fills."""
    factory = record_factory()
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(JsonLineFormatter() if settings.json_lines else ConsoleFormatter())
    root.addHandler(guarded(console))
    if settings.file and data_dir is not None:
        folder = log_dir(data_dir)
        folder.mkdir(parents=True, exist_ok=True)
        file_handler = logging.handlers.RotatingFileHandler(
            folder / LOG_FILE,
            maxBytes=settings.file_max_bytes,
            backupCount=settings.file_backups,
            encoding="utf-8",
        )
        file_handler.setFormatter(JsonLineFormatter())
        root.addHandler(guarded(file_handler))
    ring = LogRing(settings.ring_size, factory.run)
    root.addHandler(guarded(RingHandler(ring)))
    apply_level(settings.level)
    return ring


def apply_level(level: str) -> None:
    """Log from `level` on (at start, and when logging.level changes at run time)."""
    root = logging.getLogger()
    root.setLevel(level)
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def process_ring() -> LogRing | None:
    """Return the ring `setup_logging` put on the root logger, if it ran."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, RingHandler):
            return handler.ring
    return None


def attach_ring(size: int) -> tuple[LogRing, Callable[[], None]]:
    """Return the process's ring, or one made for this Master; and how to let go of it."""
    ring = process_ring()
    if ring is not None:
        return ring, lambda: None
    # A Master embedded without setup_logging (tests, another program): a ring of its own.
    factory = record_factory()
    handler = guarded(RingHandler(LogRing(size, factory.run)))
    root = logging.getLogger()
    root.addHandler(handler)
    assert isinstance(handler, RingHandler)
    return handler.ring, lambda: root.removeHandler(handler)


class BusLogHandler(logging.Handler):
    """Publish log records on the event bus as `log.<level>`, for the live event stream.

    Records may come from any thread; they are handed to the loop's thread. A record logged
    while publishing (the stream itself failing, say) is not published again.
    """

    def __init__(
        self,
        publish: Callable[[str, dict[str, Any]], None],
        loop: AbstractEventLoop,
        wanted: Callable[[str], bool] = lambda topic: True,
    ) -> None:
        super().__init__(logging.DEBUG)
        self._publish = publish
        self._wanted = wanted
        self._loop = loop
        self._loop_thread = threading.get_ident()
        self._busy = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        """Hand the record to the bus, unless this thread is already inside a publish."""
        if getattr(self._busy, "active", False):
            return
        topic = f"{LOG_TOPIC}.{record.levelname.lower()}"
        on_loop = threading.get_ident() == self._loop_thread
        if on_loop and not self._wanted(topic):
            return  # nobody streams logs: no entry to build
        self._busy.active = True
        try:
            entry = entry_of(record).as_dict()
            entry["levelno"] = record.levelno
            if on_loop:
                self._publish(topic, entry)
            elif not self._loop.is_closed():
                self._loop.call_soon_threadsafe(self._publish, topic, entry)
        except Exception:
            self.handleError(record)
        finally:
            self._busy.active = False
