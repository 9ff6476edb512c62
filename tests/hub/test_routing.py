"""Subscription matching: every given filter must match; any item of a filter may."""

from __future__ import annotations

import re
from typing import Any

import pytest

from kenkogo_master.hub.messages import InboundMessage
from kenkogo_master.hub.routing import Matcher
from kenkogo_master.protocol.apps import Subscription


def message(
    content: str = "天气 北京",
    chat: tuple[str, str] = ("group", "123"),
    platform: str = "qq",
    sender: str = "456",
) -> InboundMessage:
    return InboundMessage(
        id="m",
        driver_id="d",
        platform=platform,
        platform_message_id="p",
        chat={"type": chat[0], "id": chat[1]},
        sender={"id": sender},
        content=content,
        segments=[],
        locale=None,
        traceparent="00-" + "1" * 32 + "-" + "2" * 16 + "-01",
        time_ms=0,
        received_ms=0,
    )


def matcher(**subscribe: Any) -> Matcher:
    subscription = Subscription.model_validate(subscribe)
    regexes = tuple(re.compile(pattern) for pattern in subscription.regex or ())
    return Matcher.build(subscription, regexes)


def test_an_empty_subscription_matches_everything() -> None:
    assert matcher().matches(message())
    assert matcher().matches(message("", chat=("private", "1"), platform="tg"))


@pytest.mark.parametrize(
    ("subscribe", "hits", "misses"),
    [
        ({"chats": ["private"]}, [message(chat=("private", "9"))], [message()]),
        ({"platforms": ["qq", "tg"]}, [message(), message(platform="tg")], [message(platform="x")]),
        (
            {"groups": ["123"]},
            [message()],
            [message(chat=("group", "124")), message(chat=("private", "123"))],
        ),
        ({"users": ["456"]}, [message()], [message(sender="457")]),
        (
            {"commands": ["/weather", "/w"]},
            [message("/weather now"), message("/w")],
            [message("say /weather"), message("/x")],
        ),
        ({"keywords": ["北京", "上海"]}, [message("去上海吗")], [message("广州")]),
        ({"regex": [r"^\d+$", "^w\\s"]}, [message("123"), message("w x")], [message("a1")]),
    ],
)
def test_each_filter(subscribe: dict[str, Any], hits: list[Any], misses: list[Any]) -> None:
    prepared = matcher(**subscribe)
    assert all(prepared.matches(item) for item in hits)
    assert not any(prepared.matches(item) for item in misses)


def test_every_given_filter_must_match() -> None:
    prepared = matcher(chats=["group"], keywords=["天气"], users=["456"])
    assert prepared.matches(message())
    assert not prepared.matches(message(sender="1"))
    assert not prepared.matches(message("晴"))
    assert not prepared.matches(message(chat=("private", "456")))


def test_an_empty_filter_list_matches_nothing() -> None:
    assert not matcher(keywords=[]).matches(message())


def test_regex_is_a_search_not_a_full_match() -> None:
    assert matcher(regex=["北"]).matches(message("天气 北京"))


def test_the_drivers_filter_names_the_drivers_whose_messages_match() -> None:
    matcher = Matcher.build(Subscription.model_validate({"drivers": ["d1", "d2"]}))
    assert matcher.takes_from("d1") and not matcher.takes_from("d3")
    assert Matcher.build(Subscription()).takes_from("anything")
