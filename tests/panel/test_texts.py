"""The texts page in a real browser: an edited text changes a templated reply; locales; chats."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.conftest import RunningMaster
from tests.panel.conftest import PHONE, PanelPage, sign_in
from tests.support.clients import SioApp

WEATHER = "template.weather_report"
PARAMS = {"city": "Tokyo", "temperature": {"number": 21.5}, "humidity": {"percent": 0.6}}


@pytest.fixture
async def weather_app(panel_master: RunningMaster) -> AsyncIterator[SioApp]:
    """An app that answers `/weather` with the weather template, as the SDK's example does."""
    app = SioApp(panel_master.url)

    async def on_message(message: dict[str, Any]) -> dict[str, Any]:
        reply = {"message_id": message["id"], "template": WEATHER, "params": PARAMS}
        ack = await app.call("reply", reply)
        assert ack["success"], ack
        return {}

    app.client.on("message", on_message, namespace="/app")
    await app.connect()
    ack = await app.register("weather", subscribe={"commands": ["/weather"]})
    assert ack["success"], ack
    yield app
    await app.close()


async def weather_reply(master: RunningMaster) -> str:
    """Ask the app through the simulator; return the text of its reply."""
    status, body = await master.api(
        "POST", "/api/v1/simulate", json={"content": "/weather Tokyo", "wait_ms": 3000}
    )
    assert status == 200 and body["replies"], body
    content: str = body["replies"][0]["content"]
    return content


async def assert_clean_but(panel: PanelPage, status: int) -> None:
    """Assert no problem but the refusals with `status` the test provoked on purpose."""
    problems = [p for p in panel.problems if f"status of {status}" not in p]
    assert problems == [], problems
    assert await panel.csp_violations() == []


async def open_texts(panel: PanelPage) -> Page:
    """Sign in and open the texts page."""
    page = panel.page
    await sign_in(panel)
    await expect(page.get_by_role("heading", name="Account")).to_be_visible()
    await page.get_by_role("link", name="Texts").click()
    await expect(page.get_by_role("heading", name="Texts", exact=True, level=1)).to_be_visible()
    return page


async def test_editing_a_text_changes_the_templated_reply_and_reset_brings_it_back(
    panel_master: RunningMaster, weather_app: SioApp, open_panel: Any
) -> None:
    assert await weather_reply(panel_master) == "Tokyo: 21.5 °C, humidity 60%"
    panel: PanelPage = await open_panel(panel_master)
    page = await open_texts(panel)
    await page.get_by_label("Search keys and texts").fill("weather_report")
    row = page.locator(f"tr[data-key='{WEATHER}'][data-locale='en']")
    await expect(row).to_contain_text("{city}: {temperature} °C, humidity {humidity}")
    await expect(row.locator(".badge")).to_have_text("catalog")
    await panel.shot("texts-desktop-light")

    # A placeholder the catalog does not have is refused, and said so where it was typed.
    await row.get_by_role("button", name="Edit").click()
    editor = page.locator(".text-edit-row")
    await expect(editor).to_contain_text("Placeholders: {city} {temperature} {humidity}")
    await editor.get_by_label("Text in en").fill("{town} is {temperature} °C")
    await editor.get_by_role("button", name="Save").click()
    await expect(editor.get_by_role("alert")).to_contain_text("town")
    await panel.shot("texts-edit-refused-desktop-light")
    await page.emulate_media(color_scheme="dark")
    await expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    await panel.shot("texts-edit-refused-desktop-dark")
    assert await weather_reply(panel_master) == "Tokyo: 21.5 °C, humidity 60%"

    await editor.get_by_label("Text in en").fill("Weather in {city}: {temperature} °C")
    await editor.get_by_role("button", name="Save").click()
    await expect(editor).to_have_count(0)
    await expect(row.locator(".badge")).to_have_text("override")
    await expect(row.locator("td").nth(1)).to_have_text("Weather in {city}: {temperature} °C")
    await expect(row.locator("td").nth(2)).to_have_text(
        "{city}: {temperature} °C, humidity {humidity}"
    )
    # The next reply speaks the new text at once.
    assert await weather_reply(panel_master) == "Weather in Tokyo: 21.5 °C"

    await row.get_by_role("button", name="Edit").click()
    await editor.get_by_role("button", name="Back to the catalog's text").click()
    await expect(row.locator(".badge")).to_have_text("catalog")
    assert await weather_reply(panel_master) == "Tokyo: 21.5 °C, humidity 60%"
    await assert_clean_but(panel, 400)


