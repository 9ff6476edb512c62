"""The README's pictures of the panel: apps, messages, a message with its trace, why, and logs.

Each page is shot at desktop size in the light and the dark theme, after it shows what it is
for. The pictures go to test-artifacts/panel/readme/; with KENKOGO_README_SHOTS=1 they replace
the ones under docs/ that the README shows:

    KENKOGO_README_SHOTS=1 .venv/bin/python -m pytest tests/panel/test_readme_shots.py
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from playwright.async_api import expect

from tests.conftest import StartMaster
from tests.panel.conftest import ARTIFACTS, PanelPage, sign_in
from tests.panel.test_messages import weather_and_echo
from tests.support.flow_clients import SioDriver, start_app

DOCS = Path(__file__).resolve().parents[2] / "docs"
VIEW = {"width": 1280, "height": 800}


def shots_dir() -> Path:
    """Return where the pictures go: docs/ when asked to, else the test artefacts."""
    where = DOCS if os.environ.get("KENKOGO_README_SHOTS") == "1" else ARTIFACTS / "readme"
    where.mkdir(parents=True, exist_ok=True)
    return where


async def test_readme_pictures_of_the_panel(start_master: StartMaster, open_panel: Any) -> None:
    master = await start_master(
        traces__sample_ratio="1",  # every message keeps its spans: the waterfall is recorded
        stats__system_interval="0.5",
        drivers__tokens='["driver-token"]',
    )
    weather, echo = await weather_and_echo(master)
    others = [
        await start_app(master.url, "dice", lambda m: {}, subscribe={"commands": ["/roll"]}),
        await start_app(master.url, "translate", lambda m: {}, priority=20),
    ]
    driver = await SioDriver(master.url).connect()
    assert (await driver.register(platform="qq", self_id="10001"))["success"]
    senders = [{"id": "1001", "name": "Alice"}, {"id": "1002", "name": "Bob"}]
    chats = [{"type": "group", "id": "123", "name": "Friends"}, {"type": "private", "id": "1002"}]
    texts = ["/roll 2d6", "echo good morning", "hello everyone", "/weather Tokyo"]
    ids = []
    for n, text in enumerate(texts * 3):
        ack = await driver.send(text, chat=chats[n % 2], sender=senders[n % 2])
        ids.append(ack["id"])
    weather_id = ids[-1]
    panel: PanelPage = await open_panel(master, viewport=VIEW)
    page = panel.page
    await sign_in(panel)
    where = shots_dir()
    pages = {
        "apps": ("/apps", "Apps", page.locator("tr[data-id]").nth(3)),
        "messages": ("/messages", "Messages", page.locator("tr[data-id]").nth(11)),
        "message": (f"/messages/{weather_id}", "Message", page.locator(".wf-row").nth(3)),
        "why": (
            f"/messages/{weather_id}/why?app=echo",
            "Why did an app (not) get a message?",
            page.locator(".why-answer").filter(has_text="keywords"),  # echo: no match
        ),
        "logs": ("/logs", "Logs", page.locator(".log-row").nth(5)),
    }
    try:
        for theme in ("light", "dark"):
            await page.emulate_media(color_scheme=theme)
            for name, (route, heading, shown) in pages.items():
                await panel.goto(route)
                await expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
                await expect(shown).to_be_visible()
                await expect(page.locator("html")).to_have_attribute("data-theme", theme)
                await page.wait_for_timeout(300)  # fonts and the last live update
                await page.screenshot(path=str(where / f"panel-{name}-{theme}.png"))
    finally:
        for app in (weather, echo, *others):
            await app.close()
        await driver.close()
    await panel.assert_clean()
