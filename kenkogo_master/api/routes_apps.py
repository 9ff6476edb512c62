"""REST resources for apps: list, inspect, pause, resume, kick, hold and release."""

from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from kenkogo_master.api import openapi_shapes as shapes
from kenkogo_master.api.answers import answers
from kenkogo_master.api.errors import request_locale
from kenkogo_master.api.json import body_model, query_model
from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.hub.hub import Hub
from kenkogo_master.hub.sessions import AppSession
from kenkogo_master.hub.states import AppState
from kenkogo_master.keys import APP_RECORDS, HUB

routes = web.RouteTableDef()


class AppListQuery(BaseModel):
    """Filters of GET /api/v1/apps."""

    model_config = ConfigDict(extra="forbid")

    state: AppState | None = None
    name: Annotated[str, StringConstraints(max_length=64)] | None = None


AppId = Annotated[str, Field(min_length=1, max_length=64)]


class KickBody(BaseModel):
    """Body of POST /api/v1/apps/{id}/kick (optional)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    # Told to the app in the `kicked` error's message, and kept in the audit trail.
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None


def _in_flight(hub: Hub) -> dict[str, int]:
    """Return each scheduling instance's unacknowledged messages."""
    return {
        instance: count
        for name in hub.scheduler.describe()["names"].values()
        for instance, count in name["instances"].items()
    }


def _app(hub: Hub, session: AppSession, in_flight: dict[str, int] | None = None) -> shapes.App:
    loads = _in_flight(hub) if in_flight is None else in_flight
    return shapes.App.of(
        session,
        held=session.name in hub.apps.registry.held,
        in_flight=loads.get(session.id, 0),
    )


@routes.get("/api/v1/apps")
@answers(shapes.AppList)
async def list_apps(request: web.Request) -> shapes.AppList:
    """List live app instances, optionally by state and name."""
    query = query_model(request, AppListQuery)
    hub = request.app[HUB]
    in_flight = _in_flight(hub)
    items = [
        _app(hub, session, in_flight)
        for session in hub.apps.registry
        if (query.state is None or session.state is query.state)
        and (query.name is None or session.name == query.name)
    ]
    return shapes.AppList(items=items, count=len(items))


@routes.get("/api/v1/apps/{id}")
@answers(shapes.AppDetail, shapes.PastAppDetail)
async def get_app(request: web.Request) -> shapes.AppDetail | shapes.PastAppDetail:
    """Show one instance, live or from history, with its transitions."""
    hub = request.app[HUB]
    records = request.app[APP_RECORDS]
    instance_id = request.match_info["id"]
    live = hub.apps.registry.get(instance_id)
    past = None if live is not None else await records.instance(instance_id)
    if live is None and past is None:
        raise HubError(ErrorCode.NOT_FOUND, what="app", id=instance_id)
    locale = request_locale(request)
    transitions = [
        shapes.Transition(
            from_state=row.from_state,
            to=row.to_state,
            reason_key=row.reason,
            reason=hub.texts.text(row.reason, locale),
            at_ms=row.at_ms,
        )
        for row in await records.transitions(instance_id)
    ]
    if live is not None:
        held = live.name in hub.apps.registry.held
        return shapes.AppDetail.of(live, held, transitions=transitions)
    assert past is not None
    return shapes.PastAppDetail(**past, transitions=transitions)


@routes.post("/api/v1/apps/{id}/pause")
@answers(shapes.App)
async def pause_app(request: web.Request) -> shapes.App:
    """Pause one instance."""
    hub = request.app[HUB]
    return _app(hub, await hub.apps.pause(request.match_info["id"]))


@routes.post("/api/v1/apps/{id}/resume")
@answers(shapes.App)
async def resume_app(request: web.Request) -> shapes.App:
    """Resume one paused instance."""
    hub = request.app[HUB]
    return _app(hub, await hub.apps.resume(request.match_info["id"]))


@routes.post("/api/v1/apps/{id}/kick")
@answers(shapes.Kicked)
async def kick_app(request: web.Request) -> shapes.Kicked:
    """Disconnect one instance; an optional `reason` is told to the app.

    The app receives the `error` event `kicked` (with the reason in its message) before the
    connection closes, and may not resume the instance.
    """
    hub = request.app[HUB]
    body = await body_model(request, KickBody) if request.can_read_body else KickBody()
    await hub.apps.kick(request.match_info["id"], body.reason or None)
    return shapes.Kicked(id=request.match_info["id"], state=AppState.DISCONNECTED.value)


Name = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class NamePath(BaseModel):
    """An app name in a path."""

    name: Name


@routes.get("/api/v1/app-names")
@answers(shapes.AppNameList)
async def list_names(request: web.Request) -> shapes.AppNameList:
    """List every app name ever seen: hold flag, live instances, whether away, queue depth."""
    hub = request.app[HUB]
    queues = hub.scheduler.describe()["names"]
    items = []
    for row in await request.app[APP_RECORDS].names():
        queue = queues.get(row["name"], {})
        items.append(
            shapes.AppName(
                **row,
                instances=len(hub.apps.registry.named(row["name"])),
                away=queue.get("away", False),
                away_since_ms=queue.get("away_since_ms"),
                queued=queue.get("queued", 0),
            )
        )
    return shapes.AppNameList(items=items, count=len(items))


@routes.post("/api/v1/app-names/{name}/hold")
@answers(shapes.Held)
async def hold_name(request: web.Request) -> shapes.Held:
    """Hold a name: its instances pause and new ones stay paused."""
    name = NamePath(name=request.match_info["name"]).name
    paused = await request.app[HUB].apps.hold(name)
    return shapes.Held(name=name, held=True, paused=[s.id for s in paused])


@routes.post("/api/v1/app-names/{name}/release")
@answers(shapes.Released)
async def release_name(request: web.Request) -> shapes.Released:
    """Release a held name: the instances the hold paused resume."""
    name = NamePath(name=request.match_info["name"]).name
    resumed = await request.app[HUB].apps.release(name)
    return shapes.Released(name=name, held=False, resumed=[s.id for s in resumed])
