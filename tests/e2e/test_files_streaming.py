"""Uploads and downloads stream: limits hold while bytes flow, cut uploads leave nothing behind.

The upload limit is checked before each write, so the temporary file never grows past it; a
connection cut mid-upload removes the temporary file; a 200 MB download keeps the serving
process's memory flat even while the reader stops reading.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from contextlib import suppress
from pathlib import Path

import aiohttp
import psutil
import pytest

from kenkogo_master.files.sandbox import TEMP_PREFIX
from tests.conftest import ADMIN_TOKEN, RunningMaster, StartMaster
from tests.support.process import free_port, master_environ, running_master

V1 = "/api/v1"
LIMIT = 3_000_000


async def start(start_master: StartMaster, tmp_path: Path) -> tuple[RunningMaster, Path]:
    root = tmp_path / "root"
    master = await start_master(files__root=str(root), files__max_upload=str(LIMIT))
    return master, root


def temp_sizes(folder: Path) -> list[int]:
    """Return the sizes of the upload temporaries in `folder` right now."""
    sizes = []
    with os.scandir(folder) as names:
        for item in names:
            if item.name.startswith(TEMP_PREFIX):
                with suppress(FileNotFoundError):  # finished meanwhile
                    sizes.append(item.stat(follow_symlinks=False).st_size)
    return sizes


class Watcher:
    """Polls a folder for upload temporaries and keeps the largest size seen."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.largest = -1
        self._task = asyncio.create_task(self._watch())

    async def _watch(self) -> None:
        while True:
            for size in temp_sizes(self.folder):
                self.largest = max(self.largest, size)
            await asyncio.sleep(0.001)

    async def stop(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


async def wait_until_empty(folder: Path, timeout: float = 5.0) -> list[str]:
    """Wait until `folder` holds nothing; return what it still holds at the timeout."""
    deadline = asyncio.get_running_loop().time() + timeout
    while (left := os.listdir(folder)) and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.02)
    return left


async def test_an_upload_over_the_limit_is_refused_while_it_streams(
    start_master: StartMaster, tmp_path: Path
) -> None:
    master, root = await start(start_master, tmp_path)
    answered = asyncio.Event()
    sent = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        chunk = b"x" * 65536
        while sent < 10 * LIMIT:
            if sent >= 2 * LIMIT:
                # Go no further until the answer came: a server that read the whole body
                # before answering would wait here forever.
                await asyncio.wait_for(answered.wait(), 10)
                return
            yield chunk
            sent += len(chunk)
            if sent % (256 * 1024) == 0:
                await asyncio.sleep(0.003)

    watcher = Watcher(root)
    try:
        async with master.http.put(
            f"{master.url}{V1}/files/content",
            params={"path": "big.bin"},
            data=body(),
            headers=master.auth(),
        ) as response:
            answered.set()
            status, answer = response.status, await response.json()
    finally:
        await watcher.stop()
    assert (status, answer["code"]) == (413, "payload_too_large"), answer
    assert sent <= 2 * LIMIT + 65536, "the answer came only after the whole body"
    assert 0 < watcher.largest <= LIMIT, watcher.largest  # the disk never held more
    assert await wait_until_empty(root) == []


