"""Deployments: which app revision runs under which name, its env and secrets, its states."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    Index,
    Integer,
    String,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

from kenkogo_master.store.models import Base


class DeploymentRow(Base):
    """One app revision the supervisor runs, and where its process stands."""

    __tablename__ = "deployments"
    __table_args__ = (Index("uq_deployments_name", "name", unique=True),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    app_id: Mapped[str] = mapped_column(String(100))
    revision: Mapped[str] = mapped_column(String(128))
    env: Mapped[dict[str, str]] = mapped_column(JSON)
    # Kept as given: the app needs them in its environment. Never shown over REST or logged.
    secrets: Mapped[dict[str, str]] = mapped_column(JSON)
    enabled: Mapped[bool] = mapped_column(Boolean)
    state: Mapped[str] = mapped_column(String(16))
    restarts: Mapped[int] = mapped_column(Integer, default=0)
    # The running process: its id, its group, and its start time (seconds since the epoch, as
    # the system tells it), so that a Master that was killed can find and end the group it left.
    pid: Mapped[int | None] = mapped_column(Integer)
    pgid: Mapped[int | None] = mapped_column(Integer)
    proc_started: Mapped[float | None] = mapped_column(Float)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    updated_ms: Mapped[int] = mapped_column(BigInteger)
    # The runner it is placed on (None: the local supervisor), and the labels it asked for.
    runner_id: Mapped[str | None] = mapped_column(String(32))
    labels: Mapped[list[str] | None] = mapped_column(JSON)


class DeploymentTransition(Base):
    """One state change of a deployment, with why and the exit code that caused it."""

    __tablename__ = "deployment_transitions"
    __table_args__ = (Index("ix_deployment_transitions_at", "deployment_id", "at_ms"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    deployment_id: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(200))
    exit_code: Mapped[int | None] = mapped_column(Integer)
    at_ms: Mapped[int] = mapped_column(BigInteger)


class DeploymentRecords:
    """Read and change stored deployments; each write is committed before it returns."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def all(self) -> list[dict[str, Any]]:
        """Return every deployment, oldest first."""
        async with self._engine.connect() as connection:
            rows = await connection.execute(
                select(*DeploymentRow.__table__.columns).order_by(
                    DeploymentRow.created_ms, DeploymentRow.id
                )
            )
            return [dict(row) for row in rows.mappings()]

    async def add(self, row: dict[str, Any]) -> None:
        """Store a new deployment (every column)."""
        async with self._engine.begin() as connection:
            await connection.execute(insert(DeploymentRow).values(**row))

    async def change(self, deployment_id: str, **values: Any) -> None:
        """Change some columns of a deployment."""
        async with self._engine.begin() as connection:
            await connection.execute(
                update(DeploymentRow).where(DeploymentRow.id == deployment_id).values(**values)
            )

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
        """Store a state change and the deployment's new columns in one transaction."""
        async with self._engine.begin() as connection:
            await connection.execute(
                insert(DeploymentTransition).values(
                    deployment_id=deployment_id,
                    from_state=from_state,
                    to_state=to_state,
                    reason=reason,
                    exit_code=exit_code,
                    at_ms=at_ms,
                )
            )
            await connection.execute(
                update(DeploymentRow)
                .where(DeploymentRow.id == deployment_id)
                .values(state=to_state, updated_ms=at_ms, **values)
            )

    async def transitions(self, deployment_id: str, limit: int = 100) -> list[dict[str, Any]]:
        """Return a deployment's latest state changes, newest first."""
        async with self._engine.connect() as connection:
            rows = await connection.execute(
                select(
                    DeploymentTransition.from_state,
                    DeploymentTransition.to_state,
                    DeploymentTransition.reason,
                    DeploymentTransition.exit_code,
                    DeploymentTransition.at_ms,
                )
                .where(DeploymentTransition.deployment_id == deployment_id)
                .order_by(DeploymentTransition.id.desc())
                .limit(limit)
            )
            return [dict(row) for row in rows.mappings()]

    async def remove(self, deployment_id: str) -> None:
        """Delete a deployment and its history."""
        async with self._engine.begin() as connection:
            await connection.execute(
                delete(DeploymentTransition).where(
                    DeploymentTransition.deployment_id == deployment_id
                )
            )
            await connection.execute(delete(DeploymentRow).where(DeploymentRow.id == deployment_id))
