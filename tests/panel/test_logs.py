"""The logs page in a real browser: the live tail, filters, pause, a burst, history, files."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any

from playwright.async_api import Page, expect

from kenkogo_master.observability import log_context
from kenkogo_master.observability.log_files import log_dir
from kenkogo_master.observability.log_records import LogEntry, to_json_line
from tests.conftest import RunningMaster, StartMaster
from tests.panel.conftest import PHONE, PanelPage, sign_in
from tests.support.clients import SioApp

log = logging.getLogger("kenkogo_master.paneltest")
log.setLevel(logging.DEBUG)  # whatever the root's level: the test decides what it logs

ROWS = ".tab-panel:not([hidden]) .log-list .log-row:not([hidden])"


async def open_logs(panel: PanelPage) -> Page:
    """Sign in, open the logs page and wait until its tail is live."""
    page = panel.page
    await sign_in(panel)
    await expect(page.get_by_role("heading", name="Account")).to_be_visible()
    await page.get_by_role("link", name="Logs").click()
    await expect(page.get_by_role("heading", name="Logs")).to_be_visible()
    await expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible()
    return page


def shown_tab(page: Page) -> Any:
    """Return the tab panel in view (each tab has its own Level and Search fields)."""
    return page.locator(".tab-panel:not([hidden])")


def tail_rows(page: Page, text: str) -> Any:
    """Return the tail's rows that show `text`."""
    return page.locator(ROWS).filter(has_text=text)


async def test_live_tail_follows_filters_pauses_and_links(
    panel_master: RunningMaster, open_panel: Any
) -> None:
    panel: PanelPage = await open_panel(panel_master)
    page = await open_logs(panel)
    app = SioApp(panel_master.url)
    await app.connect()
    ack = await app.register("weather")
    assert ack["success"], ack
    try:
        # A record about an app shows up at once, with a link to that instance.
        bound = log_context.bind(app_id=ack["id"])
        log.warning("weather service answered slowly")
        log_context.unbind(bound)
        log.info("plain information line")
        row = tail_rows(page, "weather service answered slowly")
        await expect(row).to_have_count(1)
        await expect(row.locator(".log-level")).to_have_text("WARNING")
        await expect(tail_rows(page, "plain information line")).to_have_count(1)
        await panel.shot("logs-live-desktop-light")

        # The Master filters: at WARNING, information lines no longer arrive.
        await shown_tab(page).get_by_label("Level", exact=True).select_option("WARNING")
        await expect(tail_rows(page, "plain information line")).to_have_count(0)
        await expect(tail_rows(page, "weather service answered slowly")).to_have_count(1)
        log.info("an information line nobody asked for")
        log.error("a failure worth a look")
        await expect(tail_rows(page, "a failure worth a look")).to_have_count(1)
        await expect(tail_rows(page, "nobody asked for")).to_have_count(0)

        # Search: only records with the text.
        await shown_tab(page).get_by_label("Search", exact=True).fill("needle")
        await expect(tail_rows(page, "a failure worth a look")).to_have_count(0)
        log.warning("a haystack without it")
        log.warning("the NEEDLE in it")
        await expect(tail_rows(page, "the NEEDLE in it")).to_have_count(1)
        await expect(tail_rows(page, "haystack")).to_have_count(0)
        await shown_tab(page).get_by_label("Search", exact=True).fill("")
        await shown_tab(page).get_by_label("Level", exact=True).select_option("INFO")
        await expect(tail_rows(page, "plain information line")).to_have_count(1)

        # Pause: records are held, not shown; resume shows them.
        await page.get_by_role("button", name="Pause").click()
        for number in range(5):
            log.info("held while paused %d", number)
        status = page.get_by_role("status").filter(has_text="Paused")
        await expect(status).to_contain_text("5 new records")
        await expect(tail_rows(page, "held while paused")).to_have_count(0)
        await page.get_by_role("button", name="Resume").click()
        await expect(tail_rows(page, "held while paused")).to_have_count(5)

        # A record opens in full; its app link leads to the instance's page.
        await tail_rows(page, "weather service answered slowly").click()
        detail = page.locator(".log-detail")
        await expect(detail).to_contain_text(ack["id"])
        await expect(detail.locator("pre")).to_have_text("weather service answered slowly")
        await panel.shot("logs-record-desktop-light")
        await page.emulate_media(color_scheme="dark")
        await expect(page.locator("html")).to_have_attribute("data-theme", "dark")
        await panel.shot("logs-record-desktop-dark")
        await detail.get_by_role("button", name="Only these").click()
        await expect(tail_rows(page, "plain information line")).to_have_count(0)
        await expect(tail_rows(page, "weather service answered slowly")).to_have_count(1)
        await tail_rows(page, "weather service answered slowly").locator("a.log-chip").click()
        await expect(page.get_by_role("heading", name="weather")).to_be_visible()
        assert page.url.endswith(f"#/apps/instance/{ack['id']}")
    finally:
        await app.close()
    await panel.assert_clean()


