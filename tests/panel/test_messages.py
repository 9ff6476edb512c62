"""The message pages in a real browser: simulate, a message's timeline and trace, and why an app
did (not) get it — at desktop width and at 360 px, in both themes."""

from __future__ import annotations

import asyncio
from typing import Any

from playwright.async_api import Page, expect

from tests.conftest import RunningMaster, StartMaster
from tests.panel.conftest import PHONE, PanelPage, sign_in
from tests.support.flow_clients import FlowApp, SioDriver, start_app


async def weather_and_echo(master: RunningMaster) -> tuple[FlowApp, FlowApp]:
    """Two apps: `weather` answers /weather with a template; `echo` wants the keyword "echo"."""
    weather = FlowApp(master.url)

    async def report(message: dict[str, Any]) -> dict[str, Any]:
        city = message["content"].removeprefix("/weather").strip() or "?"
        params = {"city": city, "temperature": 21, "humidity": 40}
        await weather.call(
            "reply",
            {"message_id": message["id"], "template": "template.weather_report", "params": params},
        )
        return {}

    weather.answer = report
    await weather.connect()
    assert (await weather.register("weather", subscribe={"commands": ["/weather"]}, priority=5))[
        "success"
    ]
    assert (await weather.next_state())["state"] == "scheduling"
    echo = await start_app(
        master.url,
        "echo",
        lambda m: {"reply": "echo: " + m["content"]},
        subscribe={"keywords": ["echo"]},
    )
    return weather, echo


REFUSED = (
    "console: Failed to load resource: the server responded with a status of 400 (Bad Request)"
)


async def clean_but_refused(panel: PanelPage) -> None:
    """Like assert_clean, allowing the one 400 a bad-input step provokes on purpose."""
    assert panel.problems == [REFUSED], panel.problems
    assert await panel.csp_violations() == []


async def no_overflow(page: Page, what: str) -> None:
    """Fail when the page is wider than the screen (a phone would scroll sideways)."""
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{what} is {overflow}px wider than the screen"


async def simulate_and_follow(panel: PanelPage, tag: str) -> str:
    """Send "/weather Paris" from the simulate page in Japanese, see weather's reply, open the
    message's timeline and trace, then ask why echo did not get it; return the message id."""
    page = panel.page
    await panel.goto("/simulate")
    await expect(page.get_by_role("heading", name="Simulate")).to_be_visible()
    await expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible()
    await page.get_by_label("Sender").select_option(label="Bob (10002)")
    await page.get_by_label("Chat's language").select_option("ja")
    await page.get_by_text("Private").click()  # a private chat has no group id to give
    await expect(page.get_by_label("Group id")).to_be_hidden()
    await page.get_by_text("Group", exact=True).click()
    await expect(page.get_by_label("Group id")).to_be_visible()
    await expect(page.locator(".chat-header")).to_have_text(
        "simulator · group 1000 · speaking as Bob"
    )
    box = page.get_by_label("Message", exact=True)
    await box.fill("/weather Paris")
    await box.press("Enter")
    sent = page.locator(".bubble-out").last
    await expect(sent.locator(".bubble-text")).to_have_text("/weather Paris")
    # weather's templated reply, rendered by the Master in the chat's language, arrives live.
    reply = page.locator(".bubble-in").last
    await expect(reply.locator(".bubble-text")).to_have_text("Paris：21 °C、湿度 40")
    await expect(reply.locator(".bubble-who")).to_have_text("weather")
    await expect(sent.locator(".sim-delivery[data-app='weather'] .badge")).to_have_text(
        "acknowledged"
    )
    await expect(sent.locator(".sim-delivery")).to_have_count(1)  # echo did not get it
    await expect(sent.locator(".badge[data-status='handled']")).to_be_visible()
    await panel.shot(f"simulate-{tag}")
    await no_overflow(page, "simulate")
    message_id = await sent.get_attribute("data-id")
    assert message_id

    # Its timeline: the attempt to weather, acknowledged, and the reply; its trace as a waterfall.
    await sent.get_by_role("link", name="Timeline").click()
    await expect(page.get_by_role("heading", name="Message")).to_be_visible()
    steps = page.locator(".msg-timeline li")
    await expect(steps.filter(has_text="Attempt 1 to weather")).to_contain_text("acknowledged")
    await expect(steps.filter(has_text="Reply from weather")).to_contain_text(
        "Paris：21 °C、湿度 40"
    )
    rows = page.locator(".wf-row")
    await expect(rows.first).to_be_visible()
    names = await rows.locator(".wf-name").all_text_contents()
    assert names[0] == "ingest", names
    assert any(name.startswith("deliver weather") for name in names), names
    assert "reply" in names, names
    # A span opens to show its attributes.
    await rows.first.locator(".wf-label").click()
    await expect(rows.first.locator(".wf-details")).to_contain_text(message_id)
    await panel.shot(f"message-{tag}")
    await no_overflow(page, "message")

    # Why did echo not get it? The failing filter, with what it wanted and what it saw.
    await page.get_by_role("link", name="Why did an app (not) get it?").click()
    await expect(
        page.get_by_role("heading", name="Why did an app (not) get a message?")
    ).to_be_visible()
    await page.get_by_label("Which app are you asking about?").select_option("echo")
    answer = page.locator(".why-answer")
    await expect(answer).to_have_text("echo: Its subscription does not match: keywords failed.")
    card = page.locator(".why-name[data-name='echo']")
    await expect(card).to_have_class("card why-name why-no_match why-focused")
    failed = card.locator("tr.check-failed")
    await expect(failed).to_have_count(1)
    await expect(failed).to_have_attribute("data-filter", "keywords")
    await expect(failed).to_contain_text("echo")
    await expect(failed).to_contain_text("/weather Paris")
    await expect(failed).to_contain_text("fails")
    # The chosen app comes first; weather gets it, with the instance chosen and why.
    assert await page.locator(".why-name").first.get_attribute("data-name") == "echo"
    weather = page.locator(".why-name[data-name='weather']")
    await expect(weather.locator(".why-reason")).to_have_text("Gets it at priority 5 (level 1).")
    await expect(weather.locator(".why-pick")).to_contain_text("fewest unacknowledged messages (0)")
    await expect(weather).to_contain_text("When it came: acknowledged · attempts: 1")
    assert "app=echo" in page.url  # the question can be linked
    await panel.shot(f"why-{tag}")
    await no_overflow(page, "why")
    return message_id


