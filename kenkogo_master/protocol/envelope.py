"""The plain WebSocket envelope of PROTOCOL.md section 3."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints


class Envelope(BaseModel):
    """One `/ws` frame: `{"type": ..., "data": ..., "seq": ...}`."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)

    type: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    data: Any = None
    seq: int | None = None
