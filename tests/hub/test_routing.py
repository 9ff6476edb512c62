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


def notice(kind: str = "notice.group_increase", chat: tuple[str, str] = ("group", "1")) -> Any:
    event = message("", chat=chat)
    event.kind = kind
    return event


@pytest.mark.parametrize(
    ("events", "kind", "expected"),
    [
        (None, "message", True),  # the default: chat messages only
        (None, "notice.group_increase", False),
        (["notice.group_increase"], "notice.group_increase", True),
        (["notice.group_increase"], "message", False),  # naming events leaves messages out
        (["message", "notice.*"], "message", True),
        (["message.*"], "message", True),  # "x.*" names x itself too
        (["notice.*"], "notice.notify.poke", True),
        (["notice.notify.*"], "notice.group_increase", False),
        (["request.*"], "request.friend", True),
        (["request.?roup"], "request.group", True),
        (["*"], "request.group", True),
    ],
)
def test_events_are_globs_on_the_kind(events: list[str] | None, kind: str, expected: bool) -> None:
    subscribe = {} if events is None else {"events": events}
    assert matcher(**subscribe).matches(notice(kind)) is expected


def test_text_filters_do_not_apply_to_notices_but_place_filters_do() -> None:
    wants = matcher(events=["notice.*"], commands=["/w"], groups=["1"])
    assert wants.matches(notice(chat=("group", "1")))
    assert not wants.matches(notice(chat=("group", "2")))
    checks = wants.checks(notice(chat=("group", "2")))
    assert [check["filter"] for check in checks] == ["events", "groups"]
    assert checks[0] == {
        "filter": "events",
        "wanted": ["notice.*"],
        "seen": "notice.group_increase",
        "matched": True,
    }


def test_a_message_explained_to_an_app_without_events_shows_no_events_check() -> None:
    assert [check["filter"] for check in matcher(commands=["/w"]).checks(message())] == ["commands"]


@pytest.mark.parametrize("events", [[], ["Notice"], ["notice poke"], ["x" * 101]])
def test_bad_kind_patterns_are_refused(events: list[str]) -> None:
    with pytest.raises(ValueError, match="events"):
        Subscription.model_validate({"events": events})
