"""REST resources for remote runners and their enrolment tokens (admin scope for every change)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from kenkogo_master.api import openapi_shapes_runners as shapes
from kenkogo_master.api.answers import Reply, answers
from kenkogo_master.api.auth import token_of
from kenkogo_master.api.json import body_model
from kenkogo_master.api.openapi_shapes import Deleted
from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.keys import RUNNERS
from kenkogo_master.runners.commands import FINISHED
from kenkogo_master.store.tokens import Scope

routes = web.RouteTableDef()

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Ident = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,128}$")]


class EnrolmentCreate(BaseModel):
    """Body of POST /api/v1/runner-enrolments."""

    model_config = ConfigDict(extra="forbid")

    name: Name = Field(description="what the token is for, e.g. the machine it is given to")


class CommandCreate(BaseModel):
    """Body of POST /api/v1/runners/{id}/commands."""

    model_config = ConfigDict(extra="forbid")

    id: Ident | None = Field(
        None,
        description="your id for it: sending a command again under its id runs it once (the "
        "runner answers the copy with the first result); made up when absent",
    )
    type: Literal["deploy", "start", "stop", "restart", "remove", "logs"]
    deployment: Ident = Field(description="the deployment on the runner it is about")
    package: Ident | None = Field(None, description="deploy: the package id")
    revision: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")] | None = Field(
        None, description="deploy: the revision's sha256; the runner fetches and checks it"
    )
    lines: int = Field(100, ge=1, le=1000, description="logs: how many of the latest lines")
    wait_ms: int = Field(
        0, ge=0, le=60_000, description="wait this long for the result before answering"
    )


def _require_admin(request: web.Request) -> None:
    if token_of(request).scope is not Scope.ADMIN:
        raise HubError(ErrorCode.FORBIDDEN, scope=Scope.ADMIN.value)


@routes.get("/api/v1/runner-enrolments")
@answers(shapes.RunnerEnrolmentList)
async def list_runner_enrolments(request: web.Request) -> shapes.RunnerEnrolmentList:
    """List the enrolment tokens, spent and unspent, never their secrets."""
    _require_admin(request)
    items = [
        shapes.RunnerEnrolment.of(item) for item in request.app[RUNNERS].credentials.enrolments()
    ]
    return shapes.RunnerEnrolmentList(items=items, count=len(items))


@routes.post("/api/v1/runner-enrolments")
@answers(shapes.NewRunnerEnrolment, status=201)
async def create_runner_enrolment(request: web.Request) -> shapes.NewRunnerEnrolment:
    """Create a one-time enrolment token; the answer is the only time it is shown."""
    _require_admin(request)
    body = await body_model(request, EnrolmentCreate)
    enrolment, secret = await request.app[RUNNERS].credentials.create_enrolment(body.name)
    return shapes.NewRunnerEnrolment(
        id=enrolment.id, name=enrolment.name, created_ms=enrolment.created_ms, token=secret
    )


@routes.delete("/api/v1/runner-enrolments/{id}")
@answers(Deleted)
async def delete_runner_enrolment(request: web.Request) -> Deleted:
    """Revoke an enrolment token (a runner it enrolled keeps its own credential)."""
    _require_admin(request)
    enrolment_id = request.match_info["id"]
    if not await request.app[RUNNERS].credentials.revoke_enrolment(enrolment_id):
        raise HubError(ErrorCode.NOT_FOUND, what="runner enrolment", id=enrolment_id)
    return Deleted(id=enrolment_id, deleted=True)


@routes.get("/api/v1/runners")
@answers(shapes.RunnerList)
async def list_runners(request: web.Request) -> shapes.RunnerList:
    """List the runners with their state, last heartbeat, resources and apps."""
    items = [shapes.RunnerItem.of(runner) for runner in request.app[RUNNERS].listing()]
    return shapes.RunnerList(items=items, count=len(items))


@routes.get("/api/v1/runners/{id}")
@answers(shapes.RunnerDetail)
async def get_runner(request: web.Request) -> shapes.RunnerDetail:
    """Show one runner, with the deployments it should host."""
    return shapes.RunnerDetail.of(request.app[RUNNERS].get(request.match_info["id"]))


@routes.delete("/api/v1/runners/{id}")
@answers(Deleted)
async def delete_runner(request: web.Request) -> Deleted:
    """Revoke a runner: its credential stops working and its connection is closed."""
    _require_admin(request)
    runner_id = request.match_info["id"]
    await request.app[RUNNERS].revoke(runner_id)
    return Deleted(id=runner_id, deleted=True)


@routes.post("/api/v1/runners/{id}/commands")
@answers(shapes.RunnerCommand, status=(202, 200))
async def send_runner_command(request: web.Request) -> Reply[shapes.RunnerCommand]:
    """Send a command to a connected runner; answered 200 once it ended, else 202."""
    _require_admin(request)
    body = await body_model(request, CommandCreate)
    wire = body.model_dump(exclude={"wait_ms"})
    record = await request.app[RUNNERS].send(request.match_info["id"], wire)
    if body.wait_ms and record.state not in FINISHED:
        try:
            async with asyncio.timeout(body.wait_ms / 1000):
                await record.done.wait()
        except TimeoutError:
            pass
    status = 200 if record.state in FINISHED else 202
    return Reply(shapes.RunnerCommand.of(record), status=status)


@routes.get("/api/v1/runners/{id}/commands/{command_id}")
@answers(shapes.RunnerCommand)
async def get_runner_command(request: web.Request) -> shapes.RunnerCommand:
    """Show a command sent to a runner and its result (the latest commands are kept)."""
    runners = request.app[RUNNERS]
    runner = runners.get(request.match_info["id"])
    command_id = request.match_info["command_id"]
    record = runners.commands.get(command_id)
    if record is None or record.runner_id != runner.id:
        raise HubError(ErrorCode.NOT_FOUND, what="command", id=command_id)
    return shapes.RunnerCommand.of(record)


@routes.get("/api/v1/runners/{id}/apps/{deployment}/logs")
@answers(shapes.RunnerLogs)
async def get_runner_app_logs(request: web.Request) -> shapes.RunnerLogs:
    """Return the latest output lines an app on a runner sent (`[runners] log_lines` kept)."""
    runner = request.app[RUNNERS].get(request.match_info["id"])
    deployment = request.match_info["deployment"]
    tail = runner.logs.get(deployment)
    if tail is None:
        raise HubError(ErrorCode.NOT_FOUND, what="deployment", id=deployment)
    lines = [
        shapes.LogLine(stream=stream, seq=seq, line=line) for stream, seq, line, _ in tail.lines
    ]
    return shapes.RunnerLogs(deployment=deployment, lines=lines, gaps=tail.gaps)
