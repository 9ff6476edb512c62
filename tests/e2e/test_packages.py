"""App packages over REST against a real Master: upload, install with real pip, run, refuse.

The echo example is packed, uploaded and installed into its own virtual environment; the
LaunchSpec the installer hands the supervisor is started as it says, and the app registers and
answers. A revision whose requirement does not exist fails in words and leaves the installed
one as it was. Unsafe archives and other Masters' packages are refused with their codes.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from kenkogo_master.deploy.context import INSTALLER
from kenkogo_master.deploy.pack import pack
from tests.conftest import RunningMaster, StartMaster, stop_master
from tests.deploy.archives import MANIFEST, bomb_zip, link, tar_of, zip_of
from tests.support.waiting import eventually

REPO = Path(__file__).resolve().parents[2]
ECHO = REPO / "examples" / "echo"
PACKAGES = "/api/v1/packages"
INSTALL_SECONDS = 240  # a fresh venv and pip from the index, on a busy machine


def echo_package(folder: Path, version: str, requirements: str | None) -> bytes:
    """Pack the echo example at `version`, with a requirements.txt when given."""
    shutil.copytree(ECHO, folder)
    manifest = folder / "kenkogo.toml"
    manifest.write_text(manifest.read_text().replace('version = "1.0.0"', f'version = "{version}"'))
    if requirements is not None:
        (folder / "requirements.txt").write_text(requirements)
    target, _ = pack(folder, folder.parent / f"echo-{version}.zip")
    return target.read_bytes()


async def upload(master: RunningMaster, data: bytes, **headers: str) -> tuple[int, Any]:
    async with master.http.post(
        master.url + PACKAGES, data=data, headers={**master.auth(), **headers}
    ) as response:
        return response.status, await response.json()


async def install(master: RunningMaster, sha: str, started: bool = False) -> dict[str, Any]:
    """Start an install (unless it was) and wait until it ends; return its record."""
    path = f"{PACKAGES}/echo/revisions/{sha}/install"
    if not started:
        status, body = await master.api("POST", path)
        assert status == 202, body
        assert body["status"] == "installing"

    async def probe() -> dict[str, Any]:
        return (await master.api("GET", path))[1]

    return await eventually(probe, lambda b: b["status"] != "installing", INSTALL_SECONDS, 0.5)


async def deploy_events(master: RunningMaster, seen: list[dict[str, Any]]) -> None:
    """Collect the event stream's `deploy` events until cancelled."""
    url = f"{master.url}/api/v1/events?topics=deploy"
    async with master.http.get(url, headers=master.auth()) as response:
        async for raw in response.content:
            line = raw.decode().strip()
            if line.startswith("data: {") and '"topic"' in line:
                seen.append(json.loads(line[6:]))


