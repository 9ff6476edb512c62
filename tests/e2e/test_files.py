"""The file area over REST: list, total, download, upload, folders, move, copy, delete, edit."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import orjson
import pytest

from tests.conftest import RunningMaster, StartMaster
from tests.e2e.test_openapi import check_answer, fetch_document

V1 = "/api/v1"


@pytest.fixture
async def files(start_master: StartMaster, tmp_path: Path) -> RunningMaster:
    """A Master with a small upload limit and editor limit, its root at tmp/root."""
    return await start_master(
        files__root=str(tmp_path / "root"), files__max_upload="100000", files__max_edit="1000"
    )


def root_of(master: RunningMaster) -> Path:
    """Return the file area's root on disk."""
    root = master.settings.files.root
    assert root is not None
    return root


async def put(
    master: RunningMaster, path: str, data: bytes, overwrite: bool = False
) -> tuple[int, Any]:
    """Upload raw bytes with PUT /files/content."""
    params = {"path": path, "overwrite": "true" if overwrite else "false"}
    return await master.api("PUT", f"{V1}/files/content", params=params, data=data)


async def download(
    master: RunningMaster, path: str, headers: dict[str, str] | None = None, **params: str
) -> tuple[int, bytes, Any]:
    """GET /files/content; return status, body and headers."""
    async with master.http.get(
        f"{master.url}{V1}/files/content",
        params={"path": path, **params},
        headers={**master.auth(), **(headers or {})},
    ) as response:
        return response.status, await response.read(), response.headers


def browser_form(*files: tuple[str, bytes]) -> tuple[bytes, dict[str, str]]:
    """Return a multipart body as browsers send it: file names as raw UTF-8 in quotes."""
    boundary = "----kenkogo-test-boundary"
    body = b""
    for name, data in files:
        body += (
            (
                f"--{boundary}\r\nContent-Disposition: form-data; "
                f'name="file"; filename="{name}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n"
            ).encode()
            + data
            + b"\r\n"
        )
    body += f"--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


async def test_the_root_is_created_on_start_and_listed(files: RunningMaster) -> None:
    root = root_of(files)
    assert root.is_dir()
    status, body = await files.api("GET", f"{V1}/files")
    assert status == 200, body
    assert body == {"path": "", "items": [], "total": 0, "offset": 0, "limit": 100}


async def test_the_default_root_is_files_in_the_data_directory(
    start_master: StartMaster, tmp_path: Path
) -> None:
    master = await start_master(tmp_path / "data")
    assert (tmp_path / "data" / "files").is_dir()
    status, body = await put(master, "hello.txt", b"hi")
    assert status == 201, body
    assert (tmp_path / "data" / "files" / "hello.txt").read_bytes() == b"hi"


async def test_listing_describes_each_kind_sorts_and_pages(files: RunningMaster) -> None:
    root = root_of(files)
    (root / "b-dir").mkdir()
    (root / "A-dir").mkdir()
    (root / "small.txt").write_bytes(b"x" * 3)
    (root / "big.bin").write_bytes(b"x" * 3000)
    (root / "Medium.md").write_bytes(b"x" * 300)
    os.chmod(root / "small.txt", 0o600)
    os.utime(root / "big.bin", (1_700_000_000, 1_700_000_000))
    os.symlink("/etc", root / "link")
    os.mkfifo(root / "pipe")

    status, body = await files.api("GET", f"{V1}/files")
    assert status == 200 and body["total"] == 7, body
    names = [item["name"] for item in body["items"]]
    assert names == ["A-dir", "b-dir", "big.bin", "link", "Medium.md", "pipe", "small.txt"]
    items = {item["name"]: item for item in body["items"]}
    assert items["small.txt"]["mode"] == "0600" and items["small.txt"]["size"] == 3
    assert items["big.bin"]["modified_ms"] == 1_700_000_000_000
    assert items["link"] == {**items["link"], "kind": "symlink", "target": "/etc"}
    assert items["pipe"]["kind"] == "other" and items["A-dir"]["kind"] == "dir"
    assert items["small.txt"]["path"] == "small.txt" and items["small.txt"]["target"] is None

    async def order(**params: str) -> list[str]:
        status, body = await files.api("GET", f"{V1}/files", params=params)
        assert status == 200, body
        return [item["name"] for item in body["items"]]

    by_size = await order(sort="size", order="desc")
    assert by_size[:2] == ["A-dir", "b-dir"] or by_size[:2] == ["b-dir", "A-dir"]
    # A link's size is its target's length (4), a FIFO's nothing.
    assert by_size[2:] == ["big.bin", "Medium.md", "link", "small.txt", "pipe"]
    assert (await order(sort="name", order="desc", folders_first="false"))[:3] == [
        "small.txt",
        "pipe",
        "Medium.md",
    ]
    assert (await order(sort="modified", folders_first="false"))[0] == "big.bin"
    assert (await order(sort="kind", folders_first="false"))[:2] == ["A-dir", "b-dir"]
    status, page = await files.api("GET", f"{V1}/files", params={"limit": "2", "offset": "2"})
    assert [item["name"] for item in page["items"]] == ["big.bin", "link"]
    assert (page["total"], page["offset"], page["limit"]) == (7, 2, 2)
    status, past = await files.api("GET", f"{V1}/files", params={"offset": "50"})
    assert status == 200 and past["items"] == [] and past["total"] == 7


