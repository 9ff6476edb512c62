"""logging.level changed over REST: what `main.py` logs follows at once, and after a restart."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.process import MakeMaster, RestartableMaster

LINE = "VACUUM took"  # an INFO line that POST /api/v1/db/vacuum logs each time


async def vacuum_logs(master: RestartableMaster) -> bool:
    """Run a VACUUM; tell whether the run's output got a new line about it."""
    assert master.run is not None
    before = master.run.text.count(LINE)
    status, body = await master.api("POST", "/api/v1/db/vacuum")
    assert status == 200, body
    # Output is read from the child's pipe: give a line that was written time to arrive.
    for _ in range(20):
        if master.run.text.count(LINE) > before:
            return True
        await asyncio.sleep(0.05)
    return False


@pytest.mark.timeout(90)
async def test_the_log_level_changes_what_is_logged_and_stays_changed(
    restartable_master: MakeMaster,
) -> None:
    master = restartable_master()
    await master.start()
    assert await vacuum_logs(master)

    status, body = await master.api("PATCH", "/api/v1/settings", json={"logging.level": "warning"})
    assert status == 200, body
    assert body["changed"] == [
        {"key": "logging.level", "before": "INFO", "after": "WARNING", "reset": False}
    ]
    assert not await vacuum_logs(master)

    assert await master.terminate() == 0
    await master.start()
    assert not await vacuum_logs(master)
    status, body = await master.api("GET", "/api/v1/settings")
    level = next(item for item in body["items"] if item["key"] == "logging.level")
    assert (level["value"], level["source"], level["configured"]) == ("WARNING", "runtime", "INFO")

    status, body = await master.api("DELETE", "/api/v1/settings/logging.level")
    assert status == 200, body
    assert await vacuum_logs(master)
    assert await master.terminate() == 0
