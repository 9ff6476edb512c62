"""The runner's parts: back-off, the download by digest, the credential, the CLI, the journal."""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import sys
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from kenkogo_master.runner.agent import RunnerAgent
from kenkogo_master.runner.backoff import Backoff, first_delay
from kenkogo_master.runner.executor import ExecutorError
from kenkogo_master.runner.journal import Journal
from kenkogo_master.runner.outbox import LogOutbox
from kenkogo_master.runner.packages import fetch_revision
from kenkogo_master.runner.records import APPS_FILE, FileRecords
from kenkogo_master.runners.protocol import MAX_LINES
from tests.conftest import RunningMaster
from tests.e2e.test_packages import echo_package, upload
from tests.runners.clients import SHA, enrolled, enrolment_token, wait_for
from tests.support.process import REPO


def test_back_off_doubles_from_100_ms_to_30_s_within_20_percent() -> None:
    backoff = Backoff(random.Random(7))
    delays = [backoff.next() for _ in range(12)]
    bases = [min(0.1 * 2**n, 30.0) for n in range(12)]
    for delay, base in zip(delays, bases, strict=True):
        assert 0.8 * base <= delay <= 1.2 * base
    assert len(set(delays)) == len(delays)  # jittered, never in step
    backoff.reset()
    assert 0.08 <= backoff.next() <= 0.12
    draws = [first_delay(5.0, random.Random(seed)) for seed in range(200)]
    assert min(draws) >= 0 and max(draws) <= 5.0 and min(draws) < 0.5 and max(draws) > 4.5
    assert first_delay(0.0) == 0.0


def test_the_journal_remembers_results_and_fails_what_a_crash_interrupted(tmp_path: Path) -> None:
    journal = Journal(tmp_path, limit=3)
    journal.begin("a")
    journal.finish({"id": "a", "status": "ok"})
    journal.begin("b")  # the runner dies while b runs
    again = Journal(tmp_path, limit=3)
    assert again.get("a") == {"id": "a", "status": "ok"}
    interrupted = again.get("b")
    assert interrupted is not None and interrupted["status"] == "failed"
    assert interrupted["error"]["code"] == "interrupted"
    for command_id in ("c", "d", "e"):
        again.begin(command_id)
    assert again.get("a") is None and again.get("e") is not None  # bounded, oldest first out


@pytest.fixture
async def package_server() -> Any:
    """Serve one archive at /pkg and note the Authorization headers it was asked with."""
    body = b"PK\x03\x04 not really a zip, but bytes with a digest" * 1000
    seen: list[str | None] = []

    async def serve(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization"))
        return web.Response(body=body)

    app = web.Application()
    app.router.add_get("/pkg", serve)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}/", body, seen
    await runner.cleanup()


async def test_a_revision_is_fetched_by_digest_and_refused_when_it_differs(
    package_server: Any, tmp_path: Path
) -> None:
    master, body, seen = package_server
    sha = hashlib.sha256(body).hexdigest()
    path = await fetch_revision(master, "/pkg", sha, "kgrc_secret", tmp_path)
    assert path.read_bytes() == body and path.name == f"{sha}.pkg"
    assert seen == ["Bearer kgrc_secret"]
    assert await fetch_revision(master, "/pkg", sha, "kgrc_secret", tmp_path) == path
    assert len(seen) == 1  # kept: not fetched again

    wrong = "0" * 64
    with pytest.raises(ExecutorError) as refused:
        await fetch_revision(master, "/pkg", wrong, None, tmp_path / "other")
    assert refused.value.code == "digest_mismatch" and sha in refused.value.message
    assert list((tmp_path / "other").iterdir()) == []  # nothing half-written is left
    with pytest.raises(ExecutorError) as missing:
        await fetch_revision(master, "/nothing", wrong, None, tmp_path / "other")
    assert missing.value.code == "download_failed" and "404" in missing.value.message


async def test_a_runner_credential_opens_package_downloads_and_nothing_else(
    master: RunningMaster, closing: list[Any]
) -> None:
    _, ack = await enrolled(master, closing)
    headers = {"Authorization": f"Bearer {ack['credential']}"}
    download = f"/api/v1/packages/echo/revisions/{'ab' * 32}/download"
    status, body = await master.api("GET", download, headers=headers)
    assert status == 404  # past authentication: no such package here
    for method, path in (
        ("GET", "/api/v1/runners"),
        ("POST", download),
        ("GET", "/api/v1/packages/echo/revisions/x/download"),
    ):
        status, body = await master.api(method, path, headers=headers)
        assert (status, body["code"]) == (401, "unauthorized"), path