@pytest.mark.timeout(600)
async def test_echo_installs_runs_and_a_broken_upgrade_leaves_it_installed(
    start_master: StartMaster, tmp_path: Path
) -> None:
    master = await start_master()
    data = echo_package(tmp_path / "v1", "1.0.0", "six==1.16.0\n")
    status, revision = await upload(master, data, **{"Content-Type": "application/zip"})
    assert status == 201, revision
    sha = revision["sha256"]
    assert sha == hashlib.sha256(data).hexdigest()
    assert (revision["package_id"], revision["version"], revision["installed"]) == (
        "echo",
        "1.0.0",
        False,
    )
    again = await upload(master, data)
    assert again == (200, revision)  # the same bytes are the same revision

    seen: list[dict[str, Any]] = []
    reader = asyncio.create_task(deploy_events(master, seen))
    await asyncio.sleep(0.3)
    record = await install(master, sha)
    reader.cancel()
    assert record["status"] == "ready", record
    steps = [(step["step"], step["status"]) for step in record["steps"]]
    assert steps == [
        (name, "ok")
        for name in ("received", "verified", "extracted", "environment", "dependencies", "ready")
    ]
    assert "six" in record["output"] and record["error"] is None
    live = [
        (e["data"]["step"], e["data"]["status"]) for e in seen if e["topic"] == "deploy.install"
    ]
    assert live[-1] == ("ready", "ok") and ("dependencies", "running") in live, live
    assert any(e["topic"] == "deploy.output" for e in seen)

    installer = master.app[INSTALLER]
    assert installer.revisions("echo") == [sha]
    spec = installer.installed("echo", sha)
    assert spec is not None and spec.argv[1:] == ("-m", "kenkogo_master.sdk.run", "echo:app")
    venv_python = Path(spec.argv[0])
    assert venv_python.is_relative_to(master.settings.storage.data_dir.absolute() / "apps")
    # The app's own requirement is in its environment, and the Master's other packages are not.
    check = [str(venv_python), "-c", "import six, kenkogo_master.sdk; import sqlalchemy"]
    probe = subprocess.run(check, cwd=spec.cwd, capture_output=True, text=True, check=False)
    assert "No module named 'sqlalchemy'" in probe.stderr, probe.stderr

    # The LaunchSpec, started as the supervisor starts it, runs an app that registers.
    env = {**{k: v for k, v in os.environ.items() if k != "PYTHONPATH"}, **spec.env}
    process = await asyncio.create_subprocess_exec(
        *spec.argv,
        "--url",
        master.url,
        cwd=spec.cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:

        async def apps() -> list[dict[str, Any]]:
            return (await master.api("GET", "/api/v1/apps"))[1]["items"]

        found = await eventually(apps, lambda items: any(a["name"] == "echo" for a in items), 30)
        assert any(app["name"] == "echo" for app in found)
        status, simulated = await master.api(
            "POST", "/api/v1/simulate", json={"content": "/echo 你好", "wait_ms": 5000}
        )
        assert status == 200 and simulated["replies"], simulated
        assert "你好" in json.dumps(simulated["replies"], ensure_ascii=False)
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 15)

    # An upgrade whose requirement does not exist fails in words; 1.0.0 stays installed.
    broken = echo_package(tmp_path / "v2", "2.0.0", "this-package-does-not-exist==1\n")
    status, second = await upload(master, broken)
    assert status == 201, second
    base = f"{PACKAGES}/echo/revisions/{second['sha256']}"
    assert (await master.api("POST", base + "/install"))[0] == 202
    for method, path in (("POST", base + "/install"), ("DELETE", base)):
        status, body = await master.api(method, path)  # pip takes seconds: it still runs
        assert (status, body["code"]) == (409, "install_running"), (method, body)
    failed = await install(master, second["sha256"], started=True)
    assert failed["status"] == "failed", failed
    assert "this-package-does-not-exist==1" in failed["error"], failed["error"]
    assert failed["steps"][-2]["step"] == "dependencies"
    assert failed["steps"][-1] == {**failed["steps"][-1], "step": "failed", "status": "failed"}
    assert "this-package-does-not-exist" in failed["output"]
    assert installer.revisions("echo") == [sha]
    assert installer.installed("echo", second["sha256"]) is None
    assert installer.installed("echo", sha) == spec
    leftovers = [p.name for p in (installer.root / "echo").iterdir() if p.name.startswith(".")]
    assert leftovers == []

    status, package = await master.api("GET", f"{PACKAGES}/echo")
    assert status == 200
    assert [(r["version"], r["install_status"], r["installed"]) for r in package["revisions"]] == [
        ("2.0.0", "failed", False),
        ("1.0.0", "ready", True),
    ]


async def test_unsafe_and_foreign_packages_are_refused_with_their_codes(
    master: RunningMaster,
) -> None:
    cases = {
        "archive_unsafe_path": zip_of({"kenkogo.toml": MANIFEST, "../../evil.py": b"x"}),
        "archive_link": zip_of({"kenkogo.toml": MANIFEST}, links={"root": "/"}),
        "archive_special_file": tar_of(
            {"kenkogo.toml": MANIFEST},
            [link("null", "", b"3")],  # a character device
        ),
        "invalid_archive": b"just some bytes",
        "invalid_manifest": zip_of({"app.py": b"print()"}),
    }
    cases["archive_unsafe_path_tar"] = tar_of({"kenkogo.toml": MANIFEST, "/etc/evil": b"x"})
    cases["archive_link_tar"] = tar_of({"kenkogo.toml": MANIFEST}, [link("up", "../..")])
    for code, data in cases.items():
        status, body = await upload(master, data)
        assert (status, body["code"]) == (400, code.removesuffix("_tar")), (code, body)
    status, body = await upload(master, bomb_zip(256 * 1024 * 1024))
    assert (status, body["code"]) == (400, "archive_too_large"), body

    bad_field = MANIFEST.replace(b'type = "command"', b'type = "cobol"')
    status, body = await upload(master, zip_of({"kenkogo.toml": bad_field}))
    assert (status, body["code"]) == (400, "invalid_manifest")
    assert "runtime.type" in body["message"], body

    foreign = MANIFEST.replace(b'version = "1.0.0"', b'version = "1.0.0"\nmaster = ">=99"')
    status, body = await upload(master, zip_of({"kenkogo.toml": foreign}))
    assert (status, body["code"]) == (409, "master_version_mismatch"), body
    assert ">=99" in body["message"] and "0.1.0" in body["message"]

    assert (await master.api("GET", PACKAGES))[1] == {"items": [], "count": 0}
    incoming = master.settings.storage.data_dir / "packages" / ".incoming"
    assert list(incoming.iterdir()) == []  # nothing of the refused uploads is left


