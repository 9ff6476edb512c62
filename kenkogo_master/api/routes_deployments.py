"""REST resources for deployments: the apps the local supervisor or a runner runs (admin scope).

Secrets are write-only: an answer names them, never shows them; the audit trail records the
request without its body, and the app's output is masked before it is kept. Where each
deployment runs is the placement's business (deploy/placement.py).
"""

from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from kenkogo_master.api import openapi_shapes_deploy as shapes
from kenkogo_master.api.answers import answers
from kenkogo_master.api.json import body_model, query_model
from kenkogo_master.api.openapi_shapes import Deleted
from kenkogo_master.api.routes_tokens import require_admin
from kenkogo_master.deploy.placement import LOCAL, Placement
from kenkogo_master.deploy.supervisor import Deployment, DeploymentError
from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.keys import PLACEMENT
from kenkogo_master.sdk.deployed import APP_TOKEN, MASTER_PID, MASTER_URL

routes = web.RouteTableDef()

RESERVED = frozenset({MASTER_URL, APP_TOKEN, MASTER_PID})
Word = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


def _variables(values: dict[str, str]) -> dict[str, str]:
    for key in values:
        if key in RESERVED:
            raise ValueError(f"{key} is set by the supervisor")
    return values


VarName = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
]
VarValue = Annotated[str, StringConstraints(max_length=10_000, pattern=r"^[^\x00]*$")]
Variables = Annotated[
    dict[VarName, VarValue],
    Field(max_length=200, description="environment variables (names: letters, digits, _)"),
    AfterValidator(_variables),
]
AppId = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=Word)]
Revision = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=Word)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=Word)]
RunnerRef = Annotated[
    str,
    StringConstraints(min_length=1, max_length=128, pattern=Word),
    Field(description=f"a runner's id, or `{LOCAL}`: this Master's own supervisor"),
]
Labels = Annotated[
    list[Annotated[str, StringConstraints(min_length=1, max_length=64)]],
    Field(
        min_length=1,
        max_length=32,
        description="every label must be among a runner's (`local`: [supervisor] labels); "
        "of the connected runners that match, the one with the fewest deployments",
    ),
]


class Placed(BaseModel):
    """A placement: a runner, or labels, or neither (local)."""

    runner: RunnerRef | None = None
    labels: Labels | None = None

    @model_validator(mode="after")
    def _one_way(self) -> Placed:
        if self.runner is not None and self.labels is not None:
            raise ValueError("give `runner` or `labels`, not both")
        return self


class DeploymentCreate(Placed):
    """Body of POST /api/v1/deployments."""

    model_config = ConfigDict(extra="forbid", strict=True)

    app_id: AppId
    revision: Revision
    env: Variables = {}
    secrets: Variables = Field({}, description="like env, but never shown again nor logged")
    enabled: bool = Field(True, description="start now, and whenever the Master starts")
    name: Name | None = Field(None, description="unique; the app id when absent")