async def test_listing_refuses_bad_parameters_and_wrong_kinds(files: RunningMaster) -> None:
    (root_of(files) / "f.txt").write_text("x")
    for params in (
        {"sort": "colour"},
        {"order": "up"},
        {"limit": "0"},
        {"limit": "1001"},
        {"offset": "-1"},
        {"offset": str(10**21)},  # past what a JSON answer could echo back
        {"folders_first": "maybe"},
        {"unknown": "1"},
    ):
        status, body = await files.api("GET", f"{V1}/files", params=params)
        assert (status, body["code"]) == (400, "invalid_payload"), params
    status, body = await files.api("GET", f"{V1}/files", params={"path": "f.txt"})
    assert (status, body["code"]) == (409, "not_a_folder")
    status, body = await files.api("GET", f"{V1}/files", params={"path": "nope"})
    assert (status, body["code"]) == (404, "not_found")
    status, body = await files.api("GET", f"{V1}/files", params={"path": "f.txt/x"})
    assert (status, body["code"]) == (409, "not_a_folder")


async def test_usage_adds_up_a_tree_without_following_links(
    files: RunningMaster, tmp_path: Path
) -> None:
    root = root_of(files)
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "one").write_bytes(b"1" * 100)
    (root / "a" / "b" / "two").write_bytes(b"2" * 20)
    outside = tmp_path / "big-outside"
    outside.mkdir()
    (outside / "huge").write_bytes(b"h" * 50_000)
    os.symlink(outside, root / "a" / "out")
    status, body = await files.api("GET", f"{V1}/files/usage", params={"path": "a"})
    assert status == 200, body
    assert (body["size"], body["files"], body["folders"], body["others"]) == (120, 2, 1, 1)
    assert body["complete"] is True and body["path"] == "a" and body["elapsed_ms"] >= 0


async def test_usage_stops_at_its_budget_and_says_so(files: RunningMaster) -> None:
    root = root_of(files)
    for folder in range(20):
        (root / "many" / str(folder)).mkdir(parents=True)
        for name in range(50):
            (root / "many" / str(folder) / str(name)).write_bytes(b"x")
    status, full = await files.api("GET", f"{V1}/files/usage", params={"path": "many"})
    assert status == 200 and full["complete"] is True and full["files"] == 1000, full
    params = {"path": "many", "max_entries": "100"}
    status, cut = await files.api("GET", f"{V1}/files/usage", params=params)
    assert status == 200 and cut["complete"] is False, cut
    assert cut["files"] + cut["folders"] + cut["others"] <= 100
    started = time.monotonic()
    params = {"path": "many", "max_seconds": "0.000001"}
    status, quick = await files.api("GET", f"{V1}/files/usage", params=params)
    assert status == 200 and quick["complete"] is False and quick["files"] < 1000, quick
    assert time.monotonic() - started < 1.0
    for bad in ({"max_seconds": "0"}, {"max_seconds": "11"}, {"max_entries": "0"}):
        status, body = await files.api("GET", f"{V1}/files/usage", params=bad)
        assert (status, body["code"]) == (400, "invalid_payload"), bad


