"""GET /api/v1/audit: the audit trail, newest first, filtered and paged."""

from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from kenkogo_master.admin.audit import AuditQuery
from kenkogo_master.api.answers import answers
from kenkogo_master.api.json import query_model
from kenkogo_master.api.openapi_shapes_admin import AuditEntry, AuditPage
from kenkogo_master.api.routes_tokens import require_admin
from kenkogo_master.api.stats_params import EpochMs
from kenkogo_master.keys import AUDIT

routes = web.RouteTableDef()

MAX_PAGE = 500


class AuditListQuery(BaseModel):
    """Query of GET /api/v1/audit."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    actor: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = Field(
        None, description="an account's or token's name or id"
    )
    action: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = Field(
        None, description="e.g. login, change_password, pause_app, create_token"
    )
    target: Annotated[str, StringConstraints(min_length=1, max_length=300)] | None = None
    from_ms: EpochMs | None = Field(None, alias="from")
    to_ms: EpochMs | None = Field(None, alias="to")
    limit: int = Field(50, ge=1, le=MAX_PAGE)
    cursor: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = None


@routes.get("/api/v1/audit")
@answers(AuditPage)
async def list_audit(request: web.Request) -> AuditPage:
    """List audited actions, newest first, by actor, action, target and time."""
    require_admin(request)
    query = query_model(request, AuditListQuery)
    rows = await request.app[AUDIT].search(AuditQuery(**query.model_dump()))
    items = [AuditEntry(**row) for row in rows]
    next_cursor = items[-1].id if len(items) == query.limit else None
    return AuditPage(items=items, count=len(items), next_cursor=next_cursor)
