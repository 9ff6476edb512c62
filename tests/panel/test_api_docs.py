"""Swagger UI at /api/v1/docs: served from the installed package, under the CSP, and "try it
out" works through the panel's session (the CSRF header added by the request interceptor)."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from tests.conftest import RunningMaster
from tests.panel.conftest import PanelPage, sign_in
from tests.support.clients import SioApp


async def test_try_it_out_changes_state_through_the_session(
    panel_master: RunningMaster, open_panel: Any
) -> None:
    app = SioApp(panel_master.url)
    await app.connect()
    await app.register("weather")
    assert (await app.next_state())["state"] == "scheduling"
    panel: PanelPage = await open_panel(panel_master)
    page = panel.page
    await sign_in(panel)
    await page.goto(panel_master.url + "/api/v1/docs")
    await expect(page.locator("#api-docs-session")).to_contain_text("signed in as admin")
    hold = page.locator("#operations-apps-hold_name")
    await expect(hold).to_be_visible()
    await panel.shot("api-docs-desktop-light")
    await hold.locator(".opblock-summary").click()
    await hold.get_by_role("button", name="Try it out").click()
    await hold.locator("input[placeholder='name']").fill("weather")
    await hold.get_by_role("button", name="Execute").click()
    status = hold.locator(".live-responses-table .response .response-col_status").first
    await expect(status).to_have_text("200")
    assert (await app.next_state())["state"] == "paused"  # it really changed
    await panel.shot("api-docs-try-it-out")
    await app.close()
    await panel.assert_clean()
