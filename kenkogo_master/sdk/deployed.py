"""What an app started by the Master's supervisor is told through its environment.

The supervisor sets KENKOGO_MASTER_URL (where to connect), KENKOGO_APP_TOKEN (who the app is:
its deployment) and KENKOGO_MASTER_PID (the Master's process). An app run by hand has none of
them and nothing here changes it. When the Master dies without stopping its apps (SIGKILL, a
crash), the app notices that its parent is gone and stops, instead of lingering as an orphan.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Protocol

log = logging.getLogger(__name__)

MASTER_URL = "KENKOGO_MASTER_URL"
APP_TOKEN = "KENKOGO_APP_TOKEN"
MASTER_PID = "KENKOGO_MASTER_PID"
PARENT_CHECK = 1.0  # seconds between looks at the parent


class Configurable(Protocol):
    """The parts of an App the environment sets."""

    urls: list[str]
    token: str | None


def adopt(app: Configurable) -> None:
    """Take the Master's URL and the app token from the supervisor's environment variables."""
    url = os.environ.get(MASTER_URL)
    if url:
        app.urls = [url]
    token = os.environ.get(APP_TOKEN)
    if token:
        app.token = token


def master_pid() -> int | None:
    """Return the pid of the Master that started this process, if one did."""
    raw = os.environ.get(MASTER_PID, "")
    return int(raw) if raw.isdigit() and int(raw) > 1 else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


async def watch_master(pid: int, gone: asyncio.Event) -> None:
    """Set `gone` once the Master is no longer this process's parent, or no longer runs."""
    parent = os.getppid()
    while not gone.is_set():
        await asyncio.sleep(PARENT_CHECK)
        # Reparented (to init, or to a subreaper) means the parent died; the pid check covers an
        # app started through a wrapper (a shell), whose parent is not the Master itself.
        if os.getppid() != parent or not _alive(pid):
            log.warning("the Master (pid %d) is gone: stopping", pid)
            gone.set()
