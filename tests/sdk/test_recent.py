"""The memory of recent message ids is bounded and forgets the oldest first."""

from __future__ import annotations

import pytest

from kenkogo_master.sdk.recent import RecentAnswers


async def test_the_oldest_ids_are_forgotten_beyond_the_limit() -> None:
    recent = RecentAnswers(limit=3)
    futures = {name: recent.add(name) for name in "abcd"}
    assert len(recent) == 3
    assert "a" not in recent and recent.get("a") is None
    assert recent.get("d") is futures["d"]
    futures["b"].set_result({"block": True})
    assert recent.get("b") is not None and recent.get("b").result() == {"block": True}  # type: ignore[union-attr]


def test_the_memory_holds_at_least_one_id() -> None:
    with pytest.raises(ValueError):
        RecentAnswers(limit=0)
