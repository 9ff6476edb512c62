"""Database care: what the database holds; VACUUM, ANALYZE and integrity checks, one at a time."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, inspect, select, table, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.ids import now_ms
from kenkogo_master.observability.storage import StorageMeter
from kenkogo_master.store import migrate
from kenkogo_master.store.writer import Writer

log = logging.getLogger(__name__)

# Problems listed at most per check: a badly damaged file would list thousands.
MAX_PROBLEMS = 100
# ANALYZE reads this many rows per index on SQLite: statistics as good for the planner, in
# milliseconds instead of a full read of every table while the writer waits.
ANALYSIS_LIMIT = 1000
_SECRET_QUERY_KEYS = ("password", "secret", "token", "key")


def masked_url(engine: AsyncEngine) -> str:
    """Return the engine's URL with its password and secret-looking query values masked."""
    url = engine.url
    query = {
        name: "***" if any(word in name.lower() for word in _SECRET_QUERY_KEYS) else value
        for name, value in url.query.items()
    }
    return url.set(query=query).render_as_string(hide_password=True)


def sqlite_table_sizes(connection: Connection) -> dict[str, int] | None:
    """Return each table's bytes, its indexes included, from `dbstat` (None without it)."""
    try:
        rows = connection.exec_driver_sql(
            "SELECT m.tbl_name, SUM(s.pgsize) FROM dbstat AS s "
            "JOIN sqlite_schema AS m ON m.name = s.name GROUP BY m.tbl_name"
        ).all()
    except DBAPIError as exc:
        # SQLite builds without SQLITE_ENABLE_DBSTAT_VTAB have no such table: sizes are unknown.
        log.debug("no table sizes: %s", exc)
        return None
    return {name: int(size) for name, size in rows}


def postgres_table_sizes(connection: Connection) -> dict[str, int]:
    """Return each table's bytes with its indexes and TOAST, from pg_total_relation_size."""
    rows = connection.exec_driver_sql(
        "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema()"
    ).all()
    return {name: int(size) for name, size in rows}


def _tables(connection: Connection) -> dict[str, Any]:
    """Return every table with its row count and size, and where the sizes came from."""
    names = sorted(inspect(connection).get_table_names())
    dialect = connection.dialect.name
    sizes: dict[str, int] | None = None
    source = None
    if dialect == "sqlite":
        sizes = sqlite_table_sizes(connection)
        source = "dbstat" if sizes is not None else None
    elif dialect == "postgresql":
        sizes, source = postgres_table_sizes(connection), "pg_total_relation_size"
    items = []
    for name in names:
        rows = connection.execute(select(func.count()).select_from(table(name))).scalar_one()
        size = sizes.get(name, 0) if sizes is not None else None
        items.append({"name": name, "rows": int(rows), "bytes": size})
    return {"items": items, "sizes_from": source}


def _revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    value = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    return str(value) if value is not None else None


@dataclass(slots=True)
class Outcome:
    """What one maintenance operation did, for the API."""

    operation: str
    engine: str
    ok: bool = True
    started_ms: int = field(default_factory=now_ms)
    duration_ms: float = 0.0
    writes_paused_ms: float = 0.0  # how long new writes waited for it (queued, not lost)
    result: str = "ok"
    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    bytes_before: int | None = None
    bytes_after: int | None = None


