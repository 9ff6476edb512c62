"""REST resources of app packages: upload, list, download by digest, install, delete (admin)."""

from __future__ import annotations

import asyncio
import base64
import functools
from typing import Annotated, Any

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from kenkogo_master.api.answers import Reply, answers
from kenkogo_master.api.audit_trail import record_request
from kenkogo_master.api.auth import ACTOR, token_of
from kenkogo_master.api.errors import streams_body
from kenkogo_master.api.file_transfer import SEND_CHUNK, content_disposition, refuse_declared
from kenkogo_master.api.openapi_shapes_packages import (
    InstallState,
    Package,
    PackageList,
    PackageRevision,
    RevisionDeleted,
)
from kenkogo_master.deploy.context import INSTALLER, PACKAGES
from kenkogo_master.deploy.install import Installer
from kenkogo_master.deploy.packages import EXTENSIONS, MEDIA_TYPES, SHA256, Received
from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.keys import SETTINGS
from kenkogo_master.store.tokens import Scope

routes = web.RouteTableDef()

MULTIPART_SLACK = 64 * 1024  # a multipart body's boundaries and part headers

PackageId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
Digest = Annotated[str, StringConstraints(pattern=SHA256)]


class PackagePath(BaseModel):
    """Path of /api/v1/packages/{id}."""

    model_config = ConfigDict(extra="forbid")

    id: PackageId = Field(description="the manifest's id")


class RevisionPath(PackagePath):
    """Path of /api/v1/packages/{id}/revisions/{sha256}."""

    sha256: Digest = Field(description="the revision: the sha256 of the package's bytes")


def _require_admin(request: web.Request) -> None:
    # Packages are code the Master runs: reading them is for operators only.
    if token_of(request).scope is not Scope.ADMIN:
        raise HubError(ErrorCode.FORBIDDEN, scope=Scope.ADMIN.value)


def _path(request: web.Request) -> RevisionPath:
    return RevisionPath.model_validate(dict(request.match_info))


async def _describe(installer: Installer, row: dict[str, Any]) -> PackageRevision:
    record = await installer.status(row["sha256"])
    installed = row["sha256"] in installer.revisions(row["package_id"])
    return PackageRevision.of(row, record["status"] if record else None, installed)


async def _package(installer: Installer, rows: list[dict[str, Any]]) -> Package:
    """Describe a package from its revisions (oldest first)."""
    revisions = [await _describe(installer, row) for row in reversed(rows)]
    latest = rows[-1]["manifest"]
    return Package(
        id=rows[-1]["package_id"],
        name=latest["name"],
        description=latest["description"],
        author=latest["author"],
        latest=revisions[0],
        revisions=revisions,
    )


async def _multipart_chunks(request: web.Request) -> tuple[BodyPartReader, Any]:
    """Return the first file part of a multipart body and a reader of its chunks."""
    try:
        reader = await request.multipart()
        part = await reader.next()
    except (ValueError, AssertionError, HttpProcessingError) as exc:
        detail = f"a malformed multipart body ({exc})"
        raise HubError(ErrorCode.INVALID_PAYLOAD, detail=detail) from None
    if not isinstance(part, BodyPartReader) or part.filename is None:
        detail = "the multipart body's first part must be the package file"
        raise HubError(ErrorCode.INVALID_PAYLOAD, detail=detail)
    return part, functools.partial(part.read_chunk, SEND_CHUNK)


@routes.post("/api/v1/packages")
@streams_body
@answers(PackageRevision, status=(201, 200))
async def upload_package(request: web.Request) -> Reply[PackageRevision]:
    """Upload a package (zip or tar.gz): the raw body, or the first file of a multipart form.

    It streams to disk while its sha256 is computed, refused with 413 as soon as it passes
    packages.max_upload; then every entry is checked and the manifest read. 201 for a new
    revision, 200 when the same bytes were uploaded before.
    """
    _require_admin(request)
    store, installer = request.app[PACKAGES], request.app[INSTALLER]
    limit = request.app[SETTINGS].packages.max_upload
    multipart = request.content_type == "multipart/form-data"
    refuse_declared(request, limit + (MULTIPART_SLACK if multipart else 0))
    try:
        if multipart:
            _, chunks = await _multipart_chunks(request)
        else:
            chunks = request.content.readany
        received: Received = await store.receive(chunks, limit)
    except (ConnectionError, HttpProcessingError, asyncio.IncompleteReadError):
        raise HubError(ErrorCode.INVALID_PAYLOAD, detail="the upload was cut short") from None
    actor = request[ACTOR]
    row, new = await store.add(received, f"{actor.kind.value}:{actor.name}")
    # The audit row names what arrived (a refusal is audited with its code by the middleware).
    detail = {"version": row["version"], "size": row["size"], "new": new}
    await record_request(
        request, "upload_package", target=f"{row['package_id']}/{row['sha256']}", detail=detail
    )
    return Reply(await _describe(installer, row), 201 if new else 200)


