"""REST resources for deployments: the apps the local supervisor runs (admin scope).

Secrets are write-only: an answer names them, never shows them; the audit trail records the
request without its body, and the app's output is masked before it is kept.
"""

from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from kenkogo_master.api import openapi_shapes_deploy as shapes
from kenkogo_master.api.answers import answers
from kenkogo_master.api.json import body_model, query_model
from kenkogo_master.api.openapi_shapes import Deleted
from kenkogo_master.api.routes_tokens import require_admin
from kenkogo_master.deploy.supervisor import Deployment, DeploymentError, Supervisor
from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.keys import SUPERVISOR
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


class DeploymentCreate(BaseModel):
    """Body of POST /api/v1/deployments."""

    model_config = ConfigDict(extra="forbid", strict=True)

    app_id: AppId
    revision: Revision
    env: Variables = {}
    secrets: Variables = Field({}, description="like env, but never shown again nor logged")
    enabled: bool = Field(True, description="start now, and whenever the Master starts")
    name: Name | None = Field(None, description="unique; the app id when absent")


class DeploymentPatch(BaseModel):
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


def _supervisor(request: web.Request) -> Supervisor:
    require_admin(request)
    return request.app[SUPERVISOR]


def _deployment(request: web.Request) -> tuple[Supervisor, Deployment]:
    supervisor = _supervisor(request)
    deployment_id = request.match_info["id"]
    deployment = supervisor.get(deployment_id)
    if deployment is None:
        raise HubError(ErrorCode.NOT_FOUND, what="deployment", id=deployment_id)
    return supervisor, deployment


def _refusal(exc: DeploymentError, app_id: str, revision: str, name: str) -> HubError:
    if exc.reason == "exists":
        return HubError(ErrorCode.ALREADY_EXISTS, path=name)
    return HubError(ErrorCode.NOT_INSTALLED, app_id=app_id, revision=revision)


def describe(deployment: Deployment) -> shapes.Deployment:
    """Return a deployment as answered: secrets by name only."""
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


@routes.get("/api/v1/deployments")
@answers(shapes.DeploymentList)
async def list_deployments(request: web.Request) -> shapes.DeploymentList:
    """List every deployment with its state, process and resources."""
    supervisor = _supervisor(request)
    items = [describe(item) for item in supervisor.deployments.values()]
    return shapes.DeploymentList(items=items, count=len(items))


@routes.post("/api/v1/deployments")
@answers(shapes.Deployment, status=201)
async def create_deployment(request: web.Request) -> shapes.Deployment:
    """Deploy an installed app revision; it starts at once when enabled."""
    supervisor = _supervisor(request)
    body = await body_model(request, DeploymentCreate)
    try:
        deployment = await supervisor.create(
            body.app_id, body.revision, body.env, body.secrets, body.enabled, body.name
        )
    except DeploymentError as exc:
        raise _refusal(exc, body.app_id, body.revision, body.name or body.app_id) from None
    return describe(deployment)


@routes.get("/api/v1/deployments/{id}")
@answers(shapes.Deployment)
async def get_deployment(request: web.Request) -> shapes.Deployment:
    """Show one deployment."""
    _, deployment = _deployment(request)
    return describe(deployment)


@routes.patch("/api/v1/deployments/{id}")
@answers(shapes.Deployment)
async def update_deployment(request: web.Request) -> shapes.Deployment:
    """Change env, secrets, enabled or revision; a running app sees them after a restart."""
    supervisor, deployment = _deployment(request)
    body = await body_model(request, DeploymentPatch)
    try:
        await supervisor.update(deployment, body.env, body.secrets, body.enabled, body.revision)
    except DeploymentError as exc:
        revision = body.revision or deployment.revision
        raise _refusal(exc, deployment.app_id, revision, deployment.name) from None
    return describe(deployment)


@routes.post("/api/v1/deployments/{id}/start")
@answers(shapes.Deployment)
async def start_deployment(request: web.Request) -> shapes.Deployment:
    """Start a deployment (from stopped, exited or fatal); nothing when it runs already."""
    supervisor, deployment = _deployment(request)
    try:
        await supervisor.start(deployment)
    except DeploymentError as exc:
        raise _refusal(exc, deployment.app_id, deployment.revision, deployment.name) from None
    return describe(deployment)


@routes.post("/api/v1/deployments/{id}/stop")
@answers(shapes.Deployment)
async def stop_deployment(request: web.Request) -> shapes.Deployment:
    """Stop a deployment: the stop signal to its group, SIGKILL after its timeout."""
    supervisor, deployment = _deployment(request)
    await supervisor.stop(deployment)
    return describe(deployment)


@routes.post("/api/v1/deployments/{id}/restart")
@answers(shapes.Deployment)
async def restart_deployment(request: web.Request) -> shapes.Deployment:
    """Stop a deployment if it runs, then start it."""
    supervisor, deployment = _deployment(request)
    try:
        await supervisor.restart(deployment)
    except DeploymentError as exc:
        raise _refusal(exc, deployment.app_id, deployment.revision, deployment.name) from None
    return describe(deployment)


@routes.delete("/api/v1/deployments/{id}")
@answers(Deleted)
async def delete_deployment(request: web.Request) -> Deleted:
    """Stop a deployment and remove it; its log files stay on disk."""
    supervisor, deployment = _deployment(request)
    await supervisor.remove(deployment)
    return Deleted(id=deployment.id, deleted=True)


@routes.get("/api/v1/deployments/{id}/logs")
@answers(shapes.DeploymentLogs)
async def deployment_logs(request: web.Request) -> shapes.DeploymentLogs:
    """Read an app's output from line `offset` on, or its last lines."""
    _, deployment = _deployment(request)
    query = query_model(request, LogsQuery)
    lines = deployment.log.read(query.offset, query.limit)
    items = [shapes.DeploymentLogLine(**line.as_dict()) for line in lines]
    next_offset = lines[-1].seq + 1 if lines else (query.offset or deployment.log.next_seq)
    return shapes.DeploymentLogs(items=items, count=len(items), next_offset=next_offset)