async def test_a_multipart_upload_over_the_limit_leaves_none_of_its_files(
    start_master: StartMaster, tmp_path: Path
) -> None:
    master, root = await start(start_master, tmp_path)
    boundary = "b0undary"

    async def body() -> AsyncIterator[bytes]:
        for name in ("first.bin", "second.bin"):
            yield (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="{name}"\r\n\r\n'
            ).encode()
            for _ in range(LIMIT // 65536 + 1 if name == "second.bin" else 10):
                yield b"y" * 65536
            yield b"\r\n"
        yield f"--{boundary}--\r\n".encode()

    watcher = Watcher(root)
    try:
        async with master.http.post(
            f"{master.url}{V1}/files/upload",
            data=body(),
            headers={
                **master.auth(),
                "Content-Type": f"multipart/form-data; boundary={boundary}",
            },
        ) as response:
            status, answer = response.status, await response.json()
    finally:
        await watcher.stop()
    assert (status, answer["code"]) == (413, "payload_too_large"), answer
    assert watcher.largest <= LIMIT
    assert await wait_until_empty(root) == []


async def _cut_upload(master: RunningMaster, root: Path, head: bytes, body: bytes) -> None:
    """Send a request head and part of its body, wait for the temporary file, then hang up."""
    reader, writer = await asyncio.open_connection("127.0.0.1", master.port)
    writer.write(head + body)
    await writer.drain()
    deadline = asyncio.get_running_loop().time() + 5
    while not [size for size in temp_sizes(root) if size > 0]:
        assert asyncio.get_running_loop().time() < deadline, "no temporary file appeared"
        await asyncio.sleep(0.01)
    writer.transport.abort()  # a reset, as when a client dies or a proxy gives up
    await asyncio.sleep(0)
    del reader


async def test_a_raw_upload_cut_short_leaves_no_file(
    start_master: StartMaster, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    master, root = await start(start_master, tmp_path)
    head = (
        f"PUT {V1}/files/content?path=cut.bin HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {ADMIN_TOKEN}\r\nContent-Length: {LIMIT}\r\n\r\n"
    ).encode()
    await _cut_upload(master, root, head, b"z" * (2 * 1024 * 1024 + 10))
    assert await wait_until_empty(root) == []
    chunked = (
        f"PUT {V1}/files/content?path=cut.bin HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {ADMIN_TOKEN}\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()
    piece = b"z" * 65536
    body = (b"%x\r\n" % len(piece) + piece + b"\r\n") * 40
    await _cut_upload(master, root, chunked, body)
    assert await wait_until_empty(root) == []
    status, listing = await master.api("GET", f"{V1}/files")
    assert status == 200 and listing["total"] == 0
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


async def test_a_multipart_upload_cut_short_leaves_none_of_its_files(
    start_master: StartMaster, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    master, root = await start(start_master, tmp_path)
    parts = b""
    for name in ("done.bin", "half.bin"):
        parts += (
            b'--zz\r\nContent-Disposition: form-data; name="file"; filename="%s"\r\n\r\n'
            % name.encode()
        )
        parts += b"w" * (1024 * 1024 + 100)
        if name == "done.bin":
            parts += b"\r\n"
    head = (
        f"POST {V1}/files/upload HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {ADMIN_TOKEN}\r\nContent-Length: {LIMIT}\r\n"
        "Content-Type: multipart/form-data; boundary=zz\r\n\r\n"
    ).encode()
    await _cut_upload(master, root, head, parts)
    assert await wait_until_empty(root) == []
    # Cut between two parts too: the first file is complete, the second one just begun.
    second = parts.index(b"--zz", 10)
    await _cut_upload(master, root, head, parts[: parts.index(b"\r\n\r\n", second) + 4])
    assert await wait_until_empty(root) == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


async def test_a_large_download_keeps_the_servers_memory_bounded(tmp_path: Path) -> None:
    """A 200 MB file through `python main.py`, with a reader that pauses mid-way."""
    root = tmp_path / "root"
    root.mkdir()
    size = 200 * 1024 * 1024
    with open(root / "big.bin", "wb") as sparse:
        sparse.truncate(size)  # sparse: no disk needed, the server still reads every byte
    port = free_port()
    environ = master_environ(
        tmp_path / "data",
        port,
        KENKOGO_API__TOKEN=ADMIN_TOKEN,
        KENKOGO_FILES__ROOT=str(root),
        KENKOGO_LOGGING__FILE="false",
        KENKOGO_TRACES__ENABLED="false",
    )
    async with running_master(environ, port) as child:
        await child.wait_healthy()
        process = psutil.Process(child.process.pid)
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        async with aiohttp.ClientSession() as http:
            # Warm the route up once, so that the baseline holds what one download needs.
            async with http.get(
                f"{child.url}{V1}/files/content",
                params={"path": "big.bin"},
                headers={**headers, "Range": "bytes=0-1048575"},
            ) as response:
                assert response.status == 206 and len(await response.read()) == 1048576
            baseline = process.memory_info().rss
            peak = baseline
            received = 0
            paused = False
            async with http.get(
                f"{child.url}{V1}/files/content", params={"path": "big.bin"}, headers=headers
            ) as response:
                assert response.status == 200
                assert response.headers["Content-Length"] == str(size)
                async for chunk in response.content.iter_chunked(1024 * 1024):
                    received += len(chunk)
                    if not paused and received >= 4 * 1024 * 1024:
                        paused = True
                        # Stop reading for a while: a server that buffered would grow now.
                        for _ in range(10):
                            await asyncio.sleep(0.1)
                            peak = max(peak, process.memory_info().rss)
                    if received % (16 * 1024 * 1024) < len(chunk):
                        peak = max(peak, process.memory_info().rss)
            peak = max(peak, process.memory_info().rss)
        assert received == size
        growth = peak - baseline
        assert growth < 40 * 1024 * 1024, f"the server grew by {growth / 2**20:.0f} MiB"
        await child.stop()


async def test_a_download_cut_short_is_quiet_and_lets_go_of_the_file(
    start_master: StartMaster, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    master, root = await start(start_master, tmp_path)
    with open(root / "big.bin", "wb") as sparse:
        sparse.truncate(64 * 1024 * 1024)
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(3):
        reader, writer = await asyncio.open_connection("127.0.0.1", master.port)
        writer.write(
            f"GET {V1}/files/content?path=big.bin HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {ADMIN_TOKEN}\r\n\r\n".encode()
        )
        await reader.readexactly(1024 * 1024)  # the head and the first bytes came
        writer.transport.abort()
    deadline = asyncio.get_running_loop().time() + 5
    while len(os.listdir("/proc/self/fd")) > before:
        assert asyncio.get_running_loop().time() < deadline, "a descriptor was left open"
        await asyncio.sleep(0.05)
    status, body = await master.api("GET", f"{V1}/files")
    assert status == 200 and body["total"] == 1
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
