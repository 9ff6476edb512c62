"""Deployments on the event stream, secrets changed later, and the app log's rotation."""

from __future__ import annotations

from pathlib import Path

from kenkogo_master.deploy.app_logs import AppLog
from kenkogo_master.deploy.spec import ReadyPolicy
from kenkogo_master.observability.redact import Redactor
from tests.conftest import RunningMaster
from tests.deploy.conftest import PY, Apps, Start, create, logs, spec, wait_state
from tests.e2e.test_events import stream
from tests.support.waiting import eventually

TALKER = """
import os, sys, time
print("hello-stream", flush=True)
print("token is", os.environ.get("TOKEN_X"), flush=True)
print("on stderr", file=sys.stderr, flush=True)
time.sleep(600)
"""


async def test_states_and_output_lines_are_on_the_event_stream(
    start: Start,
    tmp_path: Path,
) -> None:
    apps = Apps()
    path = tmp_path / "talker.py"
    path.write_text(TALKER)
    apps.add(spec("talker", (PY, str(path)), tmp_path, ready=ReadyPolicy("seconds", 0.2)))
    master = await start(apps)
    async with stream(master, "?topics=deploy,log.deployment") as reader:
        created = await create(master, "talker")
        moves: list[tuple[str, str]] = []
        lines: list[tuple[str, str]] = []
        while ("starting", "running") not in moves or len(lines) < 3:
            frame = await reader.event()
            event = frame["data"]
            if frame["_event"] == "deploy.state":
                assert event["id"] == created["id"] and event["name"] == "talker"
                moves.append((event["from"], event["to"]))
            elif frame["_event"] == "log.deployment":
                assert event["deployment"] == created["id"]
                if event["stream"] != "supervisor":
                    lines.append((event["stream"], event["message"]))
        assert ("stdout", "hello-stream") in lines and ("stderr", "on stderr") in lines
    await master.api("POST", f"/api/v1/deployments/{created['id']}/stop")


async def test_secrets_set_later_are_masked_and_never_answered(
    start: Start,
    tmp_path: Path,
) -> None:
    apps = Apps()
    path = tmp_path / "talker.py"
    path.write_text(TALKER)
    apps.add(spec("talker", (PY, str(path)), tmp_path, ready=ReadyPolicy("seconds", 0.2)))
    master = await start(apps)
    created = await create(master, "talker", enabled=False)
    secret = "later-secret-99812"
    status, body = await master.api(
        "PATCH", f"/api/v1/deployments/{created['id']}", json={"secrets": {"TOKEN_X": secret}}
    )
    assert status == 200 and body["secret_names"] == ["TOKEN_X"] and secret not in str(body)
    status, body = await master.api("POST", f"/api/v1/deployments/{created['id']}/restart")
    assert status == 200
    await wait_state(master, created["id"], "running")
    lines = await eventually(
        lambda: logs(master, created["id"]),
        lambda items: any(line["text"].startswith("token is") for line in items),
    )
    assert any(line["text"] == "token is ***" for line in lines)
    assert secret not in str(lines)
    status, audit = await master.api("GET", "/api/v1/audit")
    assert status == 200 and "update_deployment" in str(audit) and secret not in str(audit)
    log_file = master.settings.storage.data_dir / "logs" / "apps" / created["id"] / "output.log"
    assert secret not in log_file.read_text()
    status, body = await master.api("DELETE", f"/api/v1/deployments/{created['id']}")
    assert status == 200
    assert log_file.exists()  # a removed deployment's logs stay
    status, body = await master.api("GET", f"/api/v1/deployments/{created['id']}")
    assert status == 404
    assert not await state_of_all(master)


async def state_of_all(master: RunningMaster) -> list[object]:
    status, body = await master.api("GET", "/api/v1/deployments")
    assert status == 200
    return body["items"]  # type: ignore[no-any-return]


def test_the_app_log_rotates_and_keeps_numbering(tmp_path: Path) -> None:
    redactor = Redactor()
    redactor.add_secrets(["hidden-value"])
    folder = tmp_path / "app"
    app_log = AppLog(folder, file_bytes=2048, files=3, tail_lines=10, redactor=redactor)
    for number in range(200):
        app_log.write("stdout", f"line {number} hidden-value")
    app_log.close()
    names = sorted(path.name for path in folder.iterdir())
    assert names == ["output.log", "output.log.1", "output.log.2"]
    assert all(path.stat().st_size <= 2048 for path in folder.iterdir())
    assert "hidden-value" not in "".join(path.read_text() for path in folder.iterdir())
    kept = app_log.read(1, 1000)  # the oldest still kept, on
    assert kept[-1].seq == 200 and [line.seq for line in kept] == list(range(kept[0].seq, 201))
    assert [line.seq for line in app_log.read(None, 5)] == [196, 197, 198, 199, 200]
    # A new AppLog (a restarted Master) numbers on from the files, and reads from them.
    again = AppLog(folder, file_bytes=2048, files=3, tail_lines=10, redactor=redactor)
    assert again.next_seq == 201
    assert [line.seq for line in again.read(None, 3)] == [198, 199, 200]
    assert again.write("stdout", "after").seq == 201
    again.close()
