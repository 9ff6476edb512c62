"""One logging set-up: readable console lines, optional JSON lines, a rotating file."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

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
    root.setLevel(settings.level)
    # Library chatter stays at warnings unless we debug.
    for noisy in ("aiohttp.access", "engineio", "socketio", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
