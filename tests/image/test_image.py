"""The container image, built and run for real: a volume, a port of its own, a clean stop.

A private dockerd (tests/support/docker_engine.py) builds the image on a base made here without
any registry of images (scripts/docker-base.sh). Where no engine can run, the tests are skipped
with the reason. The base and the build's layers are cached in ~/.cache/kenkogo: from nothing
this takes minutes, with the cache well under two.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kenkogo_master.deploy.pack import pack
from tests.support.docker_engine import Engine, EngineUnavailable, private_engine
from tests.support.process import free_port

REPO = Path(__file__).resolve().parents[2]
IMAGE = "kenkogo-master:test"
TOKEN = "image-test-admin-token"
USER_ID = 10001  # the Dockerfile's ARG UID

pytestmark = pytest.mark.timeout(1200)  # a cold cache: debootstrap and pip from nothing


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    """A private dockerd for this module, or a skip that says why none can run."""
    try:
        with private_engine() as started:
            yield started
    except EngineUnavailable as exc:
        print(f"\nimage tests skipped: {exc}")
        pytest.skip(f"no container engine can run here: {exc}")


@pytest.fixture(scope="module")
def image(engine: Engine) -> str:
    """Build the image on the locally made base; return its tag."""
    began = time.monotonic()
    base = subprocess.run(
        ["bash", str(REPO / "scripts" / "docker-base.sh")],
        env=engine.environ,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert base.returncode == 0, f"scripts/docker-base.sh failed:\n{base.stderr}"
    tag = base.stdout.strip()
    assert tag.startswith("kenkogo-base:"), base.stdout
    # Bases of older recipes, and the layers built on them, are never used again.
    tags = engine.run("images", "kenkogo-base", "--format={{.Repository}}:{{.Tag}}").stdout
    stale = [old for old in tags.split() if old != tag]
    if stale:
        engine.run("rmi", *stale)
        engine.run("image", "prune", "--force")
    based = time.monotonic()
    engine.run(
        "build",
        "--network=host",
        f"--build-arg=BASE_IMAGE={tag}",
        "-t",
        IMAGE,
        str(REPO),
        timeout=900,
    )
    # The image this build replaced, no longer tagged; its layers stay as the next build's cache.
    engine.run("image", "prune", "--force", "--filter=label=org.kenkogo.image=master")
    size = int(engine.inspect(IMAGE, "{{.Size}}")) / 1e6
    print(f"\nbase {based - began:.0f} s, build {time.monotonic() - based:.0f} s, {size:.0f} MB")
    # Debian's python3 and nodejs, npm and the Master's venv: no compilers, no Debian npm.
    assert size < 430, f"the image grew to {size:.0f} MB"
    return IMAGE


def http(method: str, url: str, body: bytes | None = None, **headers: str) -> tuple[int, bytes]:
    """Make one request; return the status and the body, also for error statuses."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def api(method: str, port: int, path: str, body: Any = None) -> tuple[int, Any]:
    """Call the REST API with the admin token and JSON."""
    data = None if body is None else json.dumps(body).encode()
    status, raw = http(
        method,
        f"http://127.0.0.1:{port}{path}",
        data,
        Authorization=f"Bearer {TOKEN}",
        **({"Content-Type": "application/json"} if data is not None else {}),
    )
    return status, json.loads(raw) if raw else None


