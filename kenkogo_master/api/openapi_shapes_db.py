"""Answers of the database resources: the handlers return these models, the document shows them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from kenkogo_master.api.openapi_shapes import Shape
from kenkogo_master.store.maintenance import Outcome


class DbTable(Shape):
    """One table: its rows and, where the engine tells, its bytes with its indexes."""

    name: str
    rows: int = Field(ge=0)
    bytes: int | None = Field(description="null where the engine does not tell")
    browsable: bool = Field(description="whether GET /api/v1/db/tables/{name} shows it")


class DbInfo(Shape):
    """GET /api/v1/db."""

    engine: str = Field(description="sqlite or postgresql")
    version: str
    url: str = Field(description="the database URL, its password and secrets masked")
    path: str | None = Field(description="the SQLite file")
    bytes: int | None = Field(description="on disk: SQLite file, WAL and shared memory")
    files: dict[str, int] = Field(description="SQLite: bytes of `database`, `wal`, `shm`")
    revision: str | None = Field(description="the schema revision the database is at")
    head_revision: str | None = Field(description="the newest revision this Master knows")
    at_head: bool
    tables: list[DbTable]
    table_sizes_from: Literal["dbstat", "pg_total_relation_size"] | None
    maintenance_running: str | None = Field(description="the operation running now, if any")


class MaintenanceResult(Shape):
    """POST /api/v1/db/vacuum, /db/analyze and /db/integrity-check."""

    operation: Literal["vacuum", "analyze", "integrity_check"]
    engine: str
    ok: bool = Field(description="false when the check found problems")
    started_ms: int
    duration_ms: float
    writes_paused_ms: float = Field(
        description="how long new writes were held back (queued, then committed); "
        "SQLite VACUUM and ANALYZE need its write lock"
    )
    result: str = Field(description="a one-line summary")
    checked: list[str] = Field(description="what ran")
    problems: list[str] = Field(description="what a check found, at most 100")
    bytes_before: int | None
    bytes_after: int | None

    @classmethod
    def of(cls, outcome: Outcome) -> MaintenanceResult:
        """Describe what an operation did."""
        return cls(
            operation=outcome.operation,
            engine=outcome.engine,
            ok=outcome.ok,
            started_ms=outcome.started_ms,
            duration_ms=round(outcome.duration_ms, 3),
            writes_paused_ms=round(outcome.writes_paused_ms, 3),
            result=outcome.result,
            checked=outcome.checked,
            problems=outcome.problems,
            bytes_before=outcome.bytes_before,
            bytes_after=outcome.bytes_after,
        )


class RetentionPolicy(Shape):
    """How long one kind of row is kept."""

    name: str
    days: float = Field(description="in effect now")
    configured_days: float
    overridden: bool = Field(description="set at run time; kept across restarts")
    setting: str = Field(description="the configuration key of configured_days")
    description: str
    tables: list[str]


class PruneItem(Shape):
    """Rows one table lost to one retention."""

    policy: str
    table: str
    cutoff_ms: int = Field(description="rows older than this went")
    removed: int = Field(ge=0)


class PruneReport(Shape):
    """POST /api/v1/db/prune, and the last prune in GET /api/v1/db/retention."""

    trigger: Literal["schedule", "request"]
    started_ms: int
    duration_ms: float
    removed: int = Field(ge=0)
    items: list[PruneItem]


class RetentionInfo(Shape):
    """GET and PUT /api/v1/db/retention."""

    interval_s: float = Field(description="seconds between scheduled prunes")
    batch_rows: int = Field(description="rows deleted per statement")
    items: list[RetentionPolicy]
    last_prune: PruneReport | None
    prune_running: bool


class TableColumn(Shape):
    """A column the browser shows."""

    name: str
    type: str
    primary_key: bool


class TablePage(Shape):
    """GET /api/v1/db/tables/{name}."""

    table: str
    columns: list[TableColumn]
    hidden: list[str] = Field(description="columns never shown (secrets)")
    order: str | None
    items: list[dict[str, Any]]
    total: int = Field(ge=0)
    limit: int
    offset: int
