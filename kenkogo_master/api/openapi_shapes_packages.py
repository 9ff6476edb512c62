"""Answers of the app package resources: the handlers build these, the document shows them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from kenkogo_master.api.openapi_shapes import Shape


class PackageRevision(Shape):
    """One uploaded package, named by the sha256 of its bytes."""

    package_id: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    version: str
    format: Literal["zip", "tar.gz"]
    size: int = Field(ge=0, description="bytes of the archive")
    uploaded_ms: int
    uploaded_by: str
    manifest: dict[str, Any] = Field(description="the manifest (kenkogo.toml) with defaults")
    install_status: Literal["none", "installing", "ready", "failed"] = Field(
        description="how its latest install ended (`none`: never installed)"
    )
    installed: bool = Field(description="its environment is in place (READY)")

    @classmethod
    def of(cls, row: dict[str, Any], status: str | None, installed: bool) -> PackageRevision:
        """Describe a stored revision."""
        return cls(
            package_id=row["package_id"],
            sha256=row["sha256"],
            version=row["version"],
            format=row["format"],
            size=row["size"],
            uploaded_ms=row["uploaded_ms"],
            uploaded_by=row["uploaded_by"],
            manifest=row["manifest"],
            install_status=status or "none",
            installed=installed,
        )


class Package(Shape):
    """An app package: what its latest upload says, and every revision kept."""

    id: str
    name: str
    description: str
    author: str
    latest: PackageRevision
    revisions: list[PackageRevision] = Field(description="newest upload first")


class PackageList(Shape):
    """GET /api/v1/packages."""

    items: list[Package]
    count: int


class InstallStep(Shape):
    """One step of an install as it went."""

    step: Literal[
        "received", "verified", "extracted", "environment", "dependencies", "ready", "failed"
    ]
    status: Literal["running", "ok", "failed"]
    at_ms: int
    detail: str


class InstallState(Shape):
    """The latest install of a revision: its steps, how it ended, its output's tail."""

    package_id: str
    sha256: str
    status: Literal["installing", "ready", "failed"]
    steps: list[InstallStep]
    error: str | None = Field(description="why it failed, in words; null otherwise")
    output: str = Field(description="the last lines the installing tools printed")
    started_ms: int
    ended_ms: int | None

    @classmethod
    def of(cls, row: dict[str, Any]) -> InstallState:
        """Describe an install record."""
        return cls(
            package_id=row["package_id"],
            sha256=row["sha256"],
            status=row["status"],
            steps=[InstallStep(**step) for step in row["steps"]],
            error=row["error"],
            output=row["output"],
            started_ms=row["started_ms"],
            ended_ms=row["ended_ms"],
        )


class RevisionDeleted(Shape):
    """A deleted package revision."""

    package_id: str
    sha256: str
    deleted: Literal[True]
