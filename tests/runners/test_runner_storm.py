"""200 runners and a Master restarted under them: their redials spread out, no storm."""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

import aiohttp

from kenkogo_master.runner.agent import RunnerAgent
from tests.runners.clients import wait_for
from tests.runners.script_executor import NullExecutor
from tests.support.process import ADMIN_TOKEN, MakeMaster

RUNNERS = 200
SPREAD = 12.0  # seconds over which each runner draws its first redial
WINDOW = 1.0  # seconds of the sliding window the connection rate is measured over


async def enrolment_tokens(url: str, count: int) -> list[str]:
    """Create `count` enrolment tokens over REST."""
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    tokens = []
    async with aiohttp.ClientSession(headers=headers) as http:
        for index in range(count):
            async with http.post(
                f"{url}/api/v1/runner-enrolments", json={"name": f"r{index}"}
            ) as response:
                assert response.status == 201
                tokens.append((await response.json())["token"])
    return tokens


def busiest_window(times: list[float], window: float) -> int:
    """Return the most events in any `window` seconds."""
    ordered = sorted(times)
    most, start = 0, 0
    for end, moment in enumerate(ordered):
        while moment - ordered[start] > window:
            start += 1
        most = max(most, end - start + 1)
    return most


async def test_runners_reconnecting_to_a_restarted_master_stay_under_a_rate_bound(
    restartable_master: MakeMaster, tmp_path: Path
) -> None:
    master = restartable_master(runners__heartbeat_interval="5")
    await master.start()
    tokens = await enrolment_tokens(master.url, RUNNERS)
    agents = [
        RunnerAgent(
            master.url,
            token,
            tmp_path / f"runner-{index}",
            name=f"r{index}",
            factory=NullExecutor,
            spread=SPREAD,
            rng=random.Random(index),
        )
        for index, token in enumerate(tokens)
    ]
    tasks = [asyncio.create_task(agent.run()) for agent in agents]
    try:

        async def registered(times: int) -> bool:
            return all(len(agent.registered_at) >= times for agent in agents)

        await wait_for(lambda: registered(1), timeout=60, step=0.2)

        await master.kill()  # every connection drops at the same moment
        killed = time.monotonic()
        await master.start()
        up = time.monotonic() - killed
        await wait_for(lambda: registered(2), timeout=SPREAD + 30, step=0.2)

        # Each runner's first redial was drawn evenly over the spread (Kolmogorov-Smirnov
        # distance to the uniform distribution; 0.115 is its 1 % critical value for 200).
        first = sorted(
            next(moment for moment in agent.attempts if moment > killed) - killed
            for agent in agents
        )
        assert 0 <= first[0] < 0.05 * SPREAD and 0.95 * SPREAD < first[-1] <= SPREAD + 0.5
        distance = max(
            max(abs((index + 1) / RUNNERS - delay / SPREAD), abs(index / RUNNERS - delay / SPREAD))
            for index, delay in enumerate(first)
        )
        assert distance < 0.115, (distance, first)

        # The Master saw the runners come back at about RUNNERS / SPREAD a second: those whose
        # draw fell before it was up come in its first second, the rest as drawn.
        back = [agent.registered_at[1] - killed for agent in agents]
        early = sum(delay < up for delay in first)
        busiest = busiest_window(back, WINDOW)
        bound = early + 2 * RUNNERS * WINDOW / SPREAD
        print(f"Master up after {up:.2f} s; {early} drew earlier; busiest {WINDOW} s: {busiest}")
        assert busiest <= bound, (busiest, bound, sorted(back))
        assert busiest <= 0.75 * RUNNERS  # a storm would be all of them at once

        status, body = await master.api("GET", "/api/v1/runners")
        assert status == 200 and body["count"] == RUNNERS
        assert {item["state"] for item in body["items"]} == {"online"}
    finally:
        for agent in agents:
            agent.stop()
        await asyncio.gather(*tasks, return_exceptions=True)
