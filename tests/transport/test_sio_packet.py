"""Socket.IO packets: the fast decoding reads every frame as python-socketio's own does."""

from __future__ import annotations

import pytest
from socketio import packet

from kenkogo_master.protocol import codec
from kenkogo_master.transport.sio_packet import JsonPacket

FRAMES = [
    '2/driver,123["event",{"platform_message_id":"p-1","content":"a-b"}]',
    '3/app,5[{"ok":true}]',
    '2/app,["no ack wanted"]',
    "3/app,7[]",
    '0/app,{"token":"x"}',
    '2["to the default namespace",1]',
    "1/app,",
    '2/app?x=1,3["a query in the namespace"]',
    "2/app,",
    '21-/app,4["b",{"_placeholder":true,"num":0}]',
    "2/app,9",
    '2/driver,"not a list"',
]


def _fields(pkt: packet.Packet) -> tuple[object, ...]:
    return (pkt.packet_type, pkt.namespace, pkt.id, pkt.data, pkt.attachment_count)


@pytest.fixture(autouse=True)
def _orjson_codec() -> None:
    packet.Packet.json = codec  # as create_sio_server configures it


@pytest.mark.parametrize("frame", FRAMES)
def test_a_frame_decodes_to_the_same_packet(frame: str) -> None:
    assert _fields(JsonPacket(encoded_packet=frame)) == _fields(packet.Packet(encoded_packet=frame))


@pytest.mark.parametrize(
    "frame", ['2/app,1["unclosed"', "2/app," + "1" * 101 + '["id too long"]', "2/app,{bad json"]
)
def test_a_broken_frame_is_refused_as_the_base_class_refuses_it(frame: str) -> None:
    with pytest.raises(ValueError):
        packet.Packet(encoded_packet=frame)
    with pytest.raises(ValueError):
        JsonPacket(encoded_packet=frame)
