"""Drive the panel in headless Chromium (Debian's `chromium`) against a real Master.

Every page collects its console errors, uncaught exceptions and Content-Security-Policy
violations; a test ends by asserting there were none. Screenshots go to test-artifacts/panel/
(git-ignored), and a failing test leaves one of the page as it was.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from tests.conftest import RunningMaster, StartMaster

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "panel"
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 360, "height": 740}
# Records CSP violations in the page; init scripts run before the page's own, whatever its CSP.
WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


@dataclass
class PanelPage:
    """A browser page on the panel that remembers what went wrong in it."""

    page: Page
    master: RunningMaster
    problems: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        """Return the panel's URL."""
        return self.master.url + "/"

    async def goto(self, route: str = "/") -> None:
        """Open a route of the panel (a hash route such as "/apps")."""
        await self.page.goto(f"{self.master.url}/#{route}")

    async def shot(self, name: str) -> Path:
        """Save a screenshot of the whole page under test-artifacts/panel/."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        await self.page.screenshot(path=str(path), full_page=True)
        return path

    async def csp_violations(self) -> list[str]:
        """Return the CSP violations the page reported."""
        found: list[str] = await self.page.evaluate("window.__cspViolations || []")
        return found

    async def assert_clean(self) -> None:
        """Fail on any console error, uncaught exception or CSP violation seen so far."""
        assert self.problems == [], self.problems
        assert await self.csp_violations() == []


def admin_password(master: RunningMaster) -> str:
    """Return the generated password of `admin` (kept in the data directory on first start)."""
    return (master.settings.storage.data_dir / "admin-password").read_text().strip()


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[BrowserContext]:
    """Start Chromium with a fresh profile; stop it after the test."""
    assert CHROMIUM.exists(), "install Debian's chromium (scripts/test.sh does)"
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=ARGS,
            viewport=DESKTOP,
            locale="en-US",
            color_scheme="light",
        )
        try:
            yield context
        finally:
            await context.close()


@pytest.fixture
async def open_panel(browser: BrowserContext, request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    """Open panel pages on a Master: `await open_panel(master, viewport=PHONE)`."""
    opened: list[PanelPage] = []

    async def open_page(master: RunningMaster, viewport: dict[str, int] | None = None) -> PanelPage:
        page = await browser.new_page()
        await page.set_viewport_size(viewport or DESKTOP)
        await page.add_init_script(WATCH_CSP)
        panel = PanelPage(page, master)

        def on_console(message: Any) -> None:
            if message.type == "error":
                panel.problems.append(f"console: {message.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: panel.problems.append(f"exception: {error}"))

        def on_response(response: Any) -> None:
            if response.status == 404 or response.status >= 500:
                panel.problems.append(f"http: {response.status} {response.url}")

        page.on("response", on_response)
        opened.append(panel)
        return panel

    yield open_page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        for number, panel in enumerate(opened):
            if not panel.page.is_closed():
                name = re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)
                await panel.shot(f"FAILED-{name}-{number}")
                # What the page showed, in the run's output: a CI run keeps no screenshots.
                seen = await panel.page.locator("body").inner_text(timeout=5_000)
                print(f"page {number} at {panel.page.url}:\n{seen[:3000]}")
                print(f"page {number} problems: {panel.problems}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keep each phase's report on the test, so fixtures can tell that the test failed."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"rep_{report.when}", report)


async def sign_in(panel: PanelPage, password: str | None = None) -> None:
    """Sign in as `admin` through the login form and wait for the page after it."""
    await panel.goto("/login")
    await panel.page.get_by_label("Password").fill(password or admin_password(panel.master))
    await panel.page.get_by_role("button", name="Sign in").click()
    await panel.page.wait_for_url(lambda url: "#/login" not in url)


@pytest.fixture
async def panel_master(start_master: StartMaster) -> RunningMaster:
    """A Master for panel tests: system samples every half second, so charts move quickly."""
    return await start_master(stats__system_interval="0.5", drivers__tokens='["driver-token"]')


__all__ = ["DESKTOP", "PHONE", "Browser", "PanelPage", "admin_password", "sign_in"]