async def test_download_streams_with_type_disposition_and_validators(
    files: RunningMaster,
) -> None:
    root = root_of(files)
    data = bytes(range(256)) * 4000
    (root / "data.json").write_bytes(data)
    status, body, headers = await download(files, "data.json")
    assert status == 200 and body == data
    assert headers["Content-Type"] == "application/json"
    assert headers["Content-Length"] == str(len(data))
    assert headers["Accept-Ranges"] == "bytes"
    assert headers["Content-Disposition"] == (
        "attachment; filename=\"data.json\"; filename*=UTF-8''data.json"
    )
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in headers["Content-Security-Policy"]
    assert headers["ETag"].startswith('"') and headers["Last-Modified"].endswith("GMT")

    name = '报告 "final"; v2.html'
    (root / name).write_text("<script>alert(1)</script>")
    status, body, headers = await download(files, name, disposition="inline")
    assert status == 200 and headers["Content-Type"] == "text/html"
    assert headers["Content-Disposition"] == (
        f"inline; filename=\"__ _final__ v2.html\"; filename*=UTF-8''{quote(name, safe='')}"
    )
    (root / "archive.tar.gz").write_bytes(b"\x1f\x8b")
    _, _, headers = await download(files, "archive.tar.gz")
    assert headers["Content-Type"] == "application/gzip"
    (root / "noext").write_bytes(b"?")
    _, _, headers = await download(files, "noext")
    assert headers["Content-Type"] == "application/octet-stream"

    async with files.http.head(
        f"{files.url}{V1}/files/content", params={"path": "data.json"}, headers=files.auth()
    ) as response:
        assert response.status == 200 and response.headers["Content-Length"] == str(len(data))
        assert await response.read() == b""


async def test_range_requests(files: RunningMaster) -> None:
    data = bytes(range(256)) * 40  # 10 240 bytes
    (root_of(files) / "r.bin").write_bytes(data)
    cases = {
        "bytes=0-99": (0, 100),
        "bytes=100-": (100, len(data)),
        "bytes=-10": (len(data) - 10, len(data)),
        "bytes=10000-99999": (10000, len(data)),
        "bytes=-99999": (0, len(data)),
    }
    for header, (start, end) in cases.items():
        status, body, headers = await download(files, "r.bin", {"Range": header})
        assert status == 206, header
        assert body == data[start:end], header
        assert headers["Content-Range"] == f"bytes {start}-{end - 1}/{len(data)}", header
    for ignored in ("bytes=5-1", "bytes=0-1,5-9", "items=0-1", "bytes=x-y", "bytes=-"):
        status, body, _ = await download(files, "r.bin", {"Range": ignored})
        assert status == 200 and body == data, ignored
    for unsatisfiable in ("bytes=10240-", "bytes=99999-100000", "bytes=-0"):
        status, body, headers = await download(files, "r.bin", {"Range": unsatisfiable})
        assert status == 416, unsatisfiable
        assert headers["Content-Range"] == f"bytes */{len(data)}"
        assert headers["Content-Type"].startswith("application/json")
        assert orjson.loads(body)["code"] == "range_not_satisfiable"
    _, _, headers = await download(files, "r.bin")
    status, body, _ = await download(
        files, "r.bin", {"Range": "bytes=0-9", "If-Range": headers["ETag"]}
    )
    assert status == 206 and body == data[:10]
    status, body, _ = await download(files, "r.bin", {"Range": "bytes=0-9", "If-Range": '"old"'})
    assert status == 200 and body == data
    status, body, _ = await download(
        files, "r.bin", {"Range": "bytes=0-9", "If-Range": headers["Last-Modified"]}
    )
    assert status == 206 and body == data[:10]


