"""Runners and their enrolment tokens in SQL: secrets kept as SHA-256 digests only."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

from kenkogo_master.store.models import Base


class RunnerEnrolment(Base):
    """A one-time token a new runner presents once, to be given its long-lived credential."""

    __tablename__ = "runner_enrolments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    used_ms: Mapped[int | None] = mapped_column(BigInteger)
    runner_id: Mapped[str | None] = mapped_column(String(32))


class RunnerRow(Base):
    """A runner: its credential's digest, what it said about itself, and what it should run."""

    __tablename__ = "runners"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    credential_hash: Mapped[str] = mapped_column(String(64), unique=True)
    enrolment_id: Mapped[str | None] = mapped_column(String(32))
    host: Mapped[str] = mapped_column(String(200), default="")
    os: Mapped[str] = mapped_column(String(200), default="")
    arch: Mapped[str] = mapped_column(String(200), default="")
    version: Mapped[str] = mapped_column(String(200), default="")
    capacity: Mapped[int] = mapped_column(Integer, default=0)
    labels: Mapped[list[str]] = mapped_column(JSON)
    # The deployments it should host ({deployment, package, revision, url, state}), sent to it
    # as `reconcile` after every connect.
    desired: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    last_seen_ms: Mapped[int | None] = mapped_column(BigInteger)


class RunnerRecords:
    """Read and write the two tables; every write is committed before it returns (rare writes)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def enrolments(self) -> list[dict[str, Any]]:
        """Return every enrolment token row, oldest first."""
        async with self._engine.connect() as connection:
            rows = await connection.execute(
                select(RunnerEnrolment).order_by(RunnerEnrolment.created_ms, RunnerEnrolment.id)
            )
            return [dict(row) for row in rows.mappings()]

    async def runners(self) -> list[dict[str, Any]]:
        """Return every runner row, oldest first."""
        async with self._engine.connect() as connection:
            rows = await connection.execute(
                select(RunnerRow).order_by(RunnerRow.created_ms, RunnerRow.id)
            )
            return [dict(row) for row in rows.mappings()]

    async def add_enrolment(self, row: dict[str, Any]) -> None:
        """Store a new enrolment token."""
        async with self._engine.begin() as connection:
            await connection.execute(insert(RunnerEnrolment).values(**row))

    async def delete_enrolment(self, enrolment_id: str) -> bool:
        """Delete an enrolment token; tell whether it existed."""
        async with self._engine.begin() as connection:
            result = await connection.execute(
                delete(RunnerEnrolment).where(RunnerEnrolment.id == enrolment_id)
            )
        return bool(result.rowcount)

    async def enrol(self, enrolment_id: str, used_ms: int, runner: dict[str, Any]) -> bool:
        """Spend an unused enrolment token on a new runner, in one transaction.

        Answers False (and stores nothing) when the token was spent meanwhile: the `used_ms IS
        NULL` condition makes a token good for one runner even on two Masters at once.
        """
        async with self._engine.begin() as connection:
            spent = await connection.execute(
                update(RunnerEnrolment)
                .where(RunnerEnrolment.id == enrolment_id, RunnerEnrolment.used_ms.is_(None))
                .values(used_ms=used_ms, runner_id=runner["id"])
            )
            if not spent.rowcount:
                return False
            await connection.execute(insert(RunnerRow).values(**runner))
        return True

    async def update_runner(self, runner_id: str, **values: Any) -> None:
        """Change some columns of a runner."""
        async with self._engine.begin() as connection:
            await connection.execute(
                update(RunnerRow).where(RunnerRow.id == runner_id).values(**values)
            )

    async def delete_runner(self, runner_id: str) -> bool:
        """Delete a runner (its credential with it); tell whether it existed."""
        async with self._engine.begin() as connection:
            result = await connection.execute(delete(RunnerRow).where(RunnerRow.id == runner_id))
        return bool(result.rowcount)
