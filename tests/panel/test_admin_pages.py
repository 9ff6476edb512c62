"""The settings page in a real browser: API tokens, accounts, the configuration, the audit log."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Page, expect

from tests.conftest import ADMIN_TOKEN, RunningMaster
from tests.panel.conftest import PHONE, PanelPage, sign_in
from tests.support.browser import Browser

PASSWORD = "a long enough password"


async def open_settings(panel: PanelPage, tab: str) -> Page:
    """Sign in and open a tab of the settings page through the navigation."""
    page = panel.page
    await sign_in(panel)
    await expect(page.get_by_role("heading", name="Account")).to_be_visible()
    await page.get_by_role("link", name="Settings").click()
    await expect(page.get_by_role("heading", name="Settings", level=1)).to_be_visible()
    await page.get_by_role("link", name=tab).click()
    return page


async def assert_clean_but(panel: PanelPage, *statuses: int) -> None:
    """Assert no problem but the refusals the test provoked on purpose."""
    problems = [
        p for p in panel.problems if not any(f"status of {status}" in p for status in statuses)
    ]
    assert problems == [], problems
    assert await panel.csp_violations() == []


async def test_a_token_s_secret_is_shown_once_and_deleting_it_stops_it(
    panel_master: RunningMaster, open_panel: Any
) -> None:
    panel: PanelPage = await open_panel(panel_master)
    page = await open_settings(panel, "API tokens")
    await expect(page.get_by_text("No stored token.")).to_be_visible()
    await page.get_by_label("Name").fill("dashboard")
    await page.get_by_label("Scope").select_option("read")
    await page.get_by_role("button", name="Create the token").click()
    box = page.locator(".secret-box")
    await expect(box).to_contain_text("Copy it now: it is shown only this once.")
    secret = await box.locator(".secret-value").inner_text()
    row = page.locator("tr[data-token]").filter(has_text="dashboard")
    await expect(row).to_contain_text("read")
    await expect(row).to_contain_text("never")
    await panel.shot("settings-tokens-desktop-light")
    # The secret works, with the scope chosen.
    bearer = {"Authorization": f"Bearer {secret}"}
    async with panel_master.http.get(panel_master.url + "/api/v1/apps", headers=bearer) as r:
        assert r.status == 200
    async with panel_master.http.post(
        panel_master.url + "/api/v1/tokens", headers=bearer, json={"name": "x"}
    ) as r:
        assert r.status == 403
    # Once dismissed, or after a reload, it is nowhere on the page.
    await box.get_by_role("button", name="I have copied it").click()
    await expect(box).to_be_hidden()
    await page.reload()
    await expect(row).to_be_visible()
    assert secret not in await page.content()
    await row.get_by_role("button", name="Delete").click()
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_contain_text("Delete the token dashboard?")
    await dialog.get_by_role("button", name="Delete").click()
    await expect(page.get_by_text("No stored token.")).to_be_visible()
    async with panel_master.http.get(panel_master.url + "/api/v1/apps", headers=bearer) as r:
        assert r.status == 401
    await panel.assert_clean()


async def test_accounts_are_created_disabled_with_their_sessions_and_enabled(
    panel_master: RunningMaster, open_panel: Any
) -> None:
    panel: PanelPage = await open_panel(panel_master)
    page = await open_settings(panel, "Accounts")
    own = page.locator("tr[data-account='admin']")
    await expect(own).to_contain_text("you")
    await expect(own.get_by_role("link", name="Change your password")).to_be_visible()
    await expect(own.get_by_role("button", name="Disable")).to_have_count(0)

    await page.get_by_label("Name").fill("carol")
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_label("Password again").fill(PASSWORD + "!")
    await page.get_by_role("button", name="Create the account").click()
    await expect(page.get_by_role("alert")).to_have_text("The two passwords differ.")
    await page.get_by_label("Password", exact=True).fill("short")
    await page.get_by_label("Password again").fill("short")
    await page.get_by_role("button", name="Create the account").click()
    await expect(page.get_by_role("alert")).to_contain_text("at least")
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_label("Password again").fill(PASSWORD)
    await page.get_by_role("button", name="Create the account").click()
    await expect(page.get_by_role("status").filter(has_text="was created")).to_be_visible()
    carol_row = page.locator("tr[data-account='carol']")
    await expect(carol_row).to_contain_text("enabled")

    # Carol signs in elsewhere; disabling her account ends that session at once.
    carol = Browser(panel_master.url)
    try:
        status, _ = await carol.login("carol", PASSWORD)
        assert status == 200
        await carol_row.get_by_role("button", name="Disable").click()
        dialog = page.get_by_role("dialog")
        await expect(dialog).to_contain_text("its sessions end at once")
        await panel.shot("settings-accounts-disable-dialog")
        await dialog.get_by_role("button", name="Disable").click()
        await expect(page.get_by_role("status").filter(has_text="1 sessions ended")).to_be_visible()
        await expect(carol_row).to_contain_text("disabled")
        status, _ = await carol.call("GET", "/api/v1/auth/me")
        assert status == 401
        status, _ = await carol.login("carol", PASSWORD)
        assert status == 401
        await panel.shot("settings-accounts-desktop-light")
        await carol_row.get_by_role("button", name="Enable").click()
        await expect(carol_row).to_contain_text("enabled")
        status, _ = await carol.login("carol", PASSWORD)
        assert status == 200
    finally:
        await carol.close()
    await assert_clean_but(panel, 400)


async def test_the_configuration_masks_secrets_and_edits_run_time_keys_inline(
    panel_master: RunningMaster, open_panel: Any
) -> None:
    panel: PanelPage = await open_panel(panel_master)
    page = await open_settings(panel, "Configuration")
    token_row = page.locator("tr[data-key='api.token']")
    await expect(token_row).to_contain_text("********")
    await expect(token_row).to_contain_text("environment")
    await expect(token_row.locator("input")).to_have_count(0)
    assert ADMIN_TOKEN not in await page.content()
    port_row = page.locator("tr[data-key='server.port']")
    await expect(port_row).to_contain_text("restart to change")
    await expect(port_row.locator("input")).to_have_count(0)

    await page.get_by_label("Search keys").fill("apps.")
    await expect(port_row).to_have_count(0)
    row = page.locator("tr[data-key='apps.ack_timeout']")
    field = row.get_by_label("apps.ack_timeout")
    await expect(field).to_have_value("10")
    await field.fill("-1")
    await row.get_by_role("button", name="Save").click()
    await expect(row.get_by_role("alert")).to_contain_text("ack_timeout")
    await panel.shot("settings-config-refused-desktop-light")
    status, body = await panel_master.api("GET", "/api/v1/settings")
    assert status == 200
    assert next(i for i in body["items"] if i["key"] == "apps.ack_timeout")["value"] == 10.0

    await field.fill("2.5")
    await row.get_by_role("button", name="Save").click()
    row = page.locator("tr[data-key='apps.ack_timeout']")
    await expect(row).to_contain_text("changed here")
    await expect(row).to_contain_text("Configured: 10 (default)")
    assert panel_master.settings.apps.ack_timeout == 2.5
    await page.get_by_label("Search keys").fill("")
    level = page.locator("tr[data-key='logging.level']")
    await level.get_by_label("logging.level").select_option("WARNING")
    await level.get_by_role("button", name="Save").click()
    await expect(page.locator("tr[data-key='logging.level']")).to_contain_text("changed here")
    await page.get_by_label("Only keys that change while it runs").check()
    await expect(page.locator("tr[data-key='server.port']")).to_have_count(0)
    await page.get_by_label("Search keys").fill("ack_timeout")
    await panel.shot("settings-config-desktop-light")
    await row.get_by_role("button", name="Reset").click()
    await expect(row).to_contain_text("default")
    await expect(row.get_by_role("button", name="Reset")).to_have_count(0)
    assert panel_master.settings.apps.ack_timeout == 10.0
    await assert_clean_but(panel, 400)


async def test_the_audit_log_filters_and_pages(
    panel_master: RunningMaster, open_panel: Any
) -> None:
    # 60 refused requests (audited too), a token, the first account, the sign-in: 63 rows.
    for number in range(60):
        status, _ = await panel_master.api("POST", f"/api/v1/apps/nope-{number}/pause")
        assert status == 404
    await panel_master.api("POST", "/api/v1/tokens", json={"name": "ci", "scope": "read"})
    panel: PanelPage = await open_panel(panel_master)
    page = await open_settings(panel, "Audit log")
    status = page.get_by_role("status").filter(has_text="entries shown")
    await expect(status).to_have_text("50 entries shown, newest first.")
    await page.get_by_role("button", name="Older entries").click()
    await expect(status).to_have_text("63 entries shown, newest first.")
    await expect(page.get_by_role("button", name="Older entries")).to_be_hidden()

    await page.get_by_label("Action").fill("create_token")
    await page.get_by_role("button", name="Filter").click()
    await expect(status).to_have_text("1 entries shown, newest first.")
    row = page.locator("tr[data-action='create_token']")
    await expect(row).to_contain_text("api.token")
    await expect(row.locator(".badge-scheduling")).to_have_text("ok")

    await page.get_by_label("Action").fill("pause_app")
    await page.get_by_label("Target").fill("nope-7")
    await page.get_by_role("button", name="Filter").click()
    await expect(status).to_have_text("1 entries shown, newest first.")
    await expect(page.locator("tr[data-action='pause_app']")).to_contain_text("not_found")
    await page.get_by_label("Target").fill("")
    await page.get_by_label("Action").fill("")
    await page.get_by_label("Who (name or id)").fill("admin")
    await page.get_by_role("button", name="Filter").click()
    await expect(page.locator("tr[data-action='login']")).to_have_count(1)
    await page.get_by_label("From").fill("2099-01-01T00:00:00")
    await page.get_by_role("button", name="Filter").click()
    await expect(page.get_by_text("No entry matches.")).to_be_visible()
    await page.get_by_label("From").fill("")
    await page.get_by_label("Who (name or id)").fill("")
    await page.get_by_role("button", name="Filter").click()
    await panel.shot("settings-audit-desktop-light")
    await page.emulate_media(color_scheme="dark")
    await expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    await panel.shot("settings-audit-desktop-dark")
    await page.get_by_role("link", name="Configuration").click()
    await page.get_by_label("Search keys").fill("apps.")
    await expect(page.locator("tr[data-key='apps.ack_timeout']")).to_be_visible()
    await panel.shot("settings-config-desktop-dark")
    await panel.assert_clean()


async def test_settings_in_the_dark_at_360_px_and_in_chinese(
    panel_master: RunningMaster, open_panel: Any
) -> None:
    panel: PanelPage = await open_panel(panel_master, viewport=PHONE)
    page = panel.page
    await page.emulate_media(color_scheme="dark")
    await sign_in(panel)
    await page.get_by_label("Language").select_option("zh_Hans")
    for tab, heading, name in (
        ("/settings", "当前生效的配置", "config"),
        ("/settings/tokens", "API 令牌", "tokens"),
        ("/settings/accounts", "管理员账户", "accounts"),
        ("/settings/audit", "审计日志", "audit"),
    ):
        await panel.goto(tab)
        await expect(page.get_by_role("heading", name=heading, level=2)).to_be_visible()
        if name == "config":  # every key is a long page: show the ones an operator edits
            await page.get_by_label("搜索键").fill("apps.")
        await page.wait_for_timeout(200)
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], tab
        await panel.shot(f"settings-{name}-phone-dark-zh")
    await panel.assert_clean()