class Maintenance:
    """Run one maintenance operation at a time, holding the writer back only where SQLite must."""

    def __init__(self, engine: AsyncEngine, writer: Writer, data_dir: Path) -> None:
        self.engine = engine
        self.writer = writer
        self.dialect = engine.dialect.name
        self._storage = StorageMeter(engine, data_dir)
        self.running: str | None = None

    @asynccontextmanager
    async def hold(self, operation: str) -> AsyncIterator[None]:
        """Mark `operation` as the one running; refuse (409) while another runs."""
        if self.running is not None:
            raise HubError(ErrorCode.MAINTENANCE_RUNNING, operation=self.running)
        self.running = operation
        try:
            yield
        finally:
            self.running = None

    @asynccontextmanager
    async def exclusive(self) -> AsyncIterator[float]:
        """Hold the group-commit writer back while SQLite's write lock is taken here.

        The writer commits on the event loop and retries a locked file only for a few seconds
        before failing its group; paused, it queues writes (back-pressure past its queue limit)
        and commits them as soon as the block ends. PostgreSQL locks rows, so it needs no pause.
        Yields the `time.perf_counter()` at which the writer stopped.
        """
        if self.dialect != "sqlite":
            yield time.perf_counter()
            return
        async with self.writer.paused():
            yield time.perf_counter()

    async def size(self) -> int | None:
        """Return the database's bytes on disk (file and WAL, or pg_database_size)."""
        described = await self._storage.database()
        value = described.get("bytes")
        return int(value) if value is not None else None

    async def info(self) -> dict[str, Any]:
        """Describe the database: engine, version, URL, size, schema revision, tables."""
        async with self.engine.connect() as connection:
            version = await self._version(connection)
            revision = await connection.run_sync(_revision)
            tables = await connection.run_sync(_tables)
        head = migrate.head_revision()
        storage = await self._storage.database()
        return {
            "engine": self.dialect,
            "version": version,
            "url": masked_url(self.engine),
            "path": storage.get("path"),
            "bytes": storage.get("bytes"),
            "files": storage.get("files", {}),
            "revision": revision,
            "head_revision": head,
            "at_head": revision is not None and revision == head,
            "tables": tables["items"],
            "table_sizes_from": tables["sizes_from"],
            "maintenance_running": self.running,
        }

    async def _version(self, connection: AsyncConnection) -> str:
        if self.dialect == "sqlite":
            return str(await connection.scalar(text("SELECT sqlite_version()")))
        if self.dialect == "postgresql":
            return str(await connection.scalar(text("SHOW server_version")))
        return ""

    async def vacuum(self) -> Outcome:
        """Rebuild the database to give back free pages (SQLite) or mark dead rows reusable."""
        async with self.hold("vacuum"):
            outcome = Outcome("vacuum", self.dialect, bytes_before=await self.size())
            started = time.perf_counter()
            if self.dialect == "sqlite":
                outcome.checked = ["VACUUM", "PRAGMA wal_checkpoint(TRUNCATE)"]
                async with self.exclusive() as paused_at:
                    # In WAL mode VACUUM writes the whole file through the WAL: copy it back and
                    # empty the WAL before the writer goes on, or the WAL stays the database's size.
                    await self._autocommit("VACUUM", "PRAGMA wal_checkpoint(TRUNCATE)")
                    outcome.writes_paused_ms = (time.perf_counter() - paused_at) * 1000
            else:
                outcome.checked = ["VACUUM"]
                await self._autocommit("VACUUM")
            outcome.duration_ms = (time.perf_counter() - started) * 1000
            outcome.bytes_after = await self.size()
        log.info("VACUUM took %.0f ms", outcome.duration_ms)
        return outcome

    async def analyze(self) -> Outcome:
        """Refresh the planner's statistics."""
        async with self.hold("analyze"):
            outcome = Outcome("analyze", self.dialect)
            started = time.perf_counter()
            if self.dialect == "sqlite":
                outcome.checked = [f"PRAGMA analysis_limit={ANALYSIS_LIMIT}", "ANALYZE"]
                async with self.exclusive() as paused_at:
                    await self._autocommit(
                        f"PRAGMA analysis_limit={ANALYSIS_LIMIT}",
                        "ANALYZE",
                        "PRAGMA analysis_limit=0",
                    )
                    outcome.writes_paused_ms = (time.perf_counter() - paused_at) * 1000
            else:
                outcome.checked = ["ANALYZE"]
                await self._autocommit("ANALYZE")
            outcome.duration_ms = (time.perf_counter() - started) * 1000
        return outcome

    async def integrity_check(self) -> Outcome:
        """Check the database's structure; the writer goes on meanwhile (it only reads)."""
        async with self.hold("integrity_check"):
            outcome = Outcome("integrity_check", self.dialect)
            started = time.perf_counter()
            async with self.engine.connect() as connection:
                automatic = await connection.execution_options(isolation_level="AUTOCOMMIT")
                if self.dialect == "sqlite":
                    await automatic.run_sync(_sqlite_integrity, outcome)
                elif self.dialect == "postgresql":
                    await automatic.run_sync(_postgres_integrity, outcome)
                else:
                    outcome.result = f"no checks are known for {self.dialect}"
            outcome.ok = not outcome.problems
            if outcome.problems:
                outcome.result = f"{len(outcome.problems)} problem(s) found"
                log.warning("integrity check found problems: %s", outcome.problems[:5])
            outcome.duration_ms = (time.perf_counter() - started) * 1000
        return outcome

    async def _autocommit(self, *statements: str) -> None:
        """Run statements outside a transaction (VACUUM refuses to run inside one)."""
        async with self.engine.connect() as connection:
            automatic = await connection.execution_options(isolation_level="AUTOCOMMIT")
            for statement in statements:
                await automatic.exec_driver_sql(statement)


