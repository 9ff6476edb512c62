"""The local supervisor with real processes: ready, back-off, fatal, stops that leave nothing."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import aiohttp
import psutil
import pytest

from kenkogo_master.deploy.spec import Limits, ReadyPolicy, RestartPolicy, StopPolicy
from kenkogo_master.keys import SUPERVISOR
from tests.conftest import ADMIN_TOKEN, stop_master
from tests.deploy.conftest import (
    PY,
    REPO,
    Apps,
    Start,
    create,
    logs,
    script,
    spec,
    state_of,
    wait_state,
)
from tests.support.process import free_port, master_environ
from tests.support.waiting import eventually

HELPER = Path(__file__).resolve().parent / "master_with_specs.py"

SDK_APP = """
import os
from kenkogo_master.sdk import App
app = App("deployed-echo", "1.0.0")

@app.command("/ping")
async def ping(message):
    return "pong"

print("key is", os.environ.get("API_KEY"), flush=True)
print("plain is", os.environ.get("PLAIN"), flush=True)
print("master token leaked:", "KENKOGO_API__TOKEN" in os.environ, flush=True)
app.run()
"""

STUBBORN = """
import signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"
child = subprocess.Popen([sys.executable, "-c", code])
print("grandchild", child.pid, flush=True)
time.sleep(600)
"""


def gone(pid: int) -> bool:
    """Tell whether no process, not even a zombie, has this pid."""
    return not Path(f"/proc/{pid}").exists()


def no_zombie_children() -> list[psutil.Process]:
    return [
        child
        for child in psutil.Process().children(recursive=True)
        if child.status() == psutil.STATUS_ZOMBIE
    ]


async def test_an_sdk_app_registers_and_runs_with_its_secrets_masked(
    start: Start, tmp_path: Path
) -> None:
    apps = Apps()
    path = script(tmp_path, "echo_app.py", SDK_APP)
    apps.add(spec("echo", (PY, str(path)), tmp_path, ready=ReadyPolicy("registered", 15)))
    master = await start(apps)
    secret = "s3cret-api-key-4711"
    created = await create(master, "echo", env={"PLAIN": "visible"}, secrets={"API_KEY": secret})
    assert created["secret_names"] == ["API_KEY"] and secret not in str(created)
    body = await wait_state(master, created["id"], "running")
    assert body["pid"] and body["instance_id"] and body["uptime_s"] is not None
    assert body["resources"]["memory_bytes"] > 0
    # The app registered as itself, linked to its deployment.
    session = master.hub.apps.registry.get(body["instance_id"])
    assert session.name == "deployed-echo" and session.deployment == created["id"]
    status, answer = await master.api(
        "POST", "/api/v1/simulate", json={"content": "/ping", "wait_ms": 2000}
    )
    assert status == 200 and answer["replies"][0]["content"] == "pong", answer
    lines = await eventually(
        lambda: logs(master, created["id"]), lambda items: len(items) >= 4, timeout=5
    )
    texts = "\n".join(line["text"] for line in lines)
    assert "key is ***" in texts and secret not in texts
    assert "plain is visible" in texts
    assert "master token leaked: False" in texts
    status, listed = await master.api("GET", "/api/v1/deployments")
    assert secret not in str(listed) and listed["count"] == 1
    # An app token works only while its process lives.
    await master.api("POST", f"/api/v1/deployments/{created['id']}/stop")
    body = await state_of(master, created["id"])
    assert body["state"] == "stopped" and body["pid"] is None
    assert not master.hub.apps.deployment_tokens._by_digest


async def test_a_crash_loop_backs_off_doubling_then_is_fatal(start: Start, tmp_path: Path) -> None:
    apps = Apps()
    policy = RestartPolicy(backoff_initial=0.2, fatal_after=4)
    apps.add(
        spec(
            "crash",
            (PY, "-c", "import sys; print('boom', flush=True); sys.exit(3)"),
            tmp_path,
            restart=policy,
            ready=ReadyPolicy("seconds", 5),
        )
    )
    master = await start(apps)
    created = await create(master, "crash")
    body = await wait_state(master, created["id"], "fatal", timeout=20)
    assert body["exit_code"] == 3 and body["restarts"] == 3
    history = await master.app[SUPERVISOR].read_transitions(
        master.app[SUPERVISOR].get(created["id"]), 100
    )
    history.reverse()
    assert [row["to_state"] for row in history] == [
        "starting",
        "backoff",
        "starting",
        "backoff",
        "starting",
        "backoff",
        "starting",
        "fatal",
    ]
    gaps = [
        (history[i + 1]["at_ms"] - history[i]["at_ms"]) / 1000
        for i, row in enumerate(history)
        if row["to_state"] == "backoff"
    ]
    for gap, nominal in zip(gaps, (0.2, 0.4, 0.8), strict=True):
        assert nominal * 0.8 - 0.01 <= gap <= nominal * 1.2 + 0.15, gaps
    # The operator may try again: a start from fatal begins a fresh count.
    status, again = await master.api("POST", f"/api/v1/deployments/{created['id']}/start")
    assert status == 200 and again["state"] in ("starting", "backoff")
    await master.api("POST", f"/api/v1/deployments/{created['id']}/stop")


async def test_the_default_first_back_off_is_one_second(start: Start, tmp_path: Path) -> None:
    apps = Apps()
    apps.add(spec("crash", (PY, "-c", "raise SystemExit(1)"), tmp_path))
    master = await start(apps)
    created = await create(master, "crash")
    supervisor = master.app[SUPERVISOR]
    deployment = supervisor.get(created["id"])

    async def history() -> list[dict[str, Any]]:
        return list(reversed(await supervisor.read_transitions(deployment, 10)))

    rows = await eventually(history, lambda rows: len(rows) >= 3, timeout=5)
    assert [row["to_state"] for row in rows[:3]] == ["starting", "backoff", "starting"]
    gap = (rows[2]["at_ms"] - rows[1]["at_ms"]) / 1000
    assert 0.8 - 0.01 <= gap <= 1.2 + 0.15
    await master.api("POST", f"/api/v1/deployments/{created['id']}/stop")
    assert (await state_of(master, created["id"]))["state"] == "stopped"


async def test_a_stop_kills_a_stubborn_group_after_its_timeout(
    start: Start, tmp_path: Path
) -> None:
    apps = Apps()
    path = script(tmp_path, "stubborn.py", STUBBORN)
    apps.add(
        spec(
            "stubborn",
            (PY, str(path)),
            tmp_path,
            stop=StopPolicy(timeout=1.0),
            ready=ReadyPolicy("seconds", 0.3),
        )
    )
    master = await start(apps)
    created = await create(master, "stubborn")
    body = await wait_state(master, created["id"], "running")
    leader = body["pid"]
    lines = await eventually(
        lambda: logs(master, created["id"]),
        lambda items: any(line["text"].startswith("grandchild") for line in items),
    )
    grandchild = int(
        next(li["text"] for li in lines if li["text"].startswith("grandchild")).split()[1]
    )
    assert not gone(grandchild)
    await eventually(
        lambda: state_of(master, created["id"]), lambda b: b["resources"]["children"] == 1
    )
    began = time.monotonic()
    status, stopped = await master.api("POST", f"/api/v1/deployments/{created['id']}/stop")
    took = time.monotonic() - began
    assert status == 200 and stopped["state"] == "stopped"
    assert 1.0 <= took < 3.0
    assert stopped["exit_code"] == -9
    assert gone(leader) and gone(grandchild), "a process of the group (or its zombie) is left"


@pytest.mark.timeout(240)  # about 3 s alone; a loaded machine starts processes far slower
async def test_a_hundred_crash_loops_leave_no_zombie(start: Start, tmp_path: Path) -> None:
    apps = Apps()
    fast = RestartPolicy(backoff_initial=0.01, backoff_max=0.01, fatal_after=100_000)
    # Each run leaves a grandchild behind it: the group's end must kill and reap it too.
    apps.add(
        spec(
            "loop",
            ("/bin/sh", "-c", "sleep 30 & exit 1"),
            tmp_path,
            restart=fast,
            ready=ReadyPolicy("seconds", 5),
        )
    )
    master = await start(apps)
    created = await create(master, "loop")
    await eventually(
        lambda: state_of(master, created["id"]), lambda b: b["restarts"] >= 100, timeout=180
    )
    await master.api("POST", f"/api/v1/deployments/{created['id']}/stop")
    assert (await state_of(master, created["id"]))["state"] == "stopped"
    await asyncio.sleep(0.1)
    assert no_zombie_children() == []
    left = [p for p in psutil.Process().children(recursive=True) if p.name() == "sleep"]
    assert left == []


async def test_logs_and_enabled_deployments_survive_a_master_restart(
    start: Start, tmp_path: Path
) -> None:
    apps = Apps()
    ticker = (
        "import time\nfor i in range(10**6):\n    print('tick', i, flush=True)\n"
        "    time.sleep(0.05)\n"
    )
    path = script(tmp_path, "ticker.py", ticker)
    apps.add(spec("ticker", (PY, str(path)), tmp_path, ready=ReadyPolicy("seconds", 0.2)))
    data = tmp_path / "data"
    port = free_port()
    first = await start(apps, data, port)
    enabled = await create(first, "ticker", name="on")
    disabled = await create(first, "ticker", name="off", enabled=False)
    await wait_state(first, enabled["id"], "running")
    before = await eventually(
        lambda: logs(first, enabled["id"], "?offset=1&limit=1000"), lambda items: len(items) >= 5
    )
    old_pid = (await state_of(first, enabled["id"]))["pid"]
    await stop_master(first)
    assert gone(old_pid)
    folder = data / "logs" / "apps" / enabled["id"]
    assert (folder / "output.log").exists()

    second = await start(apps, data, free_port())
    body = await wait_state(second, enabled["id"], "running")
    assert body["pid"] != old_pid
    assert (await state_of(second, disabled["id"]))["state"] == "stopped"
    after = await logs(second, enabled["id"], "?offset=1&limit=1000")
    assert [line["text"] for line in after[: len(before)]] == [line["text"] for line in before]
    numbers = [line["seq"] for line in after]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    # Paging: offset and limit read on where the previous page ended.
    status, page = await second.api(
        "GET", f"/api/v1/deployments/{enabled['id']}/logs?offset=2&limit=2"
    )
    assert status == 200 and [line["seq"] for line in page["items"]] == [2, 3]
    assert page["next_offset"] == 4


async def test_groups_left_by_a_killed_master_are_ended_on_start(
    start: Start, tmp_path: Path
) -> None:
    apps = Apps()
    path = script(tmp_path, "stubborn.py", STUBBORN)
    apps.add(spec("stubborn", (PY, str(path)), tmp_path, ready=ReadyPolicy("seconds", 0.3)))
    data = tmp_path / "data"
    first = await start(apps, data)
    created = await create(first, "stubborn", enabled=False)
    await first.api("POST", f"/api/v1/deployments/{created['id']}/start")
    body = await wait_state(first, created["id"], "running")
    leader = body["pid"]
    # A Master killed with SIGKILL stops nothing: this one forgets its apps instead.
    supervisor = first.app[SUPERVISOR]

    async def nothing() -> None:
        return None

    supervisor.shutdown = nothing  # type: ignore[method-assign]
    for deployment in supervisor.deployments.values():
        if deployment.task is not None:
            deployment.task.cancel()
    await stop_master(first)
    assert not gone(leader)
    second = await start(apps, data)
    assert gone(leader) or psutil.Process(leader).status() == psutil.STATUS_ZOMBIE
    assert (await state_of(second, created["id"]))["state"] == "stopped"


async def test_an_sdk_app_exits_when_its_master_is_gone(tmp_path: Path) -> None:
    parent = await asyncio.create_subprocess_exec("sleep", "60")
    path = script(tmp_path, "echo_app.py", SDK_APP)
    environ = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(REPO),
        "KENKOGO_MASTER_URL": f"http://127.0.0.1:{free_port()}",
        "KENKOGO_MASTER_PID": str(parent.pid),
    }
    app = await asyncio.create_subprocess_exec(
        PY,
        str(path),
        env=environ,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    await asyncio.sleep(1.0)
    assert app.returncode is None
    parent.kill()
    await parent.wait()
    assert await asyncio.wait_for(app.wait(), 10) == 0


async def test_bad_deployment_input_is_refused(start: Start, tmp_path: Path) -> None:
    apps = Apps()
    apps.add(spec("ok", (PY, "-c", "pass"), tmp_path))
    master = await start(apps)
    bad_bodies: list[Any] = [
        {"app_id": "", "revision": "r1"},
        {"app_id": "../x", "revision": "r1"},
        {"app_id": "ok", "revision": "r1", "env": {"1BAD": "x"}},
        {"app_id": "ok", "revision": "r1", "env": {"KENKOGO_APP_TOKEN": "x"}},
        {"app_id": "ok", "revision": "r1", "secrets": {"A": 5}},
        {"app_id": "ok", "revision": "r1", "surprise": True},
        {"app_id": "ok", "revision": "r1", "enabled": "yes"},
        ["not", "an", "object"],
    ]
    for body in bad_bodies:
        status, answer = await master.api("POST", "/api/v1/deployments", json=body)
        assert status == 400 and answer["code"] == "invalid_payload", (body, answer)
    status, answer = await master.api(
        "POST", "/api/v1/deployments", json={"app_id": "absent", "revision": "r1"}
    )
    assert status == 409 and answer["code"] == "not_installed", answer
    created = await create(master, "ok", enabled=False)
    status, answer = await master.api(
        "POST", "/api/v1/deployments", json={"app_id": "ok", "revision": "r1"}
    )
    assert status == 409 and answer["code"] == "already_exists", answer
    status, answer = await master.api(
        "PATCH", f"/api/v1/deployments/{created['id']}", json={"revision": "r2"}
    )
    assert status == 409 and answer["code"] == "not_installed"
    for query in ("?limit=0", "?limit=5000", "?offset=0", "?offset=x", "?other=1"):
        status, answer = await master.api("GET", f"/api/v1/deployments/{created['id']}/logs{query}")
        assert status == 400, (query, answer)
    for method, path in (
        ("GET", "/api/v1/deployments/nope"),
        ("POST", "/api/v1/deployments/nope/start"),
        ("DELETE", "/api/v1/deployments/nope"),
        ("GET", "/api/v1/deployments/nope/logs"),
    ):
        status, answer = await master.api(method, path)
        assert status == 404 and answer["code"] == "not_found", (method, path)
    status, answer = await master.api("DELETE", f"/api/v1/deployments/{created['id']}")
    assert status == 200 and answer["deleted"] is True


async def test_after_a_master_is_killed_no_app_lingers(tmp_path: Path) -> None:
    sdk_path = script(tmp_path, "echo_app.py", SDK_APP)
    stubborn_path = script(tmp_path, "stubborn.py", STUBBORN)
    specs = [
        {
            "app_id": app_id,
            "revision": "r1",
            "argv": [PY, str(path)],
            "cwd": str(tmp_path),
            "env": {"PYTHONPATH": str(REPO)},
            "ready_seconds": 0.5,
            "stop_timeout": 1.0,
        }
        for app_id, path in (("echo", sdk_path), ("stubborn", stubborn_path))
    ]
    (tmp_path / "specs.json").write_text(json.dumps(specs))
    data = tmp_path / "data"

    async def run_master() -> tuple[asyncio.subprocess.Process, str]:
        port = free_port()
        environ = master_environ(data, port, KENKOGO_API__TOKEN=ADMIN_TOKEN)
        process = await asyncio.create_subprocess_exec(
            PY,
            str(HELPER),
            str(tmp_path / "specs.json"),
            env=environ,
            cwd=REPO,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as http:

            async def health() -> int:
                try:
                    async with http.get(url + "/health") as response:
                        return response.status
                except aiohttp.ClientConnectionError:
                    return 0

            await eventually(health, lambda status: status == 200, timeout=20)
        return process, url

    async def call(url: str, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        async with (
            aiohttp.ClientSession() as http,
            http.request(method, url + path, headers=headers, **kwargs) as response,
        ):
            return await response.json()

    async def running(url: str) -> dict[str, int]:
        listed = await call(url, "GET", "/api/v1/deployments")
        return {
            item["app_id"]: item["pid"] for item in listed["items"] if item["state"] == "running"
        }

    first, url = await run_master()
    for app_id in ("echo", "stubborn"):
        await call(url, "POST", "/api/v1/deployments", json={"app_id": app_id, "revision": "r1"})
    pids = await eventually(lambda: running(url), lambda found: len(found) == 2, timeout=15)
    first.kill()  # SIGKILL: the Master stops nothing
    await first.wait()

    def ended(pid: int) -> bool:
        try:
            return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True

    async def echo_ended() -> bool:
        return ended(pids["echo"])

    # The SDK app notices its Master is gone and stops by itself.
    await eventually(echo_ended, lambda done: done, timeout=8)
    # The stubborn one ignores everything: the next Master ends its group, then starts it anew.
    assert not ended(pids["stubborn"])
    second, url = await run_master()
    try:
        assert ended(pids["stubborn"])
        again = await eventually(lambda: running(url), lambda found: len(found) == 2, timeout=15)
        assert again["stubborn"] != pids["stubborn"]
    finally:
        second.send_signal(signal.SIGTERM)
        await asyncio.wait_for(second.wait(), 15)
    for pid in again.values():
        assert ended(pid)


async def test_apps_start_a_few_at_a_time(start: Start, tmp_path: Path) -> None:
    apps = Apps()
    waiter = ("/bin/sh", "-c", "exec sleep 600")
    apps.add(spec("slow", waiter, tmp_path, ready=ReadyPolicy("seconds", 0.5)))
    master = await start(apps, supervisor__max_starting="1")
    first = await create(master, "slow", name="one")
    second = await create(master, "slow", name="two")
    await wait_state(master, second["id"], "running")
    supervisor = master.app[SUPERVISOR]
    rows = []
    for created in (first, second):
        history = await supervisor.read_transitions(supervisor.get(created["id"]), 10)
        rows.append({row["to_state"]: row["at_ms"] for row in history})
    # One at a time: the second began starting only once the first was running.
    assert rows[1]["starting"] >= rows[0]["running"]
    for created in (first, second):
        await master.api("POST", f"/api/v1/deployments/{created['id']}/stop")


async def test_deployed_apps_get_in_where_apps_need_a_token(start: Start, tmp_path: Path) -> None:
    apps = Apps()
    path = script(tmp_path, "echo_app.py", SDK_APP)
    apps.add(spec("echo", (PY, str(path)), tmp_path, ready=ReadyPolicy("registered", 15)))
    master = await start(apps, apps__require_token="true", apps__tokens='["a-configured-token"]')
    created = await create(master, "echo")
    body = await wait_state(master, created["id"], "running")
    assert master.hub.apps.registry.get(body["instance_id"]).deployment == created["id"]
    await master.api("POST", f"/api/v1/deployments/{created['id']}/stop")


GREEDY = """
import sys
try:
    hoard = bytearray(200 * 1024 * 1024)
except MemoryError:
    print("refused 200 MB", flush=True)
    sys.exit(7)
print("got 200 MB", flush=True)
"""


async def test_a_memory_limit_from_the_manifest_caps_the_app(start: Start, tmp_path: Path) -> None:
    """[limits] memory_mb: the app cannot take more; without it, the same app can."""
    apps = Apps()
    greedy = script(tmp_path, "greedy.py", GREEDY)
    never = RestartPolicy(when="never")
    apps.add(spec("capped", (PY, str(greedy)), tmp_path, restart=never, limits=Limits(64)))
    apps.add(spec("free", (PY, str(greedy)), tmp_path, restart=never))
    master = await start(apps)
    capped = await create(master, "capped")
    free = await create(master, "free")
    body = await wait_state(master, capped["id"], "exited", timeout=20)
    assert body["exit_code"] == 7
    assert "refused 200 MB" in [line["text"] for line in await logs(master, capped["id"])]
    body = await wait_state(master, free["id"], "exited", timeout=20)
    assert body["exit_code"] == 0
    assert "got 200 MB" in [line["text"] for line in await logs(master, free["id"])]
