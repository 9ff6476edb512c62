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
from kenkogo_master.api.json import body_model, json_response, query_model
from kenkogo_master.api.openapi_shapes import Shape
from kenkogo_master.api.routes_tokens import require_admin
from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.keys import MAINTENANCE, PRUNER, RETENTION, SETTINGS
from kenkogo_master.settings import RetentionDays
from kenkogo_master.store import table_browser
from kenkogo_master.store.backup import snapshot, sqlite_path
from kenkogo_master.store.maintenance import Outcome
from kenkogo_master.store.retention import POLICIES

routes = web.RouteTableDef()

MAX_PAGE = 500
CHUNK = 256 * 1024
BACKUP_TYPE = "application/vnd.sqlite3"
# The tool to back up each engine that the Master does not back up itself.
BACKUP_TOOLS = {"postgresql": "pg_dump"}


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


def _answer(model: type[Shape], body: dict[str, Any]) -> web.Response:
    """Answer `body` as validated by its documented model, so that the two cannot drift."""
    return json_response(model.model_validate(body).model_dump(mode="json", by_alias=True))


def _outcome(outcome: Outcome) -> web.Response:
    return _answer(shapes.MaintenanceResult, outcome.as_dict())


@routes.get("/api/v1/db")
async def database_info(request: web.Request) -> web.Response:
    """Describe the database: engine, version, size, schema revision and every table."""
    info = await request.app[MAINTENANCE].info()
    browsable = set(table_browser.browsable_names())
    for item in info["tables"]:
        item["browsable"] = item["name"] in browsable
    return _answer(shapes.DbInfo, info)


@routes.post("/api/v1/db/vacuum")
async def vacuum_database(request: web.Request) -> web.Response:
    """Rebuild the database, giving back free space.

    SQLite holds new writes back meanwhile (they queue and are committed afterwards);
    PostgreSQL runs a plain VACUUM beside them.
    """
    return _outcome(await request.app[MAINTENANCE].vacuum())


@routes.post("/api/v1/db/analyze")
async def analyze_database(request: web.Request) -> web.Response:
    """Refresh the query planner's statistics."""
    return _outcome(await request.app[MAINTENANCE].analyze())


@routes.post("/api/v1/db/integrity-check")
async def check_database_integrity(request: web.Request) -> web.Response:
    """Check the database's structure; `problems` lists what was found.

    SQLite: PRAGMA integrity_check and foreign_key_check. PostgreSQL: amcheck's B-tree and
    heap checks where the extension is installed, else a read of every row.
    """
    return _outcome(await request.app[MAINTENANCE].integrity_check())


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


def _retention_info(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS].retention
    pruner = request.app[PRUNER]
    return _answer(
        shapes.RetentionInfo,
        {
            "interval_s": settings.interval,
            "batch_rows": settings.batch_rows,
            "items": request.app[RETENTION].describe(),
            "last_prune": pruner.last,
            "prune_running": request.app[MAINTENANCE].running == "prune",
        },
    )


@routes.get("/api/v1/db/retention")
async def get_retention(request: web.Request) -> web.Response:
    """List how long each kind of row is kept, and the last prune."""
    return _retention_info(request)


@routes.put("/api/v1/db/retention")
async def update_retention(request: web.Request) -> web.Response:
    """Change retentions at run time; they are kept across restarts.

    Keys left out stay as they are; `null` goes back to the configured value. The next prune
    (scheduled, or POST /api/v1/db/prune) applies them.
    """
    body = await body_model(request, RetentionUpdate)
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    await request.app[RETENTION].update(changes)
    return _retention_info(request)


@routes.post("/api/v1/db/prune")
async def prune_database(request: web.Request) -> web.Response:
    """Delete every row past its retention now; report what went from each table."""
    report = await request.app[PRUNER].prune("request")
    return _answer(shapes.PruneReport, report)


@routes.get("/api/v1/db/tables/{name}")
async def browse_table(request: web.Request) -> web.Response:
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
        {"name": column.name, "type": str(column.type), "primary_key": column.primary_key}
        for column in view.columns
    ]
    body = {
        "table": name,
        "columns": columns,
        "hidden": list(view.hidden),
        "order": query.order,
        "items": items,
        "total": total,
        "limit": query.limit,
        "offset": query.offset,
    }
    return _answer(shapes.TablePage, body)
