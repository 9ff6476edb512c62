"""Resumable uploads over REST: chunks at checked offsets, limits while streaming, resumes.

The file appears at its path only when a complete upload is committed; a chunk cut short, over
the declared size or at the wrong offset leaves the upload as it was, and nothing ever reaches
the target or leaves the file area.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from kenkogo_master.files.sandbox import TEMP_PREFIX
from tests.conftest import ADMIN_TOKEN, RunningMaster, StartMaster

V1 = "/api/v1"
LIMIT = 3_000_000
MIB = 1024 * 1024


async def start(
    start_master: StartMaster, tmp_path: Path, **extra: str
) -> tuple[RunningMaster, Path]:
    root = tmp_path / "root"
    master = await start_master(
        files__root=str(root), files__max_upload=str(LIMIT), files__upload_chunk="65536", **extra
    )
    return master, root


def parts_in(folder: Path) -> dict[str, int]:
    """Return the part files in `folder` with their sizes."""
    return {
        item.name: item.stat().st_size
        for item in folder.iterdir()
        if item.name.startswith(TEMP_PREFIX)
    }


async def open_upload(master: RunningMaster, path: str, size: int, **body: Any) -> dict[str, Any]:
    status, answer = await master.api(
        "POST", f"{V1}/files/uploads", json={"path": path, "size": size, **body}
    )
    assert status == 201, answer
    return dict(answer)


async def put_chunk(
    master: RunningMaster, upload_id: str, offset: int, data: bytes, **headers: str
) -> tuple[int, Any]:
    return await master.api(
        "PUT",
        f"{V1}/files/uploads/{upload_id}",
        params={"offset": str(offset)},
        data=io.BytesIO(data),  # aiohttp warns of large raw bytes
        headers=headers,
    )


async def test_a_file_sent_in_chunks_appears_only_when_committed_and_downloads_identical(
    start_master: StartMaster, tmp_path: Path
) -> None:
    master, root = await start(start_master, tmp_path)
    (root / "bots").mkdir()
    data = os.urandom(2 * MIB + 12345)
    opened = await open_upload(master, "bots/weather.db", len(data))
    assert opened["offset"] == 0 and opened["size"] == len(data) and not opened["complete"]
    assert opened["chunk_size"] == 65536 and opened["expires_ms"] > opened["created_ms"]
    upload_id = opened["id"]
    assert list(parts_in(root / "bots").values()) == [0]
    step = 700_000
    for offset in range(0, len(data), step):
        status, state = await put_chunk(master, upload_id, offset, data[offset : offset + step])
        assert status == 200, state
        assert state["offset"] == min(offset + step, len(data))
        assert not (root / "bots" / "weather.db").exists()  # nothing at the target meanwhile
    assert state["complete"] is True
    status, listed = await master.api("GET", f"{V1}/files/uploads")
    assert [item["id"] for item in listed["items"]] == [upload_id]
    status, entry = await master.api("POST", f"{V1}/files/uploads/{upload_id}/commit")
    assert status == 201, entry
    assert entry["path"] == "bots/weather.db" and entry["size"] == len(data)
    assert parts_in(root / "bots") == {}
    async with master.http.get(
        f"{master.url}{V1}/files/content",
        params={"path": "bots/weather.db"},
        headers=master.auth(),
    ) as response:
        assert hashlib.sha256(await response.read()).digest() == hashlib.sha256(data).digest()
    status, answer = await master.api("GET", f"{V1}/files/uploads/{upload_id}")
    assert (status, answer["code"]) == (404, "not_found")
    # Replacing needs overwrite, said when the upload begins; it answers 200.
    status, answer = await master.api(
        "POST", f"{V1}/files/uploads", json={"path": "bots/weather.db", "size": 3}
    )
    assert (status, answer["code"]) == (409, "already_exists")
    again = await open_upload(master, "bots/weather.db", 3, overwrite=True)
    assert (await put_chunk(master, again["id"], 0, b"new"))[0] == 200
    status, entry = await master.api("POST", f"{V1}/files/uploads/{again['id']}/commit")
    assert status == 200 and entry["size"] == 3
    assert (root / "bots" / "weather.db").read_bytes() == b"new"
    # An empty file needs no chunk at all.
    empty = await open_upload(master, "empty.txt", 0)
    assert empty["complete"] is True
    status, entry = await master.api("POST", f"{V1}/files/uploads/{empty['id']}/commit")
    assert status == 201 and (root / "empty.txt").read_bytes() == b""


async def test_chunks_at_the_wrong_offset_are_refused_and_change_nothing(
    start_master: StartMaster, tmp_path: Path
) -> None:
    master, root = await start(start_master, tmp_path)
    upload_id = (await open_upload(master, "a.bin", 10))["id"]
    assert (await put_chunk(master, upload_id, 0, b"01234"))[0] == 200
    for offset in (0, 3, 6, 10, 11):  # again, inside, past the end, at the size, beyond it
        status, answer = await put_chunk(master, upload_id, offset, b"x")
        assert (status, answer["code"]) == (409, "upload_offset_mismatch"), offset
        assert "5" in answer["message"]  # where to go on from
    for bad in ("-1", "five", ""):
        status, answer = await master.api(
            "PUT", f"{V1}/files/uploads/{upload_id}", params={"offset": bad}, data=b"x"
        )
        assert (status, answer["code"]) == (400, "invalid_payload"), bad
    status, answer = await master.api("PUT", f"{V1}/files/uploads/{upload_id}", data=b"x")
    assert (status, answer["code"]) == (400, "invalid_payload")  # no offset at all
    # Content-Range must agree with the offset, the size and the body.
    cases = [
        ("bytes 4-5/10", 409, "upload_offset_mismatch"),
        ("bytes 5-6/11", 400, "invalid_payload"),
        ("bytes 5-4/10", 400, "invalid_payload"),
        ("bytes 5-7/10", 400, "invalid_payload"),  # says three bytes, sends two
        ("5-6/10", 400, "invalid_payload"),
    ]
    for header, code, name in cases:
        status, answer = await put_chunk(master, upload_id, 5, b"56", **{"Content-Range": header})
        assert (status, answer["code"]) == (code, name), header
    assert parts_in(root) == {f"{TEMP_PREFIX}{upload_id}.part": 5}
    status, state = await put_chunk(
        master, upload_id, 5, b"56789", **{"Content-Range": "bytes 5-9/*"}
    )
    assert status == 200 and state["complete"], state
    assert (await master.api("GET", f"{V1}/files/uploads/nope"))[0] == 404
    assert (await put_chunk(master, "nope", 0, b"x"))[0] == 404
    assert (await master.api("POST", f"{V1}/files/uploads/nope/commit"))[0] == 404
    assert (await master.api("DELETE", f"{V1}/files/uploads/nope"))[0] == 404


async def test_an_upload_never_passes_its_size_or_the_limit(
    start_master: StartMaster, tmp_path: Path
) -> None:
    master, root = await start(start_master, tmp_path)
    status, answer = await master.api(
        "POST", f"{V1}/files/uploads", json={"path": "huge.bin", "size": LIMIT + 1}
    )
    assert (status, answer["code"]) == (413, "payload_too_large")
    for body in ({"path": "a", "size": -1}, {"path": "a"}, {"size": 3}, {"path": "a", "size": "x"}):
        status, answer = await master.api("POST", f"{V1}/files/uploads", json=body)
        assert (status, answer["code"]) == (400, "invalid_payload"), body
    assert parts_in(root) == {}
    upload_id = (await open_upload(master, "big.bin", LIMIT))["id"]
    part = root / f"{TEMP_PREFIX}{upload_id}.part"
    # A declared length over what is left is refused before a byte is read.
    reader, writer = await asyncio.open_connection("127.0.0.1", master.port)
    writer.write(
        (
            f"PUT {V1}/files/uploads/{upload_id}?offset=0 HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {ADMIN_TOKEN}\r\nContent-Length: {LIMIT + 1}\r\n\r\n"
        ).encode()
    )
    head = await asyncio.wait_for(reader.readline(), 5)
    writer.close()
    assert head.startswith(b"HTTP/1.1 413"), head
    assert part.stat().st_size == 0
    # A streamed body (no length) is refused as soon as it passes the size, and dropped whole.
    sent = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        while sent < 3 * LIMIT:
            yield b"y" * 65536
            sent += 65536

    largest = 0

    async def watch() -> None:
        nonlocal largest
        while True:
            if part.exists():
                largest = max(largest, part.stat().st_size)
            await asyncio.sleep(0.001)

    watcher = asyncio.create_task(watch())
    try:
        status, answer = await master.api(
            "PUT", f"{V1}/files/uploads/{upload_id}", params={"offset": "0"}, data=body()
        )
    finally:
        watcher.cancel()
    assert (status, answer["code"]) == (413, "payload_too_large")
    assert largest <= LIMIT
    assert part.stat().st_size == 0
    status, state = await master.api("GET", f"{V1}/files/uploads/{upload_id}")
    assert state["offset"] == 0
    assert not (root / "big.bin").exists()


@pytest.mark.parametrize(
    "path",
    [
        "../escape.bin",
        "/etc/escape.bin",
        "~root/escape.bin",
        "a/../../escape.bin",
        "a/%2e%2e/%2e%2e/escape.bin",
        "a\\..\\escape.bin",
        "link/escape.bin",
        "",
        "a/\x01.bin",
    ],
)
async def test_paths_that_leave_the_file_area_are_refused_before_anything_is_made(
    start_master: StartMaster, tmp_path: Path, path: str
) -> None:
    master, root = await start(start_master, tmp_path)
    (root / "a").mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "link").symlink_to(outside)
    status, answer = await master.api("POST", f"{V1}/files/uploads", json={"path": path, "size": 3})
    assert status == 400, answer
    assert answer["code"] in {"path_outside_root", "invalid_path"}
    assert list(outside.iterdir()) == [] and not (tmp_path / "escape.bin").exists()
    assert parts_in(root) == {} and parts_in(root / "a") == {}
    status, listed = await master.api("GET", f"{V1}/files/uploads")
    assert listed["items"] == []


async def test_an_upload_into_a_missing_folder_or_onto_a_folder_is_refused(
    start_master: StartMaster, tmp_path: Path
) -> None:
    master, root = await start(start_master, tmp_path)
    (root / "dir").mkdir()
    status, answer = await master.api(
        "POST", f"{V1}/files/uploads", json={"path": "nowhere/x.bin", "size": 1}
    )
    assert (status, answer["code"]) == (404, "not_found")
    status, answer = await master.api(
        "POST", f"{V1}/files/uploads", json={"path": "dir", "size": 1, "overwrite": True}
    )
    assert (status, answer["code"]) == (409, "not_a_file")
    assert (await master.api("GET", f"{V1}/files/uploads"))[1]["items"] == []


async def _cut_chunk(
    master: RunningMaster, part: Path, upload_id: str, offset: int, size: int
) -> None:
    """Send a chunk's head and part of its body, wait until some of it is written, hang up."""
    reader, writer = await asyncio.open_connection("127.0.0.1", master.port)
    writer.write(
        (
            f"PUT {V1}/files/uploads/{upload_id}?offset={offset} HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {ADMIN_TOKEN}\r\nContent-Length: {size}\r\n\r\n"
        ).encode()
        + b"c" * (MIB + MIB // 2)  # more than one write batch, less than the chunk
    )
    await writer.drain()
    deadline = asyncio.get_running_loop().time() + 5
    while part.stat().st_size <= offset:
        assert asyncio.get_running_loop().time() < deadline, "the chunk was never written"
        await asyncio.sleep(0.005)
    writer.transport.abort()  # a reset, as when the browser tab is closed mid-chunk
    del reader


async def test_a_cut_connection_leaves_nothing_at_the_target_and_the_upload_resumes(
    start_master: StartMaster, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    master, root = await start(start_master, tmp_path)
    data = os.urandom(LIMIT - 100)
    first = MIB // 2
    upload_id = (await open_upload(master, "resumed.bin", len(data)))["id"]
    part = root / f"{TEMP_PREFIX}{upload_id}.part"
    assert (await put_chunk(master, upload_id, 0, data[:first]))[0] == 200
    await _cut_chunk(master, part, upload_id, first, len(data) - first)
    # The cut chunk is dropped whole: the upload is where the last whole chunk left it.
    deadline = asyncio.get_running_loop().time() + 5
    while True:
        status, answer = await put_chunk(master, upload_id, first, b"")
        if status == 200:
            break
        assert answer["code"] == "upload_busy", answer  # the cut request is still ending
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.02)
    assert answer["offset"] == first and part.stat().st_size == first
    assert not (root / "resumed.bin").exists()
    status, answer = await master.api("POST", f"{V1}/files/uploads/{upload_id}/commit")
    assert (status, answer["code"]) == (409, "upload_incomplete")
    # Resume from the offset the Master gives.
    state = (await master.api("GET", f"{V1}/files/uploads/{upload_id}"))[1]
    status, state = await put_chunk(master, upload_id, state["offset"], data[state["offset"] :])
    assert status == 200 and state["complete"]
    status, entry = await master.api("POST", f"{V1}/files/uploads/{upload_id}/commit")
    assert status == 201 and entry["size"] == len(data)
    assert (root / "resumed.bin").read_bytes() == data
    assert parts_in(root) == {}
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


async def test_a_second_chunk_while_one_arrives_is_refused(
    start_master: StartMaster, tmp_path: Path
) -> None:
    master, _ = await start(start_master, tmp_path)
    upload_id = (await open_upload(master, "busy.bin", 2 * MIB))["id"]
    release = asyncio.Event()

    async def slow() -> AsyncIterator[bytes]:
        yield b"s" * 65536
        await release.wait()
        yield b"s" * (MIB - 65536)

    first = asyncio.create_task(
        master.api(
            "PUT",
            f"{V1}/files/uploads/{upload_id}",
            params={"offset": "0"},
            data=slow(),
            headers={"Content-Length": str(MIB)},
        )
    )
    await asyncio.sleep(0.3)
    status, answer = await put_chunk(master, upload_id, 0, b"x")
    assert (status, answer["code"]) == (409, "upload_busy")
    status, answer = await master.api("POST", f"{V1}/files/uploads/{upload_id}/commit")
    assert (status, answer["code"]) == (409, "upload_busy")
    release.set()
    status, state = await first
    assert status == 200 and state["offset"] == MIB


async def test_a_commit_refused_ends_the_upload_and_a_cancel_removes_its_part(
    start_master: StartMaster, tmp_path: Path
) -> None:
    master, root = await start(start_master, tmp_path)
    upload_id = (await open_upload(master, "taken.txt", 2))["id"]
    assert (await put_chunk(master, upload_id, 0, b"hi"))[0] == 200
    (root / "taken.txt").write_bytes(b"someone else's")  # appears meanwhile
    status, answer = await master.api("POST", f"{V1}/files/uploads/{upload_id}/commit")
    assert (status, answer["code"]) == (409, "already_exists")
    assert (root / "taken.txt").read_bytes() == b"someone else's"
    assert parts_in(root) == {}
    assert (await master.api("GET", f"{V1}/files/uploads/{upload_id}"))[0] == 404
    cancelled = (await open_upload(master, "cancel.bin", 10))["id"]
    assert (await put_chunk(master, cancelled, 0, b"12345"))[0] == 200
    status, answer = await master.api("DELETE", f"{V1}/files/uploads/{cancelled}")
    assert status == 200 and answer == {"id": cancelled, "path": "cancel.bin", "deleted": True}
    assert parts_in(root) == {} and not (root / "cancel.bin").exists()
    assert (await put_chunk(master, cancelled, 5, b"67890"))[0] == 404


async def test_idle_uploads_expire_and_their_number_is_bounded(
    start_master: StartMaster, tmp_path: Path
) -> None:
    master, root = await start(start_master, tmp_path, files__upload_idle="0.5")
    first = (await open_upload(master, "idle.bin", 5))["id"]
    assert (await put_chunk(master, first, 0, b"12"))[0] == 200
    await asyncio.sleep(0.7)
    status, listed = await master.api("GET", f"{V1}/files/uploads")
    assert listed["items"] == [] and parts_in(root) == {}
    assert (await put_chunk(master, first, 2, b"345"))[0] == 404
    ids = [(await open_upload(master, f"f{n}.bin", 1))["id"] for n in range(64)]
    status, answer = await master.api(
        "POST", f"{V1}/files/uploads", json={"path": "one-more.bin", "size": 1}
    )
    assert (status, answer["code"]) == (409, "too_many_uploads")
    assert (await master.api("DELETE", f"{V1}/files/uploads/{ids[0]}"))[0] == 200
    assert (await open_upload(master, "one-more.bin", 1))["offset"] == 0


async def test_a_read_token_may_look_but_not_upload(
    start_master: StartMaster, tmp_path: Path
) -> None:
    master, root = await start(start_master, tmp_path)
    status, created = await master.api("POST", f"{V1}/tokens", json={"name": "r", "scope": "read"})
    assert status == 201, created
    reader = {"Authorization": f"Bearer {created['token']}"}
    upload_id = (await open_upload(master, "x.bin", 1))["id"]
    async with master.http.get(f"{master.url}{V1}/files/uploads", headers=reader) as response:
        assert response.status == 200
    async with master.http.post(
        f"{master.url}{V1}/files/uploads", json={"path": "y", "size": 1}, headers=reader
    ) as response:
        assert response.status == 403
    async with master.http.put(
        f"{master.url}{V1}/files/uploads/{upload_id}?offset=0", data=b"x", headers=reader
    ) as response:
        assert response.status == 403
    assert parts_in(root) == {f"{TEMP_PREFIX}{upload_id}.part": 0}


async def test_a_clean_stop_removes_unfinished_parts(
    start_master: StartMaster, tmp_path: Path
) -> None:
    from tests.conftest import stop_master

    master, root = await start(start_master, tmp_path)
    (root / "sub").mkdir()
    upload_id = (await open_upload(master, "sub/x.bin", 4))["id"]
    assert (await put_chunk(master, upload_id, 0, b"ab"))[0] == 200
    assert parts_in(root / "sub")
    await stop_master(master)
    assert parts_in(root / "sub") == {} and not (root / "sub" / "x.bin").exists()
