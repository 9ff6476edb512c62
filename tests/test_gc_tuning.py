"""The collector's tuning for a long-running server."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from kenkogo_master.gc_tuning import YOUNG_THRESHOLD, freeze_startup_heap, tune_collector


@pytest.fixture
def restored_collector() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.set_threshold(*thresholds)
    gc.unfreeze()


@pytest.mark.usefixtures("restored_collector")
def test_young_collections_come_less_often_and_older_ratios_stay() -> None:
    gc.set_threshold(700, 10, 10)
    tune_collector()
    assert gc.get_threshold() == (YOUNG_THRESHOLD, 10, 10)


@pytest.mark.usefixtures("restored_collector")
async def test_the_heap_alive_at_start_up_is_no_longer_walked() -> None:
    kept = [{"n": n} for n in range(1000)]
    await freeze_startup_heap()
    assert gc.get_freeze_count() >= len(kept)
    assert gc.get_count()[2] == 0
