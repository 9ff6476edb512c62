"""OneBot v11 frames: classifying what implementations send, and the actions sent to them."""

from __future__ import annotations

from typing import Any, cast

import orjson
import pytest
from pydantic import ValidationError

from kenkogo_master.protocol.onebot import (
    ApiResponse,
    HeartbeatEvent,
    LifecycleEvent,
    MessageEvent,
    MetaEvent,
    NoticeEvent,
    OtherEvent,
    RequestEvent,
    classify,
    parse_id,
    request_action,
    rfc3339,
    send_action,
    to_inbound,
    to_notice,
)


def private_frame(**changes: Any) -> dict[str, Any]:
    frame: dict[str, Any] = {
        "time": 1_718_000_000,
        "self_id": 123456789,
        "post_type": "message",
        "message_type": "private",
        "sub_type": "friend",
        "message_id": 1001,
        "user_id": 234567890,
        "message": [{"type": "text", "data": {"text": "你好"}}],
        "raw_message": "你好",
        "font": 0,
        "sender": {"user_id": 234567890, "nickname": "小明", "sex": "male", "age": 18},
    }
    frame.update(changes)
    return frame


def group_frame(**changes: Any) -> dict[str, Any]:
    frame: dict[str, Any] = {
        "time": 1_763_798_400,
        "self_id": 10001,
        "post_type": "message",
        "message_type": "group",
        "sub_type": "normal",
        "message_id": -2147000001,
        "group_id": 123,
        "user_id": 456,
        "anonymous": None,
        "message": "[CQ:at,qq=10001] 天气 北京&amp;上海",
        "raw_message": "[CQ:at,qq=10001] 天气 北京&amp;上海",
        "font": 0,
        "sender": {
            "user_id": 456,
            "nickname": "alice_qq",
            "card": "Alice",
            "role": "member",
            "level": "10",
            "title": "",
        },
    }
    frame.update(changes)
    return frame


def message_event(frame: dict[str, Any]) -> MessageEvent:
    event = classify(frame)
    assert isinstance(event, MessageEvent)
    return event


# --- ids ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, 0),
        (123, 123),
        ("123", 123),
        ("-5", -5),
        (2**63 - 1, 2**63 - 1),
        ("-9223372036854775808", -(2**63)),
    ],
)
def test_parse_id_accepts_int64_numbers_and_numeric_strings(value: object, expected: int) -> None:
    assert parse_id(value) == expected


@pytest.mark.parametrize(
    "value",
    [True, False, 1.0, "1.0", "", " 1", "1 ", "12a", "0x10", None, [1], {"id": 1}, 2**63, "9" * 30],
)
def test_parse_id_rejects_everything_else(value: object) -> None:
    with pytest.raises(ValueError, match="id must"):
        parse_id(value)


# --- message events -------------------------------------------------------------------------


def test_private_array_message_becomes_an_inbound_event() -> None:
    event = message_event(private_frame())
    assert event.message_type == "private"
    assert event.sub_type == "friend"
    assert event.user_id == 234567890
    assert event.sender.nickname == "小明"
    assert to_inbound(event) == {
        "platform_message_id": "1001",
        "chat": {"type": "private", "id": "234567890", "name": "小明"},
        "sender": {"id": "234567890", "name": "小明"},
        "content": "你好",
        "segments": [{"type": "text", "data": {"text": "你好"}}],
        "time": "2024-06-10T06:13:20Z",
    }


def test_group_string_message_becomes_an_inbound_event() -> None:
    event = message_event(group_frame())
    assert event.group_id == 123
    assert to_inbound(event) == {
        "platform_message_id": "-2147000001",
        "chat": {"type": "group", "id": "123"},
        "sender": {"id": "456", "name": "Alice"},
        "content": " 天气 北京&上海",
        "segments": [
            {"type": "at", "data": {"qq": "10001"}},
            {"type": "text", "data": {"text": " 天气 北京&上海"}},
        ],
        "time": "2025-11-22T08:00:00Z",
    }


