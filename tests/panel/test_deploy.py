"""The deploy page in a real browser: a package uploaded, installed, deployed, watched, stopped;
runners enrolled with a token shown once, lost when silent, revoked."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from kenkogo_master.deploy.pack import pack
from tests.conftest import RunningMaster, StartMaster
from tests.panel.conftest import ARTIFACTS, DESKTOP, PHONE, PanelPage, sign_in
from tests.runners.clients import RawRunner

ECHO = Path(__file__).resolve().parents[2] / "examples" / "echo"
SECRET = "s3cret-value-never-shown"
REFUSED = "console: Failed to load resource: the server responded with a status of"


async def assert_fits(panel: PanelPage) -> None:
    """Fail when the page is wider than its screen (a phone must not scroll sideways)."""
    overflow = await panel.page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page is {overflow}px wider than the screen"


def refusals_only(panel: PanelPage) -> None:
    """Drop the browser's own notes of the 4xx answers a test provoked on purpose."""
    panel.problems[:] = [p for p in panel.problems if not p.startswith(REFUSED + " 4")]


async def test_a_package_goes_from_the_picker_to_a_running_app_and_back(
    start_master: StartMaster, open_panel: Any, tmp_path: Path
) -> None:
    master: RunningMaster = await start_master(supervisor__sample_interval="0.5")
    # The fixture listens on a free port, not on server.port: tell the apps where it is.
    master.settings.supervisor.master_url = master.url
    shutil.copytree(ECHO, tmp_path / "echo")
    archive, _ = pack(tmp_path / "echo", tmp_path / "echo-1.0.0.zip")
    not_a_package = tmp_path / "notes.zip"
    not_a_package.write_text("these are notes, not a zip archive\n")

    panel: PanelPage = await open_panel(master)
    page = panel.page
    await sign_in(panel)
    await panel.goto("/deploy")
    await expect(page.get_by_role("heading", name="Deploy", exact=True)).to_be_visible()
    await expect(page.get_by_text("No package uploaded yet.")).to_be_visible()
    await expect(page.get_by_text("Nothing deployed yet")).to_be_visible()

    # Bad input: a file that is no archive is refused, and the page says the Master's words.
    picker = page.get_by_label("Package file (.zip or .tar.gz)")
    await picker.set_input_files(str(not_a_package))
    await page.get_by_role("button", name="Upload", exact=True).click()
    refusal = page.locator(".deploy-refusal")
    await expect(refusal).to_be_visible()
    await expect(refusal).to_contain_text("The package is not a readable zip or tar.gz archive")
    await expect(page.get_by_text("No package uploaded yet.")).to_be_visible()

    await picker.set_input_files(str(archive))
    await page.get_by_role("button", name="Upload", exact=True).click()
    await expect(page.get_by_role("status").filter(has_text="Uploaded echo 1.0.0.")).to_be_visible()
    await expect(refusal).to_be_hidden()
    # The same bytes again: the page says it had them, and no second revision appears.
    await picker.set_input_files(str(archive))
    await page.get_by_role("button", name="Upload", exact=True).click()
    await expect(page.get_by_role("status").filter(has_text="was uploaded before")).to_be_visible()
    row = page.locator("[data-package=echo] tr[data-revision]")
    await expect(row).to_have_count(1)
    await expect(row.locator(".badge")).to_have_text("not installed")

    # Install: the steps show up one by one, with the tools' output, until it is ready.
    await row.get_by_role("button", name="Install", exact=True).click()
    card = page.locator(".deploy-install")
    await expect(card.get_by_role("heading", name="Install of echo 1.0.0")).to_be_visible()
    await expect(card.locator("[data-step=received] .badge")).to_have_text("done")
    await expect(card.locator("li[data-step=dependencies]")).to_be_visible(timeout=60_000)
    await expect(card.locator(".card-head .badge")).to_have_text("ready", timeout=90_000)
    await expect(card.locator("[data-step=dependencies] .badge")).to_have_text("done")
    await expect(card.locator(".deploy-output")).not_to_be_empty()
    await expect(row.locator(".badge")).to_have_text("ready")

    # Deploy it: a malformed env line is caught here, a bad name by the Master; both are said.
    await row.get_by_role("button", name="Deploy", exact=True).click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_label("Environment variables").fill("GREETING")
    await dialog.get_by_role("button", name="Deploy", exact=True).click()
    await expect(dialog.get_by_role("alert")).to_have_text("Not a NAME=value line: GREETING")
    await dialog.get_by_label("Environment variables").fill("1GREETING=hi")
    await dialog.get_by_role("button", name="Deploy", exact=True).click()
    await expect(dialog.get_by_role("alert")).to_contain_text("1GREETING")
    await dialog.get_by_label("Environment variables").fill("GREETING=hi")
    # Where it runs: this Master unless a runner or labels are chosen (labels ask for a list).
    placement = dialog.get_by_label("Runs on", exact=True)
    await expect(placement).to_have_value("local")
    await expect(dialog.get_by_label("Labels", exact=True)).to_be_hidden()
    await placement.select_option(label="Chosen by labels…")
    await dialog.get_by_label("Labels", exact=True).fill("gpu")
    await dialog.get_by_role("button", name="Deploy", exact=True).click()
    await expect(dialog.get_by_role("alert")).to_contain_text("gpu")  # no runner has it
    await placement.select_option("local")
    await dialog.get_by_role("button", name="Add a secret").click()
    await dialog.get_by_label("Secret's name").fill("API_KEY")
    await dialog.get_by_label("Value", exact=True).fill(SECRET)
    await panel.shot("deploy-new-deployment")
    await page.set_viewport_size(PHONE)
    await assert_fits(panel)
    # A modal dialog scrolls within the screen: shoot the screen, not the whole page.
    await page.screenshot(path=str(ARTIFACTS / "deploy-new-deployment-phone.png"))
    await page.set_viewport_size(DESKTOP)
    await dialog.get_by_role("button", name="Deploy", exact=True).click()
    await expect(dialog).to_have_count(0)

    deployed = page.locator("tr[data-deployment]")
    await expect(deployed).to_have_count(1)
    state = deployed.locator("td").nth(1).locator(".badge")
    await expect(state).to_have_text("running", timeout=60_000)
    await expect(deployed.locator("td").nth(2)).to_contain_text("PID")
    await expect(deployed.locator("td").nth(3)).to_contain_text("memory")
    await expect(deployed.locator("td").nth(4)).to_contain_text("API_KEY")
    await expect(deployed.locator("td").nth(4)).to_contain_text("GREETING")
    await expect(deployed.locator("td").nth(5)).to_have_text("This Master (local)")
    assert SECRET not in await page.content()  # write-only

    # Its output, live: what it printed so far, then the lines of its stop as they come.
    await deployed.get_by_role("button", name="Output").click()
    log = page.locator("[data-log-of] .vlist")
    await expect(log.locator(".deploy-log-row").filter(has_text="started, pid")).to_be_visible()
    await panel.shot("deploy-running-desktop-light")
    await page.emulate_media(color_scheme="dark")
    await panel.shot("deploy-running-desktop-dark")

    await deployed.get_by_role("button", name="Stop", exact=True).click()
    await expect(state).to_have_text("stopped", timeout=20_000)
    rows = log.locator(".deploy-log-row")
    await expect(rows.filter(has_text="stopped (exit code 0)")).to_be_visible()
    await expect(deployed.get_by_role("button", name="Start", exact=True)).to_be_enabled()

    # Change its env while stopped; giving no secret keeps the ones it has.
    await deployed.get_by_role("button", name="Change").click()
    dialog = page.get_by_role("dialog")
    await expect(dialog.get_by_label("Environment variables")).to_have_value("GREETING=hi")
    await dialog.get_by_label("Environment variables").fill("GREETING=hello\nMODE=quiet")
    await dialog.get_by_role("button", name="Save").click()
    await expect(dialog).to_have_count(0)
    await expect(deployed.locator("td").nth(4)).to_contain_text("MODE")
    status, body = await master.api("GET", "/api/v1/deployments")
    [changed] = body["items"]
    assert changed["env"] == {"GREETING": "hello", "MODE": "quiet"}
    assert changed["secret_names"] == ["API_KEY"]

    await page.get_by_label("Language").select_option("zh_Hans")
    await expect(page.get_by_role("heading", name="部署", exact=True).first).to_be_visible()
    await expect(state).to_have_text("已停止")
    await panel.shot("deploy-stopped-desktop-dark-zh")
    await page.emulate_media(color_scheme="light")
    await page.set_viewport_size(PHONE)
    await assert_fits(panel)
    await panel.shot("deploy-stopped-phone-light-zh")
    await page.get_by_label("语言").select_option("en")

    # Remove asks first; cancelled, nothing happens; confirmed, the row goes.
    await page.set_viewport_size(DESKTOP)
    await deployed.get_by_role("button", name="Remove").click()
    confirm = page.get_by_role("dialog")
    await expect(confirm).to_contain_text("Remove the deployment echo?")
    await confirm.get_by_role("button", name="Cancel").click()
    await expect(deployed).to_have_count(1)
    await deployed.get_by_role("button", name="Remove").click()
    await page.get_by_role("dialog").get_by_role("button", name="Remove").click()
    await expect(deployed).to_have_count(0)
    await expect(page.get_by_text("Nothing deployed yet")).to_be_visible()
    status, listed = await master.api("GET", "/api/v1/deployments")
    assert status == 200 and listed["items"] == []
    # The revision itself goes too, after asking.
    await row.get_by_role("button", name="Delete").click()
    await page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    await expect(page.get_by_text("No package uploaded yet.")).to_be_visible()
    refusals_only(panel)
    await panel.assert_clean()


