"""Build package archives for tests: good ones, and each kind an attacker would send."""

from __future__ import annotations

import io
import stat
import tarfile
import zipfile

MANIFEST = b"""id = "demo"
name = "Demo"
version = "1.0.0"
[runtime]
type = "command"
entry = ["sh", "-c", "sleep 60"]
"""


def zip_of(files: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    """Return a zip of `files` (name: bytes) and symbolic `links` (name: target)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return buffer.getvalue()


def tar_of(files: dict[str, bytes], extra: list[tarfile.TarInfo] | None = None) -> bytes:
    """Return a tar.gz of `files` and of the special members in `extra`."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for info in extra or []:
            archive.addfile(info)
    return buffer.getvalue()


def link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tarfile.TarInfo:
    """Return a tar member that is a link (or, with another kind, a device or FIFO)."""
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


def bomb_zip(size: int) -> bytes:
    """Return a zip whose one entry is `size` zero bytes: tiny packed, huge unpacked."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("kenkogo.toml", MANIFEST)
        with archive.open("zeros.bin", "w", force_zip64=True) as entry:
            chunk = bytes(1024 * 1024)
            for _ in range(size // len(chunk)):
                entry.write(chunk)
    return buffer.getvalue()
