"""Schemathesis over every documented operation of a running Master: no 5xx, nothing off-document.

The run reads /api/v1/openapi.json from a Master on a free port and sends generated requests,
valid and invalid, to every operation with the configured admin token (api.token, which no
request can delete). Every answer must be a documented status, of a documented content type,
matching the documented schema, and never a server error.
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ADMIN_TOKEN, RunningMaster, StartMaster
from tests.deploy.archives import MANIFEST, tar_of
from tests.support.clients import SioApp

HERE = Path(__file__).resolve().parent
SEED = 20260301
MAX_EXAMPLES = 20
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "unsupported_method",
)
# The event stream never ends by itself: each request reads it for a moment, then lets go.
CONFIG = """
[[operations]]
include-path = "/api/v1/events"
request-timeout = 0.5
max-stream-events = 2
"""


@pytest.fixture
async def opened() -> AsyncIterator[list[SioApp]]:
    """Apps a test connects; closed at teardown, so that stopping the Master is quick."""
    apps: list[SioApp] = []
    yield apps
    for app in apps:
        await app.close()


async def seed(master: RunningMaster, opened: list[SioApp]) -> None:
    """Give the run rows to list: an app that answers, traced messages, overrides, tokens."""
    app = SioApp(master.url)
    opened.append(app)

    async def on_message(data: dict[str, Any]) -> Any:
        return {"reply": "echo: " + data["content"]}

    app.client.on("message", on_message, namespace="/app")
    await app.connect()
    ack = await app.register("echo")
    assert ack["success"], ack
    for content in ("hello", "/weather tokyo", "天气 北京"):
        status, body = await master.api(
            "POST", "/api/v1/simulate", json={"content": content, "wait_ms": 300}
        )
        assert status == 200 and body["replies"], body
    calls: list[tuple[str, str, dict[str, Any] | None]] = [
        ("PUT", "/api/v1/i18n/texts/ja/error.not_found", {"text": "ありません"}),
        ("PUT", "/api/v1/chats/simulator/sim-user/locale", {"locale": "ja"}),
        ("POST", "/api/v1/tokens", {"name": "dashboard", "scope": "read"}),
        ("POST", "/api/v1/driver-tokens", {"name": "qq bot"}),
        ("POST", "/api/v1/runner-enrolments", {"name": "box"}),
        # a bot that is not there (the discard port): its connection keeps failing
        ("POST", "/api/v1/onebot-apps", {"name": "nb", "url": "ws://127.0.0.1:9/onebot"}),
    ]
    for method, path, json in calls:
        status, body = await master.api(method, path, json=json)
        assert status in (200, 201), (path, body)
    package = tar_of({"kenkogo.toml": MANIFEST})
    async with master.http.post(
        master.url + "/api/v1/packages", data=package, headers=master.auth()
    ) as response:
        assert response.status == 201, await response.text()


def failures(output: str) -> str:
    """Return the run's failures section, long lines cut, for an assertion message."""
    section = output.partition("FAILURES")[2].partition("SUMMARY")[0] or output[-5000:]
    return "\n".join(line[:400] for line in section.splitlines())


def run_summary(output: str) -> tuple[int, int]:
    """Return how many operations the document had and how many the run tested."""
    total = re.search(r"Operations:\s+\d+ selected / (\d+) total", output)
    tested = re.search(r"Tested:\s+(\d+)", output)
    assert total and tested, output[-3000:]
    return int(total[1]), int(tested[1])


@pytest.mark.timeout(300)
async def test_every_operation_answers_as_documented(
    start_master: StartMaster, opened: list[SioApp], tmp_path: Path
) -> None:
    # Generated logins fail by the hundred: keep their growing delays short.
    master = await start_master(traces__sample_ratio="1", admin__login_max_delay="0.05")
    await seed(master, opened)
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG, encoding="utf-8")
    status, document = await master.api("GET", "/api/v1/openapi.json")
    assert status == 200
    # The run leaves out the operation that serves the document it reads.
    operations = sum(len(item) for item in document["paths"].values()) - 1
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(config),
        "--no-color",
        "run",
        f"{master.url}/api/v1/openapi.json",
        "--header",
        f"Authorization: Bearer {ADMIN_TOKEN}",
        "--checks",
        ",".join(CHECKS),
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--workers",
        "2",
        "--generation-database",
        "none",
        "--report-dir",
        str(tmp_path / "report"),
        env={
            "SCHEMATHESIS_HOOKS": "openapi_run_hooks",
            "PYTHONPATH": str(HERE),
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
        },
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    raw, _ = await process.communicate()
    output = raw.decode("utf-8", "replace")
    elapsed = time.monotonic() - started
    (tmp_path / "schemathesis-output.txt").write_text(output, encoding="utf-8")
    assert process.returncode == 0, failures(output)
    assert run_summary(output) == (operations, operations), output[-3000:]
    print(f"schemathesis: {operations} operations in {elapsed:.1f} s")
