"""Commands sent to runners, each under a unique id, remembered with their results."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Literal

from kenkogo_master.ids import now_ms
from kenkogo_master.runners.protocol import CommandResult

CommandState = Literal["sent", "acked", "running", "ok", "failed"]
FINISHED = frozenset({"ok", "failed"})


@dataclass(slots=True)
class CommandRecord:
    """One command, as sent, and what became of it."""

    id: str
    runner_id: str
    type: str
    deployment: str
    body: dict[str, Any]
    created_ms: int = field(default_factory=now_ms)
    state: CommandState = "sent"
    sends: int = 1  # a command sent again under its id is run once by the runner
    acked_ms: int | None = None
    finished_ms: int | None = None
    error: dict[str, Any] | None = None
    lines: list[str] | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def describe(self) -> dict[str, Any]:
        """Return the record as the REST answer and the event stream show it."""
        return {
            "id": self.id,
            "runner": self.runner_id,
            "type": self.type,
            "deployment": self.deployment,
            "state": self.state,
            "sends": self.sends,
            "created_ms": self.created_ms,
            "acked_ms": self.acked_ms,
            "finished_ms": self.finished_ms,
            "error": self.error,
            "lines": self.lines,
        }


class CommandBook:
    """The latest commands by id, bounded: the oldest are forgotten first."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._records: OrderedDict[str, CommandRecord] = OrderedDict()

    def get(self, command_id: str) -> CommandRecord | None:
        """Return a command by id."""
        return self._records.get(command_id)

    def add(self, record: CommandRecord) -> None:
        """Remember a new command."""
        self._records[record.id] = record
        while len(self._records) > self._limit:
            self._records.popitem(last=False)

    def acked(self, record: CommandRecord) -> None:
        """Note that the runner has received the command."""
        if record.acked_ms is None:
            record.acked_ms = now_ms()
        if record.state == "sent":
            record.state = "acked"

    def result(self, runner_id: str, result: CommandResult) -> CommandRecord | None:
        """Apply a runner's `command_result`; None for an id this runner was never sent."""
        record = self._records.get(result.id)
        if record is None or record.runner_id != runner_id:
            return None
        self.acked(record)
        if record.state in FINISHED:  # a repeated answer (to a repeated send) changes nothing
            return record
        record.state = result.status
        if result.status in FINISHED:
            record.finished_ms = now_ms()
            record.error = result.error
            record.lines = result.lines
            record.done.set()
        return record
