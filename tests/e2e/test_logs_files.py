"""Logs of `python main.py`: pages past the ring into rotated files, the files, their names."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import aiohttp
import socketio
from yarl import URL

from tests.support.process import free_port, master_environ, running_master

TOKEN = "logs-files-admin-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def environ(data_dir: Path, port: int) -> dict[str, str]:
    """A Master whose ring is tiny and whose file rotates every few kilobytes, keeping them all."""
    return master_environ(
        data_dir,
        port,
        KENKOGO_API__TOKEN=TOKEN,
        KENKOGO_LOGGING__LEVEL="DEBUG",
        KENKOGO_LOGGING__RING_SIZE="10",
        KENKOGO_LOGGING__FILE_MAX_BYTES="4096",
        KENKOGO_LOGGING__FILE_BACKUPS="100",
        KENKOGO_DRIVERS__TOKENS='["d-token-for-the-log-test"]',
    )


async def refuse(http: aiohttp.ClientSession, url: str, marker: str) -> None:
    """Make the Master log one warning that names `marker`: a OneBot handshake it refuses."""
    headers = {"X-Client-Role": "Universal", "X-Self-ID": marker}
    async with http.get(url + "/onebot/v11/ws", headers=headers) as response:
        assert response.status == 400


def marker_of(item: dict[str, Any]) -> str:
    """Return the marker a refusal's record names."""
    return str(item["message"]).rpartition("got '")[2].rstrip("')")


async def page(http: aiohttp.ClientSession, url: str, **query: Any) -> dict[str, Any]:
    """Return one page of GET /api/v1/logs."""
    async with http.get(url + "/api/v1/logs", params=query, headers=AUTH) as response:
        body: dict[str, Any] = await response.json()
        assert response.status == 200, body
        return body


async def walk(
    http: aiohttp.ClientSession, url: str, cursor: str | None = None, **query: Any
) -> list[dict[str, Any]]:
    """Return every record from the cursor on, page by page."""
    items: list[dict[str, Any]] = []
    for _ in range(10_000):
        body = await page(http, url, **query, **({"cursor": cursor} if cursor else {}))
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("the pages never ended")


async def test_pages_go_past_the_ring_into_the_rotated_files_across_rotations(
    tmp_path: Path,
) -> None:
    data_dir, port = tmp_path / "data", free_port()
    async with running_master(environ(data_dir, port), port) as master:
        await master.wait_healthy()
        async with aiohttp.ClientSession() as http:
            for number in range(60):
                await refuse(http, master.url, f"n{number}")
            query = {"q": "refused", "logger": "kenkogo_master.transport", "limit": 7}
            first = await page(http, master.url, **query)
            assert [marker_of(item) for item in first["items"]] == [
                f"n{number}" for number in range(59, 52, -1)
            ]
            assert first["ring_size"] == 10 and first["ring_held"] == 10
            # New records rotate the files under the reader's cursor; it reads on where it was.
            for number in range(60, 100):
                await refuse(http, master.url, f"n{number}")
            rest = await walk(http, master.url, first["next_cursor"], **query)
            assert [marker_of(item) for item in rest] == [
                f"n{number}" for number in range(52, -1, -1)
            ]
            everything = await walk(http, master.url, **query)
            assert [marker_of(item) for item in everything] == [
                f"n{number}" for number in range(99, -1, -1)
            ]
            sources = [item["source"] for item in everything]
            assert "memory" in sources and "file" in sources
            assert sources == sorted(sources, key=lambda source: source == "file")
            assert all(item["level"] == "WARNING" and item["remote"] for item in everything)
            seqs = [item["seq"] for item in everything]
            assert seqs == sorted(seqs, reverse=True) and len(set(seqs)) == 100

            # Times filter the files as they filter the ring.
            at = {marker_of(item): item["time_ms"] for item in everything}
            since = await walk(http, master.url, since=at["n30"], **query)
            assert "n30" in map(marker_of, since) and "n99" in map(marker_of, since)
            assert "n0" not in map(marker_of, since)
            until = await walk(http, master.url, until=at["n30"], **query)
            assert "n0" in map(marker_of, until) and "n99" not in map(marker_of, until)
            # A driver's connection is logged at DEBUG.
            driver = socketio.AsyncClient(reconnection=False)
            await driver.connect(
                master.url,
                namespaces=["/driver"],
                transports=["websocket"],
                auth={"token": "d-token-for-the-log-test"},
            )
            await driver.disconnect()
            # Every level, logger and start-up record is there, oldest last.
            whole = await walk(http, master.url, limit=1000)
            assert any("starting on" in item["message"] for item in whole[-20:])
            assert {"DEBUG", "INFO", "WARNING"} <= {item["level"] for item in whole}
        assert await master.stop() == 0
    rotated = sorted((data_dir / "logs").iterdir())
    assert len(rotated) >= 5, "the files did not rotate: the test proves nothing"


