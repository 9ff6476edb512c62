"""The drivers page in a real browser: drivers live with their counts, and driver tokens."""

from __future__ import annotations

from typing import Any

import socketio
from playwright.async_api import expect

from tests.conftest import RunningMaster
from tests.panel.conftest import PHONE, PanelPage, sign_in
from tests.support.flow_clients import SioDriver, start_app

REFUSED = (
    "console: Failed to load resource: the server responded with a status of 400 (Bad Request)"
)


async def test_drivers_show_up_live_with_their_counts(
    panel_master: RunningMaster, open_panel: Any
) -> None:
    app = await start_app(panel_master.url, "echo", lambda m: {"reply": "echo"})
    panel: PanelPage = await open_panel(panel_master)
    page = panel.page
    await sign_in(panel)
    await panel.goto("/drivers")
    await expect(page.get_by_role("heading", name="Drivers", exact=True)).to_be_visible()
    await expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible()
    simulator = page.locator("tr[data-id]").filter(has_text="Simulator")
    await expect(simulator.locator(".badge")).to_have_text("connected")
    # A Socket.IO driver attaches while the page is open, then messages flow both ways.
    driver = await SioDriver(panel_master.url).connect()
    await driver.register(platform="qq", self_id="424242", name="QQ bot")
    row = page.locator("tr[data-id]").filter(has_text="QQ bot")
    await expect(row.locator("td").nth(1)).to_have_text("qq")
    await expect(row.locator("td").nth(2)).to_have_text("Socket.IO")
    await expect(row.locator(".badge")).to_have_text("connected")
    for n in range(3):
        await driver.send(f"hello {n}")
    await expect(row.locator("td").nth(5)).to_have_text("3")  # in
    await expect(row.locator("td").nth(6)).to_have_text("3")  # out: echo's replies
    await expect(row.locator("td").nth(7)).to_have_text("0")
    await panel.shot("drivers-desktop-light")
    # It leaves: the row stays, offline, with its counts.
    await driver.close()
    await expect(row.locator(".badge")).to_have_text("offline")
    await expect(row.locator("td").nth(5)).to_have_text("3")
    await app.close()
    await panel.assert_clean()


async def test_a_driver_token_is_shown_once_copied_used_and_deleted(
    panel_master: RunningMaster, open_panel: Any
) -> None:
    panel: PanelPage = await open_panel(panel_master)
    page = panel.page
    await page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    await sign_in(panel)
    await panel.goto("/drivers")
    await expect(page.get_by_text("No driver token yet.")).to_be_visible()
    # Bad input: a name of spaces only is refused by the Master, and the page says so.
    await page.get_by_label("New token's name").fill("   ")
    await page.get_by_role("button", name="Create a token").click()
    await expect(page.get_by_role("alert")).to_contain_text("name")
    await page.get_by_label("New token's name").fill("napcat at home")
    await page.get_by_role("button", name="Create a token").click()
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_contain_text("it is shown only this once")
    secret = await dialog.get_by_label("Token").input_value()
    assert len(secret) > 20
    await dialog.get_by_role("button", name="Copy").click()
    await expect(dialog.get_by_role("status")).to_have_text("Copied.")
    assert await page.evaluate("navigator.clipboard.readText()") == secret
    await panel.shot("driver-token-secret")
    await dialog.get_by_role("button", name="Done").click()
    await expect(dialog).to_have_count(0)
    token_row = page.locator("tr[data-token]").filter(has_text="napcat at home")
    await expect(token_row).to_contain_text("never")
    assert secret not in await page.content()  # shown once, never again
    # The secret works for a driver; deleting the token disconnects it.
    driver = await SioDriver(panel_master.url).connect(secret)
    assert (await driver.register(platform="qq", self_id="7"))["success"]
    await token_row.get_by_role("button", name="Delete").click()
    confirm = page.get_by_role("dialog")
    await expect(confirm).to_contain_text("Delete the token “napcat at home”?")
    await confirm.get_by_role("button", name="Delete").click()
    await expect(token_row).to_have_count(0)
    await driver.disconnected.wait()
    refused = SioDriver(panel_master.url)
    try:
        await refused.connect(secret)
        raise AssertionError("a deleted token still attaches")
    except socketio.exceptions.ConnectionError:
        pass
    await driver.close()
    assert panel.problems == [REFUSED], panel.problems
    assert await panel.csp_violations() == []


async def test_drivers_at_360_px_in_both_themes(
    panel_master: RunningMaster, open_panel: Any
) -> None:
    driver = await SioDriver(panel_master.url).connect()
    await driver.register(platform="qq", self_id="10001", name="A bot with a long name for phones")
    status, _ = await panel_master.api("POST", "/api/v1/driver-tokens", json={"name": "phone"})
    assert status == 201
    panel: PanelPage = await open_panel(panel_master, viewport=PHONE)
    page = panel.page
    await sign_in(panel)
    for theme in ("light", "dark"):
        await page.emulate_media(color_scheme=theme)
        await panel.goto("/drivers")
        await expect(page.locator("tr[data-id]")).to_have_count(2)
        await expect(page.locator("tr[data-token]")).to_have_count(1)
        overflow = await page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"drivers is {overflow}px wider than the screen"
        await panel.shot(f"drivers-phone-{theme}")
    await driver.close()
    await panel.assert_clean()