@routes.get("/api/v1/packages")
@answers(PackageList)
async def list_packages(request: web.Request) -> PackageList:
    """List the packages with their revisions, by id."""
    _require_admin(request)
    store, installer = request.app[PACKAGES], request.app[INSTALLER]
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in await store.records.revisions():
        grouped.setdefault(row["package_id"], []).append(row)
    items = [await _package(installer, grouped[key]) for key in sorted(grouped)]
    return PackageList(items=items, count=len(items))


@routes.get("/api/v1/packages/{id}")
@answers(Package)
async def get_package(request: web.Request) -> Package:
    """Show a package and its revisions, newest upload first."""
    _require_admin(request)
    path = PackagePath.model_validate(dict(request.match_info))
    rows = await request.app[PACKAGES].records.revisions(path.id)
    if not rows:
        raise HubError(ErrorCode.NOT_FOUND, what="package", id=path.id)
    return await _package(request.app[INSTALLER], rows)


@routes.get("/api/v1/packages/{id}/revisions/{sha256}/download")
async def download_package(request: web.Request) -> web.StreamResponse:
    """Download a revision's archive, byte for byte as uploaded (runners fetch it by digest)."""
    _require_admin(request)
    path = _path(request)
    store = request.app[PACKAGES]
    row = await store.revision(path.id, path.sha256)
    name = f"{row['package_id']}-{row['version']}{EXTENSIONS[row['format']]}"
    return web.FileResponse(
        store.path(row),
        headers={
            "Content-Type": MEDIA_TYPES[row["format"]],
            "Content-Disposition": content_disposition("attachment", name),
            # RFC 9530: the runner checks the bytes against the digest it asked for.
            "Repr-Digest": f"sha-256=:{base64.b64encode(bytes.fromhex(row['sha256'])).decode()}:",
        },
    )


@routes.post("/api/v1/packages/{id}/revisions/{sha256}/install")
@answers(InstallState, status=202)
async def install_package(request: web.Request) -> InstallState:
    """Install a revision (again) in a fresh environment; follow it at GET …/install.

    Other revisions stay as they are, so a failed install leaves the one in use untouched.
    409 `install_running` while the same revision installs.
    """
    _require_admin(request)
    path = _path(request)
    row = await request.app[PACKAGES].revision(path.id, path.sha256)
    return InstallState.of(await request.app[INSTALLER].start(row))


@routes.get("/api/v1/packages/{id}/revisions/{sha256}/install")
@answers(InstallState)
async def get_install(request: web.Request) -> InstallState:
    """Show a revision's latest install: its steps, how it ended and its output's tail."""
    _require_admin(request)
    path = _path(request)
    await request.app[PACKAGES].revision(path.id, path.sha256)
    record = await request.app[INSTALLER].status(path.sha256)
    if record is None:
        raise HubError(ErrorCode.NOT_FOUND, what="install", id=path.sha256)
    return InstallState.of(record)


@routes.delete("/api/v1/packages/{id}/revisions/{sha256}")
@answers(RevisionDeleted)
async def delete_package_revision(request: web.Request) -> RevisionDeleted:
    """Delete a revision: its archive, its installed environment and its records.

    409 `install_running` while it installs.
    """
    _require_admin(request)
    path = _path(request)
    store, installer = request.app[PACKAGES], request.app[INSTALLER]
    row = await store.revision(path.id, path.sha256)
    if installer.busy(path.sha256):
        raise HubError(ErrorCode.INSTALL_RUNNING, id=path.id, revision=path.sha256)
    await asyncio.to_thread(installer.remove, path.id, path.sha256)
    await store.remove(row)
    return RevisionDeleted(package_id=path.id, sha256=path.sha256, deleted=True)