def wait_for(what: str, check: Any, timeout: float, logs: Any = None) -> None:
    """Poll `check()` until it is true; fail naming `what` (and showing `logs()`) if it is not."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not within {timeout} s\n{logs() if logs else ''}")
        time.sleep(0.25)


def health_answers(port: int) -> bool:
    """Tell whether /health answers 200."""
    try:
        return http("GET", f"http://127.0.0.1:{port}/health")[0] == 200
    except OSError:
        return False


class Container:
    """One `docker run -d` of the image, on loopback through the host's network."""

    def __init__(
        self, engine: Engine, image: str, volume: str, port: int, configured: bool = False
    ) -> None:
        """Run the image on `volume`; its port, host and token come from the environment
        unless `configured` (a config.toml on the volume says them)."""
        self.engine = engine
        self.port = port
        self.name = f"kenkogo-test-{uuid.uuid4().hex[:12]}"
        environ = [
            f"--env=KENKOGO_SERVER__PORT={port}",
            "--env=KENKOGO_SERVER__HOST=127.0.0.1",
            f"--env=KENKOGO_API__TOKEN={TOKEN}",
        ]
        engine.run(
            "run", "--detach", f"--name={self.name}", "--network=host",
            f"--volume={volume}:/data",
            *([] if configured else environ),
            # The image's own check, asked every second instead of every 15 s: a faster test.
            "--health-interval=1s",
            image,
        )  # fmt: skip

    def logs(self) -> str:
        """Return everything the container wrote, stdout and stderr."""
        done = self.engine.run("logs", self.name, check=False)
        return done.stdout + done.stderr

    def state(self, field: str) -> str:
        """Return one field of the container's state, e.g. `Health.Status`."""
        return self.engine.inspect(self.name, "{{json .State." + field + "}}")

    def exec(self, *argv: str) -> str:
        """Run a command in the container as the image's user; return its output."""
        return self.engine.run("exec", self.name, *argv).stdout

    def wait_ready(self) -> None:
        """Wait for /health, then for Docker to call the container healthy."""
        wait_for("/health", lambda: health_answers(self.port), 60, self.logs)
        wait_for("healthy", lambda: self.state("Health.Status") == '"healthy"', 30, self.logs)

    def stop(self) -> float:
        """`docker stop` with Docker's 10 s; return how long it took."""
        began = time.monotonic()
        self.engine.run("stop", self.name, timeout=30)
        return time.monotonic() - began


@pytest.fixture
def volume(engine: Engine) -> Iterator[str]:
    """A fresh named volume, and no container or volume of this test left afterwards."""
    name = f"kenkogo-test-{uuid.uuid4().hex[:12]}"
    engine.run("volume", "create", name)
    yield name
    for line in engine.run("ps", "-aq", f"--filter=volume={name}").stdout.split():
        engine.run("rm", "--force", line, check=False)
    engine.run("volume", "rm", "--force", name, check=False)


# Lists (uid, command line) of every process in the container, read from /proc.
PROCESSES = """
import json, os
rows = []
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        status = open(f"/proc/{pid}/status").read()
        argv = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\\0")
    except OSError:
        continue
    uid = next(int(l.split()[1]) for l in status.splitlines() if l.startswith("Uid:"))
    rows.append([int(pid), uid, b" ".join(argv).decode(errors="replace").strip()])
print(json.dumps(rows))
"""


def test_runs_on_a_volume_as_non_root_stops_cleanly_and_keeps_its_data(
    engine: Engine, image: str, volume: str, tmp_path: Path
) -> None:
    healthcheck = json.loads(engine.inspect(image, "{{json .Config.Healthcheck.Test}}"))
    assert healthcheck[-3:] == ["healthcheck", "--timeout", "4"]  # no port written in
    first = Container(engine, image, volume, free_port())
    first.wait_ready()
    probe = json.loads(first.state("Health"))["Log"][-1]
    assert probe["ExitCode"] == 0
    assert probe["Output"].startswith(f"healthy: http://127.0.0.1:{first.port}/health: ")

    # Nothing in the container runs as root: tini as PID 1 and the Master under it.
    processes = json.loads(first.exec("python3", "-c", PROCESSES))
    assert {uid for _, uid, _ in processes} == {USER_ID}, processes
    assert [argv for pid, _, argv in processes if pid == 1] == [
        "/usr/bin/tini -- python /opt/kenkogo/main.py serve"
    ]
    assert any(argv.endswith("/opt/kenkogo/main.py serve") for _, _, argv in processes[1:])

    # State to find again in the next container: a file in the file area, a setting in SQL.
    status, _ = http(
        "PUT",
        f"http://127.0.0.1:{first.port}/api/v1/files/content?path=kept.txt",
        "written in the first container ✓".encode(),
        Authorization=f"Bearer {TOKEN}",
    )
    assert status == 201
    status, _ = api("PATCH", first.port, "/api/v1/settings", {"apps.ack_timeout": 7})
    assert status == 200
    owners = first.exec("stat", "-c", "%u", "/data", "/data/kenkogo.db", "/data/files")
    assert owners.split() == [str(USER_ID)] * 3
    assert "logs" in first.exec("ls", "/data").split()  # the log files are on the volume too

    # The runtimes app packages install into: a venv with pip, Node.js with npm.
    runtimes = first.exec(
        "sh", "-c", "python3 -m venv /tmp/app-env && /tmp/app-env/bin/pip --version && "
        "node --version && npm --version",
    )  # fmt: skip
    assert "pip " in runtimes and "\nv18." in runtimes, runtimes
    deploy_the_echo_app(first, tmp_path)

    took = first.stop()
    print(f"docker stop took {took:.1f} s")
    logs = first.logs()
    assert took < 8, f"docker stop took {took:.1f} s\n{logs}"
    assert first.state("ExitCode") == "0", logs  # 137 would be Docker's SIGKILL
    assert "SIGTERM: stopping" in logs
    assert logs.rstrip().endswith("KenkoGo Master stopped"), logs

    # A new container on the same volume (and another port) finds what the first one kept.
    second = Container(engine, image, volume, free_port())
    second.wait_ready()
    status, body = http(
        "GET",
        f"http://127.0.0.1:{second.port}/api/v1/files/content?path=kept.txt",
        Authorization=f"Bearer {TOKEN}",
    )
    assert (status, body.decode()) == (200, "written in the first container ✓")
    status, settings = api("GET", second.port, "/api/v1/settings")
    assert status == 200
    kept = next(item for item in settings["items"] if item["key"] == "apps.ack_timeout")
    assert (kept["value"], kept["source"]) == (7, "runtime")
    assert "created the account 'admin'" not in second.logs()  # the first one's account is kept
    took = second.stop()
    assert took < 8 and second.state("ExitCode") == "0", second.logs()

    # The image's commands run on the same volume: `docker run --rm IMAGE admin list`.
    listed = engine.run("run", "--rm", f"--volume={volume}:/data", image, "admin", "list")
    assert ["admin"] in [line.split()[:1] for line in listed.stdout.splitlines()], listed.stdout


