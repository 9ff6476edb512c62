"""The Database page in a real browser: facts, maintenance and its 409, backup, retention, rows."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from playwright.async_api import expect

from kenkogo_master.keys import MAINTENANCE
from kenkogo_master.store.migrate import head_revision
from tests.conftest import RunningMaster
from tests.panel.conftest import ARTIFACTS, PHONE, PanelPage, sign_in
from tests.support.flow_clients import SioDriver

# The 409 the test provokes by holding the maintenance lock itself.
PROVOKED = re.compile(r"^console: Failed to load resource: .* status of 409")


async def some_messages(master: RunningMaster, count: int) -> None:
    """Messages from a driver, so that tables have rows."""
    driver = await SioDriver(master.url).connect()
    await driver.register()
    for n in range(count):
        await driver.send(f"hello {n}", sender={"id": str(n % 3), "name": "Alice"})
    await driver.close()


async def test_maintenance_backup_retention_prune_and_the_table_browser(
    panel_master: RunningMaster, open_panel: Any
) -> None:
    await some_messages(panel_master, 60)
    panel: PanelPage = await open_panel(panel_master)
    page = panel.page
    await sign_in(panel)
    await page.get_by_role("link", name="Database", exact=True).click()
    await expect(page.get_by_role("heading", name="Database", exact=True)).to_be_visible()
    facts = page.locator(".facts")
    await expect(facts).to_contain_text("sqlite")
    await expect(facts).to_contain_text(head_revision() or "")
    await expect(facts.locator(".badge")).to_have_text("newest")
    messages = page.locator("tr[data-table='messages']")
    await expect(messages.locator("td").nth(1)).to_have_text("60")
    # Integrity check: what ran and what it found.
    await page.get_by_role("button", name="Integrity check").click()
    result = page.locator(".db-result").first
    await expect(result).to_contain_text("Integrity check: done, no problems found")
    await expect(result).to_contain_text("PRAGMA integrity_check")
    await page.get_by_role("button", name="Vacuum").click()
    await expect(result).to_contain_text("Vacuum: done, no problems found")
    await expect(result).to_contain_text("Size before:")
    await panel.shot("database-desktop-light")
    # Another operation running: the Master answers 409 and the page says so.
    async with panel_master.app[MAINTENANCE].hold("backup"):
        await page.get_by_role("button", name="Analyze").click()
        await expect(result).to_contain_text("A database operation is running (backup)")
    await page.get_by_role("button", name="Analyze").click()
    await expect(result).to_contain_text("Analyze: done")
    # The backup downloads as a SQLite file.
    async with page.expect_download() as info:
        await page.get_by_role("link", name="Download a backup").click()
    download = await info.value
    assert download.suggested_filename.startswith("kenkogo-")
    assert Path(await download.path()).read_bytes()[:16] == b"SQLite format 3\x00"
    # Retention: change one, see it kept, reset it; a bad number is refused in the form.
    row = page.locator(".retention-row[data-policy='messages']")
    days = row.get_by_role("spinbutton")
    await days.fill("0")
    await page.get_by_role("button", name="Save retention").click()
    await expect(page.get_by_role("alert")).to_contain_text("Days must be a number above 0")
    await days.fill("30")
    await page.get_by_role("button", name="Save retention").click()
    await expect(row.locator(".badge")).to_have_text("changed here")
    status, retention = await panel_master.api("GET", "/api/v1/db/retention")
    assert status == 200
    assert {item["name"]: item["days"] for item in retention["items"]}["messages"] == 30
    await row.get_by_role("button", name=re.compile("^Back to")).click()
    await expect(row.locator(".badge")).to_have_count(0)
    for _ in range(50):  # the page may redraw before the reset's answer is read back
        status, retention = await panel_master.api("GET", "/api/v1/db/retention")
        assert status == 200
        if not {item["name"]: item["overridden"] for item in retention["items"]}["messages"]:
            break
        await asyncio.sleep(0.1)
    assert not {item["name"]: item["overridden"] for item in retention["items"]}["messages"]
    # Prune now, after making the audit trail's rows old enough to go.
    audit = page.locator(".retention-row[data-policy='audit']").get_by_role("spinbutton")
    await audit.fill("0.00001")  # about a second
    await page.get_by_role("button", name="Save retention").click()
    await expect(page.locator(".retention-row[data-policy='audit'] .badge")).to_be_visible()
    await asyncio.sleep(1.2)
    await page.get_by_role("button", name="Prune now").click()
    pruned = page.locator(".db-result").last
    await expect(pruned).to_contain_text(re.compile(r"Pruned [1-9]\d* rows"))
    await expect(pruned).to_contain_text("audit: ")
    await panel.shot("database-pruned")
    # The table browser: ordered by a column, paged, read-only.
    await messages.get_by_role("link", name="messages").click()
    await expect(page.get_by_role("heading", name="messages")).to_be_visible()
    await expect(page.get_by_text("60 rows, read-only")).to_be_visible()
    rows = page.locator("table.db-rows tbody tr")
    await expect(rows).to_have_count(50)
    await page.get_by_role("button", name="Next").click()
    await expect(rows).to_have_count(10)
    content = page.get_by_role("columnheader", name="content")
    await content.get_by_role("button").click()
    await expect(content).to_have_attribute("aria-sort", "ascending")
    await content.get_by_role("button").click()
    await expect(content).to_have_attribute("aria-sort", "descending")
    columns = await page.locator("table.db-rows thead th").all_inner_texts()
    index = [name.split(" ")[0] for name in columns].index("content")
    first = rows.first.locator("td").nth(index)
    await expect(first).to_have_text("hello 9")  # "hello 9" sorts last as text
    await panel.shot("database-table-desktop")
    await page.get_by_label("Order by").select_option("sender_id")  # as at phone width
    await expect(content).to_have_attribute("aria-sort", "none")
    await expect(page.get_by_role("columnheader", name="sender_id")).to_have_attribute(
        "aria-sort", "ascending"
    )
    await page.get_by_role("link", name="← Database").click()
    await expect(page.get_by_role("heading", name="Database", exact=True)).to_be_visible()
    assert [p for p in panel.problems if not PROVOKED.match(p)] == []
    assert await panel.csp_violations() == []


async def test_the_database_pages_at_360_px_in_both_themes_and_languages(
    panel_master: RunningMaster, open_panel: Any
) -> None:
    await some_messages(panel_master, 5)
    panel: PanelPage = await open_panel(panel_master, viewport=PHONE)
    page = panel.page
    await sign_in(panel)
    for theme in ("light", "dark"):
        await page.emulate_media(color_scheme=theme)
        for route, name in (("/database", "database"), ("/database/tables/messages", "table")):
            await panel.goto(route)
            await expect(page.locator("table tbody tr").first).to_be_visible()
            await page.wait_for_timeout(200)
            overflow = await page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{route} is {overflow}px too wide at 360 px ({theme})"
            await panel.shot(f"{name}-phone-{theme}")
            await page.screenshot(path=ARTIFACTS / f"{name}-phone-{theme}-screen.png")
    await panel.goto("/database")
    await page.get_by_label("Language").select_option("zh_Hans")
    await expect(page.get_by_role("heading", name="数据库", exact=True)).to_be_visible()
    await page.get_by_role("button", name="完整性检查").click()
    await expect(page.locator(".db-result").first).to_contain_text("完整性检查：完成，未发现问题")
    await panel.shot("database-phone-dark-zh_Hans")
    await page.get_by_label("语言").select_option("ja")
    await expect(page.get_by_role("heading", name="データベース", exact=True)).to_be_visible()
    await page.set_viewport_size({"width": 1280, "height": 860})
    await panel.shot("database-desktop-dark-ja")
    await panel.assert_clean()
