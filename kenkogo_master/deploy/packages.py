"""Uploaded packages: streamed to disk with their sha256, checked, and kept by digest.

A package lives at <data_dir>/packages/<sha256>.<zip|tar.gz>; its row says which app it is, the
version, the manifest and who uploaded it. The same bytes uploaded again are the same revision.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError

from kenkogo_master.deploy import manifest as manifests
from kenkogo_master.deploy.archive import ArchiveLimits, extract
from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.ids import now_ms
from kenkogo_master.store.package_records import PackageRecords

log = logging.getLogger(__name__)

WRITE_BATCH = 1024 * 1024
SHA256 = r"^[0-9a-f]{64}$"
EXTENSIONS = {"zip": ".zip", "tar.gz": ".tar.gz"}
MEDIA_TYPES = {"zip": "application/zip", "tar.gz": "application/gzip"}

Chunks = Callable[[], Awaitable[bytes]]


@dataclass(frozen=True, slots=True)
class Received:
    """A body written to a temporary file, with its digest."""

    path: Path
    sha256: str
    size: int


class PackageStore:
    """Packages on disk and their rows."""

    def __init__(self, root: Path, records: PackageRecords, limits: ArchiveLimits) -> None:
        self.root = root
        self.records = records
        self.limits = limits
        self.incoming = root / ".incoming"

    def open(self) -> None:
        """Create the folders and drop what an interrupted upload left."""
        self.root.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self.incoming, ignore_errors=True)
        self.incoming.mkdir()

    def path(self, row: dict[str, Any]) -> Path:
        """Return where a revision's archive is kept."""
        return self.root / f"{row['sha256']}{EXTENSIONS[row['format']]}"

    async def receive(self, chunks: Chunks, limit: int) -> Received:
        """Stream a body to a temporary file, hashing it; refuse it as it passes `limit`."""
        digest = hashlib.sha256()
        handle, name = tempfile.mkstemp(dir=self.incoming, suffix=".part")
        path = Path(name)
        size = 0
        try:
            with os.fdopen(handle, "wb") as out:
                batch = bytearray()
                while chunk := await chunks():
                    size += len(chunk)
                    if size > limit:
                        raise HubError(ErrorCode.PAYLOAD_TOO_LARGE, size=size, limit=limit)
                    digest.update(chunk)
                    batch += chunk
                    if len(batch) >= WRITE_BATCH:
                        await asyncio.to_thread(out.write, bytes(batch))
                        batch.clear()
                if batch:
                    await asyncio.to_thread(out.write, bytes(batch))
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        if size == 0:
            path.unlink(missing_ok=True)
            raise HubError(ErrorCode.INVALID_ARCHIVE, detail="the body is empty")
        return Received(path, digest.hexdigest(), size)

    def inspect(self, archive: Path) -> tuple[manifests.Manifest, str]:
        """Unpack into a scratch folder to check every entry; return the manifest and format."""
        scratch = Path(tempfile.mkdtemp(dir=self.incoming, prefix="check-"))
        try:
            kind = extract(archive, scratch, self.limits)
            manifest = manifests.load(scratch)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        manifest.check_master()
        return manifest, kind

    async def add(self, received: Received, uploaded_by: str) -> tuple[dict[str, Any], bool]:
        """Check a received package and keep it; return its row and whether it is new."""
        try:
            known = await self.records.revision(received.sha256)
            if known is not None:
                return known, False
            manifest, kind = await asyncio.to_thread(self.inspect, received.path)
            row = {
                "sha256": received.sha256,
                "package_id": manifest.id,
                "version": manifest.version,
                "manifest": manifest.model_dump(mode="json"),
                "format": kind,
                "size": received.size,
                "uploaded_ms": now_ms(),
                "uploaded_by": uploaded_by[:200],
            }
            await asyncio.to_thread(os.replace, received.path, self.path(row))
            try:
                await self.records.add_revision(row)
            except IntegrityError:  # the same bytes arrived twice at once: one row wins
                known = await self.records.revision(received.sha256)
                if known is None:
                    raise
                return known, False
            log.info("package %s %s stored as %s", manifest.id, manifest.version, received.sha256)
            return row, True
        finally:
            received.path.unlink(missing_ok=True)

    async def revision(self, package_id: str, sha256: str) -> dict[str, Any]:
        """Return a revision of a package, or refuse with 404."""
        row = await self.records.revision(sha256)
        if row is None or row["package_id"] != package_id:
            raise HubError(ErrorCode.NOT_FOUND, what="package revision", id=sha256)
        return row

    async def remove(self, row: dict[str, Any]) -> None:
        """Delete a revision's archive and rows."""
        await self.records.remove_revision(row["sha256"])
        await asyncio.to_thread(self.path(row).unlink, missing_ok=True)
