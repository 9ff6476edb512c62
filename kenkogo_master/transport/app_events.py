"""App events shared by /app and /ws: one handler registry and one error funnel."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.hub.hub import Hub
from kenkogo_master.hub.lifecycle import AfterAck
from kenkogo_master.hub.requests import answer_request
from kenkogo_master.hub.sessions import AppSession
from kenkogo_master.protocol.apps import AnswerRequest, RegisterRequest, ReplyRequest, SendRequest
from kenkogo_master.protocol.codec import MAX_NESTING, deeper_than

log = logging.getLogger(__name__)


@dataclass(slots=True)
class AppConnection:
    """What a transport keeps per app connection."""

    session: AppSession


@dataclass(slots=True)
class Outcome:
    """A handler's answer, and what to do once the answer has gone out."""

    answer: Any
    after: AfterAck | None = None
    error: HubError | None = None  # set when the answer is a failure


Handler = Callable[[Hub, AppConnection, Any], Awaitable[Outcome]]
_HANDLERS: dict[str, tuple[type[BaseModel] | None, Handler]] = {}


def handler(event: str, model: type[BaseModel] | None = None) -> Callable[[Handler], Handler]:
    """Register `func` as the handler of `event`, its payload validated by `model`."""

    def register(func: Handler) -> Handler:
        _HANDLERS[event] = (model, func)
        return func

    return register


def describe_validation(error: ValidationError) -> str:
    """Summarize a pydantic error as `field: problem; ...` for people."""
    parts = []
    for item in error.errors()[:5]:
        where = ".".join(str(part) for part in item["loc"]) or "data"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


def failure(hub: Hub, conn: AppConnection, error: HubError) -> dict[str, Any]:
    """Build the `{success: false, error}` answer in the app's language."""
    answer: dict[str, Any] = {"success": False, "error": hub.error(error, conn.session.locale)}
    if error.code is ErrorCode.ALREADY_REGISTERED:
        answer["id"] = conn.session.id
    return answer


async def dispatch(hub: Hub, conn: AppConnection, event: str, data: Any, size: int) -> Outcome:
    """Validate and run one app event; every failure becomes a `{code, message}` answer."""
    try:
        if size > hub.settings.limits.max_payload:
            raise HubError(
                ErrorCode.PAYLOAD_TOO_LARGE, size=size, limit=hub.settings.limits.max_payload
            )
        entry = _HANDLERS.get(event)
        if entry is None:
            raise HubError(ErrorCode.UNKNOWN_EVENT, event=event[:64])
        if deeper_than(data):
            detail = f"nested deeper than {MAX_NESTING} levels"
            raise HubError(ErrorCode.INVALID_PAYLOAD, detail=detail)
        model, func = entry
        payload = model.model_validate({} if data is None else data) if model else data
        return await func(hub, conn, payload)
    except HubError as exc:
        error = exc
    except ValidationError as exc:
        error = HubError(ErrorCode.INVALID_PAYLOAD, detail=describe_validation(exc))
    except Exception:
        log.exception(
            "app %s: event %r failed", conn.session.id, event, extra={"app_id": conn.session.id}
        )
        error = HubError(ErrorCode.INTERNAL)
    return Outcome(failure(hub, conn, error), error=error)


def _require_registered(conn: AppConnection) -> AppSession:
    if not conn.session.registered:
        raise HubError(ErrorCode.NOT_REGISTERED)
    return conn.session


@handler("register", RegisterRequest)
async def on_register(hub: Hub, conn: AppConnection, request: RegisterRequest) -> Outcome:
    """Register the app; the `state` event follows the ack."""
    conn.session, ack, after = await hub.apps.register(conn.session, request)
    return Outcome(ack, after)


@handler("heartbeat")
async def on_heartbeat(hub: Hub, conn: AppConnection, _: Any) -> Outcome:
    """Keep a registered app alive."""
    return Outcome(hub.apps.heartbeat(_require_registered(conn)))


@handler("reply", ReplyRequest)
async def on_reply(hub: Hub, conn: AppConnection, request: ReplyRequest) -> Outcome:
    """Answer a message in its chat; the ack comes once the reply is accepted."""
    return Outcome(await hub.replies.reply(_require_registered(conn), request))


@handler("send", SendRequest)
async def on_send(hub: Hub, conn: AppConnection, request: SendRequest) -> Outcome:
    """Send a message the app starts itself."""
    return Outcome(await hub.replies.send(_require_registered(conn), request))


@handler("answer_request", AnswerRequest)
async def on_answer_request(hub: Hub, conn: AppConnection, request: AnswerRequest) -> Outcome:
    """Approve or refuse a request through its driver; the ack carries the driver's answer."""
    session = _require_registered(conn)
    answer = await answer_request(hub.replies, hub.drivers, session.name or "", request)
    return Outcome(answer)
