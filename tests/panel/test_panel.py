"""The panel in a real browser: sign-in, lock-out, first start, apps live, language, theme."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from playwright.async_api import expect

from tests.conftest import RunningMaster, StartMaster
from tests.panel.conftest import PHONE, PanelPage, admin_password, sign_in
from tests.support.clients import SioApp

# What a browser reports for refusals a test provokes on purpose.
REFUSED = re.compile(r"^console: Failed to load resource: .* status of (401|429)")


async def registered_app(master: RunningMaster, name: str, **fields: Any) -> SioApp:
    """Connect an app over Socket.IO and register it; return it once it is scheduling."""
    app = SioApp(master.url)
    await app.connect()
    ack = await app.register(name, **fields)
    assert ack["success"], ack
    assert (await app.next_state())["state"] == "scheduling"
    return app


async def test_sign_in_lock_out_then_first_start_password_change(
    start_master: StartMaster, open_panel: Any
) -> None:
    master = await start_master(
        admin__login_free_attempts="1",
        admin__login_max_attempts="2",
        admin__login_delay="0",
        admin__lockout="3",
    )
    panel: PanelPage = await open_panel(master)
    page = panel.page
    await panel.goto("/apps")  # not signed in: the sign-in page, and nothing else
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert "#/login" in page.url
    await panel.shot("login-desktop-light")
    password = page.get_by_label("Password")
    submit = page.get_by_role("button", name="Sign in")
    alert = page.get_by_role("alert")
    for _ in range(2):
        await password.fill("not the password")
        await submit.click()
        await expect(alert).to_have_text("Wrong account or password.")
    await password.fill("not the password")
    await submit.click()
    await expect(alert).to_contain_text("Too many failed sign-ins. Try again in")
    await expect(submit).to_be_disabled()
    await panel.shot("login-locked-out")
    # The countdown ends with the lock-out; then the right password works.
    await expect(submit).to_be_enabled(timeout=8000)
    await password.fill(admin_password(master))
    await submit.click()
    # The generated password: the account page says so before anything else.
    await expect(page.get_by_role("heading", name="Account")).to_be_visible()
    note = page.get_by_role("note")
    await expect(note).to_contain_text("Change the generated password")
    await panel.shot("account-first-start")
    await page.get_by_label("Current password").fill(admin_password(master))
    await page.get_by_label("New password", exact=True).fill("a much better password")
    await page.get_by_label("New password again").fill("a much better passwort")
    await page.get_by_role("button", name="Change the password").click()
    await expect(alert).to_have_text("The two new passwords differ.")
    await page.get_by_label("New password again").fill("a much better password")
    await page.get_by_role("button", name="Change the password").click()
    await expect(
        page.get_by_role("status").filter(has_text="The password was changed")
    ).to_be_visible()
    await expect(note).to_have_count(0)
    assert not (master.settings.storage.data_dir / "admin-password").exists()
    # Signing out and in again with the new password leads to the dashboard.
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await sign_in(panel, "a much better password")
    await expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    assert [problem for problem in panel.problems if not REFUSED.match(problem)] == []
    assert await panel.csp_violations() == []


async def test_apps_appear_live_and_obey_pause_resume_and_kick(
    panel_master: RunningMaster, open_panel: Any
) -> None:
    panel: PanelPage = await open_panel(panel_master)
    page = panel.page
    await sign_in(panel)
    await expect(page.get_by_role("heading", name="Account")).to_be_visible()
    await panel.goto("/apps")
    await expect(page.get_by_text("No app is connected.")).to_be_visible()
    await expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible()
    # An app connects while the page is open: it shows up as scheduling, without a reload.
    app = await registered_app(panel_master, "weather", subscribe={"commands": ["/w"]}, priority=5)
    row = page.locator("tr[data-id]").filter(has_text="weather")
    await expect(row.locator(".badge-scheduling")).to_have_text("scheduling")
    await expect(row).to_contain_text("commands /w")
    await expect(row.locator("td").nth(4)).to_have_text("5")
    await panel.shot("apps-live-desktop")
    # Pause: the app hears `state: paused`; resume: `scheduling`.
    await row.get_by_role("button", name="Pause").click()
    assert (await app.next_state())["state"] == "paused"
    await expect(row.locator(".badge-paused")).to_have_text("paused")
    await row.get_by_role("button", name="Resume").click()
    assert (await app.next_state())["state"] == "scheduling"
    await expect(row.locator(".badge-scheduling")).to_be_visible()
    # Hold the name: the instance pauses; release it: it schedules again.
    names = page.locator("tr[data-name='weather']")
    await names.get_by_role("button", name="Hold").click()
    assert (await app.next_state())["state"] == "paused"
    await expect(names.locator(".badge-held")).to_be_visible()
    await names.get_by_role("button", name="Release").click()
    assert (await app.next_state())["state"] == "scheduling"
    # The instance's own page lists its transitions.
    await row.locator("a.mono").click()
    await expect(page.get_by_role("heading", name="weather")).to_be_visible()
    await expect(page.locator(".timeline li")).to_have_count(6)
    await panel.shot("instance-desktop")
    # Kick with a reason: the app is told why, and the row goes.
    await page.get_by_role("button", name="Kick").click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_label("Reason (optional)").fill("upgrading the host")
    await panel.shot("kick-dialog")
    await dialog.get_by_role("button", name="Kick").click()
    error = await app.next_error()
    assert error["code"] == "kicked"
    assert error["message"] == "Disconnected by an operator: upgrading the host"
    await app.wait_disconnected()
    await expect(page.locator(".badge-disconnected").first).to_be_visible()
    await panel.goto("/apps")
    await expect(page.get_by_text("No app is connected.")).to_be_visible()
    await app.close()
    await panel.assert_clean()


async def test_language_and_theme_follow_the_browser_then_the_choice(
    panel_master: RunningMaster, open_panel: Any
) -> None:
    panel: PanelPage = await open_panel(panel_master)
    page = panel.page
    await page.emulate_media(color_scheme="dark")
    await panel.goto("/login")
    await expect(page.locator("html")).to_have_attribute("data-theme", "dark")  # the system's
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()  # en-US browser
    await page.get_by_label("Language").select_option("zh_Hans")
    await expect(page.get_by_role("heading", name="登录")).to_be_visible()
    await expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    await page.get_by_label("密码").fill(admin_password(panel_master))
    await page.get_by_role("button", name="登录").click()
    await expect(page.get_by_role("heading", name="账户")).to_be_visible()
    await page.get_by_role("link", name="仪表盘").click()
    await expect(page.get_by_role("heading", name="仪表盘")).to_be_visible()
    await page.get_by_label("主题").select_option("light")
    await expect(page.locator("html")).to_have_attribute("data-theme", "light")
    await page.reload()  # both choices are kept
    await expect(page.get_by_role("heading", name="仪表盘")).to_be_visible()
    await expect(page.locator("html")).to_have_attribute("data-theme", "light")
    await page.get_by_label("语言").select_option("ja")
    await expect(page.get_by_role("heading", name="ダッシュボード")).to_be_visible()
    await expect(page.get_by_role("link", name="アプリ")).to_be_visible()
    await page.wait_for_timeout(500)
    await panel.shot("dashboard-desktop-ja")
    await page.get_by_role("link", name="アプリ").click()
    await expect(page.get_by_role("heading", name="アプリ", exact=True)).to_be_visible()
    await panel.shot("apps-desktop-ja")
    # Error messages from the Master follow the panel's language too.
    lang = await page.evaluate("document.documentElement.lang")
    answer = await page.request.get(
        panel_master.url + "/api/v1/apps/nope", headers={"Accept-Language": lang}
    )
    english = await page.request.get(panel_master.url + "/api/v1/apps/nope")
    assert (
        answer.status == 404
        and (await answer.json())["message"] != (await english.json())["message"]
    )
    await panel.assert_clean()


async def test_at_360_px_the_apps_page_is_one_column_and_works(
    panel_master: RunningMaster, open_panel: Any
) -> None:
    panel: PanelPage = await open_panel(panel_master, viewport=PHONE)
    page = panel.page
    await sign_in(panel)
    await expect(page.get_by_role("heading", name="Account")).to_be_visible()
    await panel.goto("/apps")
    app = await registered_app(panel_master, "echo")
    card = page.locator("tr[data-id]").filter(has_text="echo")
    await expect(card.locator(".badge-scheduling")).to_be_visible()
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await card.get_by_role("button", name="Pause").click()
    assert (await app.next_state())["state"] == "paused"
    await expect(card.locator(".badge-paused")).to_be_visible()
    await panel.shot("apps-live-phone")
    await page.keyboard.press("Tab")  # keyboard: the focus stays visible and inside the page
    await app.close()
    await panel.assert_clean()


async def test_the_dashboard_draws_live_samples(
    panel_master: RunningMaster, open_panel: Any
) -> None:
    panel: PanelPage = await open_panel(panel_master)
    page = panel.page
    await sign_in(panel)
    await panel.goto("/")
    cpu = page.locator("figure").filter(has_text="CPU")
    line = cpu.locator("path.chart-line").first
    await expect(line).to_have_attribute("d", re.compile(r"^M.*L.*L"))  # three samples and more
    before = await line.get_attribute("d")
    await asyncio.sleep(1.2)  # samples every 0.5 s arrive over the event stream
    assert await line.get_attribute("d") != before
    await cpu.locator(".chart-plot").hover()
    await expect(cpu.locator(".chart-tip")).to_contain_text("Machine:")
    await panel.assert_clean()