async def test_a_chat_locale_and_a_new_locale(
    panel_master: RunningMaster, weather_app: SioApp, open_panel: Any
) -> None:
    panel: PanelPage = await open_panel(panel_master)
    page = await open_texts(panel)
    chats = page.locator("section").filter(has=page.get_by_role("heading", name="Chat locales"))
    await expect(chats).to_contain_text("No chat has a locale of its own.")
    # The simulator's chat speaks Japanese from now on.
    await chats.get_by_label("Platform").fill("simulator")
    await chats.get_by_label("Chat id").fill("sim-user")
    await chats.get_by_label("Locale").select_option("ja")
    await chats.get_by_role("button", name="Set the locale").click()
    row = chats.locator("tr[data-chat='simulator/sim-user']")
    await expect(row).to_contain_text("ja")
    japanese = await weather_reply(panel_master)
    assert japanese != "Tokyo: 21.5 °C, humidity 60%" and "Tokyo" in japanese, japanese
    status, body = await panel_master.api("GET", "/api/v1/chats/simulator/sim-user/locale")
    assert status == 200 and body["locale"] == "ja"
    await row.get_by_role("button", name="Forget").click()
    await expect(chats).to_contain_text("No chat has a locale of its own.")
    assert await weather_reply(panel_master) == "Tokyo: 21.5 °C, humidity 60%"

    # A locale without a catalog: its texts fall back until overridden.
    locales = page.locator("section").filter(has=page.get_by_role("heading", name="Locales"))
    await locales.get_by_label("New locale").fill("not a locale")
    await locales.get_by_role("button", name="Add the locale").click()
    await expect(locales.get_by_role("alert")).to_contain_text("is not a locale")
    await locales.get_by_label("New locale").fill("fr")
    await locales.get_by_role("button", name="Add the locale").click()
    await expect(locales.locator("tr[data-locale='fr']")).to_contain_text("added")
    await page.get_by_label("Search keys and texts").fill("weather_report")
    row = page.locator(f"tr[data-key='{WEATHER}'][data-locale='fr']")
    await expect(row.locator(".badge")).to_have_text("from en")
    await panel.shot("texts-locales-desktop-light")
    await locales.locator("tr[data-locale='fr']").get_by_role("button", name="Remove").click()
    await page.get_by_role("dialog").get_by_role("button", name="Remove").click()
    await expect(locales.locator("tr[data-locale='fr']")).to_have_count(0)
    await assert_clean_but(panel, 400)


async def test_texts_in_the_dark_at_360_px_and_in_japanese(
    panel_master: RunningMaster, open_panel: Any
) -> None:
    panel: PanelPage = await open_panel(panel_master, viewport=PHONE)
    page = panel.page
    await page.emulate_media(color_scheme="dark")
    await sign_in(panel)
    await panel.goto("/texts")
    await page.get_by_label("Language").select_option("ja")
    await expect(page.get_by_role("heading", name="テキスト", exact=True, level=1)).to_be_visible()
    await page.get_by_label("キーとテキストを検索").fill("weather")
    await expect(page.locator("tr[data-key='template.weather_report']")).to_have_count(1)
    await (
        page.locator("tr[data-key='template.weather_report']")
        .get_by_role("button", name="編集")
        .click()
    )
    await expect(page.locator(".text-edit-row textarea")).to_be_visible()
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await panel.shot("texts-phone-dark-ja")
    await panel.assert_clean()