async def publish_burst(total: int, per_second: int) -> None:
    """Log `total` records at `per_second` from the server's side, in 20 ms steps."""
    step = max(1, per_second // 50)
    started = time.monotonic()
    for number in range(total):
        log.info("burst record %05d with some words to make it a realistic line", number)
        if number % step == step - 1:
            # Keep the pace against the clock, not the sleeps: the loop is busy serving too.
            due = started + (number + 1) / per_second
            await asyncio.sleep(max(0.0, due - time.monotonic()))


async def test_a_burst_keeps_the_dom_and_the_buffer_bounded_and_the_page_responsive(
    panel_master: RunningMaster, open_panel: Any
) -> None:
    panel: PanelPage = await open_panel(panel_master)
    page = await open_logs(panel)
    await page.evaluate(
        """() => {
        window.__longTasks = [];
        new PerformanceObserver((list) => {
          for (const entry of list.getEntries()) window.__longTasks.push(entry.duration);
        }).observe({ type: "longtask", buffered: false });
    }"""
    )
    # 6 000 records at 1 000 a second: ten times the rate, past the 5 000 kept.
    burst = asyncio.create_task(publish_burst(6000, 1000))
    answers: list[float] = []
    while not burst.done():
        started = time.monotonic()
        await page.evaluate("document.querySelectorAll('.log-row').length")
        answers.append(time.monotonic() - started)
        await asyncio.sleep(0.25)
    await burst
    status = page.get_by_role("status").filter(has_text="records in view")
    await expect(status).to_have_text(
        "5,000 records in view (the newest 5,000 are kept).", timeout=15000
    )
    await expect(tail_rows(page, "burst record 05999")).to_have_count(1)  # it follows the end
    rows = await page.evaluate("document.querySelectorAll('.log-row').length")
    assert rows <= 60, rows  # the rows in view and a few more, not 5 000
    assert max(answers) < 1.0, answers
    # Scrolled up, the view stays put while more arrive, and offers the way back.
    await shown_tab(page).locator(".log-list").evaluate("(list) => { list.scrollTop = 0; }")
    first = await page.locator(ROWS).first.inner_text()
    await publish_burst(300, 1000)
    newest = page.get_by_role("button", name="Newest (300 new)")
    await expect(newest).to_be_visible()
    assert await page.locator(ROWS).first.inner_text() != first  # older rows left the buffer
    await page.get_by_role("button", name="Pause").click()  # still answers at once
    await expect(page.get_by_role("button", name="Resume")).to_be_visible(timeout=1000)
    await newest.click()
    await expect(tail_rows(page, "burst record 00299")).to_have_count(1)
    long_tasks = await page.evaluate("window.__longTasks")
    assert max(long_tasks, default=0) < 200, long_tasks
    await panel.shot("logs-burst-desktop-light")
    await panel.assert_clean()


def write_log_file(path: Path, entries: list[LogEntry]) -> bytes:
    """Write JSON lines as the Master's file handler does; return the bytes."""
    data = b"".join(to_json_line(entry) + b"\n" for entry in entries)
    path.write_bytes(data)
    return data


async def test_history_reads_the_files_page_by_page_and_the_files_download(
    start_master: StartMaster, open_panel: Any, tmp_path: Path
) -> None:
    master = await start_master(logging__file="true")
    folder = log_dir(master.settings.storage.data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    now = int(time.time() * 1000) - 3_600_000
    older = [
        LogEntry(now + i, "WARNING", "kenkogo_master.hub", f"rotated record {i:03d}")
        for i in range(450)
    ]
    current = [
        LogEntry(now + 500_000 + i, "INFO", "kenkogo_master.api", f"current record {i}")
        for i in range(20)
    ]
    rotated_bytes = write_log_file(folder / "master.log.1", older)
    write_log_file(folder / "master.log", current)

    panel: PanelPage = await open_panel(master)
    page = panel.page
    await sign_in(panel)
    await panel.goto("/logs")
    await page.get_by_role("tab", name="History").click()
    history = page.locator(".tab-panel:not([hidden])")
    await history.get_by_label("Search").fill("rotated record")
    await history.get_by_role("button", name="Search").click()
    status = history.get_by_role("status")
    await expect(status).to_have_text("200 records found.")
    await expect(history.locator(".log-row").first).to_contain_text("rotated record 449")
    await history.get_by_role("button", name="Older records").click()
    await expect(status).to_have_text("400 records found.")
    await history.get_by_role("button", name="Older records").click()
    await expect(status).to_have_text("450 records found.")
    await expect(history.get_by_role("button", name="Older records")).to_be_hidden()
    # Bad input is said, not swallowed.
    await history.get_by_label("From").fill("2026-01-02T00:00:00")
    await history.get_by_label("Until").fill("2026-01-01T00:00:00")
    await history.get_by_role("button", name="Search").click()
    await expect(page.get_by_role("alert")).to_contain_text("since")
    await panel.shot("logs-history-desktop-light")

    await page.get_by_role("tab", name="Files").click()
    row = page.locator("tr[data-file='master.log.1']")
    await expect(row).to_be_visible()
    await expect(page.locator("tr[data-file='master.log']")).to_contain_text("current")
    async with page.expect_download() as waiting:
        await row.get_by_role("link", name="Download").click()
    download = await waiting.value
    saved = tmp_path / "downloaded.log"
    await download.save_as(saved)
    assert saved.read_bytes() == rotated_bytes
    await panel.shot("logs-files-desktop-light")
    problems = [p for p in panel.problems if "status of 400" not in p]
    assert problems == [], problems
    assert await panel.csp_violations() == []


async def test_logs_in_the_dark_at_360_px_and_in_chinese(
    panel_master: RunningMaster, open_panel: Any
) -> None:
    panel: PanelPage = await open_panel(panel_master, viewport=PHONE)
    page = panel.page
    await page.emulate_media(color_scheme="dark")
    await sign_in(panel)
    await panel.goto("/logs")
    await expect(page.get_by_role("heading", name="Logs")).to_be_visible()
    await expect(page.get_by_role("status").filter(has_text="Live")).to_be_attached()
    for number in range(30):
        log.log(logging.ERROR if number % 7 == 0 else logging.INFO, "phone line %d", number)
    await expect(tail_rows(page, "phone line 29")).to_have_count(1)
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await panel.shot("logs-live-phone-dark")
    await page.get_by_label("Language").select_option("zh_Hans")
    await expect(page.get_by_role("heading", name="日志")).to_be_visible()
    await expect(page.get_by_role("tab", name="历史")).to_be_visible()
    await page.get_by_role("tab", name="文件").click()
    await panel.shot("logs-files-phone-dark-zh")
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await panel.assert_clean()