async def test_the_runner_command_needs_a_token_the_first_time(tmp_path: Path) -> None:
    for argv in (["main.py", "runner"], ["-m", "kenkogo_master.runner"]):
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *argv,
            "--master",
            "http://127.0.0.1:9",
            "--data",
            str(tmp_path / "data"),
            cwd=REPO,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), 30)
        assert process.returncode == 2, (out, err)
        assert b"--token" in err


def test_the_log_outbox_is_bounded_and_its_losses_show_as_seq_gaps() -> None:
    outbox = LogOutbox(limit=4)
    for number in range(6):  # six chunks while nobody sends: the oldest two are dropped
        outbox.add("d1", "stdout", f"line {number}")
        outbox.cut()
    assert outbox.dropped == 2
    assert [c["seq"] for c in outbox.chunks] == [2, 3, 4, 5]
    outbox.add("d1", "stderr", "other stream")  # waits for the next cut
    for _ in range(MAX_LINES):  # a full chunk is cut at once
        outbox.add("d2", "stdout", "x")
    outbox.cut()
    assert outbox.dropped == 4
    assert [(c["deployment"], c["stream"], c["seq"], len(c["lines"])) for c in outbox.chunks] == [
        ("d1", "stdout", 4, 1),
        ("d1", "stdout", 5, 1),
        ("d2", "stdout", 0, MAX_LINES),
        ("d1", "stderr", 0, 1),
    ]


async def test_the_package_executor_fetches_a_revision_by_digest_and_refuses_a_bad_install(
    master: RunningMaster, tmp_path: Path
) -> None:
    # A requirements file pip cannot read: the install fails at once, offline, in pip's words.
    data = echo_package(tmp_path / "echo", "1.0.0", "this is not a requirement !!\n")
    status, uploaded = await upload(master, data)
    assert status == 201, uploaded
    sha = hashlib.sha256(data).hexdigest()
    token = await enrolment_token(master)
    agent = RunnerAgent(master.url, token, tmp_path / "runner", spread=0.1)
    task = asyncio.create_task(agent.run())
    try:
        await wait_for(lambda: _registered(agent))
        path = f"/api/v1/runners/{agent.id}/commands"
        deploy = {
            "type": "deploy",
            "deployment": "d1",
            "package": "nowhere",
            "revision": SHA,
            "wait_ms": 10_000,
        }
        status, body = await master.api("POST", path, json=deploy)
        assert status == 200 and body["state"] == "failed", body
        assert body["error"]["code"] == "download_failed" and "404" in body["error"]["message"]

        deploy = {**deploy, "package": "echo", "revision": sha, "wait_ms": 60_000}
        status, body = await master.api("POST", path, json=deploy)
        assert status == 200 and body["state"] == "failed", body
        # Fetched with the runner's credential and checked against its digest, then installed
        # by the Master's own install, which refuses it and leaves nothing half-made.
        fetched = tmp_path / "runner" / "packages" / f"{sha}.pkg"
        assert fetched.read_bytes() == data
        assert body["error"]["code"] == "install_failed", body
        assert "pip" in body["error"]["message"], body
        apps = tmp_path / "runner" / "apps" / "echo"
        assert [entry.name for entry in apps.iterdir()] == []
        assert not (tmp_path / "runner" / "packages" / f"{SHA}.pkg").exists()
        assert agent.executor.states() == []
    finally:
        agent.stop()
        await task


async def _registered(agent: RunnerAgent) -> bool:
    return bool(agent.registered_at)


async def test_the_runner_keeps_its_deployments_in_a_file_and_reads_a_damaged_one_as_empty(
    tmp_path: Path,
) -> None:
    row = {
        "id": "d1",
        "name": "d1",
        "app_id": "echo",
        "revision": SHA,
        "env": {},
        "secrets": {},
        "enabled": False,
        "state": "stopped",
        "restarts": 0,
        "pid": None,
        "pgid": None,
        "proc_started": None,
        "created_ms": 1,
        "updated_ms": 1,
    }
    records = FileRecords(tmp_path)
    await records.add(row)
    await records.change("d1", url="/x")
    await records.transition("d1", "stopped", "starting", "start", None, 2, pid=7, pgid=7)
    again = FileRecords(tmp_path)  # a restarted runner
    [kept] = await again.all()
    assert kept["state"] == "starting" and kept["pgid"] == 7 and again.extra("d1", "url") == "/x"
    assert await again.transitions("d1") == []  # the history is kept in memory only
    assert (await records.transitions("d1"))[0]["to_state"] == "starting"

    (tmp_path / APPS_FILE).write_text("[{" + "x" * 10)  # cut short by a full disk
    assert await FileRecords(tmp_path).all() == []
    (tmp_path / APPS_FILE).write_text(json.dumps([{"id": "d2"}, "junk", row]))
    assert [item["id"] for item in await FileRecords(tmp_path).all()] == ["d1"]
