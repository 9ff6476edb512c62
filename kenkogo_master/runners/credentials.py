"""Enrolment tokens (one use each) and runner credentials (long-lived), checked from memory."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from kenkogo_master.ids import new_id, now_ms
from kenkogo_master.store.runner_records import RunnerRecords
from kenkogo_master.store.tokens import digest

# Prefixes tell an operator which secret is which when one turns up in a shell history.
ENROLMENT_PREFIX = "kgre_"
CREDENTIAL_PREFIX = "kgrc_"


@dataclass(slots=True)
class Enrolment:
    """An enrolment token, without its secret."""

    id: str
    name: str
    created_ms: int
    used_ms: int | None = None
    runner_id: str | None = None


class Credentials:
    """Create, spend and revoke enrolment tokens; map runner credentials to runner ids."""

    def __init__(self, records: RunnerRecords) -> None:
        self._records = records
        self._enrolments: dict[str, Enrolment] = {}  # by token digest
        self._runners: dict[str, str] = {}  # credential digest -> runner id

    async def load(self) -> list[dict[str, Any]]:
        """Read the tokens and credentials; return the runner rows for the registry."""
        self._enrolments = {
            row["token_hash"]: Enrolment(
                row["id"], row["name"], row["created_ms"], row["used_ms"], row["runner_id"]
            )
            for row in await self._records.enrolments()
        }
        runners = await self._records.runners()
        self._runners = {row["credential_hash"]: row["id"] for row in runners}
        return runners

    def enrolments(self) -> list[Enrolment]:
        """Return every enrolment token, oldest first."""
        return sorted(self._enrolments.values(), key=lambda item: (item.created_ms, item.id))

    async def create_enrolment(self, name: str) -> tuple[Enrolment, str]:
        """Store a new one-time token; return it and its secret (shown once)."""
        secret = ENROLMENT_PREFIX + secrets.token_urlsafe(32)
        enrolment = Enrolment(new_id(), name, now_ms())
        await self._records.add_enrolment(
            {
                "id": enrolment.id,
                "name": name,
                "token_hash": digest(secret),
                "created_ms": enrolment.created_ms,
            }
        )
        self._enrolments[digest(secret)] = enrolment
        return enrolment, secret

    async def revoke_enrolment(self, enrolment_id: str) -> bool:
        """Delete an enrolment token (spent or not); tell whether it existed."""
        self._enrolments = {
            key: item for key, item in self._enrolments.items() if item.id != enrolment_id
        }
        return await self._records.delete_enrolment(enrolment_id)

    def unspent(self, presented: str) -> Enrolment | None:
        """Return the enrolment an unspent token belongs to, or None."""
        enrolment = self._enrolments.get(digest(presented))
        return enrolment if enrolment is not None and enrolment.used_ms is None else None

    def runner_of(self, presented: str) -> str | None:
        """Return the id of the runner a credential belongs to, or None."""
        return self._runners.get(digest(presented))

    async def enrol(self, enrolment: Enrolment, runner: dict[str, Any]) -> str | None:
        """Spend `enrolment` on a new runner row; return its credential, or None if spent."""
        if enrolment.used_ms is not None:
            return None
        credential = CREDENTIAL_PREFIX + secrets.token_urlsafe(32)
        used_ms = now_ms()
        # Marked spent before the write's await: a second connection at the same moment loses.
        enrolment.used_ms, enrolment.runner_id = used_ms, runner["id"]
        row = {**runner, "credential_hash": digest(credential), "enrolment_id": enrolment.id}
        if not await self._records.enrol(enrolment.id, used_ms, row):
            return None
        self._runners[digest(credential)] = runner["id"]
        return credential

    def forget_runner(self, runner_id: str) -> None:
        """Stop accepting a revoked runner's credential."""
        self._runners = {key: rid for key, rid in self._runners.items() if rid != runner_id}