async def test_download_refuses_folders_and_missing_files(files: RunningMaster) -> None:
    (root_of(files) / "dir").mkdir()
    status, body = await files.api("GET", f"{V1}/files/content", params={"path": "dir"})
    assert (status, body["code"]) == (409, "not_a_file")
    status, body = await files.api("GET", f"{V1}/files/content", params={"path": "none"})
    assert (status, body["code"]) == (404, "not_found")
    status, body = await files.api("GET", f"{V1}/files/content")
    assert (status, body["code"]) == (400, "invalid_payload")
    status, body = await files.api("GET", f"{V1}/files/content", params={"path": ""})
    assert (status, body["code"]) == (400, "invalid_path")


async def test_raw_upload_creates_refuses_existing_and_overwrites(files: RunningMaster) -> None:
    root = root_of(files)
    (root / "dir").mkdir()
    status, body = await put(files, "dir/new.bin", b"first")
    assert status == 201, body
    assert body["path"] == "dir/new.bin" and body["size"] == 5 and body["kind"] == "file"
    status, body = await put(files, "dir/new.bin", b"second")
    assert (status, body["code"]) == (409, "already_exists")
    assert (root / "dir" / "new.bin").read_bytes() == b"first"
    os.chmod(root / "dir" / "new.bin", 0o751)
    status, body = await put(files, "dir/new.bin", b"second", overwrite=True)
    assert status == 200 and body["size"] == 6, body
    assert (root / "dir" / "new.bin").read_bytes() == b"second"
    assert body["mode"] == "0751"  # a replaced file keeps its permissions
    status, body = await put(files, "dir/empty", b"")
    assert status == 201 and body["size"] == 0
    status, body = await put(files, "missing/x", b"x")
    assert (status, body["code"]) == (404, "not_found")
    status, body = await put(files, "dir", b"x", overwrite=True)
    assert (status, body["code"]) == (409, "not_a_file")
    status, body = await put(files, "dir/new.bin/x", b"x")
    assert (status, body["code"]) == (409, "not_a_folder")
    status, body = await files.api(
        "PUT", f"{V1}/files/content", params={"path": "x", "overwrite": "perhaps"}, data=b"x"
    )
    assert (status, body["code"]) == (400, "invalid_payload")
    assert sorted(os.listdir(root / "dir")) == ["empty", "new.bin"]  # no temporary files left


async def test_uploads_bigger_than_max_payload_pass_and_over_max_upload_are_413(
    files: RunningMaster,
) -> None:
    assert files.settings.limits.max_payload < 90_000 < files.settings.files.max_upload
    status, body = await put(files, "ok.bin", b"x" * 90_000)
    assert status == 201 and body["size"] == 90_000, body
    status, body = await put(files, "big.bin", b"x" * 100_001)
    assert (status, body["code"]) == (413, "payload_too_large")
    assert "100,000" in body["message"]
    assert sorted(os.listdir(root_of(files))) == ["ok.bin"]
    # Other routes keep limits.max_payload.
    status, body = await files.api("POST", f"{V1}/files/folder", data=b"x" * 90_000)
    assert (status, body["code"]) == (413, "payload_too_large")


async def test_multipart_upload_writes_every_file_or_none(files: RunningMaster) -> None:
    root = root_of(files)
    (root / "in").mkdir()
    form, headers = browser_form(("1.txt", b"one"), ("二.txt", "二".encode()))
    status, body = await files.api(
        "POST", f"{V1}/files/upload", params={"path": "in"}, data=form, headers=headers
    )
    assert status == 201, body
    assert body["count"] == 2 and [item["path"] for item in body["items"]] == [
        "in/1.txt",
        "in/二.txt",
    ]
    assert (root / "in" / "二.txt").read_text() == "二"

    form = aiohttp.FormData()
    form.add_field("file", b"new", filename="3.txt")
    form.add_field("file", b"again", filename="1.txt")
    status, body = await files.api("POST", f"{V1}/files/upload", params={"path": "in"}, data=form)
    assert (status, body["code"]) == (409, "already_exists")
    assert sorted(os.listdir(root / "in")) == ["1.txt", "二.txt"]

    form = aiohttp.FormData()
    form.add_field("file", b"newer", filename="1.txt")
    params = {"path": "in", "overwrite": "true"}
    status, body = await files.api("POST", f"{V1}/files/upload", params=params, data=form)
    assert status == 201 and (root / "in" / "1.txt").read_bytes() == b"newer", body

    form = aiohttp.FormData()
    form.add_field("file", b"a" * 60_000, filename="a")
    form.add_field("file", b"b" * 60_000, filename="b")
    status, body = await files.api("POST", f"{V1}/files/upload", data=form)
    assert (status, body["code"]) == (413, "payload_too_large")
    assert sorted(os.listdir(root)) == ["in"]