async def test_uploads_over_the_limit_multipart_download_and_delete(
    start_master: StartMaster, tmp_path: Path
) -> None:
    master = await start_master(packages__max_upload="4096")
    good = tar_of({"kenkogo.toml": MANIFEST, "run.sh": b"#!/bin/sh\nsleep 60\n"})
    form = aiohttp.FormData()
    form.add_field("file", good, filename="demo.tar.gz", content_type="application/gzip")
    async with master.http.post(master.url + PACKAGES, data=form, headers=master.auth()) as r:
        assert r.status == 201, await r.text()
        revision = await r.json()
    assert revision["format"] == "tar.gz" and revision["package_id"] == "demo"

    too_large = os.urandom(8192)
    status, body = await upload(master, too_large)
    assert (status, body["code"]) == (413, "payload_too_large")

    async def chunked() -> Any:  # no Content-Length: refused while it streams
        for _ in range(4):
            yield os.urandom(2048)

    async with master.http.post(
        master.url + PACKAGES, data=chunked(), headers=master.auth()
    ) as response:
        assert response.status == 413
        assert (await response.json())["code"] == "payload_too_large"

    sha = revision["sha256"]
    base = f"{PACKAGES}/demo/revisions/{sha}"
    async with master.http.get(master.url + base + "/download", headers=master.auth()) as r:
        digest = base64.b64encode(bytes.fromhex(sha)).decode()
        assert r.status == 200 and r.headers["Repr-Digest"] == f"sha-256=:{digest}:"
        assert r.headers["Content-Type"] == "application/gzip"
        assert await r.read() == good

    status, started = await master.api("POST", base + "/install")
    assert status == 202 and started["status"] == "installing"
    await eventually(
        lambda: master.api("GET", base + "/install"), lambda r: r[1]["status"] == "ready", 30
    )
    spec = master.app[INSTALLER].installed("demo", sha)
    assert spec is not None and spec.argv[1:] == ("-c", "sleep 60") and spec.runtime == "command"
    # A reinstall replaces the revision's folder whole; it stays the one installed revision.
    assert (await master.api("POST", base + "/install"))[0] == 202
    await eventually(
        lambda: master.api("GET", base + "/install"), lambda r: r[1]["status"] == "ready", 30
    )
    assert master.app[INSTALLER].revisions("demo") == [sha]
    assert master.app[INSTALLER].installed("demo", sha) == spec

    read_token = (await master.api("POST", "/api/v1/tokens", json={"name": "r"}))[1]["token"]
    async with master.http.get(master.url + PACKAGES, headers=master.auth(read_token)) as r:
        assert r.status == 403  # packages are code the Master runs: operators only

    for path in (f"{PACKAGES}/nope", f"{PACKAGES}/demo/revisions/{'0' * 64}/install"):
        status, body = await master.api("GET", path)
        assert (status, body["code"]) == (404, "not_found"), path
    status, body = await master.api("GET", f"{PACKAGES}/demo/revisions/not-a-digest/install")
    assert (status, body["code"]) == (400, "invalid_payload")

    status, body = await master.api("DELETE", base)
    assert status == 200 and body == {"package_id": "demo", "sha256": sha, "deleted": True}
    assert master.app[INSTALLER].installed("demo", sha) is None
    assert (await master.api("GET", f"{PACKAGES}/demo"))[0] == 404
    status, rows = await master.api("GET", "/api/v1/audit?action=upload_package")
    assert status == 200, rows
    results = sorted((row["result"], row["target"]) for row in rows["items"])
    assert results == [("ok", f"demo/{sha}"), ("payload_too_large", ""), ("payload_too_large", "")]
    status, rows = await master.api("GET", "/api/v1/audit?action=delete_package_revision")
    assert [row["target"] for row in rows["items"]] == [f"demo/{sha}"]


def test_app_pack_round_trips_and_refuses_what_a_package_cannot_hold(tmp_path: Path) -> None:
    target = tmp_path / "echo.zip"
    command = [sys.executable, "main.py", "app", "pack", str(ECHO), "-o", str(target)]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "packed echo 1.0.0" in done.stdout
    with zipfile.ZipFile(target) as archive:
        assert sorted(archive.namelist()) == ["__init__.py", "echo.py", "kenkogo.toml"]
        assert archive.read("echo.py") == (ECHO / "echo.py").read_bytes()
    first = target.read_bytes()
    subprocess.run(command, cwd=REPO, capture_output=True, check=True)
    assert target.read_bytes() == first  # the same files make the same revision

    linked = tmp_path / "linked"
    shutil.copytree(ECHO, linked)
    (linked / "secrets").symlink_to("/etc")
    bad = [sys.executable, "main.py", "app", "pack", str(linked), "-o", str(tmp_path / "x.zip")]
    done = subprocess.run(bad, cwd=REPO, capture_output=True, text=True, check=False)
    assert done.returncode == 1 and "link" in done.stderr, done.stderr

    empty = tmp_path / "empty"
    empty.mkdir()
    bad[4] = str(empty)
    done = subprocess.run(bad, cwd=REPO, capture_output=True, text=True, check=False)
    assert done.returncode == 1 and "kenkogo.toml" in done.stderr, done.stderr
    assert not (tmp_path / "x.zip").exists()