def deploy_the_echo_app(container: Container, tmp_path: Path) -> None:
    """Upload the echo example as a package, install it, deploy it, and see it answer."""
    archive, _ = pack(REPO / "examples" / "echo", tmp_path / "echo.zip")
    status, raw = http(
        "POST",
        f"http://127.0.0.1:{container.port}/api/v1/packages",
        archive.read_bytes(),
        Authorization=f"Bearer {TOKEN}",
        **{"Content-Type": "application/zip"},
    )
    assert status == 201, raw
    sha = json.loads(raw)["sha256"]
    install = f"/api/v1/packages/echo/revisions/{sha}/install"
    assert api("POST", container.port, install)[0] == 202
    wait_for(
        "the install",
        lambda: api("GET", container.port, install)[1]["status"] != "installing",
        300,
        lambda: api("GET", container.port, install)[1],
    )
    record = api("GET", container.port, install)[1]
    assert record["status"] == "ready", record
    # The app's environment lives on the volume, next to the database.
    assert sha in container.exec("ls", "/data/apps/echo")

    status, created = api(
        "POST", container.port, "/api/v1/deployments", {"app_id": "echo", "revision": sha}
    )
    assert status == 201, created
    deployment = f"/api/v1/deployments/{created['id']}"
    wait_for(
        "the app to register",
        lambda: api("GET", container.port, deployment)[1]["state"] == "running",
        60,
        container.logs,
    )
    apps = api("GET", container.port, "/api/v1/apps")[1]
    assert "echo" in json.dumps(apps), apps
    status, simulated = api(
        "POST",
        container.port,
        "/api/v1/simulate",
        {"content": "/echo in a container", "wait_ms": 5000},
    )
    assert status == 200 and "in a container" in json.dumps(simulated), simulated
    # The app runs as the image's user too, in a process group of its own.
    processes = json.loads(container.exec("python3", "-c", PROCESSES))
    assert any("kenkogo_master.sdk.run" in argv for _, _, argv in processes), processes
    assert {uid for _, uid, _ in processes} == {USER_ID}, processes


def test_a_config_file_on_the_volume_is_read(engine: Engine, image: str, volume: str) -> None:
    # The working directory is /data: an operator's config.toml there is the Master's config,
    # and the healthcheck follows the port it names.
    port = free_port()
    config = f'[server]\nhost = "127.0.0.1"\nport = {port}\n[api]\ntoken = "{TOKEN}"\n'
    engine.run(
        "run", "--rm", f"--volume={volume}:/data", "--entrypoint=python3", image,
        "-c", f"open('/data/config.toml', 'w').write({config!r})",
    )  # fmt: skip
    container = Container(engine, image, volume, port, configured=True)
    container.wait_ready()
    probe = json.loads(container.state("Health"))["Log"][-1]
    assert probe["Output"].startswith(f"healthy: http://127.0.0.1:{port}/health: ")
    assert api("GET", port, "/api/v1/apps")[0] == 200
    assert container.stop() < 8
    assert container.state("ExitCode") == "0"