async def test_multipart_upload_refuses_bad_bodies(files: RunningMaster) -> None:
    url = f"{V1}/files/upload"
    for filename, code in (
        ("../evil", "path_outside_root"),
        ("a/b", "path_outside_root"),
        ("", "invalid_path"),
        ("..", "path_outside_root"),
        ("a\\\\b", "path_outside_root"),  # a quoted-pair: the name holds one backslash
    ):
        form, headers = browser_form((filename, b"x"))
        status, body = await files.api("POST", url, data=form, headers=headers)
        assert (status, body.get("code")) == (400, code), (filename, body)
    form = aiohttp.FormData()
    form.add_field("field", "no file name")
    form.add_field("file", b"x", filename="x")
    status, body = await files.api("POST", url, data=form)
    assert (status, body["code"]) == (400, "invalid_payload")
    form = aiohttp.FormData()
    form.add_field("file", b"x", filename="same")
    form.add_field("file", b"y", filename="same")
    status, body = await files.api("POST", url, data=form)
    assert (status, body["code"]) == (400, "invalid_payload")
    status, body = await files.api("POST", url, data=b"plain")
    assert (status, body["code"]) == (400, "invalid_payload")
    headers = {"Content-Type": "multipart/form-data"}  # no boundary
    status, body = await files.api("POST", url, data=b"x", headers=headers)
    assert (status, body["code"]) == (400, "invalid_payload")
    headers = {"Content-Type": "multipart/form-data; boundary=zz"}
    status, body = await files.api("POST", url, data=b"--zz--\r\n", headers=headers)
    assert (status, body["code"]) == (400, "invalid_payload")
    assert os.listdir(root_of(files)) == []


