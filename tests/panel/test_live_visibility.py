"""The event stream pauses with the tab: nothing drawn while hidden, all of it caught up when shown.

Headless Chromium never hides a tab by itself, so the test does what the browser does when the
operator switches tabs: document.visibilityState and document.hidden say "hidden" and a
visibilitychange event fires (and the other way round).
"""

from __future__ import annotations

import asyncio
from typing import Any

from playwright.async_api import Page, expect

from tests.conftest import RunningMaster
from tests.panel.conftest import PanelPage, sign_in
from tests.support.flow_clients import SioDriver

GRACE_S = 5  # live.js keeps the stream this long after the tab is hidden (HIDDEN_GRACE_MS)

SET_VISIBILITY = """(state) => {
  Object.defineProperty(document, "visibilityState", { configurable: true, get: () => state });
  Object.defineProperty(document, "hidden", { configurable: true, get: () => state === "hidden" });
  document.dispatchEvent(new Event("visibilitychange"));
}"""
# Count every change to the page's content (the shell's live status is outside <main>).
WATCH_MAIN = """() => {
  window.__drawn = 0;
  const all = { subtree: true, childList: true, characterData: true, attributes: true };
  new MutationObserver((changes) => { window.__drawn += changes.length; }).observe(
    document.getElementById("main"), all);
}"""


async def live_status(page: Page) -> str:
    """Return the shell's live status: idle, connecting, live or paused."""
    status: str = await page.locator(".live-status").get_attribute("data-status") or ""
    return status


async def test_a_hidden_tab_draws_nothing_closes_its_stream_and_catches_up_when_shown(
    panel_master: RunningMaster, open_panel: Any
) -> None:
    driver = await SioDriver(panel_master.url).connect()
    assert (await driver.register())["success"]
    try:
        panel: PanelPage = await open_panel(panel_master)
        page = panel.page
        await sign_in(panel)
        await panel.goto("/messages")
        await expect(page.locator(".live-status")).to_have_attribute("data-status", "live")
        await asyncio.sleep(1)  # the page reloads its list once the stream is ready: let it
        for n in range(3):
            await driver.send(f"before {n}")
        arrivals = page.locator(".arrivals")
        await expect(arrivals).to_have_text("3 new · show")

        await page.evaluate(WATCH_MAIN)
        await page.evaluate(SET_VISIBILITY, "hidden")
        # Within the grace the stream stays open, yet what arrives is held, not drawn ...
        for n in range(5):
            await driver.send(f"in the grace {n}")
        await asyncio.sleep(1)
        assert await live_status(page) == "live"
        # ... and after it the stream is closed: what comes now the Master keeps.
        await expect(page.locator(".live-status")).to_have_attribute(
            "data-status", "paused", timeout=(GRACE_S + 5) * 1000
        )
        for n in range(4):
            await driver.send(f"while paused {n}")
        await asyncio.sleep(1.5)
        assert await page.evaluate("window.__drawn") == 0
        await expect(arrivals).to_have_text("3 new · show")

        # Shown again: the held events are drawn and the stream resumes from the last event id,
        # so the messages sent while it was closed are counted too — nothing missed.
        await page.evaluate(SET_VISIBILITY, "visible")
        await expect(page.locator(".live-status")).to_have_attribute("data-status", "live")
        await expect(arrivals).to_have_text("12 new · show")
        await driver.send("after")
        await expect(arrivals).to_have_text("13 new · show")
        await arrivals.click()
        await expect(page.locator("tbody tr[data-id]").first).to_contain_text("after")
        await expect(page.locator("tbody tr[data-id]").nth(1)).to_contain_text("while paused 3")
        await panel.assert_clean()
    finally:
        await driver.close()


async def test_the_dashboard_stops_drawing_samples_while_hidden_and_resumes_when_shown(
    panel_master: RunningMaster, open_panel: Any
) -> None:
    # The dashboard draws each system sample (two a second here) as it comes: no page-side
    # throttle hides what the stream hands over.
    panel: PanelPage = await open_panel(panel_master)
    page = panel.page
    await sign_in(panel)
    await panel.goto("/")
    await expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    await expect(page.locator(".live-status")).to_have_attribute("data-status", "live")
    await page.evaluate(WATCH_MAIN)
    await asyncio.sleep(1.5)
    assert await page.evaluate("window.__drawn") > 0  # it does draw while shown
    await page.evaluate(SET_VISIBILITY, "hidden")
    await page.evaluate("window.__drawn = 0")
    await asyncio.sleep(2)  # within the grace: the stream is open, samples keep coming
    assert await live_status(page) == "live"
    assert await page.evaluate("window.__drawn") == 0
    await expect(page.locator(".live-status")).to_have_attribute(
        "data-status", "paused", timeout=(GRACE_S + 5) * 1000
    )
    assert await page.evaluate("window.__drawn") == 0
    await page.evaluate(SET_VISIBILITY, "visible")
    await expect(page.locator(".live-status")).to_have_attribute("data-status", "live")
    await page.wait_for_function("window.__drawn > 0")
    await panel.assert_clean()