def test_array_and_string_forms_of_one_message_agree() -> None:
    as_string = message_event(group_frame(message="[CQ:face,id=178]看[CQ:image,file=1.jpg]"))
    as_array = message_event(
        group_frame(
            message=[
                {"type": "face", "data": {"id": 178}},
                {"type": "text", "data": {"text": "看"}},
                {"type": "image", "data": {"file": "1.jpg", "url": None}},
            ]
        )
    )
    assert to_inbound(as_string) == to_inbound(as_array)
    assert to_inbound(as_array)["segments"][0] == {"type": "face", "data": {"id": "178"}}


def test_group_name_is_used_when_the_implementation_sends_one() -> None:
    inbound = to_inbound(message_event(group_frame(group_name="测试群")))
    assert inbound["chat"] == {"type": "group", "id": "123", "name": "测试群"}


def test_empty_card_falls_back_to_nickname() -> None:
    frame = group_frame(sender={"user_id": 456, "nickname": "alice_qq", "card": ""})
    assert to_inbound(message_event(frame))["sender"] == {"id": "456", "name": "alice_qq"}


@pytest.mark.parametrize("sender", [{}, None, {"user_id": 456}, {"nickname": "", "card": ""}])
def test_missing_sender_names_fall_back_to_the_user_id(sender: object) -> None:
    frame = group_frame(sender=sender)
    assert to_inbound(message_event(frame))["sender"] == {"id": "456", "name": "456"}


def test_absent_sender_is_accepted() -> None:
    frame = private_frame()
    del frame["sender"]
    event = message_event(frame)
    assert event.sender.nickname is None
    assert to_inbound(event)["sender"] == {"id": "234567890", "name": "234567890"}


def test_anonymous_group_message_uses_the_anonymous_name() -> None:
    frame = group_frame(
        sub_type="anonymous",
        user_id=80000000,
        anonymous={"id": 42, "name": "匿名者", "flag": "f:1"},
        sender={"user_id": 80000000, "nickname": "匿名消息"},
    )
    event = message_event(frame)
    assert event.anonymous is not None and event.anonymous.flag == "f:1"
    assert to_inbound(event)["sender"] == {"id": "80000000", "name": "匿名者"}


def test_string_ids_and_string_message_ids_are_accepted() -> None:
    event = message_event(
        group_frame(self_id="10001", group_id="123", user_id="456", message_id="abc-1")
    )
    assert (event.self_id, event.group_id, event.user_id) == (10001, 123, 456)
    assert to_inbound(event)["platform_message_id"] == "abc-1"


def test_extra_fields_are_kept() -> None:
    event = message_event(private_frame(target_id=1, message_format="array"))
    assert event.model_extra == {"target_id": 1, "message_format": "array"}
    assert event.sender.model_extra == {"sex": "male", "age": 18}


def test_optional_message_fields_have_defaults() -> None:
    frame = private_frame()
    for key in ("sub_type", "raw_message", "font"):
        del frame[key]
    event = message_event(frame)
    assert (event.sub_type, event.raw_message, event.font) == ("", "", 0)


def test_inbound_payload_is_json_and_independent_of_the_event() -> None:
    event = message_event(group_frame())
    inbound = to_inbound(event)
    inbound["segments"][0]["data"]["qq"] = "changed"
    assert event.message[0]["data"]["qq"] == "10001"
    assert orjson.loads(orjson.dumps(to_inbound(event))) == to_inbound(event)


