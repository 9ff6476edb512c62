"""REST resources for database care: info, maintenance, backups, retention, a table browser."""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

from aiohttp import web
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    Strict,
    StringConstraints,
    create_model,
)

from kenkogo_master.api import openapi_shapes_db as shapes
from kenkogo_master.api.answers import answers
from kenkogo_master.api.json import body_model, query_model
from kenkogo_master.api.routes_tokens import require_admin
from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.keys import EVENT_BUS, MAINTENANCE, PRUNER, RETENTION, SETTINGS
from kenkogo_master.settings import RetentionDays
from kenkogo_master.store import table_browser
from kenkogo_master.store.backup import snapshot, sqlite_path
from kenkogo_master.store.retention import POLICIES

routes = web.RouteTableDef()

MAX_PAGE = 500
CHUNK = 256 * 1024
BACKUP_TYPE = "application/vnd.sqlite3"
# The tool to back up each engine that the Master does not back up itself.
BACKUP_TOOLS = {"postgresql": "pg_dump"}
# Live readers (the panel's database page) hear that the database changed under an operation.
CHANGED_TOPIC = "db.changed"


def _changed(request: web.Request, operation: str) -> None:
    request.app[EVENT_BUS].publish(CHANGED_TOPIC, {"operation": operation})


class TableQuery(BaseModel):
    """Query of GET /api/v1/db/tables/{name}."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(50, ge=1, le=MAX_PAGE)
    offset: int = Field(0, ge=0, le=1_000_000_000)
    order: Annotated[str, StringConstraints(pattern=r"^-?[a-z_][a-z0-9_]{0,62}$")] | None = Field(
        None, description="a column, or -column for descending; the primary key follows"
    )


# The tables the browser shows, as the document's enum of {name}.
_TABLE_NAMES: list[JsonValue] = [*table_browser.browsable_names()]


class TablePath(BaseModel):
    """Path of GET /api/v1/db/tables/{name}."""

    name: str = Field(
        json_schema_extra={"enum": _TABLE_NAMES},
        description="a browsable table (GET /api/v1/db lists them)",
    )


def _retention_update() -> type[BaseModel]:
    """Build the PUT body from the policies: one optional key per retention."""
    fields: dict[str, Any] = {
        policy.name: (
            Annotated[RetentionDays, Strict()] | None,
            Field(
                None,
                description=f"days to keep {policy.description}; null: back to "
                f"`{policy.setting}`; absent: unchanged",
            ),
        )
        for policy in POLICIES
    }
    model: type[BaseModel] = create_model(
        "RetentionUpdate",
        __config__=ConfigDict(extra="forbid"),
        __doc__="Body of PUT /api/v1/db/retention.",
        **fields,
    )
    return model


RetentionUpdate = _retention_update()


@routes.get("/api/v1/db")
@answers(shapes.DbInfo)
async def database_info(request: web.Request) -> shapes.DbInfo:
    """Describe the database: engine, version, size, schema revision and every table."""
    info = await request.app[MAINTENANCE].info()
    browsable = set(table_browser.browsable_names())
    tables = [
        shapes.DbTable(**item, browsable=item["name"] in browsable) for item in info.pop("tables")
    ]
    return shapes.DbInfo(**info, tables=tables)


@routes.post("/api/v1/db/vacuum")
@answers(shapes.MaintenanceResult)
async def vacuum_database(request: web.Request) -> shapes.MaintenanceResult:
    """Rebuild the database, giving back free space.

    SQLite holds new writes back meanwhile (they queue and are committed afterwards);
    PostgreSQL runs a plain VACUUM beside them.
    """
    result = shapes.MaintenanceResult.of(await request.app[MAINTENANCE].vacuum())
    _changed(request, "vacuum")
    return result


@routes.post("/api/v1/db/analyze")
@answers(shapes.MaintenanceResult)
async def analyze_database(request: web.Request) -> shapes.MaintenanceResult:
    """Refresh the query planner's statistics."""
    result = shapes.MaintenanceResult.of(await request.app[MAINTENANCE].analyze())
    _changed(request, "analyze")
    return result


@routes.post("/api/v1/db/integrity-check")
@answers(shapes.MaintenanceResult)
async def check_database_integrity(request: web.Request) -> shapes.MaintenanceResult:
    """Check the database's structure; `problems` lists what was found.

    SQLite: PRAGMA integrity_check and foreign_key_check. PostgreSQL: amcheck's B-tree and
    heap checks where the extension is installed, else a read of every row.
    """
    result = shapes.MaintenanceResult.of(await request.app[MAINTENANCE].integrity_check())
    _changed(request, "integrity_check")
    return result


