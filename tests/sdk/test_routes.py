"""Handlers match as declared, and the subscription sent lets through exactly their union."""

from __future__ import annotations

import re
from typing import Any

import pytest

from kenkogo_master.sdk import App, Event, Message, Subscription
from kenkogo_master.sdk.routes import Kind, Route, Routes


def message(content: str) -> Message:
    """Build a delivered message with `content`."""
    return Message.from_wire({"id": "m1", "content": content})


def noop(_: Message) -> None:
    """Do nothing."""


def subscribe(app: App) -> dict[str, Any]:
    """Return the `subscribe` object an app registers with."""
    result: dict[str, Any] = app.register_payload()["subscribe"]
    return result


def test_one_kind_of_handler_is_sent_as_that_filter() -> None:
    app = App("w", "1")
    app.command("/weather", "天气")(noop)
    app.command("/w")(noop)
    assert subscribe(app) == {"commands": ["/weather", "天气", "/w"]}

    words = App("k", "1")
    words.keyword("bug", "crash")(noop)
    assert subscribe(words) == {"keywords": ["bug", "crash"]}


def test_several_kinds_become_one_regex_union() -> None:
    app = App("mixed", "1")
    app.command("/a.b")(noop)
    app.keyword("c+d")(noop)
    app.regex(r"^\d+$")(noop)
    wire = subscribe(app)
    assert wire == {"regex": [r"^/a\.b", r"c\+d", r"^\d+$"]}
    union = [re.compile(pattern) for pattern in wire["regex"]]
    for text, wanted in [
        ("/a.b x", True),
        ("x/a.b", False),
        ("/axb", False),
        ("xc+dx", True),
        ("cd", False),
        ("42", True),
        ("4 2", False),
    ]:
        assert any(pattern.search(text) for pattern in union) is wanted, text


def test_a_catch_all_handler_sends_no_text_filter_but_keeps_the_place_filters() -> None:
    app = App("all", "1", subscribe={"chats": ["group"], "groups": ["1", "2"], "users": ["9"]})
    app.command("/x")(noop)
    app.message()(noop)
    assert subscribe(app) == {"chats": ["group"], "groups": ["1", "2"], "users": ["9"]}


def test_unknown_filters_pass_through_for_masters_that_know_them() -> None:
    app = App("n", "1", subscribe=Subscription(platforms=["qq"], extra={"events": ["notice.*"]}))
    assert subscribe(app) == {"platforms": ["qq"], "events": ["notice.*"]}


def test_commands_bind_the_longest_name_and_the_rest_of_the_text() -> None:
    route = Route.make(Kind.COMMAND, ["/w", "/weather"], noop)
    bound = route.bind(message("/weather  北京 "))
    assert bound is not None and bound.command == "/weather" and bound.args == "北京"
    short = route.bind(message("/w tokyo"))
    assert short is not None and short.command == "/w" and short.args == "tokyo"
    assert route.bind(message("say /weather")) is None


def test_regex_and_keyword_routes() -> None:
    found = Route.make(Kind.REGEX, [r"(\d+) apples"], noop).bind(message("I have 12 apples"))
    assert found is not None and found.match is not None and found.match.group(1) == "12"
    assert Route.make(Kind.REGEX, ["^x"], noop).bind(message("yx")) is None
    assert Route.make(Kind.KEYWORD, ["bug"], noop).bind(message("a debugger")) is not None
    assert Route.make(Kind.KEYWORD, ["bug"], noop).bind(message("fine")) is None


def test_matching_keeps_declaration_order() -> None:
    routes = Routes()
    first, second, third = (
        Route.make(Kind.ANY, [], noop),
        Route.make(Kind.KEYWORD, ["z"], noop),
        Route.make(Kind.COMMAND, ["/a"], noop),
    )
    for route in (first, second, third):
        routes.add(route)
    assert [route for route, _ in routes.matching(message("/a"))] == [first, third]


@pytest.mark.parametrize(
    ("declare", "problem"),
    [
        (lambda app: app.command(), "at least one"),
        (lambda app: app.command(""), "non-empty"),
        (lambda app: app.keyword(42), "non-empty"),
        (lambda app: app.regex("(unclosed"), "regex"),
        (lambda app: app.command("x" * 257), "longer than 256"),
    ],
)
def test_bad_declarations_fail_where_they_are_written(declare: Any, problem: str) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)):
        declare(App("bad", "1"))


@pytest.mark.parametrize(
    ("subscription", "problem"),
    [
        ({"commands": ["/x"]}, "come from @app.command"),
        ({"chats": "group"}, "not one string"),
        ({"users": [""]}, "non-empty"),
        ({"groups": [str(n) for n in range(201)]}, "at most 200"),
    ],
)
def test_bad_subscriptions_are_refused(subscription: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)):
        App("bad", "1", subscribe=subscription)


def test_too_many_commands_for_the_master_are_refused_at_register_time() -> None:
    app = App("many", "1")
    app.command(*(f"/c{n}" for n in range(201)))(noop)
    with pytest.raises(ValueError, match="at most 200"):
        app.register_payload()


def test_notice_and_request_handlers_ask_for_their_kinds_besides_messages() -> None:
    app = App("w", "1")
    app.command("/w")(noop)
    app.notice("group_increase")(noop)
    app.request()(noop)
    assert subscribe(app) == {
        "commands": ["/w"],
        "events": ["message", "notice.group_increase", "request.*"],
    }
    only = App("n", "1")
    only.event("notice.notify.*")(noop)
    assert subscribe(only) == {"events": ["notice.notify.*"]}


def test_event_routes_bind_notices_as_events_and_text_routes_skip_them() -> None:
    routes = Routes()
    routes.add(Route.make(Kind.ANY, (), noop))
    routes.add(Route.make(Kind.EVENT, ("request.*",), noop))
    friend = Message.from_wire(
        {"id": "r1", "kind": "request.friend", "detail": {"flag": "f"}, "content": "hi"}
    )
    (matched,) = list(routes.matching(friend))
    route, bound = matched
    assert route.kind is Kind.EVENT
    assert isinstance(bound, Event) and bound.flag == "f" and bound.comment == "hi"
    assert bound.type == "friend" and bound.is_request
    assert [route.kind for route, _ in routes.matching(message("hello"))] == [Kind.ANY]


def test_bad_kind_patterns_fail_where_they_are_written() -> None:
    with pytest.raises(ValueError, match="kind pattern"):
        App("w", "1").event("Notice.*")
    with pytest.raises(ValueError, match="at least one"):
        App("w", "1").event()