async def test_simulate_then_timeline_trace_and_why_not(
    start_master: StartMaster, open_panel: Any
) -> None:
    master = await start_master(traces__sample_ratio="1")  # every message keeps its spans
    weather, echo = await weather_and_echo(master)
    panel: PanelPage = await open_panel(master)
    await sign_in(panel)
    message_id = await simulate_and_follow(panel, "desktop-light")
    page = panel.page
    # The trace is the one recorded (every span of the hub), not a timeline made from rows.
    await panel.goto(f"/messages/{message_id}")
    await expect(page.locator(".trace-head")).to_contain_text("Recorded trace")
    names = await page.locator(".wf-name").all_text_contents()
    assert {"route", "attempt", "ack", "driver action"} <= set(names), names
    # Dark theme and another language: the why page with the same question.
    await page.emulate_media(color_scheme="dark")
    await page.get_by_label("Language").select_option("zh_Hans")
    await panel.goto(f"/messages/{message_id}/why?app=echo")
    await expect(page.locator(".why-answer")).to_have_text("echo: 订阅不匹配：keywords 未通过。")
    await expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    await panel.shot("why-desktop-dark-zh")
    await panel.goto(f"/messages/{message_id}")
    await expect(page.locator(".wf-row").first).to_be_visible()
    await panel.shot("message-desktop-dark-zh")
    await weather.close()
    await echo.close()
    await panel.assert_clean()


async def test_the_same_flow_at_360_px_in_the_dark(
    start_master: StartMaster, open_panel: Any
) -> None:
    master = await start_master(traces__sample_ratio="0", traces__slow_ms="60000")
    weather, echo = await weather_and_echo(master)
    panel: PanelPage = await open_panel(master, viewport=PHONE)
    await panel.page.emulate_media(color_scheme="dark")
    await sign_in(panel)
    await simulate_and_follow(panel, "phone-dark")
    # Nothing was sampled: the waterfall is the message's timeline, made from its rows.
    await panel.page.go_back()
    await expect(panel.page.locator(".trace-head")).to_contain_text("Timeline from the rows")
    await weather.close()
    await echo.close()
    await panel.assert_clean()