@pytest.mark.parametrize(
    ("epoch", "expected"),
    [
        (0, "1970-01-01T00:00:00Z"),
        (1.5, "1970-01-01T00:00:01.500Z"),
        (253402300799, "9999-12-31T23:59:59Z"),
    ],
)
def test_times_are_rfc3339_utc(epoch: float, expected: str) -> None:
    assert rfc3339(epoch) == expected
    assert to_inbound(message_event(private_frame(time=epoch)))["time"] == expected


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"message_id": None}, "message_id"),
        ({"message_id": True}, "message_id"),
        ({"message_id": ""}, "message_id"),
        ({"user_id": "alice"}, "user_id"),
        ({"user_id": 4.5}, "user_id"),
        ({"self_id": None}, "self_id"),
        ({"group_id": [123]}, "group_id"),
        ({"time": "1700000000"}, "time"),
        ({"time": -1}, "time"),
        ({"time": 10**13}, "time"),
        ({"message": 5}, "message"),
        ({"message": None}, "message"),
        ({"message": {"type": "text", "data": {"text": "a"}}}, "message"),
        ({"message": [{"type": "text", "data": "a"}]}, "message"),
        ({"message": ["a"]}, "message"),
        ({"sender": "alice"}, "sender"),
        ({"sender": {"nickname": 5}}, "sender.nickname"),
        ({"raw_message": 5}, "raw_message"),
        ({"font": "0"}, "font"),
        ({"anonymous": "x"}, "anonymous"),
    ],
)
def test_malformed_group_messages_are_rejected(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        classify(group_frame(**change))
    assert field in {".".join(str(p) for p in e["loc"]) for e in info.value.errors()}


@pytest.mark.parametrize("field", ["time", "self_id", "message_id", "user_id", "message"])
def test_required_message_fields(field: str) -> None:
    frame = private_frame()
    del frame[field]
    with pytest.raises(ValidationError) as info:
        classify(frame)
    assert [(e["loc"], e["type"]) for e in info.value.errors()] == [((field,), "missing")]


@pytest.mark.parametrize("group_id", ["absent", None])
def test_group_message_without_group_id_is_rejected(group_id: object) -> None:
    frame = group_frame(group_id=group_id)
    if group_id == "absent":
        del frame["group_id"]
    with pytest.raises(ValidationError, match="a group message needs 'group_id'"):
        classify(frame)


@pytest.mark.parametrize("message_type", [None, 5])
def test_message_without_a_message_type_is_rejected(message_type: object) -> None:
    frame = private_frame(message_type=message_type)
    if message_type is None:
        del frame["message_type"]
    with pytest.raises(ValidationError, match="message_type"):
        classify(frame)


# --- other events ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "frame",
    [
        {"post_type": "message_sent", "message_type": "group", "self_id": "1"},
        {"post_type": "message", "message_type": "guild", "guild_id": "9", "self_id": 1},
        {"post_type": "something_new"},
    ],
)
def test_events_the_master_does_not_route_are_other_events(frame: dict[str, Any]) -> None:
    event = classify(frame)
    assert type(event) is OtherEvent
    assert event.post_type == frame["post_type"]


def test_other_events_keep_their_fields() -> None:
    event = classify({"time": 5, "self_id": "7", "post_type": "message_sent", "font": 0})
    assert isinstance(event, OtherEvent)
    assert (event.time, event.self_id) == (5, 7)
    assert event.model_extra == {"font": 0}


def test_other_events_with_broken_ids_are_rejected() -> None:
    with pytest.raises(ValidationError, match="self_id"):
        classify({"post_type": "message_sent", "self_id": "bot"})


# --- meta events ----------------------------------------------------------------------------


def test_heartbeat() -> None:
    event = classify(
        {
            "time": 1_700_000_000,
            "self_id": 10001,
            "post_type": "meta_event",
            "meta_event_type": "heartbeat",
            "status": {"online": True, "good": True, "stat": {"packet_received": 5}},
            "interval": 30000,
        }
    )
    assert isinstance(event, HeartbeatEvent)
    assert event.interval == 30000
    assert (event.online, event.good) == (True, True)
    assert event.status["stat"] == {"packet_received": 5}


@pytest.mark.parametrize(
    ("status", "online", "good"),
    [
        ({"online": None, "good": False}, None, False),
        ({}, None, False),
        (None, None, False),
        ({"online": "yes", "good": 1}, None, False),
        ({"online": False, "good": True}, False, True),
    ],
)
def test_heartbeat_status_is_read_carefully(
    status: object, online: bool | None, good: bool
) -> None:
    frame = {"time": 1, "self_id": 1, "post_type": "meta_event", "meta_event_type": "heartbeat"}
    event = classify({**frame, "status": status, "interval": 5000})
    assert isinstance(event, HeartbeatEvent)
    assert (event.online, event.good) == (online, good)