@routes.get("/api/v1/db/backup")
async def backup_database(request: web.Request) -> web.StreamResponse:
    """Download a consistent snapshot of the SQLite database, taken while it runs.

    PostgreSQL is answered 409: pg_dump is the tool for it.
    """
    require_admin(request)
    maintenance = request.app[MAINTENANCE]
    source = sqlite_path(request.app[SETTINGS].storage.resolved_database_url())
    if source is None:
        tool = BACKUP_TOOLS.get(maintenance.dialect, "the database's own backup tools")
        raise HubError(ErrorCode.BACKUP_UNSUPPORTED, engine=maintenance.dialect, tool=tool)
    handle, name = tempfile.mkstemp(prefix=".backup-", suffix=".db", dir=source.parent)
    os.close(handle)
    copy = Path(name)
    try:
        async with maintenance.hold("backup"):
            await asyncio.to_thread(snapshot, source, copy)
        return await _stream(request, copy)
    finally:
        copy.unlink(missing_ok=True)


async def _stream(request: web.Request, path: Path) -> web.StreamResponse:
    """Send a file in chunks read off the event loop."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    response = web.StreamResponse(
        headers={
            "Content-Type": BACKUP_TYPE,
            "Content-Disposition": f'attachment; filename="kenkogo-{stamp}.db"',
            "Cache-Control": "no-store",
        }
    )
    response.content_length = path.stat().st_size
    await response.prepare(request)
    with path.open("rb") as stream:
        while chunk := await asyncio.to_thread(stream.read, CHUNK):
            await response.write(chunk)
    await response.write_eof()
    return response


def _retention_info(request: web.Request) -> shapes.RetentionInfo:
    settings = request.app[SETTINGS].retention
    last = request.app[PRUNER].last
    return shapes.RetentionInfo(
        interval_s=settings.interval,
        batch_rows=settings.batch_rows,
        items=[shapes.RetentionPolicy(**item) for item in request.app[RETENTION].describe()],
        last_prune=None if last is None else shapes.PruneReport(**last),
        prune_running=request.app[MAINTENANCE].running == "prune",
    )


@routes.get("/api/v1/db/retention")
@answers(shapes.RetentionInfo)
async def get_retention(request: web.Request) -> shapes.RetentionInfo:
    """List how long each kind of row is kept, and the last prune."""
    return _retention_info(request)


@routes.put("/api/v1/db/retention")
@answers(shapes.RetentionInfo)
async def update_retention(request: web.Request) -> shapes.RetentionInfo:
    """Change retentions at run time; they are kept across restarts.

    Keys left out stay as they are; `null` goes back to the configured value. The next prune
    (scheduled, or POST /api/v1/db/prune) applies them.
    """
    body = await body_model(request, RetentionUpdate)
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    await request.app[RETENTION].update(changes)
    _changed(request, "retention")
    return _retention_info(request)


@routes.post("/api/v1/db/prune")
@answers(shapes.PruneReport)
async def prune_database(request: web.Request) -> shapes.PruneReport:
    """Delete every row past its retention now; report what went from each table."""
    report = shapes.PruneReport(**await request.app[PRUNER].prune("request"))
    _changed(request, "prune")
    return report


@routes.get("/api/v1/db/tables/{name}")
@answers(shapes.TablePage)
async def browse_table(request: web.Request) -> shapes.TablePage:
    """Read a page of a table; secret columns (token hashes and the like) are never shown."""
    name = request.match_info["name"]
    view = table_browser.browsable(name)
    if view is None:
        raise HubError(ErrorCode.NOT_FOUND, what="table", id=name)
    query = query_model(request, TableQuery)
    try:
        order = table_browser.parse_order(view, query.order)
    except ValueError as exc:
        raise HubError(ErrorCode.INVALID_PAYLOAD, detail=str(exc)) from None
    items, total = await table_browser.page(
        request.app[MAINTENANCE].engine, view, order, query.limit, query.offset
    )
    columns = [
        shapes.TableColumn(name=column.name, type=str(column.type), primary_key=column.primary_key)
        for column in view.columns
    ]
    return shapes.TablePage(
        table=name,
        columns=columns,
        hidden=list(view.hidden),
        order=query.order,
        items=items,
        total=total,
        limit=query.limit,
        offset=query.offset,
    )