async def test_folders_move_copy_and_delete(files: RunningMaster) -> None:
    root = root_of(files)
    status, body = await files.api("POST", f"{V1}/files/folder", json={"path": "a"})
    assert status == 201 and body["kind"] == "dir" and body["path"] == "a", body
    status, body = await files.api("POST", f"{V1}/files/folder", json={"path": "a"})
    assert (status, body["code"]) == (409, "already_exists")
    status, body = await files.api("POST", f"{V1}/files/folder", json={"path": "x/y"})
    assert (status, body["code"]) == (404, "not_found")
    await put(files, "a/f.txt", b"hello")
    os.makedirs(root / "a" / "deep" / "er")
    (root / "a" / "deep" / "er" / "g").write_bytes(b"gg")
    os.symlink("/etc/passwd", root / "a" / "passwd-link")

    status, body = await files.api("POST", f"{V1}/files/copy", json={"from": "a", "to": "b"})
    assert status == 201, body
    assert (body["files"], body["folders"], body["size"], body["skipped"]) == (2, 3, 7, 1)
    assert body["entry"]["path"] == "b" and body["entry"]["kind"] == "dir"
    assert (root / "b" / "deep" / "er" / "g").read_bytes() == b"gg"
    assert not os.path.lexists(root / "b" / "passwd-link")
    status, body = await files.api("POST", f"{V1}/files/copy", json={"from": "a", "to": "b"})
    assert (status, body["code"]) == (409, "already_exists")
    status, body = await files.api("POST", f"{V1}/files/copy", json={"from": "a", "to": "a/c"})
    assert (status, body["code"]) == (400, "invalid_path")
    status, body = await files.api(
        "POST", f"{V1}/files/copy", json={"from": "a/f.txt", "to": "b/f.txt", "overwrite": True}
    )
    assert status == 201 and body["files"] == 1, body

    status, body = await files.api(
        "POST", f"{V1}/files/move", json={"from": "b/f.txt", "to": "moved.txt"}
    )
    assert status == 200 and body["path"] == "moved.txt", body
    assert (root / "moved.txt").read_bytes() == b"hello" and not (root / "b" / "f.txt").exists()
    status, body = await files.api(
        "POST", f"{V1}/files/move", json={"from": "a/f.txt", "to": "moved.txt"}
    )
    assert (status, body["code"]) == (409, "already_exists")
    status, body = await files.api(
        "POST", f"{V1}/files/move", json={"from": "a/f.txt", "to": "moved.txt", "overwrite": True}
    )
    assert status == 200 and not (root / "a" / "f.txt").exists()
    status, body = await files.api("POST", f"{V1}/files/move", json={"from": "a", "to": "a/x"})
    assert (status, body["code"]) == (400, "invalid_path")
    status, body = await files.api("POST", f"{V1}/files/move", json={"from": "nope", "to": "x"})
    assert (status, body["code"]) == (404, "not_found")
    for bad in ({"from": "a"}, {"from": "a", "to": "b", "extra": 1}, {"source": "a", "to": "b"}):
        status, body = await files.api("POST", f"{V1}/files/move", json=bad)
        assert (status, body["code"]) == (400, "invalid_payload"), bad

    status, body = await files.api("DELETE", f"{V1}/files", params={"path": "b"})
    assert (status, body["code"]) == (409, "folder_not_empty")
    status, body = await files.api("DELETE", f"{V1}/files", params={"path": "moved.txt"})
    assert (status, body["code"]) == (409, "not_a_folder")
    status, body = await files.api(
        "DELETE", f"{V1}/files", params={"path": "b", "recursive": "true"}
    )
    assert status == 200 and body == {"path": "b", "deleted": True}
    assert not (root / "b").exists()
    status, body = await files.api("DELETE", f"{V1}/files/content", params={"path": "a"})
    assert (status, body["code"]) == (409, "not_a_file")
    status, body = await files.api("DELETE", f"{V1}/files/content", params={"path": "moved.txt"})
    assert status == 200 and not (root / "moved.txt").exists()
    status, body = await files.api("DELETE", f"{V1}/files/content", params={"path": "moved.txt"})
    assert (status, body["code"]) == (404, "not_found")
    # A link is removed as itself; what it points at stays.
    status, body = await files.api(
        "DELETE", f"{V1}/files/content", params={"path": "a/passwd-link"}
    )
    assert status == 200 and Path("/etc/passwd").exists()
    status, body = await files.api("DELETE", f"{V1}/files/content", params={"path": "a/deep/er/g"})
    assert status == 200, body
    status, body = await files.api("DELETE", f"{V1}/files", params={"path": "a/deep/er"})
    assert status == 200 and not (root / "a" / "deep" / "er").exists()
    status, body = await files.api("DELETE", f"{V1}/files", params={"path": ""})
    assert (status, body["code"]) == (400, "invalid_path")
    assert root.is_dir()


async def test_text_editor_versions_refuse_silent_overwrites(files: RunningMaster) -> None:
    url = f"{V1}/files/text"
    status, body = await files.api("PUT", url, params={"path": "notes.md"}, data="# 一".encode())
    assert status == 201 and body["created"] is True, body
    status, first = await files.api("GET", url, params={"path": "notes.md"})
    assert status == 200 and first["text"] == "# 一" and first["size"] == len("# 一".encode())
    assert first["version"] == body["version"]

    # Two editors read the same version; the first save wins, the second is told so.
    mine = {"If-Match": f'"{first["version"]}"'}
    params = {"path": "notes.md"}
    status, saved = await files.api("PUT", url, params=params, data=b"A", headers=mine)
    assert status == 200 and saved["created"] is False and saved["version"] != first["version"]
    status, body = await files.api("PUT", url, params={"path": "notes.md"}, data=b"B", headers=mine)
    assert (status, body["code"]) == (412, "version_mismatch")
    status, body = await files.api("PUT", url, params={"path": "notes.md"}, data=b"C")
    assert (status, body["code"]) == (428, "version_required")
    assert (root_of(files) / "notes.md").read_bytes() == b"A"
    status, body = await files.api(
        "PUT", url, params={"path": "notes.md"}, data=b"D", headers={"If-Match": "*"}
    )
    assert status == 200, body
    async with files.http.get(
        f"{files.url}{url}", params={"path": "notes.md"}, headers=files.auth()
    ) as response:
        current = await response.json()
        assert response.headers["ETag"] == f'"{current["version"]}"'
    bare = {"If-Match": current["version"]}
    status, body = await files.api("PUT", url, params={"path": "notes.md"}, data=b"E", headers=bare)
    assert status == 200, body
    status, body = await files.api(
        "PUT", url, params={"path": "new.md"}, data=b"x", headers={"If-Match": "*"}
    )
    assert (status, body["code"]) == (412, "version_mismatch")
    weak = {"If-Match": f'W/"{body and saved["version"]}"'}
    status, body = await files.api("PUT", url, params={"path": "notes.md"}, data=b"F", headers=weak)
    assert (status, body["code"]) == (412, "version_mismatch")


