"""Nothing acked is lost while the Master is killed and stopped again and again under traffic."""

from __future__ import annotations

import pytest

from tests.support.kill_loop import KillLoopPlan, run_kill_loop, seed
from tests.support.process import MakeMaster


async def prove(restartable_master: MakeMaster, kills: int) -> None:
    """Run the kill loop with `kills` stops; fail on any acked message lost."""
    plan = KillLoopPlan(seed=seed(), kills=kills)
    report = await run_kill_loop(restartable_master(**plan.settings), plan)
    print(report.summary())

    assert report.acked > 0, report.summary()
    assert report.lost == 0, report.summary()
    assert report.bad_exits == [], report.summary()


@pytest.mark.timeout(180)
async def test_nothing_acked_is_lost_across_ten_kills(restartable_master: MakeMaster) -> None:
    """Ten SIGKILLs and SIGTERMs under steady traffic: every acked message is stored and reaches
    both app names (duplicates and reordering are counted and printed, not failed)."""
    await prove(restartable_master, kills=10)


@pytest.mark.long
@pytest.mark.timeout(1800)
async def test_nothing_acked_is_lost_across_fifty_kills(restartable_master: MakeMaster) -> None:
    """The same proof with fifty stops (several minutes; run with --long)."""
    await prove(restartable_master, kills=50)