@pytest.mark.parametrize(
    ("setting", "reason"),
    [
        ({"packages__install_idle": "0.5"}, "printed nothing for 0.5 s"),
        ({"packages__install_timeout": "1"}, "the install took longer than 1 s"),
    ],
)
async def test_an_install_past_its_time_limits_is_stopped_and_says_so(
    start_master: StartMaster, tmp_path: Path, setting: dict[str, str], reason: str
) -> None:
    # Creating a virtual environment (with pip) prints nothing for seconds and takes longer
    # than a second: each limit stops it in the `environment` step.
    master = await start_master(**setting)
    data = echo_package(tmp_path / "v1", "1.0.0", None)
    status, revision = await upload(master, data)
    assert status == 201, revision
    record = await install(master, revision["sha256"])
    assert record["status"] == "failed" and reason in record["error"], record
    assert record["steps"][-2]["step"] == "environment", record["steps"]
    installer = master.app[INSTALLER]
    assert installer.revisions("echo") == []
    assert [p.name for p in (installer.root / "echo").iterdir()] == []


NODE_MANIFEST = b"""id = "hello-node"
name = "Hello"
version = "VERSION"
[runtime]
type = "node"
entry = "index.js"
"""
PACKAGE_JSON = b'{"name": "hello-node", "version": "1.0.0", "private": true}'
LOCK = (
    b'{"name": "hello-node", "version": "1.0.0", "lockfileVersion": 3, "requires": true, '
    b'"packages": {"": {"name": "hello-node", "version": "1.0.0"}}}'
)


async def test_node_packages_install_with_npm_ci_and_need_their_lock(master: RunningMaster) -> None:
    files = {"index.js": b"console.log('hi')\n", "package.json": PACKAGE_JSON}
    with_lock = zip_of(
        {
            **files,
            "package-lock.json": LOCK,
            "kenkogo.toml": NODE_MANIFEST.replace(b"VERSION", b"1.0.0"),
        }
    )
    without = zip_of({**files, "kenkogo.toml": NODE_MANIFEST.replace(b"VERSION", b"2.0.0")})
    installer = master.app[INSTALLER]
    ended = []
    for data in (with_lock, without):
        status, revision = await upload(master, data)
        assert status == 201, revision
        path = f"{PACKAGES}/hello-node/revisions/{revision['sha256']}/install"
        assert (await master.api("POST", path))[0] == 202
        probe = functools.partial(master.api, "GET", path)
        done = await eventually(probe, lambda r: r[1]["status"] != "installing", 60, 0.2)
        ended.append((revision["sha256"], done[1]))
    (good, ready), (_, failed) = ended
    assert ready["status"] == "ready", ready
    assert "npm ci" in ready["output"]
    spec = installer.installed("hello-node", good)
    assert spec is not None and spec.runtime == "node"
    assert Path(spec.argv[0]).name == "node" and spec.argv[1] == str(spec.cwd / "index.js")
    done = subprocess.run(spec.argv, cwd=spec.cwd, capture_output=True, text=True, check=False)
    assert done.stdout == "hi\n"
    assert failed["status"] == "failed"
    assert failed["error"] == "npm ci needs package-lock.json beside package.json"
    assert installer.revisions("hello-node") == [good]


async def test_a_master_stopped_mid_install_leaves_no_staging_and_says_so_after(
    start_master: StartMaster, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    master = await start_master(data_dir)
    status, revision = await upload(master, echo_package(tmp_path / "v1", "1.0.0", None))
    assert status == 201, revision
    path = f"{PACKAGES}/echo/revisions/{revision['sha256']}/install"
    assert (await master.api("POST", path))[0] == 202

    async def steps() -> list[str]:
        return [step["step"] for step in (await master.api("GET", path))[1]["steps"]]

    await eventually(steps, lambda names: "environment" in names, 30)
    await stop_master(master)  # python -m venv is still running
    apps = data_dir / "apps" / "echo"
    assert [p.name for p in apps.iterdir()] == []

    again = await start_master(data_dir)
    status, record = await again.api("GET", path)
    assert status == 200 and record["status"] == "failed", record
    assert record["error"] == "the Master stopped during the install"
