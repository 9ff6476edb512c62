"""App package revisions and their installs, kept in SQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Index, String, Text, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

from kenkogo_master.store.models import Base


class PackageRevisionRow(Base):
    """One uploaded package, stored once by the sha256 of its bytes."""

    __tablename__ = "package_revisions"
    __table_args__ = (Index("ix_package_revisions_package", "package_id", "uploaded_ms"),)

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    package_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(64))
    manifest: Mapped[dict[str, Any]] = mapped_column(JSON)
    format: Mapped[str] = mapped_column(String(8))
    size: Mapped[int] = mapped_column(BigInteger)
    uploaded_ms: Mapped[int] = mapped_column(BigInteger)
    uploaded_by: Mapped[str] = mapped_column(String(200))


class PackageInstallRow(Base):
    """The latest install of one revision: its steps, its output's tail and how it ended."""

    __tablename__ = "package_installs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    package_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # installing, ready, failed
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    output: Mapped[str] = mapped_column(Text)  # the tail of the tools' output
    error: Mapped[str | None] = mapped_column(Text)
    started_ms: Mapped[int] = mapped_column(BigInteger)
    ended_ms: Mapped[int | None] = mapped_column(BigInteger)


def _columns(row: type[Base]) -> Any:
    return row.__table__.columns


class PackageRecords:
    """Read and write revisions and installs; each write is committed before it returns."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def revisions(self, package_id: str | None = None) -> list[dict[str, Any]]:
        """Return revisions (of one package, or all), oldest upload first."""
        query = select(*_columns(PackageRevisionRow)).order_by(
            PackageRevisionRow.uploaded_ms, PackageRevisionRow.sha256
        )
        if package_id is not None:
            query = query.where(PackageRevisionRow.package_id == package_id)
        async with self._engine.connect() as connection:
            return [dict(row) for row in (await connection.execute(query)).mappings()]

    async def revision(self, sha256: str) -> dict[str, Any] | None:
        """Return one revision by its digest."""
        query = select(*_columns(PackageRevisionRow)).where(PackageRevisionRow.sha256 == sha256)
        async with self._engine.connect() as connection:
            row = (await connection.execute(query)).mappings().first()
        return dict(row) if row is not None else None

    async def add_revision(self, row: dict[str, Any]) -> None:
        """Store a new revision."""
        async with self._engine.begin() as connection:
            await connection.execute(insert(PackageRevisionRow).values(**row))

    async def remove_revision(self, sha256: str) -> None:
        """Forget a revision and its install record."""
        async with self._engine.begin() as connection:
            await connection.execute(
                delete(PackageInstallRow).where(PackageInstallRow.sha256 == sha256)
            )
            await connection.execute(
                delete(PackageRevisionRow).where(PackageRevisionRow.sha256 == sha256)
            )

    async def installs(self) -> list[dict[str, Any]]:
        """Return every install record."""
        async with self._engine.connect() as connection:
            rows = await connection.execute(select(*_columns(PackageInstallRow)))
            return [dict(row) for row in rows.mappings()]

    async def install(self, sha256: str) -> dict[str, Any] | None:
        """Return the install record of one revision."""
        query = select(*_columns(PackageInstallRow)).where(PackageInstallRow.sha256 == sha256)
        async with self._engine.connect() as connection:
            row = (await connection.execute(query)).mappings().first()
        return dict(row) if row is not None else None

    async def save_install(self, row: dict[str, Any]) -> None:
        """Write an install record whole, replacing the revision's earlier one."""
        async with self._engine.begin() as connection:
            await connection.execute(
                delete(PackageInstallRow).where(PackageInstallRow.sha256 == row["sha256"])
            )
            await connection.execute(insert(PackageInstallRow).values(**row))

    async def fail_unfinished(self, error: str, ended_ms: int) -> list[dict[str, Any]]:
        """Mark installs a stopped Master left running as failed; return them."""
        async with self._engine.begin() as connection:
            rows = await connection.execute(
                select(*_columns(PackageInstallRow)).where(PackageInstallRow.status == "installing")
            )
            left = [dict(row) for row in rows.mappings()]
            await connection.execute(
                update(PackageInstallRow)
                .where(PackageInstallRow.status == "installing")
                .values(status="failed", error=error, ended_ms=ended_ms)
            )
        return left
