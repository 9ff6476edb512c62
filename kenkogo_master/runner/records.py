"""A runner's deployments in a file of its own: what the supervisor stores, without SQL.

`apps.json` holds each deployment's fields, its process group among them, written atomically on
every change: a runner killed with its apps running finds their groups there when it starts
again and ends them (the supervisor's leftovers), so an app never runs twice for one
deployment. The latest transitions are kept in memory only.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import Any

from kenkogo_master.runner.journal import read_json, write_atomically

APPS_FILE = "apps.json"
TRANSITIONS = 100  # state changes remembered per deployment
FIELDS = frozenset(
    {
        "id",
        "name",
        "app_id",
        "revision",
        "env",
        "secrets",
        "enabled",
        "state",
        "restarts",
        "pid",
        "pgid",
        "proc_started",
        "created_ms",
        "updated_ms",
    }
)


class FileRecords:
    """The supervisor's records (see deploy/supervisor.py, Records) kept in `apps.json`."""

    def __init__(self, data_dir: Path) -> None:
        self._file = data_dir / APPS_FILE
        self._rows: dict[str, dict[str, Any]] = {}
        self._transitions: dict[str, deque[dict[str, Any]]] = {}
        stored = read_json(self._file)
        for row in stored if isinstance(stored, list) else []:
            if isinstance(row, dict) and row.keys() >= FIELDS:
                self._rows[str(row["id"])] = row

    def _save(self) -> None:
        # Private: the rows hold the apps' secrets, like the Master's SQL does.
        write_atomically(self._file, list(self._rows.values()), private=True)

    def extra(self, deployment_id: str, key: str) -> Any:
        """Return a field the runner keeps beside the supervisor's (the package's URL)."""
        return self._rows.get(deployment_id, {}).get(key)

    async def all(self) -> list[dict[str, Any]]:
        """Return every deployment, oldest first."""
        rows = sorted(self._rows.values(), key=lambda row: (row["created_ms"], row["id"]))
        return [dict(row) for row in rows]

    async def add(self, row: dict[str, Any]) -> None:
        """Store a new deployment."""
        self._rows[row["id"]] = dict(row)
        self._save()

    async def change(self, deployment_id: str, **values: Any) -> None:
        """Change some fields of a deployment."""
        row = self._rows.get(deployment_id)
        if row is not None:
            row.update(values)
            self._save()

    async def transition(
        self,
        deployment_id: str,
        from_state: str,
        to_state: str,
        reason: str,
        exit_code: int | None,
        at_ms: int,
        **values: Any,
    ) -> None:
        """Note a state change and store the deployment's new fields."""
        kept = self._transitions.setdefault(deployment_id, deque(maxlen=TRANSITIONS))
        kept.appendleft(
            {
                "from_state": from_state,
                "to_state": to_state,
                "reason": reason,
                "exit_code": exit_code,
                "at_ms": at_ms,
            }
        )
        await self.change(deployment_id, state=to_state, updated_ms=at_ms, **values)

    async def transitions(self, deployment_id: str, limit: int = 100) -> list[dict[str, Any]]:
        """Return a deployment's latest state changes, newest first."""
        return list(self._transitions.get(deployment_id, ()))[:limit]

    async def remove(self, deployment_id: str) -> None:
        """Forget a deployment and its history."""
        self._transitions.pop(deployment_id, None)
        if self._rows.pop(deployment_id, None) is not None:
            self._save()