async def test_log_files_are_listed_and_downloaded_and_nothing_else(tmp_path: Path) -> None:
    data_dir, port = tmp_path / "data", free_port()
    async with running_master(environ(data_dir, port), port) as master:
        await master.wait_healthy()
        folder = data_dir / "logs"
        async with aiohttp.ClientSession() as http:
            for number in range(40):
                await refuse(http, master.url, f"n{number}")
            (folder / "notes.txt").write_text("kept by the operator\n", encoding="utf-8")
            (folder / ".hidden").write_text("not listed\n", encoding="utf-8")
            os.symlink(data_dir / "kenkogo.db", folder / "linked.log")
            (data_dir / "outside.log").write_text("outside the folder\n", encoding="utf-8")

            async with http.get(master.url + "/api/v1/logs/files", headers=AUTH) as response:
                assert response.status == 200
                listing = await response.json()
            names = [item["name"] for item in listing["items"]]
            rotated = [name for name in names if name.startswith("master.log.")]
            assert names[0] == "master.log" and len(rotated) >= 2
            assert rotated == [f"master.log.{n}" for n in range(1, len(rotated) + 1)]
            assert names[-1] == "notes.txt" and len(names) == len(rotated) + 2
            assert listing["enabled"] is True and listing["count"] == len(names)
            for item in listing["items"]:
                info = (folder / item["name"]).stat()
                assert item["current"] is (item["name"] == "master.log")
                if item["name"] != "master.log":  # the current one may have grown since
                    assert item["size"] == info.st_size
                    assert item["modified_ms"] == info.st_mtime_ns // 1_000_000

            for name in ("master.log.1", rotated[-1], "notes.txt"):
                async with http.get(
                    master.url + f"/api/v1/logs/files/{name}", headers=AUTH
                ) as response:
                    assert response.status == 200, name
                    assert response.headers["Content-Type"].startswith("text/plain")
                    assert response.headers["Content-Disposition"].startswith("attachment;")
                    assert await response.read() == (folder / name).read_bytes()
            async with http.get(
                master.url + "/api/v1/logs/files/master.log", headers=AUTH
            ) as response:
                body = await response.read()
            assert response.status == 200 and body
            assert (folder / "master.log").read_bytes().startswith(body)

            refused = (
                "..%2Fkenkogo.db",
                "%2E%2E%2Fkenkogo.db",
                "%252E%252E%252Fkenkogo.db",
                "..%5Ckenkogo.db",
                "..",
                "%2E%2E",
                ".hidden",
                "linked.log",
                "outside.log",
                "kenkogo.db",
                "master.log%00",
                "master.log%2F",
                "~",
                "%2Fetc%2Fpasswd",
                "x" * 300,
                "master.log.99",
            )
            for name in refused:
                url = URL(master.url + "/api/v1/logs/files/" + name, encoded=True)
                async with http.get(url, headers=AUTH) as response:
                    assert response.status in (400, 404), name
                    answer = await response.json()
                    assert answer["code"] in ("invalid_payload", "not_found"), name
                    assert answer["message"], name
            url = URL(master.url + "/api/v1/logs/files/../../data/kenkogo.db", encoded=True)
            async with http.get(url, headers=AUTH) as response:
                assert response.status == 404
        assert await master.stop() == 0
