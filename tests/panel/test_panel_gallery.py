"""Every page in both themes and at both widths: saved as screenshots, and none overflows."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from tests.conftest import RunningMaster
from tests.panel.conftest import DESKTOP, PHONE, PanelPage, sign_in
from tests.support.clients import SioApp
from tests.support.flow_clients import SioDriver


async def some_traffic(master: RunningMaster) -> tuple[SioApp, SioDriver]:
    """An app, a driver and a few messages, so that the pages have something to show."""
    app = SioApp(master.url)

    async def on_message(data: dict[str, Any]) -> Any:
        return {"reply": "sunny"}

    app.client.on("message", on_message, namespace="/app")
    await app.connect()
    await app.register("weather", subscribe={"commands": ["/weather", "/w"]})
    driver = await SioDriver(master.url).connect()
    await driver.register()
    for n in range(12):
        sender = {"id": str(n % 4), "name": ["Alice", "Bob", "Chen", "Daichi"][n % 4]}
        await driver.send(
            f"/weather city {n}", sender=sender, chat={"type": "group", "id": str(100 + n % 3)}
        )
    return app, driver


@pytest.mark.parametrize("width", ["desktop", "phone"])
async def test_every_page_in_both_themes(
    panel_master: RunningMaster, open_panel: Any, width: str
) -> None:
    app, driver = await some_traffic(panel_master)
    viewport = DESKTOP if width == "desktop" else PHONE
    panel: PanelPage = await open_panel(panel_master, viewport=viewport)
    page = panel.page
    instance = (await panel_master.api("GET", "/api/v1/apps"))[1]["items"][0]["id"]
    pages = {
        "login": ("/login", "Sign in"),
        "dashboard": ("/", "Dashboard"),
        "apps": ("/apps", "Apps"),
        "instance": (f"/apps/instance/{instance}", "weather"),
        "app-name": ("/apps/name/weather", "weather"),
        "account": ("/account", "Account"),
    }
    for theme in ("light", "dark"):
        await page.emulate_media(color_scheme=theme)
        for name, (route, heading) in pages.items():
            sign_out = page.get_by_role("button", name="Sign out")
            if name == "login" and await sign_out.count():
                await sign_out.click()
                # Signed out once the Master answered: a sign-in racing ahead would have its
                # new cookie cleared by that answer.
                await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
            elif name != "login" and "#/login" in page.url:
                await sign_in(panel)
            await panel.goto(route)
            await expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
            await expect(page.locator("html")).to_have_attribute("data-theme", theme)
            await page.wait_for_timeout(400)  # let charts take their data
            overflow = await page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{name} is {overflow}px wider than the {width} screen"
            await panel.shot(f"{name}-{width}-{theme}")
    await app.close()
    await driver.close()
    await panel.assert_clean()
