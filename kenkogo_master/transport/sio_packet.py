"""Socket.IO packets that serialize their data once, with orjson, and look for bytes only then.

python-socketio decides whether an outbound packet is binary by walking its whole data in
Python (about 11 us for one `message`, 1.1 ms for a batch of 100) and then serializes it. orjson
refuses bytes, so a successful serialization already proves there are none: this packet does
that one serialization up front, keeps the text for `encode`, and leaves anything orjson cannot
write (bytes, or types JSON has no form for) to the base class, which behaves as before.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from socketio import packet

# An event or ack to a namespace, without attachments: `2/driver,17[...]` (PROTOCOL.md's frames).
_PLAIN_HEAD = re.compile(r"([23])(/[^,?]*),(\d{0,99})")


class JsonPacket(packet.Packet):  # type: ignore[misc]
    """A Socket.IO packet whose JSON text is made once, when it is built."""

    def __init__(
        self,
        packet_type: int = packet.EVENT,
        data: Any = None,
        namespace: str | None = None,
        id: int | None = None,  # the base class's name
        binary: bool | None = None,
        encoded_packet: Any = None,
    ) -> None:
        self._text: str | None = None
        if binary is None and data is not None and encoded_packet is None:
            try:
                self._text = orjson.dumps(data).decode()
                binary = False
            except TypeError:
                pass  # bytes inside, or a value JSON cannot hold: the base class decides
        super().__init__(packet_type, data, namespace, id, binary, encoded_packet)

    def decode(self, encoded_packet: Any) -> int:
        """Decode events and acks to a namespace with one regular expression and orjson.

        The base class reads the head character by character and first scans the whole payload
        for an attachment count; everything but a plain text event or ack still goes to it.
        """
        head = _PLAIN_HEAD.match(encoded_packet) if isinstance(encoded_packet, str) else None
        if head is None:
            return int(super().decode(encoded_packet))
        kind, namespace, ack_id = head.groups()
        body = encoded_packet[head.end() :]
        if body[:1].isdigit():
            raise ValueError("id field is too long")
        self.packet_type = int(kind)
        self.namespace = namespace
        self.id = int(ack_id) if ack_id else None
        self.data = orjson.loads(body) if body else None
        return 0

    def encode(self) -> Any:
        """Encode as the base class does, reusing the JSON text made at construction."""
        text = self._text
        if text is None or self.packet_type not in (packet.EVENT, packet.ACK):
            return super().encode()
        head = str(self.packet_type)
        if self.namespace is not None and self.namespace != "/":
            head += self.namespace + ","
        if self.id is not None:
            head += str(self.id)
        return head + text
