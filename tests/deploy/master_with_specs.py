"""Serve a Master as `python main.py` does, its installed apps being the specs in a JSON file.

    python tests/deploy/master_with_specs.py SPECS.json   (settings from KENKOGO_ variables)

Each item of the file: {"app_id", "revision", "argv", "cwd", "env", "ready_seconds",
"stop_timeout"}.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from aiohttp import web

from kenkogo_master import app as app_module
from kenkogo_master import cli
from kenkogo_master.deploy.spec import LaunchSpec, ReadyPolicy, StopPolicy
from kenkogo_master.keys import LAUNCH_RESOLVER
from kenkogo_master.settings import Settings, load_settings


def load_specs(path: Path) -> dict[tuple[str, str], LaunchSpec]:
    """Read the launch specs."""
    items: list[dict[str, Any]] = json.loads(path.read_text())
    return {
        (item["app_id"], item["revision"]): LaunchSpec(
            app_id=item["app_id"],
            revision=item["revision"],
            argv=tuple(item["argv"]),
            cwd=Path(item["cwd"]),
            env=item["env"],
            ready=ReadyPolicy("seconds", item["ready_seconds"]),
            stop=StopPolicy(timeout=item["stop_timeout"]),
        )
        for item in items
    }


def main() -> int:
    """Serve until stopped."""
    specs = load_specs(Path(sys.argv[1]))
    original = app_module.create_app

    def create_app(settings: Settings) -> web.Application:
        made = original(settings)
        made[LAUNCH_RESOLVER] = lambda app_id, revision: specs.get((app_id, revision))
        return made

    app_module.create_app = create_app  # cli.serve imports it from here when it runs
    return cli.serve(load_settings(None, os.environ))


if __name__ == "__main__":
    raise SystemExit(main())
