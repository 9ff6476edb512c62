"""The example apps, run as a user runs them (`python -m kenkogo_master.sdk.run`, `node`), against
the real Master, driven by a real driver."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunningMaster, StartMaster
from tests.support.flow_clients import SioDriver, start_app
from tests.support.proxy import TcpProxy
from tests.support.waiting import eventually

REPO = Path(__file__).resolve().parents[2]
JS_DIR = REPO / "examples" / "js"
TOKEN = "driver-token"


class Child:
    """An example app running in a child process, its output collected."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.output: list[str] = []
        assert process.stdout is not None
        self._reader = asyncio.create_task(self._collect(process.stdout))

    async def _collect(self, stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            self.output.append(line.decode(errors="replace"))

    @property
    def text(self) -> str:
        """Return what the process wrote so far (stdout and stderr)."""
        return "".join(self.output)

    async def stop(self, timeout: float = 10) -> int:
        """SIGTERM the process and return its exit code; fail if it does not exit in time."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            raise AssertionError(f"no exit within {timeout} s of SIGTERM:\n{self.text}") from None
        await self._reader
        return code


@asynccontextmanager
async def child(
    args: Sequence[str], cwd: Path = REPO, env: Mapping[str, str] | None = None
) -> AsyncIterator[Child]:
    """Run `args`; make sure the process is gone afterwards."""
    process = await asyncio.create_subprocess_exec(
        *args,
        cwd=cwd,
        env=dict(env) if env is not None else None,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    running = Child(process)
    try:
        yield running
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def run_example(spec: str, url: str) -> list[str]:
    """Return the command that runs an example app against `url`."""
    return [sys.executable, "-m", "kenkogo_master.sdk.run", spec, "--url", url]


async def registered(master: RunningMaster, name: str, app: Child) -> str:
    """Wait until an instance of `name` is scheduling; return its id."""

    async def probe() -> list[dict[str, Any]]:
        if app.process.returncode is not None:
            raise AssertionError(f"{name} exited early:\n{app.text}")
        status, body = await master.api("GET", f"/api/v1/apps?name={name}&state=scheduling")
        assert status == 200, body
        items: list[dict[str, Any]] = body["items"]
        return items

    items = await eventually(probe, bool, timeout=20)
    instance: str = items[0]["id"]
    return instance


@pytest.fixture
async def master(start_master: StartMaster) -> RunningMaster:
    """A Master that accepts the test driver."""
    return await start_master(drivers__tokens=f'["{TOKEN}"]')


@pytest.fixture
async def driver(master: RunningMaster) -> AsyncIterator[SioDriver]:
    """A registered qq driver whose chats speak English unless an event says otherwise."""
    client = await SioDriver(master.url).connect(TOKEN)
    assert (await client.register("qq", "10001", name="bot", locale="en"))["success"]
    yield client
    await client.close()


async def test_echo_answers_and_a_sigterm_disconnects_it_cleanly(
    master: RunningMaster, driver: SioDriver
) -> None:
    async with child(run_example("examples.echo:app", master.url)) as echo:
        instance = await registered(master, "echo", echo)
        await driver.send("/echo hello there")
        assert (await driver.next_action())["content"] == "hello there"
        assert await echo.stop() == 0, echo.text

    status, body = await master.api("GET", f"/api/v1/apps/{instance}")
    assert status == 200 and body["state"] == "disconnected"
    assert "registered at" in echo.text and "SIGTERM: stopping" in echo.text


async def test_weather_answers_in_each_chats_language_and_blocks_lower_apps(
    master: RunningMaster, driver: SioDriver, closing: list[Any]
) -> None:
    lower = await start_app(master.url, "lower", subscribe={"commands": ["/weather"]})
    closing.append(lower)
    asked = [
        ("/weather Tokyo", "en", "Tokyo: 12.25 °C, humidity 61%"),
        ("天气 北京", "zh_Hans", "北京：3.5 °C，湿度 28%"),
        ("天気 東京", "ja", "東京：12.25 °C、湿度 61%"),
        ("/weather Atlantis", "en", "I have no weather for Atlantis."),
        ("天气 火星", "zh_Hans", "没有 火星 的天气数据。"),
        ("/weather", "ja", "使い方：/weather <都市>"),
    ]
    async with child(run_example("examples.weather:app", master.url)) as weather:
        await registered(master, "weather", weather)
        for content, locale, answer in asked:
            await driver.send(content, locale=locale)
            action = await driver.next_action()
            assert action["content"] == answer, weather.text
        await lower.no_message(within=0.5)  # weather blocks its commands
        assert await weather.stop() == 0


async def test_the_keyword_logger_notes_only_messages_with_its_words(
    master: RunningMaster, driver: SioDriver, tmp_path: Path
) -> None:
    log_file = tmp_path / "keywords.jsonl"
    env = {**os.environ, "KEYWORD_LOG": str(log_file)}
    async with child(run_example("examples.keyword_logger:app", master.url), env=env) as logger:
        await registered(master, "keyword-logger", logger)
        sent = [
            await driver.send(text)
            for text in ("all fine", "found a bug here", "nothing to see", "程序崩溃了")
        ]

        async def lines() -> list[dict[str, Any]]:
            if not log_file.exists():
                return []
            return [json.loads(line) for line in log_file.read_text("utf-8").splitlines()]

        entries = await eventually(lines, lambda found: len(found) >= 2, timeout=10)
        assert [entry["id"] for entry in entries] == [sent[1]["id"], sent[3]["id"]]
        assert [entry["words"] for entry in entries] == [["bug"], ["崩溃"]]
        assert entries[1]["content"] == "程序崩溃了" and entries[1]["chat"] == "group:100"
        assert driver.actions.empty()  # it never replies
        assert await logger.stop() == 0
    assert "bug in group:100: found a bug here" in logger.text


def node_executable() -> str:
    """Return node, failing (never skipping) when it or the example's packages are missing."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed; the JavaScript example needs Node.js 18+")
    if not (JS_DIR / "node_modules" / "socket.io-client" / "package.json").is_file():
        pytest.fail("examples/js has no node_modules: run `npm ci --prefix examples/js`")
    return node


async def test_the_javascript_example_answers_and_resumes_after_a_dropped_link(
    master: RunningMaster, driver: SioDriver
) -> None:
    proxy = await TcpProxy(master.port).start()
    try:
        async with child([node_executable(), "echo.mjs", proxy.url], cwd=JS_DIR) as js:
            instance = await registered(master, "js-echo", js)
            await driver.send("/js hi there")
            assert (await driver.next_action())["content"] == "js: hi there"
            # The link drops: socket.io-client reconnects, and the app resumes its instance.
            await proxy.cut()
            await eventually(
                lambda: master.api("GET", f"/api/v1/apps/{instance}"),
                lambda answer: (
                    answer[1]["state"] == "scheduling"
                    and any(
                        step["reason_key"] == "state.resumed" for step in answer[1]["transitions"]
                    )
                ),
                timeout=15,
            )
            await driver.send("/js again")
            assert (await driver.next_action())["content"] == "js: again"
            assert await js.stop() == 0, js.text
    finally:
        await proxy.close()
    assert f"registered as {instance}" in js.text


async def test_an_app_the_master_refuses_exits_1_and_says_why(start_master: StartMaster) -> None:
    master = await start_master(apps__require_token="true", apps__tokens='["app-secret"]')
    command = [*run_example("examples.echo:app", master.url), "--token", "wrong"]
    async with child(command) as refused:
        code = await asyncio.wait_for(refused.process.wait(), 20)
        await refused.stop()
    assert code == 1, refused.text
    assert "error: the Master refused echo: unauthorized:" in refused.text

    command = [*run_example("examples.echo:app", master.url), "--token", "app-secret"]
    async with child(command) as accepted:
        await registered(master, "echo", accepted)
        assert await accepted.stop() == 0
