"""The runner tests' fixtures: runner processes that never outlive their test."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import AsyncIterator

import pytest

from tests.runners.test_runner_process import RunnerProcess


@pytest.fixture
async def runner_process() -> AsyncIterator[list[RunnerProcess]]:
    """Runner processes (and the apps they start) that are gone after the test."""
    made: list[RunnerProcess] = []
    yield made
    for runner in made:
        if runner.process is not None and runner.process.returncode is None:
            runner.process.kill()
            await runner.process.wait()
        # The script's starts, and the process groups the real executor keeps in apps.json.
        for pid in runner.starts() + runner.groups():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
