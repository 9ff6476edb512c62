"""The SDK imports, and builds an app, without any of the server's modules or dependencies."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# The server's own packages and what only the server depends on.
SERVER = [
    "kenkogo_master.hub",
    "kenkogo_master.store",
    "kenkogo_master.api",
    "kenkogo_master.transport",
    "kenkogo_master.protocol",
    "kenkogo_master.i18n",
    "kenkogo_master.observability",
    "kenkogo_master.admin",
    "kenkogo_master.files",
    "kenkogo_master.app",
    "kenkogo_master.settings",
    "kenkogo_master.errors",
    "kenkogo_master.cli",
    "sqlalchemy",
    "alembic",
    "aiosqlite",
    "asyncpg",
    "pydantic",
    "babel",
    "orjson",
    "opentelemetry",
    "argon2",
    "psutil",
    "prometheus_client",
]

CHILD = """
import importlib.abc, json, sys

BLOCKED = json.loads(sys.argv[1])

class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if any(name == blocked or name.startswith(blocked + ".") for blocked in BLOCKED):
            raise ImportError(f"{name} is blocked: the SDK must not need it")
        return None

sys.meta_path.insert(0, Blocker())
import kenkogo_master.sdk as sdk
import kenkogo_master.sdk.run

app = sdk.App("isolated", "1.0.0")

@app.command("/x")
async def x(message: sdk.Message) -> sdk.Reply:
    return sdk.Reply(template="template.x")

app.register_payload()
print(json.dumps(sorted(sys.modules)))
"""


def test_the_sdk_needs_nothing_of_the_server() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(SERVER)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert "kenkogo_master.sdk.app" in loaded and "socketio" in loaded
    leaked = [
        name
        for name in loaded
        if any(name == server or name.startswith(server + ".") for server in SERVER)
    ]
    assert leaked == []
