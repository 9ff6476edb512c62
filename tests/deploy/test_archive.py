"""Package archives unpack only inside their folder, never as links, devices or bombs."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from kenkogo_master.deploy.archive import ArchiveLimits, extract
from kenkogo_master.errors import ErrorCode, HubError
from tests.deploy.archives import MANIFEST, bomb_zip, link, tar_of, zip_of

LIMITS = ArchiveLimits(max_entries=50, max_unpacked=8 * 1024 * 1024, max_ratio=50)


def refused(tmp_path: Path, data: bytes, limits: ArchiveLimits = LIMITS) -> HubError:
    source = tmp_path / "package"
    source.write_bytes(data)
    with pytest.raises(HubError) as caught:
        extract(source, tmp_path / "out", limits)
    return caught.value


def written(tmp_path: Path) -> list[str]:
    """Return every name under the staging folder and beside it (what an escape would leave)."""
    return sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))


@pytest.mark.parametrize("kind", ["zip", "tar"])
def test_a_package_unpacks_with_its_folders_and_executable_bits(tmp_path: Path, kind: str) -> None:
    files = {"kenkogo.toml": MANIFEST, "app/main.py": b"print(1)\n", "./run.sh": b"#!/bin/sh\n"}
    data = zip_of(files) if kind == "zip" else tar_of(files)
    source = tmp_path / "package"
    source.write_bytes(data)
    assert extract(source, tmp_path / "out", LIMITS) == ("zip" if kind == "zip" else "tar.gz")
    assert (tmp_path / "out" / "app" / "main.py").read_bytes() == b"print(1)\n"
    assert (tmp_path / "out" / "kenkogo.toml").read_bytes() == MANIFEST


@pytest.mark.parametrize(
    "name", ["../evil.py", "app/../../evil.py", "/tmp/evil.py", "C:/evil.py", "..\\evil.py"]
)
@pytest.mark.parametrize("kind", ["zip", "tar"])
def test_names_that_leave_the_folder_are_refused(tmp_path: Path, kind: str, name: str) -> None:
    files = {"kenkogo.toml": MANIFEST, name: b"pwned"}
    error = refused(tmp_path, zip_of(files) if kind == "zip" else tar_of(files))
    assert error.code is ErrorCode.ARCHIVE_UNSAFE_PATH
    assert error.params["name"] == name
    assert not any("evil" in name for name in written(tmp_path))


def test_a_symbolic_link_in_a_zip_is_refused(tmp_path: Path) -> None:
    data = zip_of({"kenkogo.toml": MANIFEST}, links={"etc": "/etc"})
    error = refused(tmp_path, data)
    assert error.code is ErrorCode.ARCHIVE_LINK and error.params["name"] == "etc"
    assert not (tmp_path / "out" / "etc").exists()


@pytest.mark.parametrize("kind", [tarfile.SYMTYPE, tarfile.LNKTYPE])
def test_links_in_a_tar_are_refused(tmp_path: Path, kind: bytes) -> None:
    data = tar_of({"kenkogo.toml": MANIFEST}, [link("passwd", "/etc/passwd", kind)])
    error = refused(tmp_path, data)
    assert error.code is ErrorCode.ARCHIVE_LINK and error.params["name"] == "passwd"
    assert not (tmp_path / "out" / "passwd").exists()


@pytest.mark.parametrize("kind", [tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE])
def test_devices_and_fifos_are_refused(tmp_path: Path, kind: bytes) -> None:
    data = tar_of({"kenkogo.toml": MANIFEST}, [link("dev", "", kind)])
    assert refused(tmp_path, data).code is ErrorCode.ARCHIVE_SPECIAL_FILE


def test_a_bomb_is_refused_before_its_bytes_pass_the_ratio(tmp_path: Path) -> None:
    data = bomb_zip(64 * 1024 * 1024)  # ~64 KiB packed
    limits = ArchiveLimits(max_entries=50, max_unpacked=1024**3, max_ratio=50)
    error = refused(tmp_path, data, limits)
    assert error.code is ErrorCode.ARCHIVE_TOO_LARGE
    unpacked = (tmp_path / "out" / "zeros.bin").stat().st_size
    assert unpacked <= max(50 * len(data), 1024 * 1024), unpacked


def test_a_bomb_is_refused_at_the_size_limit(tmp_path: Path) -> None:
    limits = ArchiveLimits(max_entries=50, max_unpacked=2 * 1024 * 1024, max_ratio=100_000)
    error = refused(tmp_path, bomb_zip(16 * 1024 * 1024), limits)
    assert error.code is ErrorCode.ARCHIVE_TOO_LARGE
    assert (tmp_path / "out" / "zeros.bin").stat().st_size <= 2 * 1024 * 1024


def test_a_tar_gz_bomb_is_refused(tmp_path: Path) -> None:
    data = tar_of({"kenkogo.toml": MANIFEST, "zeros.bin": bytes(32 * 1024 * 1024)})
    assert refused(tmp_path, data).code is ErrorCode.ARCHIVE_TOO_LARGE
    assert (tmp_path / "out" / "zeros.bin").stat().st_size <= LIMITS.max_unpacked


def test_too_many_entries_are_refused(tmp_path: Path) -> None:
    files = {f"f{index}.txt": b"x" for index in range(60)}
    assert refused(tmp_path, zip_of(files)).code is ErrorCode.ARCHIVE_TOO_LARGE
    assert len(list((tmp_path / "out").iterdir())) <= LIMITS.max_entries


@pytest.mark.parametrize("data", [b"", b"not an archive", b"PK\x03\x04broken", b"\x1f\x8bbroken"])
def test_what_is_no_archive_is_refused(tmp_path: Path, data: bytes) -> None:
    assert refused(tmp_path, data).code is ErrorCode.INVALID_ARCHIVE


def test_a_name_that_comes_twice_is_refused(tmp_path: Path) -> None:
    data = tar_of({"a.txt": b"1", "./a.txt": b"2"})
    assert refused(tmp_path, data).code is ErrorCode.INVALID_ARCHIVE
