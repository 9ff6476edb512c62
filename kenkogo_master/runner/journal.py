"""What a runner keeps in its data directory: who it is, and the commands it has run."""

from __future__ import annotations

import json
import os
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

IDENTITY_FILE = "runner.json"
JOURNAL_FILE = "commands.json"
JOURNAL_LIMIT = 2000  # command ids remembered: far more than a Master resends


def write_atomically(path: Path, data: Any, private: bool = False) -> None:
    """Write JSON beside `path`, then rename it into place: a crash leaves the old or the new."""
    temporary = path.with_name(path.name + ".tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    descriptor = os.open(temporary, flags, 0o600 if private else 0o644)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(data, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def read_json(path: Path) -> Any:
    """Return a JSON file's content, or None when it is missing or unreadable."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


@dataclass(slots=True)
class Identity:
    """The runner's id and credential, given by the Master at enrolment (a private file)."""

    path: Path
    id: str | None = None
    credential: str | None = None

    @classmethod
    def load(cls, data_dir: Path) -> Identity:
        """Read the identity, or start without one."""
        stored = read_json(data_dir / IDENTITY_FILE)
        identity = cls(data_dir / IDENTITY_FILE)
        if isinstance(stored, dict):
            identity.id = stored.get("id")
            identity.credential = stored.get("credential")
        return identity

    def save(self, runner_id: str, credential: str | None) -> None:
        """Keep the id (and a new credential) before anything else happens."""
        self.id = runner_id
        if credential is not None:
            self.credential = credential
        write_atomically(self.path, {"id": self.id, "credential": self.credential}, private=True)


class Journal:
    """Command ids with their results, kept on disk so that a repeated id runs once, ever.

    An id is written as `running` before its command starts: one found so after a crash
    is answered `failed` (interrupted) rather than run a second time.
    """

    def __init__(self, data_dir: Path, limit: int = JOURNAL_LIMIT) -> None:
        self._path = data_dir / JOURNAL_FILE
        self._limit = limit
        self._entries: OrderedDict[str, dict[str, Any]] = OrderedDict()
        stored = read_json(self._path)
        if isinstance(stored, list):
            for entry in stored:
                if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                    if entry.get("status") == "running":
                        entry = {
                            "id": entry["id"],
                            "status": "failed",
                            "error": {
                                "code": "interrupted",
                                "message": "the runner stopped while the command ran",
                            },
                        }
                    self._entries[entry["id"]] = entry

    def get(self, command_id: str) -> dict[str, Any] | None:
        """Return what is known of a command id: its result, or `running`."""
        return self._entries.get(command_id)

    def begin(self, command_id: str) -> None:
        """Note that a command starts (written before it does)."""
        self._entries[command_id] = {"id": command_id, "status": "running"}
        self._save()

    def finish(self, result: dict[str, Any]) -> None:
        """Keep a command's result."""
        self._entries[result["id"]] = result
        self._save()

    def _save(self) -> None:
        while len(self._entries) > self._limit:
            self._entries.popitem(last=False)
        write_atomically(self._path, list(self._entries.values()))