async def test_text_editor_limits_and_bad_input(files: RunningMaster) -> None:
    root = root_of(files)
    url = f"{V1}/files/text"
    (root / "big.txt").write_bytes(b"x" * 1001)
    status, body = await files.api("GET", url, params={"path": "big.txt"})
    assert (status, body["code"]) == (409, "too_large_to_edit")
    (root / "bin").write_bytes(b"\xff\xfe\x00")
    status, body = await files.api("GET", url, params={"path": "bin"})
    assert (status, body["code"]) == (409, "not_text")
    status, body = await files.api("PUT", url, params={"path": "t.txt"}, data=b"x" * 1001)
    assert (status, body["code"]) == (413, "payload_too_large")
    status, body = await files.api("PUT", url, params={"path": "t.txt"}, data=b"\xff")
    assert (status, body["code"]) == (400, "invalid_payload")
    status, body = await files.api("PUT", url, params={"path": "t.txt"}, data=b"x" * 1000)
    assert status == 201, body
    (root / "dir").mkdir()
    status, body = await files.api("GET", url, params={"path": "dir"})
    assert (status, body["code"]) == (409, "not_a_file")
    status, body = await files.api("GET", url, params={"path": "none"})
    assert (status, body["code"]) == (404, "not_found")
    status, body = await files.api("GET", url, params={"path": "t.txt", "x": "1"})
    assert (status, body["code"]) == (400, "invalid_payload")
    assert sorted(os.listdir(root)) == ["big.txt", "bin", "dir", "t.txt"]


async def test_texts_larger_than_max_payload_are_saved_up_to_max_edit(
    start_master: StartMaster, tmp_path: Path
) -> None:
    master = await start_master(files__root=str(tmp_path / "root"))
    assert master.settings.limits.max_payload < 300_000 < master.settings.files.max_edit
    text = "行\n" * 75_000  # 300 000 bytes
    params = {"path": "long.txt"}
    status, body = await master.api("PUT", f"{V1}/files/text", params=params, data=text.encode())
    assert status == 201 and body["size"] == 300_000, body
    status, body = await master.api("GET", f"{V1}/files/text", params=params)
    assert status == 200 and body["text"] == text


async def test_a_read_token_lists_and_downloads_but_changes_nothing(files: RunningMaster) -> None:
    status, created = await files.api("POST", f"{V1}/tokens", json={"name": "ro", "scope": "read"})
    assert status == 201
    reader = files.auth(created["token"])
    form = browser_form(("g", b"x"))
    (root_of(files) / "f.txt").write_text("read me")
    status, body = await files.api("GET", f"{V1}/files", headers=reader)
    assert status == 200 and body["total"] == 1
    status, _, _ = await download(files, "f.txt")
    assert status == 200
    for method, path, kwargs in (
        ("PUT", "/files/content?path=g.txt", {"data": b"x"}),
        ("POST", "/files/upload", dict(zip(("data", "headers"), form, strict=True))),
        ("POST", "/files/folder", {"json": {"path": "d"}}),
        ("POST", "/files/move", {"json": {"from": "f.txt", "to": "g.txt"}}),
        ("POST", "/files/copy", {"json": {"from": "f.txt", "to": "g.txt"}}),
        ("DELETE", "/files/content?path=f.txt", {}),
        ("DELETE", "/files?path=f.txt", {}),
        ("PUT", "/files/text?path=f.txt", {"data": b"x", "headers": {"If-Match": "*"}}),
    ):
        headers = {**reader, **kwargs.pop("headers", {})}
        status, body = await files.api(method, V1 + path, headers=headers, **kwargs)
        assert (status, body["code"]) == (403, "forbidden"), path
    assert os.listdir(root_of(files)) == ["f.txt"]
    assert (root_of(files) / "f.txt").read_text() == "read me"