class DeploymentPatch(Placed):
    """Body of PATCH /api/v1/deployments/{id}: what is given replaces what was (next start)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    env: Variables | None = None
    secrets: Variables | None = Field(None, description="replaces every secret")
    enabled: bool | None = None
    revision: Revision | None = None


class LogsQuery(BaseModel):
    """Query of GET /api/v1/deployments/{id}/logs."""

    model_config = ConfigDict(extra="forbid")

    offset: int | None = Field(
        None, ge=1, le=2**53, description="the first line's number; the last lines when absent"
    )
    limit: int = Field(100, ge=1, le=1000)


def _placement(request: web.Request) -> Placement:
    require_admin(request)
    return request.app[PLACEMENT]


def _deployment(request: web.Request) -> tuple[Placement, Deployment]:
    placement = _placement(request)
    deployment_id = request.match_info["id"]
    deployment = placement.supervisor.get(deployment_id)
    if deployment is None:
        raise HubError(ErrorCode.NOT_FOUND, what="deployment", id=deployment_id)
    return placement, deployment


def _refusal(exc: DeploymentError, app_id: str, revision: str, name: str) -> HubError:
    if exc.reason == "exists":
        return HubError(ErrorCode.ALREADY_EXISTS, path=name)
    return HubError(ErrorCode.NOT_INSTALLED, app_id=app_id, revision=revision)


def describe(placement: Placement, deployment: Deployment) -> shapes.Deployment:
    """Return a deployment as answered: secrets by name only; a remote one as its runner says."""
    if deployment.runner_id is not None:
        return _describe_remote(placement, deployment)
    process = deployment.process
    running = process is not None and process.running
    resources = None
    if process is not None and running:
        sampled = deployment.resources or process.sample()
        resources = shapes.DeploymentResources(
            cpu_percent=sampled.cpu_percent,
            memory_bytes=sampled.memory_bytes,
            children=sampled.children,
        )
    return shapes.Deployment(
        runner=LOCAL,
        runner_name=None,
        labels=deployment.labels,
        id=deployment.id,
        name=deployment.name,
        app_id=deployment.app_id,
        revision=deployment.revision,
        env=deployment.env,
        secret_names=sorted(deployment.secrets),
        enabled=deployment.enabled,
        state=deployment.state.value,
        pid=process.pid if process is not None and running else None,
        uptime_s=deployment.uptime(),
        restarts=deployment.restarts,
        exit_code=deployment.exit_code,
        instance_id=deployment.instance_id,
        resources=resources,
        created_ms=deployment.created_ms,
        updated_ms=deployment.updated_ms,
    )


def _describe_remote(placement: Placement, deployment: Deployment) -> shapes.Deployment:
    remote = placement.remote_state(deployment)
    runner = placement.runner_of(deployment)
    return shapes.Deployment(
        runner=deployment.runner_id or LOCAL,
        runner_name=runner.name if runner is not None else None,
        labels=deployment.labels,
        id=deployment.id,
        name=deployment.name,
        app_id=deployment.app_id,
        revision=deployment.revision,
        env=deployment.env,
        secret_names=sorted(deployment.secrets),
        enabled=deployment.enabled,
        state=remote.state,  # the runner reports our states
        pid=remote.pid,
        uptime_s=None,
        restarts=0,
        exit_code=remote.exit_code,
        instance_id=None,
        resources=None,
        created_ms=deployment.created_ms,
        updated_ms=deployment.updated_ms,
    )


@routes.get("/api/v1/deployments")
@answers(shapes.DeploymentList)
async def list_deployments(request: web.Request) -> shapes.DeploymentList:
    """List every deployment with its state, process and resources."""
    placement = _placement(request)
    items = [describe(placement, item) for item in placement.supervisor.deployments.values()]
    return shapes.DeploymentList(items=items, count=len(items))


@routes.post("/api/v1/deployments")
@answers(shapes.Deployment, status=201)
async def create_deployment(request: web.Request) -> shapes.Deployment:
    """Deploy an app revision where its placement says; it starts at once when enabled."""
    placement = _placement(request)
    body = await body_model(request, DeploymentCreate)
    try:
        deployment = await placement.create(
            body.app_id,
            body.revision,
            body.env,
            body.secrets,
            body.enabled,
            body.name,
            body.runner,
            body.labels,
        )
    except DeploymentError as exc:
        raise _refusal(exc, body.app_id, body.revision, body.name or body.app_id) from None
    return describe(placement, deployment)


@routes.get("/api/v1/deployments/{id}")
@answers(shapes.Deployment)
async def get_deployment(request: web.Request) -> shapes.Deployment:
    """Show one deployment."""
    placement, deployment = _deployment(request)
    return describe(placement, deployment)


@routes.patch("/api/v1/deployments/{id}")
@answers(shapes.Deployment)
async def update_deployment(request: web.Request) -> shapes.Deployment:
    """Change env, secrets, enabled, revision or placement (which moves it)."""
    placement, deployment = _deployment(request)
    body = await body_model(request, DeploymentPatch)
    placed = body.runner is not None or body.labels is not None
    try:
        await placement.update(
            deployment,
            body.env,
            body.secrets,
            body.enabled,
            body.revision,
            placed,
            body.runner,
            body.labels,
        )
    except DeploymentError as exc:
        revision = body.revision or deployment.revision
        raise _refusal(exc, deployment.app_id, revision, deployment.name) from None
    return describe(placement, deployment)


@routes.post("/api/v1/deployments/{id}/start")
@answers(shapes.Deployment)
async def start_deployment(request: web.Request) -> shapes.Deployment:
    """Start a deployment (from stopped, exited or fatal); nothing when it runs already."""
    placement, deployment = _deployment(request)
    try:
        await placement.start(deployment)
    except DeploymentError as exc:
        raise _refusal(exc, deployment.app_id, deployment.revision, deployment.name) from None
    return describe(placement, deployment)


@routes.post("/api/v1/deployments/{id}/stop")
@answers(shapes.Deployment)
async def stop_deployment(request: web.Request) -> shapes.Deployment:
    """Stop a deployment: the stop signal to its group, SIGKILL after its timeout."""
    placement, deployment = _deployment(request)
    await placement.stop(deployment)
    return describe(placement, deployment)


@routes.post("/api/v1/deployments/{id}/restart")
@answers(shapes.Deployment)
async def restart_deployment(request: web.Request) -> shapes.Deployment:
    """Stop a deployment if it runs, then start it."""
    placement, deployment = _deployment(request)
    try:
        await placement.restart(deployment)
    except DeploymentError as exc:
        raise _refusal(exc, deployment.app_id, deployment.revision, deployment.name) from None
    return describe(placement, deployment)


@routes.delete("/api/v1/deployments/{id}")
@answers(Deleted)
async def delete_deployment(request: web.Request) -> Deleted:
    """Stop a deployment and remove it; its log files stay on disk."""
    placement, deployment = _deployment(request)
    await placement.remove(deployment)
    return Deleted(id=deployment.id, deleted=True)


@routes.get("/api/v1/deployments/{id}/logs")
@answers(shapes.DeploymentLogs)
async def deployment_logs(request: web.Request) -> shapes.DeploymentLogs:
    """Read an app's output from line `offset` on, or its last lines."""
    placement, deployment = _deployment(request)
    query = query_model(request, LogsQuery)
    if deployment.runner_id is not None:
        remote, next_seq = placement.remote_logs(deployment, query.offset, query.limit)
        items = [
            shapes.DeploymentLogLine(
                seq=line.seq,
                time_ms=line.time_ms,
                stream=line.stream,  # stdout or stderr
                text=line.text,
            )
            for line in remote
        ]
        return shapes.DeploymentLogs(items=items, count=len(items), next_offset=next_seq)
    lines = deployment.log.read(query.offset, query.limit)
    items = [shapes.DeploymentLogLine(**line.as_dict()) for line in lines]
    next_offset = lines[-1].seq + 1 if lines else (query.offset or deployment.log.next_seq)
    return shapes.DeploymentLogs(items=items, count=len(items), next_offset=next_offset)
