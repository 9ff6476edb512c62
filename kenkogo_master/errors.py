"""Error codes the Master reports, and the exception that carries them to the wire."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    """Every `code` the Master may put in a `{code, message}` answer."""

    INVALID_PAYLOAD = "invalid_payload"  # fails validation: wrong types, missing fields
    INVALID_JSON = "invalid_json"  # a frame or body that is not JSON
    UNKNOWN_EVENT = "unknown_event"  # an event or frame type nobody handles
    PAYLOAD_TOO_LARGE = "payload_too_large"  # over limits.max_payload
    ALREADY_REGISTERED = "already_registered"  # a second register on one connection
    NOT_REGISTERED = "not_registered"  # an event that needs a registered app
    UNAUTHORIZED = "unauthorized"  # missing or wrong token
    FORBIDDEN = "forbidden"  # a token without the scope needed
    NOT_FOUND = "not_found"  # an unknown id or route
    METHOD_NOT_ALLOWED = "method_not_allowed"  # a known route asked with the wrong HTTP method
    ILLEGAL_TRANSITION = "illegal_transition"  # a state change the state machine forbids
    NAME_HELD = "name_held"  # resume refused while an operator holds the name
    REGISTER_TIMEOUT = "register_timeout"
    HEARTBEAT_TIMEOUT = "heartbeat_timeout"
    INVALID_REGEX = "invalid_regex"
    UNKNOWN_MESSAGE = "unknown_message"
    TEMPLATE_MISSING_PARAM = "template_missing_param"
    UNKNOWN_TEMPLATE = "unknown_template"
    INVALID_TEMPLATE_PARAM = "invalid_template_param"
    DRIVER_UNAVAILABLE = "driver_unavailable"
    OVERLOADED = "overloaded"  # a bounded queue is full
    KICKED = "kicked"  # an operator disconnected the app
    ACTION_FAILED = "action_failed"  # the driver (or its platform) refused to send
    ACTION_TIMEOUT = "action_timeout"  # the driver did not answer an action in time
    INVALID_ANSWER = "invalid_answer"  # the driver's answer to an action was not understood
    MAINTENANCE_RUNNING = "maintenance_running"  # another database operation has not ended
    BACKUP_UNSUPPORTED = "backup_unsupported"  # the engine is backed up with its own tools
    INTERNAL = "internal"  # a bug: logged with its traceback, answered without it


class HubError(Exception):
    """A failure with a wire code; `params` fill the translated message."""

    def __init__(self, code: ErrorCode, **params: Any) -> None:
        super().__init__(code.value, params)
        self.code = code
        self.params = params

    @property
    def text_key(self) -> str:
        """Return the i18n key of this error's message."""
        return f"error.{self.code.value}"