async def test_errors_are_translated(files: RunningMaster) -> None:
    status, body = await files.api(
        "GET", f"{V1}/files", params={"path": "../x"}, headers={"Accept-Language": "ja"}
    )
    assert (status, body["code"]) == (400, "path_outside_root")
    assert "ファイル領域" in body["message"] and "../x" in body["message"]


async def test_the_document_describes_the_file_operations_and_their_answers(
    files: RunningMaster,
) -> None:
    document = await fetch_document(files)
    paths = document["paths"]
    upload = paths["/api/v1/files/content"]["put"]
    assert list(upload["requestBody"]["content"]) == ["application/octet-stream"]
    assert set(upload["responses"]) == {
        "200",
        "201",
        "400",
        "401",
        "403",
        "404",
        "409",
        "413",
        "507",
    }
    download = paths["/api/v1/files/content"]["get"]
    assert {"200", "206", "416"} <= set(download["responses"])
    assert "403" not in download["responses"]  # a read token downloads
    assert list(download["responses"]["206"]["content"]) == ["*/*"]
    headers = [p["name"] for p in download["parameters"] if p["in"] == "header"]
    assert headers == ["Range", "If-Range"]
    multipart = paths["/api/v1/files/upload"]["post"]["requestBody"]["content"]
    assert list(multipart) == ["multipart/form-data"]
    editor = paths["/api/v1/files/text"]["put"]
    assert {"412", "428"} <= set(editor["responses"])
    assert [p["name"] for p in editor["parameters"] if p["in"] == "header"] == ["If-Match"]
    move = paths["/api/v1/files/move"]["post"]["requestBody"]["content"]["application/json"]
    assert move["schema"] == {"$ref": "#/components/schemas/TransferBody"}
    assert set(document["components"]["schemas"]["TransferBody"]["properties"]) == {
        "from",
        "to",
        "overwrite",
    }

    (root_of(files) / "d").mkdir()
    answers: list[tuple[str, str, dict[str, Any]]] = [
        ("PUT", "/api/v1/files/content", {"params": {"path": "d/t.txt"}, "data": b"hi"}),
        ("GET", "/api/v1/files", {"params": {"path": "d"}}),
        ("GET", "/api/v1/files/usage", {}),
        ("GET", "/api/v1/files/text", {"params": {"path": "d/t.txt"}}),
        ("PUT", "/api/v1/files/text", {"params": {"path": "d/n.txt"}, "data": b"x"}),
        ("POST", "/api/v1/files/folder", {"json": {"path": "e"}}),
        ("POST", "/api/v1/files/copy", {"json": {"from": "d", "to": "e/d"}}),
        ("POST", "/api/v1/files/move", {"json": {"from": "e/d", "to": "f"}}),
        ("DELETE", "/api/v1/files/content", {"params": {"path": "f/t.txt"}}),
        ("DELETE", "/api/v1/files", {"params": {"path": "f", "recursive": "true"}}),
        ("DELETE", "/api/v1/files", {"params": {"path": "f"}}),
        ("GET", "/api/v1/files", {"params": {"path": "../x"}}),
    ]
    form, form_headers = browser_form(("u.bin", b"u"))
    answers.append(("POST", "/api/v1/files/upload", {"data": form, "headers": form_headers}))
    for method, path, kwargs in answers:
        status, body = await files.api(method, path, **kwargs)
        check_answer(document, method, path, status, body)
