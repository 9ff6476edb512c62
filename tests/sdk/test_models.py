"""Messages read from the wire, replies, blocks and targets."""

from __future__ import annotations

import datetime as dt

import pytest

from kenkogo_master.sdk import Block, Chat, Message, Reply, Segment, Sender, Target
from kenkogo_master.sdk.models import BadMessage, MasterError, as_reply

WIRE = {
    "id": "01abc",
    "content": "天气 北京",
    "segments": [{"type": "text", "data": {"text": "天气 北京"}}],
    "platform": "qq",
    "driver": "d1",
    "chat": {"type": "group", "id": "123", "name": "Friends"},
    "sender": {"id": "456", "name": "Alice"},
    "time": "2026-11-22T08:00:00Z",
    "locale": "zh_Hans",
    "attempt": 2,
    "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    "future_field": {"kept": True},
}


def test_a_full_message_is_read_into_types() -> None:
    message = Message.from_wire(WIRE)
    assert message.id == "01abc" and message.content == "天气 北京"
    assert message.segments == (Segment("text", {"text": "天气 北京"}),)
    assert message.chat == Chat("group", "123", "Friends")
    assert message.sender == Sender("456", "Alice")
    assert message.platform == "qq" and message.driver == "d1" and message.locale == "zh_Hans"
    assert message.time == dt.datetime(2026, 11, 22, 8, tzinfo=dt.UTC)
    assert message.attempt == 2
    assert message.raw["future_field"] == {"kept": True}
    assert message.target == Target(Chat("group", "123"), driver="d1", platform="qq")


def test_missing_and_odd_fields_get_defaults() -> None:
    message = Message.from_wire({"id": "x", "attempt": True, "time": "yesterday", "chat": [1]})
    assert message.content == "" and message.segments == ()
    assert message.attempt == 1 and message.time is None
    assert message.chat == Chat("", "") and message.sender == Sender("")


@pytest.mark.parametrize("data", [None, [], "text", {"content": "no id"}, {"id": ""}, {"id": 7}])
def test_a_message_without_an_id_cannot_be_read(data: object) -> None:
    with pytest.raises(BadMessage):
        Message.from_wire(data)


async def test_a_message_not_delivered_by_an_app_cannot_reply() -> None:
    with pytest.raises(RuntimeError):
        await Message.from_wire(WIRE).reply("hi")


def test_replies_carry_content_or_a_template() -> None:
    assert Reply("hi").wire() == {"content": "hi"}
    assert Reply(template="template.x", params={"n": 1}).wire() == {
        "template": "template.x",
        "params": {"n": 1},
    }
    assert Reply.of("hi") == Reply(content="hi")
    assert Block().reply is None and Block("no").reply == "no"
    assert as_reply(None, "template.x", None) == Reply(template="template.x")
    assert as_reply(Reply("a"), None, None) == Reply("a")


@pytest.mark.parametrize(
    "make",
    [
        lambda: Reply(),
        lambda: Reply("a", template="template.x"),
        lambda: Reply(template=""),
        lambda: as_reply(None, None, None),
        lambda: as_reply("a", "template.x", None),
        lambda: as_reply("a", None, {"n": 1}),
        lambda: as_reply(Reply("a"), "template.x", None),
        lambda: Target(Chat("group", "1")),
    ],
)
def test_bad_replies_and_targets_are_refused(make: object) -> None:
    with pytest.raises(ValueError):
        make()  # type: ignore[operator]


def test_a_reply_of_the_wrong_type_is_refused() -> None:
    with pytest.raises(TypeError):
        Reply.of(42)  # type: ignore[arg-type]


def test_targets_name_a_chat_and_a_way_there() -> None:
    assert Target.group("123", platform="qq").wire() == {
        "chat": {"type": "group", "id": "123"},
        "platform": "qq",
    }
    assert Target.private("9", driver="d").wire() == {
        "chat": {"type": "private", "id": "9"},
        "driver": "d",
    }


def test_master_errors_read_any_error_payload() -> None:
    error = MasterError.of({"code": "kicked", "message": "bye"})
    assert (error.code, error.message, str(error)) == ("kicked", "bye", "kicked: bye")
    assert MasterError.of("odd").code == "unknown"