@pytest.mark.parametrize("interval", [None, -1, "5000", 1.5])
def test_heartbeat_needs_a_millisecond_interval(interval: object) -> None:
    frame = {"time": 1, "self_id": 1, "post_type": "meta_event", "meta_event_type": "heartbeat"}
    if interval is not None:
        frame["interval"] = interval
    with pytest.raises(ValidationError, match="interval"):
        classify(frame)


@pytest.mark.parametrize("sub_type", ["enable", "disable", "connect"])
def test_lifecycle(sub_type: str) -> None:
    event = classify(
        {
            "time": 1,
            "self_id": 10001,
            "post_type": "meta_event",
            "meta_event_type": "lifecycle",
            "sub_type": sub_type,
        }
    )
    assert isinstance(event, LifecycleEvent)
    assert (event.self_id, event.sub_type) == (10001, sub_type)


def test_lifecycle_needs_a_sub_type() -> None:
    frame = {"time": 1, "self_id": 1, "post_type": "meta_event", "meta_event_type": "lifecycle"}
    with pytest.raises(ValidationError, match="sub_type"):
        classify(frame)


def test_unknown_meta_event_is_a_plain_meta_event() -> None:
    event = classify(
        {"time": 1, "self_id": 1, "post_type": "meta_event", "meta_event_type": "gossip", "x": 1}
    )
    assert type(event) is MetaEvent
    assert event.meta_event_type == "gossip"


@pytest.mark.parametrize("kind", [None, 3])
def test_meta_event_needs_a_type(kind: object) -> None:
    frame: dict[str, Any] = {"time": 1, "self_id": 1, "post_type": "meta_event"}
    if kind is not None:
        frame["meta_event_type"] = kind
    with pytest.raises(ValidationError, match="meta_event_type"):
        classify(frame)


# --- API responses --------------------------------------------------------------------------


def test_send_response_with_a_message_id() -> None:
    response = classify(
        {"status": "ok", "retcode": 0, "data": {"message_id": 12345}, "echo": "r-1"}
    )
    assert isinstance(response, ApiResponse)
    assert response.ok
    assert response.echo == "r-1"
    assert response.message_id == "12345"


def test_response_without_data() -> None:
    response = classify({"status": "ok", "retcode": 0, "data": None, "echo": "r-2"})
    assert isinstance(response, ApiResponse)
    assert response.ok
    assert response.data is None
    assert response.message_id is None


def test_response_with_data_field_absent_and_other_data() -> None:
    bare = classify({"status": "async", "retcode": 1, "echo": 7})
    assert isinstance(bare, ApiResponse)
    assert (bare.ok, bare.data, bare.echo, bare.message_id) == (True, None, 7, None)
    listing = classify({"status": "ok", "retcode": 0, "data": [1, 2], "echo": "r"})
    assert isinstance(listing, ApiResponse)
    assert listing.message_id is None


def test_failed_response_carries_its_reason() -> None:
    response = classify(
        {
            "status": "failed",
            "retcode": 1404,
            "data": None,
            "echo": "r-3",
            "message": "API不存在",
            "wording": "API不存在",
        }
    )
    assert isinstance(response, ApiResponse)
    assert not response.ok
    assert (response.retcode, response.wording) == (1404, "API不存在")


@pytest.mark.parametrize(
    ("status", "retcode", "ok"),
    [("ok", 0, True), ("async", 1, True), ("ok", 100, False), ("failed", 0, False)],
)
def test_response_ok_needs_status_and_retcode_to_agree(status: str, retcode: int, ok: bool) -> None:
    response = classify({"status": status, "retcode": retcode, "echo": "e"})
    assert isinstance(response, ApiResponse)
    assert response.ok is ok


@pytest.mark.parametrize("message_id", [True, "", None, 1.5, {"id": 1}])
def test_response_message_id_ignores_odd_values(message_id: object) -> None:
    response = classify(
        {"status": "ok", "retcode": 0, "data": {"message_id": message_id}, "echo": "e"}
    )
    assert isinstance(response, ApiResponse)
    assert response.message_id is None


