"""One logging set-up: readable console lines, optional JSON lines, a rotating file."""

from __future__ import annotations

import logging
import logging.handlers
import sys
import threading
from asyncio import AbstractEventLoop
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from kenkogo_master.settings import LoggingSettings

CONSOLE_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class JsonLineFormatter(logging.Formatter):
    """Format a record as one JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as a JSON line."""
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry).decode()


def setup_logging(settings: LoggingSettings, data_dir: Path | None) -> None:
    """Configure the root logger once for the whole process."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    formatter: logging.Formatter = (
        JsonLineFormatter() if settings.json_lines else logging.Formatter(CONSOLE_FORMAT)
    )
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(formatter)
    root.addHandler(console)
    if settings.file and data_dir is not None:
        log_dir = data_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        file_handler = logging.handlers.RotatingFileHandler(
            log_dir / "master.log",
            maxBytes=settings.file_max_bytes,
            backupCount=settings.file_backups,
            encoding="utf-8",
        )
        file_handler.setFormatter(JsonLineFormatter() if settings.json_lines else formatter)
        root.addHandler(file_handler)
    apply_level(settings.level)


NOISY = ("aiohttp.access", "engineio", "socketio", "alembic")


def apply_level(level: str) -> None:
    """Log from `level` on (at start, and when logging.level changes at run time)."""
    root = logging.getLogger()
    root.setLevel(level)
    # Library chatter stays at warnings unless we debug.
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


LOG_TOPIC = "log"


class BusLogHandler(logging.Handler):
    """Publish log records on the event bus as `log.<level>`, for the live event stream.

    Records may come from any thread; they are handed to the loop's thread. A record logged
    while publishing (the stream itself failing, say) is not published again.
    """

    def __init__(
        self, publish: Callable[[str, dict[str, Any]], None], loop: AbstractEventLoop
    ) -> None:
        super().__init__(logging.DEBUG)
        self._publish = publish
        self._loop = loop
        self._loop_thread = threading.get_ident()
        self._busy = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        """Hand the record to the bus, unless this thread is already inside a publish."""
        if getattr(self._busy, "active", False):
            return
        self._busy.active = True
        try:
            entry: dict[str, Any] = {
                "level": record.levelname,
                "levelno": record.levelno,
                "logger": record.name,
                "message": record.getMessage(),
                "time_ms": int(record.created * 1000),
            }
            if record.exc_info:
                entry["exception"] = logging.Formatter().formatException(record.exc_info)
            topic = f"{LOG_TOPIC}.{record.levelname.lower()}"
            if threading.get_ident() == self._loop_thread:
                self._publish(topic, entry)
            elif not self._loop.is_closed():
                self._loop.call_soon_threadsafe(self._publish, topic, entry)
        except Exception:
            self.handleError(record)
        finally:
            self._busy.active = False