async def test_why_for_a_message_typed_in(panel_master: RunningMaster, open_panel: Any) -> None:
    weather, echo = await weather_and_echo(panel_master)
    paused = await start_app(panel_master.url, "later", subscribe={"chats": ["private"]})
    status, _ = await panel_master.api("POST", "/api/v1/app-names/later/hold")
    assert status == 200
    panel: PanelPage = await open_panel(panel_master)
    page = panel.page
    await sign_in(panel)
    await panel.goto("/why")
    await page.get_by_label("Message text").fill("please echo this")
    await page.get_by_label("Chat type").select_option("private")
    await page.get_by_label("Sender id").fill("42")
    await page.get_by_role("button", name="Explain").click()
    await expect(page.locator(".why-verdict")).to_contain_text("Who gets it, by priority level:")
    await expect(page.locator(".why-name[data-name='echo'] .why-outcome")).to_have_text("gets it")
    await expect(page.locator(".why-name[data-name='later'] .why-reason")).to_have_text(
        "Matches, but an operator holds the name: it gets nothing until released."
    )
    weather_card = page.locator(".why-name[data-name='weather']")
    await expect(weather_card.locator("tr.check-failed")).to_have_attribute(
        "data-filter", "commands"
    )
    await panel.shot("why-typed-desktop")
    # Released by an operator elsewhere: the explanation follows without a click.
    status, _ = await panel_master.api("POST", "/api/v1/app-names/later/release")
    assert status == 200
    await expect(page.locator(".why-name[data-name='later'] .why-outcome")).to_have_text("gets it")
    # Nothing was sent: no message was stored.
    _, listing = await panel_master.api("GET", "/api/v1/messages")
    assert listing["count"] == 0
    # Bad input: an empty chat id is refused by the Master, and the page says why.
    await page.get_by_label("Chat id").fill("")
    await page.get_by_role("button", name="Explain").click()
    await expect(page.get_by_role("alert")).to_contain_text("chat.id")
    for app in (weather, echo, paused):
        await app.close()
    await clean_but_refused(panel)


async def test_messages_are_searched_paged_and_counted_live(
    panel_master: RunningMaster, open_panel: Any
) -> None:
    echo = await start_app(panel_master.url, "echo", lambda m: {}, subscribe={"keywords": ["echo"]})
    driver = await SioDriver(panel_master.url).connect()
    await driver.register()
    for n in range(55):
        chat = {"type": "group", "id": "777" if n % 5 == 0 else "100"}
        await driver.send(
            f"echo {n}" if n % 2 else f"hello {n}",
            chat=chat,
            sender={"id": str(n % 3), "name": "Ann"},
        )
    panel: PanelPage = await open_panel(panel_master)
    page = panel.page
    await sign_in(panel)
    await panel.goto("/messages")
    rows = page.locator("tbody tr[data-id]")
    await expect(rows).to_have_count(50)
    await expect(rows.first).to_contain_text("hello 54")  # newest first
    await page.get_by_role("button", name="Older").click()
    await expect(rows).to_have_count(5)
    await expect(rows.last).to_contain_text("hello 0")
    await page.get_by_role("button", name="Newer").click()
    await expect(rows).to_have_count(50)
    await panel.shot("messages-desktop")
    # Filters: one chat, then the messages no app got.
    await page.get_by_label("Chat", exact=True).fill("777")
    await page.get_by_role("button", name="Search").click()
    await expect(rows).to_have_count(11)
    assert "chat=777" in page.url
    await page.get_by_role("button", name="Clear").click()
    await page.get_by_label("Status").select_option("unrouted")
    await page.get_by_role("button", name="Search").click()
    await expect(rows).to_have_count(28)
    await expect(rows.locator(".badge[data-status='unrouted']")).to_have_count(28)
    await page.get_by_label("App").fill("echo")
    await page.get_by_role("button", name="Search").click()
    await expect(page.get_by_text("No message matches.")).to_be_visible()
    # New messages are counted, not pushed into the page; a click shows them.
    await panel.goto("/messages")
    await expect(rows).to_have_count(50)
    await expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible()
    await expect(page.locator(".arrivals")).to_be_hidden()
    for n in range(3):
        await driver.send(f"late {n}")
    arrivals = page.get_by_role("button", name="3 new · show")
    await expect(arrivals).to_be_visible()
    await expect(rows.first).to_contain_text("hello 54")
    await arrivals.click()
    await expect(rows.first).to_contain_text("late 2")
    # A hand-edited address with a bad time: the Master's refusal is shown, not a blank page.
    await panel.goto("/messages?from=yesterday")
    await expect(page.get_by_role("alert")).to_contain_text("from")
    await echo.close()
    await driver.close()
    await clean_but_refused(panel)


async def test_messages_at_360_px(panel_master: RunningMaster, open_panel: Any) -> None:
    driver = await SioDriver(panel_master.url).connect()
    await driver.register()
    for n in range(4):
        await driver.send(
            f"a rather long message number {n} that must wrap on a phone screen",
            sender={"id": "1", "name": "Ann"},
        )
    panel: PanelPage = await open_panel(panel_master, viewport=PHONE)
    page = panel.page
    await sign_in(panel)
    for theme in ("light", "dark"):
        await page.emulate_media(color_scheme=theme)
        await panel.goto("/messages")
        await expect(page.locator("tbody tr[data-id]")).to_have_count(4)
        await no_overflow(page, "messages")
        await panel.shot(f"messages-phone-{theme}")
        await panel.goto("/why")
        await expect(page.get_by_role("button", name="Explain")).to_be_visible()
        await no_overflow(page, "why (typed in)")
        await panel.shot(f"why-typed-phone-{theme}")
    await asyncio.sleep(0)
    await driver.close()
    await panel.assert_clean()