@pytest.mark.parametrize(
    ("frame", "field"),
    [
        ({"retcode": 0, "echo": "e"}, "status"),
        ({"status": "ok", "echo": "e"}, "retcode"),
        ({"status": "ok", "retcode": "0", "echo": "e"}, "retcode"),
        ({"status": 200, "retcode": 0, "echo": "e"}, "status"),
        ({"status": "ok", "retcode": 0, "echo": "e", "wording": 5}, "wording"),
    ],
)
def test_malformed_responses_are_rejected(frame: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        classify(frame)


# --- garbage --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "kind"),
    [
        ([], "array"),
        ([{"post_type": "message"}], "array"),
        (5, "number"),
        (1.5, "number"),
        ("{}", "string"),
        (None, "null"),
        (True, "boolean"),
    ],
)
def test_frames_that_are_not_objects_are_rejected(frame: object, kind: str) -> None:
    with pytest.raises(ValueError, match=f"must be a JSON object, not {kind}"):
        classify(frame)


@pytest.mark.parametrize("frame", [{}, {"status": "ok", "retcode": 0}, {"hello": "world"}])
def test_frames_without_post_type_or_echo_are_rejected(frame: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="needs 'post_type'"):
        classify(frame)


@pytest.mark.parametrize("post_type", [5, ["message"], {"a": 1}, True])
def test_non_string_post_type_is_rejected(post_type: object) -> None:
    with pytest.raises(ValueError, match="'post_type' must be a string"):
        classify({"post_type": post_type})


def test_every_rejection_is_a_value_error() -> None:
    for frame in ([], {}, group_frame(user_id="x"), {"post_type": "meta_event"}):
        with pytest.raises(ValueError):
            classify(frame)


# --- outgoing actions -----------------------------------------------------------------------


def test_send_group_text() -> None:
    assert send_action("group", "123", "天气 晴", "echo-1") == {
        "action": "send_group_msg",
        "params": {"group_id": 123, "message": [{"type": "text", "data": {"text": "天气 晴"}}]},
        "echo": "echo-1",
    }


def test_send_private_text_with_reply() -> None:
    assert send_action("private", 456, "ok", "echo-2", reply_to="-2147000001") == {
        "action": "send_private_msg",
        "params": {
            "user_id": 456,
            "message": [
                {"type": "reply", "data": {"id": "-2147000001"}},
                {"type": "text", "data": {"text": "ok"}},
            ],
        },
        "echo": "echo-2",
    }


def test_reply_to_accepts_an_int() -> None:
    frame = send_action("group", 1, "x", "e", reply_to=77)
    assert frame["params"]["message"][0] == {"type": "reply", "data": {"id": "77"}}


def test_text_is_sent_literally_not_as_cq_codes() -> None:
    frame = send_action("group", 1, "[CQ:at,qq=all] &amp;", "e")
    assert frame["params"]["message"] == [
        {"type": "text", "data": {"text": "[CQ:at,qq=all] &amp;"}}
    ]


def test_send_segments_are_normalized_and_copied() -> None:
    segments: list[dict[str, Any]] = [
        {"type": "at", "data": {"qq": 456}},
        {"type": "text", "data": {"text": " hi"}},
    ]
    frame = send_action("group", 123, segments, "e", reply_to=9)
    assert frame["params"]["message"] == [
        {"type": "reply", "data": {"id": "9"}},
        {"type": "at", "data": {"qq": "456"}},
        {"type": "text", "data": {"text": " hi"}},
    ]
    assert len(segments) == 2
    assert segments[0]["data"]["qq"] == 456


def test_send_action_is_json() -> None:
    frame = send_action("private", "9223372036854775807", "x", "e")
    assert orjson.loads(orjson.dumps(frame)) == frame
    assert frame["params"]["user_id"] == 2**63 - 1


@pytest.mark.parametrize("chat_id", ["abc", "", True, 1.5, None, "1e3", 2**64])
def test_send_action_rejects_bad_chat_ids(chat_id: object) -> None:
    with pytest.raises(ValueError, match="id must"):
        send_action("group", chat_id, "x", "e")  # type: ignore[arg-type]


@pytest.mark.parametrize("chat_type", ["guild", "Group", "", "channel"])
def test_send_action_rejects_unknown_chat_types(chat_type: str) -> None:
    with pytest.raises(ValueError, match="chat type"):
        send_action(chat_type, 1, "x", "e")