async def _heartbeats(runner: RawRunner) -> None:
    while True:
        await runner.call("heartbeat", {"resources": {"cpu_percent": 3.0}})
        await asyncio.sleep(0.1)


@pytest.mark.timeout(180)  # a browser, a Master and a runner: slow on a loaded machine
async def test_a_runner_enrols_with_a_token_shown_once_is_lost_when_silent_and_is_revoked(
    start_master: StartMaster, open_panel: Any, closing: list[Any]
) -> None:
    master: RunningMaster = await start_master(runners__heartbeat_interval="0.5")
    panel: PanelPage = await open_panel(master)
    page = panel.page
    await page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    await sign_in(panel)
    await panel.goto("/deploy")
    await expect(page.get_by_text("No runner enrolled yet")).to_be_visible()
    await expect(page.get_by_text("No enrolment token yet.")).to_be_visible()

    # Bad input: a name of spaces only is refused by the Master, and the page says so.
    await page.get_by_label("What the token is for").fill("   ")
    await page.get_by_role("button", name="Create a token").click()
    await expect(page.get_by_role("alert").filter(has_text="name")).to_be_visible()
    await page.get_by_label("What the token is for").fill("box-1")
    await page.get_by_role("button", name="Create a token").click()
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_contain_text("it is shown only this once")
    token = await dialog.get_by_label("Token").input_value()
    assert len(token) > 20
    await dialog.get_by_role("button", name="Copy").click()
    await expect(dialog.get_by_role("status")).to_have_text("Copied.")
    assert await page.evaluate("navigator.clipboard.readText()") == token
    await dialog.get_by_role("button", name="Done").click()
    await expect(dialog).to_have_count(0)
    assert token not in await page.content()  # shown once
    await expect(page.locator("tr[data-enrolment]")).to_contain_text("unused")

    # The runner enrols with it and reports an app; it shows up online, live.
    runner = await RawRunner(master.url).connect(token)
    closing.append(runner)
    assert (await runner.register("box-1"))["success"] is True
    beating = asyncio.ensure_future(_heartbeats(runner))
    await runner.call("app_state", {"deployment": "d1", "state": "running", "pid": 123})
    row = page.locator("tr[data-runner]")
    await expect(row.locator("td").nth(1).locator(".badge")).to_have_text("online")
    await expect(row.locator("td").nth(3)).to_contain_text("d1")
    await expect(row.locator("td").nth(3).locator(".badge")).to_have_text("running")
    await expect(row.locator("td").nth(2)).not_to_have_text("never")
    await expect(page.locator("tr[data-enrolment]")).to_contain_text("box-1")

    # Silent for three heartbeats: lost, and its apps with it, shown as such.
    beating.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await beating
    await expect(row.locator("td").nth(1).locator(".badge")).to_have_text("lost", timeout=10_000)
    await expect(row).to_contain_text("No heartbeat")
    await expect(row.locator("td").nth(3).locator(".badge")).to_have_text("lost")
    await panel.shot("deploy-runner-lost-desktop-light")
    await page.emulate_media(color_scheme="dark")
    await page.set_viewport_size(PHONE)
    await assert_fits(panel)
    await panel.shot("deploy-runner-lost-phone-dark")
    await page.emulate_media(color_scheme="light")
    await page.set_viewport_size(DESKTOP)

    # Revoking asks first, then the runner is gone and its connection closed.
    await row.get_by_role("button", name="Revoke").click()
    confirm = page.get_by_role("dialog")
    await expect(confirm).to_contain_text("Revoke the runner box-1?")
    await confirm.get_by_role("button", name="Revoke").click()
    await expect(page.get_by_text("No runner enrolled yet")).to_be_visible()
    await asyncio.wait_for(runner.disconnected.wait(), 5)
    status, listed = await master.api("GET", "/api/v1/runners")
    assert status == 200 and listed["items"] == []
    refusals_only(panel)
    await panel.assert_clean()