def _sqlite_integrity(connection: Connection, outcome: Outcome) -> None:
    outcome.checked = [f"PRAGMA integrity_check({MAX_PROBLEMS})", "PRAGMA foreign_key_check"]
    rows = connection.exec_driver_sql(f"PRAGMA integrity_check({MAX_PROBLEMS})").all()
    outcome.problems = [str(row[0]) for row in rows if row[0] != "ok"]
    for child, rowid, parent, _ in connection.exec_driver_sql("PRAGMA foreign_key_check").all():
        if len(outcome.problems) >= MAX_PROBLEMS:
            break
        outcome.problems.append(f"{child} row {rowid} refers to a missing row of {parent}")


def _postgres_integrity(connection: Connection, outcome: Outcome) -> None:
    """Use amcheck where it is installed; without it, read every row of every table."""
    tables = sorted(inspect(connection).get_table_names())
    installed = connection.exec_driver_sql(
        "SELECT 1 FROM pg_extension WHERE extname = 'amcheck'"
    ).scalar()
    if not installed:
        for name in tables:
            quoted = connection.dialect.identifier_preparer.quote(name)
            # Casting each row to text reads every heap tuple and its TOASTed values.
            _collect(
                connection, outcome, f"SELECT count(*) FROM (SELECT t::text FROM {quoted} t) s"
            )
        outcome.checked = [f"read every row of {len(tables)} tables"]
        outcome.result = (
            "amcheck is not installed (CREATE EXTENSION amcheck enables B-tree and heap "
            "checks): every row of every table was read"
        )
        return
    indexes = (
        connection.exec_driver_sql(
            "SELECT i.indexrelid::regclass::text FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE a.amname = 'btree' AND n.nspname = current_schema() ORDER BY 1"
        )
        .scalars()
        .all()
    )
    for index in indexes:
        _collect(
            connection,
            outcome,
            "SELECT bt_index_check(index => CAST(:name AS regclass), heapallindexed => true)",
            name=index,
        )
    has_heap_check = connection.exec_driver_sql(
        "SELECT 1 FROM pg_proc WHERE proname = 'verify_heapam'"
    ).scalar()
    outcome.checked = [f"bt_index_check of {len(indexes)} B-tree indexes (heapallindexed)"]
    if has_heap_check:
        for name in tables:
            rows = connection.execute(
                text(
                    "SELECT blkno, offnum, msg FROM verify_heapam("
                    "relation => CAST(:name AS regclass))"
                ),
                {"name": connection.dialect.identifier_preparer.quote(name)},
            ).all()
            outcome.problems += [f"{name} block {b} item {o}: {m}" for b, o, m in rows]
        outcome.checked.append(f"verify_heapam of {len(tables)} tables")
    outcome.result = "amcheck: " + ", ".join(outcome.checked)


def _collect(connection: Connection, outcome: Outcome, sql: str, **params: Any) -> None:
    """Run one check; an error it raises is a problem found, not a failure of the operation."""
    try:
        connection.execute(text(sql), params)
    except DBAPIError as exc:
        outcome.problems.append(str(exc.orig).splitlines()[0])
