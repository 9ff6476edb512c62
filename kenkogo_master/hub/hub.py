"""The hub facade the transports and the API talk to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.hub.events import EventBus
from kenkogo_master.hub.lifecycle import AppLifecycle
from kenkogo_master.hub.ports import Texts
from kenkogo_master.settings import Settings


@dataclass(slots=True)
class Hub:
    """Everything a transport may call, under one name."""

    settings: Settings
    apps: AppLifecycle
    bus: EventBus
    texts: Texts

    def error(self, error: HubError, locale: str | None) -> dict[str, Any]:
        """Render an error as the wire's `{code, message}` in `locale`."""
        return {
            "code": error.code.value,
            "message": self.texts.text(error.text_key, locale, **error.params),
        }

    def error_of(self, code: ErrorCode, locale: str | None, **params: Any) -> dict[str, Any]:
        """Render an error code with params as `{code, message}`."""
        return self.error(HubError(code, **params), locale)
