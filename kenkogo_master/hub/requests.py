"""Answers to friend and group requests: from an app, through the request's own driver."""

from __future__ import annotations

import logging
from typing import Any

from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.hub.drivers import DriverRegistry, OutboundAction
from kenkogo_master.hub.replies import Replies
from kenkogo_master.ids import new_id
from kenkogo_master.protocol.apps import AnswerRequest

log = logging.getLogger(__name__)

REQUEST_PREFIX = "request."


async def answer_request(
    replies: Replies, drivers: DriverRegistry, app: str, answer: AnswerRequest
) -> dict[str, Any]:
    """Hand an app's answer to the driver the request came through; return its ack.

    An answer is not queued like a reply: the request is the driver's to remember, so
    a driver that is away is told of at once (`driver_unavailable`) and the app may retry.
    """
    message = await replies.message(answer.request_id)
    if not message.kind.startswith(REQUEST_PREFIX):
        raise HubError(ErrorCode.NOT_A_REQUEST, message_id=message.id, kind=message.kind)
    driver = drivers.get(message.driver_id)
    if driver is None:
        raise HubError(ErrorCode.DRIVER_UNAVAILABLE, driver=message.driver_id)
    detail = message.detail or {}
    action = OutboundAction(
        id=new_id(),
        type="answer_request",
        chat=message.chat,
        content="",
        segments=[],
        reply_to=message.platform_message_id,
        request={
            "kind": message.kind,
            "flag": detail.get("flag"),
            "approve": answer.approve,
            "reason": answer.reason,
            "remark": answer.remark,
            "detail": detail,
        },
    )
    result = await driver.peer.deliver_action(action)
    if result.success:
        driver.counts.sent += 1
    else:
        driver.counts.failed += 1
    log.info(
        "request %s %s by %s: %s",
        message.id,
        "approved" if answer.approve else "refused",
        app,
        "done" if result.success else (result.error or {}).get("code"),
        extra={"message_id": message.id, "driver_id": driver.id},
    )
    if not result.success:
        return {"success": False, "error": result.error}
    return {"success": True, "id": action.id}
