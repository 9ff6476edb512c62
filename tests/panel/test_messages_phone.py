"""The messages list at 360 px: each message a card whose contents stay inside it."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from tests.conftest import RunningMaster
from tests.panel.conftest import PHONE, PanelPage, sign_in
from tests.support.flow_clients import SioDriver

# The text of every link and badge of every card, by how far it reaches past its card's inner
# right edge (a Range measures the text itself: a link stretched to its cell is wider than it).
OVERHANGS = """() => [...document.querySelectorAll(".messages-table tr[data-id]")].flatMap(
(card) => {
  const style = getComputedStyle(card);
  const inner = card.getBoundingClientRect().right - parseFloat(style.paddingRight)
    - parseFloat(style.borderRightWidth);
  return [...card.querySelectorAll("a, .badge")].map((item) => {
    const text = document.createRange();
    text.selectNodeContents(item);
    const right = Math.max(...[...text.getClientRects()].map((rect) => rect.right));
    return { text: item.textContent, over: right - inner };
  });
})"""


async def test_a_message_card_keeps_its_date_link_off_the_edge(
    panel_master: RunningMaster, open_panel: Any
) -> None:
    driver = await SioDriver(panel_master.url).connect()
    assert (await driver.register())["success"]
    for n in range(3):
        await driver.send(f"message {n}", sender={"id": "1", "name": "Ann"})
    panel: PanelPage = await open_panel(panel_master, viewport=PHONE)
    page = panel.page
    await sign_in(panel)
    for language, theme, heading in (("en", "light", "Messages"), ("ja", "dark", "メッセージ")):
        await page.emulate_media(color_scheme=theme)
        await panel.goto("/messages")
        await page.get_by_label("Language").select_option(language)  # English until now
        await expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
        await expect(page.locator("tbody tr[data-id]")).to_have_count(3)
        await page.wait_for_timeout(300)  # the page may draw once more as its stream opens
        items = await page.evaluate(OVERHANGS)
        assert len(items) >= 9, items  # the date, the content and "Why?" of each card
        touching = [item for item in items if item["over"] > -2]  # 2 px of air at least
        assert touching == [], touching
        await panel.shot(f"messages-cards-phone-{theme}-{language}")
    await driver.close()
    await panel.assert_clean()