@pytest.mark.parametrize("message", ["", [], [{"type": "text", "data": {"text": ""}}]])
def test_send_action_rejects_empty_messages(message: Any) -> None:
    with pytest.raises(ValueError, match="needs some content"):
        send_action("group", 1, message, "e")


@pytest.mark.parametrize("message", [[{"type": "at"}, "x"], [{"data": {}}], {"type": "text"}])
def test_send_action_rejects_malformed_segments(message: Any) -> None:
    with pytest.raises(ValueError, match="segment"):
        send_action("group", 1, message, "e")


@pytest.mark.parametrize("reply_to", [True, "", 1.5])
def test_send_action_rejects_bad_reply_ids(reply_to: Any) -> None:
    with pytest.raises(ValueError, match="message id"):
        send_action("group", 1, "x", "e", reply_to=reply_to)


# --- notices and requests -----------------------------------------------------------------------

GROUP_INCREASE = {
    "time": 1_700_000_000,
    "self_id": 10001,
    "post_type": "notice",
    "notice_type": "group_increase",
    "sub_type": "approve",
    "group_id": 5566,
    "operator_id": 42,
    "user_id": 777,
}
FRIEND_REQUEST = {
    "time": 1_700_000_000,
    "self_id": 10001,
    "post_type": "request",
    "request_type": "friend",
    "user_id": 888,
    "comment": "hi, it's me",
    "flag": "flag-1",
}


def test_a_notice_becomes_a_group_event_about_its_user() -> None:
    payload = to_notice(cast(NoticeEvent, classify(GROUP_INCREASE)))
    assert payload["kind"] == "notice.group_increase"
    assert payload["chat"] == {"type": "group", "id": "5566"}
    assert payload["sender"] == {"id": "777"}
    # every field but the envelope is kept, so that OneBot apps get the event as it came
    assert payload["detail"] == {
        key: value
        for key, value in GROUP_INCREASE.items()
        if key not in ("time", "self_id", "post_type")
    }
    assert payload["time"] == "2023-11-14T22:13:20Z"


def test_a_poke_is_named_with_its_sub_type() -> None:
    frame = {
        "time": 1,
        "self_id": 1,
        "post_type": "notice",
        "notice_type": "notify",
        "sub_type": "poke",
        "user_id": 2,
        "target_id": 1,
    }
    assert to_notice(cast(NoticeEvent, classify(frame)))["kind"] == "notice.notify.poke"


def test_a_friend_request_is_a_private_event_with_its_comment() -> None:
    payload = to_notice(cast(RequestEvent, classify(FRIEND_REQUEST)))
    assert payload["kind"] == "request.friend"
    assert "chat" not in payload
    assert payload["sender"] == {"id": "888"}
    assert payload["content"] == "hi, it's me"
    assert payload["detail"]["flag"] == "flag-1"


@pytest.mark.parametrize(
    ("frame", "problem"),
    [
        ({**FRIEND_REQUEST, "flag": ""}, "flag"),
        ({k: v for k, v in FRIEND_REQUEST.items() if k != "flag"}, "flag"),
        ({k: v for k, v in FRIEND_REQUEST.items() if k != "user_id"}, "user_id"),
        ({**GROUP_INCREASE, "notice_type": 3}, "notice_type"),
        ({**GROUP_INCREASE, "group_id": "five"}, "group_id"),
    ],
)
def test_bad_notices_and_requests_are_refused(frame: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        classify(frame)


def test_answers_to_requests_are_onebot_actions() -> None:
    friend = request_action("request.friend", {"flag": "f"}, True, "", "pal", "e1")
    assert friend == {
        "action": "set_friend_add_request",
        "params": {"flag": "f", "approve": True, "remark": "pal"},
        "echo": "e1",
    }
    group = request_action(
        "request.group", {"flag": "g", "sub_type": "invite"}, False, "no", "", "e2"
    )
    assert group["action"] == "set_group_add_request"
    assert group["params"] == {
        "flag": "g",
        "sub_type": "invite",
        "type": "invite",
        "approve": False,
        "reason": "no",
    }
    with pytest.raises(ValueError, match="no answer"):
        request_action("request.other", {"flag": "x"}, True, "", "", "e3")
