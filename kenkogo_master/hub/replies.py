"""Replies and app-initiated sends: out to the right driver, every outcome recorded and told."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.hub.drivers import ActionResult, DriverRegistry, DriverSession, OutboundAction
from kenkogo_master.hub.events import EventBus
from kenkogo_master.hub.ingest import ChatLocale, tag_locale
from kenkogo_master.hub.messages import InboundMessage
from kenkogo_master.hub.notices import Notifier
from kenkogo_master.hub.sessions import AppSession
from kenkogo_master.ids import new_id, now_ms
from kenkogo_master.observability.telemetry import Telemetry
from kenkogo_master.protocol.apps import ContentOrTemplate, ReplyRequest, SendRequest, SendTarget
from kenkogo_master.settings import DriverSettings
from kenkogo_master.store.message_records import MessageRecords
from kenkogo_master.store.writer import StorageUnavailable

log = logging.getLogger(__name__)

# Messages kept in memory for replies; older ones are read back from SQL.
RECENT_MESSAGES = 10_000

# Renders template `key` in a locale with params; raises HubError for what the app got wrong.
TemplateRenderer = Callable[[str, str | None, Mapping[str, Any]], str]
# Told what the driver answered, once a reply or send is done (sent or failed).
DoneListener = Callable[[ActionResult], None]


def no_templates(key: str, locale: str | None, params: Mapping[str, Any]) -> str:
    """Refuse every template: the renderer used when no translator is wired in."""
    raise HubError(ErrorCode.UNKNOWN_TEMPLATE, template=key)


class ReplyStatus(StrEnum):
    """Where a reply stands."""

    PENDING = "pending"  # waiting for its driver, or sent and waiting for the driver's answer
    SENT = "sent"  # the driver reported success
    FAILED = "failed"  # the driver refused it, or never came back within reply_wait


@dataclass(eq=False, slots=True)
class Outgoing:
    """One reply or send on its way to a driver."""

    action: OutboundAction
    driver_id: str
    app_name: str
    instance_id: str
    session: AppSession | None  # None for one accepted by an earlier run: nobody to tell
    message_id: str | None
    template: str | None
    created_ms: int
    on_done: DoneListener | None = None

    @classmethod
    def of(
        cls,
        action: OutboundAction,
        driver_id: str,
        session: AppSession,
        message_id: str | None,
        template: str | None,
        on_done: DoneListener | None = None,
    ) -> Outgoing:
        """Make an outgoing action from an app session, created now."""
        name, instance_id = session.name or "", session.id
        return cls(
            action, driver_id, name, instance_id, session, message_id, template, now_ms(), on_done
        )

    @classmethod
    def from_row(cls, row: Any) -> Outgoing:
        """Rebuild an action an earlier run accepted from its `replies` row."""
        action = OutboundAction(
            id=row.id,
            type="send_message",
            chat={"type": row.chat_type, "id": row.chat_id},
            content=row.content,
            segments=[{"type": "text", "data": {"text": row.content}}],
            reply_to=row.reply_to,
        )
        return cls(
            action,
            row.driver_id,
            row.app_name or "",
            row.instance_id or "",
            None,
            row.message_id,
            row.template,
            row.created_ms,
        )

    def row(self) -> dict[str, Any]:
        """Return the `replies` row as first written."""
        return {
            "id": self.action.id,
            "message_id": self.message_id,
            "app_name": self.app_name,
            "instance_id": self.instance_id,
            "driver_id": self.driver_id,
            "chat_type": self.action.chat["type"],
            "chat_id": self.action.chat["id"],
            "content": self.action.content,
            "template": self.template,
            "status": ReplyStatus.PENDING.value,
            "platform_message_id": None,
            "error_code": None,
            "error_message": None,
            "created_ms": self.created_ms,
            "done_ms": None,
        }


class Replies:
    """Turn `reply`, the ack's `reply` shortcut and `send` into driver actions."""

    def __init__(
        self,
        settings: DriverSettings,
        drivers: DriverRegistry,
        records: MessageRecords,
        notifier: Notifier,
        bus: EventBus,
        render: TemplateRenderer = no_templates,
        chat_locale: ChatLocale = tag_locale,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.settings = settings
        self._telemetry = telemetry or Telemetry.standalone(bus)
        self._drivers = drivers
        self._records = records
        self._notifier = notifier
        self._bus = bus
        self.render = render
        self._chat_locale = chat_locale
        self._recent: OrderedDict[str, InboundMessage] = OrderedDict()
        self._outstanding: dict[str, int] = {}  # replies not yet settled, per driver id
        self._returns: dict[str, asyncio.Event] = {}  # set when the driver attaches again
        self._tasks: set[asyncio.Task[None]] = set()
        drivers.on_attach(self._driver_back)

    def remember(self, message: InboundMessage) -> None:
        """Keep a scheduled message at hand for the replies it will get."""
        self._recent[message.id] = message
        if len(self._recent) > RECENT_MESSAGES:
            self._recent.popitem(last=False)

    async def resume(self, rows: Sequence[Any]) -> int:
        """Send again what an earlier run accepted but did not send; return how many."""
        for row in rows:
            self._launch(Outgoing.from_row(row), stored=True)
        if rows:
            log.info("sending %d replies accepted before the restart", len(rows))
        return len(rows)

    async def settle(self, timeout: float) -> None:
        """Wait up to `timeout` s for the replies under way."""
        if self._tasks and timeout > 0:
            await asyncio.wait(tuple(self._tasks), timeout=timeout)

    def under_way(self) -> int:
        """Return how many replies are not sent yet."""
        return len(self._tasks)

    async def stop(self) -> None:
        """Abandon replies still waiting: their rows stay pending, for the next start to send."""
        for task in tuple(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- app events -------------------------------------------------------------------------------

    async def reply(
        self,
        session: AppSession,
        request: ReplyRequest,
        segments: list[dict[str, Any]] | None = None,
        on_done: DoneListener | None = None,
    ) -> dict[str, Any]:
        """Answer a message in the chat it came from; ack `{success, id}` once its row is stored.

        `segments` (rich content whose plain text is `content`) go to the driver as they are;
        the stored row keeps the text. `on_done` hears the driver's answer.
        """
        message = await self._message(request.message_id)
        content = self._content(request, message.locale or session.locale)
        outgoing = self._reply_to(session, message, content, request.template, segments, on_done)
        await self._accept(outgoing)
        self._accepted(session, outgoing, message, request.traceparent)
        return {"success": True, "id": outgoing.action.id}

    def reply_text(self, session: AppSession, message: InboundMessage, text: str) -> None:
        """Send the `reply` shortcut of an ack; a failure reaches the app as an `error` event."""
        outgoing = self._reply_to(session, message, text, None)
        try:
            self._admit(outgoing)
        except HubError as exc:
            self._notifier.error(session, exc, message_id=message.id)
            return
        self._launch(outgoing, stored=False)  # nobody waits for an ack: stored by its task
        self._accepted(session, outgoing, message)

    async def send(
        self,
        session: AppSession,
        request: SendRequest,
        segments: list[dict[str, Any]] | None = None,
        on_done: DoneListener | None = None,
    ) -> dict[str, Any]:
        """Send a message the app starts itself; ack `{success, id}` once accepted."""
        target = request.target
        if target.driver is not None:
            driver_id = target.driver
            if not self._drivers.known(driver_id):
                raise HubError(ErrorCode.NOT_FOUND, what="driver", id=driver_id)
        elif target.platform is not None:
            driver = self._drivers.of_platform(target.platform)
            if driver is None:
                raise HubError(ErrorCode.DRIVER_UNAVAILABLE, driver=target.platform)
            driver_id = driver.id
        else:
            detail = "target: give a driver or a platform"
            raise HubError(ErrorCode.INVALID_PAYLOAD, detail=detail)
        content = self._content(request, self._target_locale(driver_id, target))
        action = OutboundAction(
            id=new_id(),
            type="send_message",
            chat=target.chat.model_dump(),
            content=content,
            segments=segments or [{"type": "text", "data": {"text": content}}],
            reply_to=None,
        )
        outgoing = Outgoing.of(action, driver_id, session, None, request.template, on_done)
        await self._accept(outgoing)
        self._telemetry.reply_accepted(action.id, None, session.name or "", None)
        return {"success": True, "id": action.id}

    # -- internals --------------------------------------------------------------------------------

    def _target_locale(self, driver_id: str, target: SendTarget) -> str | None:
        """Return the locale of a send's chat: the operator's choice for it, else its driver's."""
        driver = self._drivers.get(driver_id)
        platform = driver.platform if driver is not None else target.platform or ""
        driver_locale = driver.locale if driver is not None else None
        return self._chat_locale(platform, target.chat.id, None, driver_locale)

    async def message(self, message_id: str) -> InboundMessage:
        """Return a stored message by id (recent ones from memory); raise unknown_message."""
        return await self._message(message_id)

    async def message_of(self, driver_id: str, platform_message_id: str) -> InboundMessage | None:
        """Return a driver's stored message (or notice, or request) by the platform's id."""
        message_id = await self._records.id_of(driver_id, platform_message_id)
        return None if message_id is None else await self._message(message_id)

    async def _message(self, message_id: str) -> InboundMessage:
        message = self._recent.get(message_id)
        if message is not None:
            return message
        row = await self._records.message(message_id)
        if row is None:
            raise HubError(ErrorCode.UNKNOWN_MESSAGE, message_id=message_id)
        return InboundMessage.from_row(row)

    def _content(self, request: ContentOrTemplate, locale: str | None) -> str:
        if request.content is not None:
            return request.content
        assert request.template is not None
        return self.render(request.template, locale, request.params)

    def _reply_to(
        self,
        session: AppSession,
        message: InboundMessage,
        content: str,
        template: str | None,
        segments: list[dict[str, Any]] | None = None,
        on_done: DoneListener | None = None,
    ) -> Outgoing:
        """Make the action that answers `message` in its chat."""
        action = OutboundAction(
            id=new_id(),
            type="send_message",
            chat=dict(message.chat),
            content=content,
            segments=segments or [{"type": "text", "data": {"text": content}}],
            # A notice or request is no chat message a platform could quote.
            reply_to=message.platform_message_id if message.is_chat_message else None,
        )
        return Outgoing.of(action, message.driver_id, session, message.id, template, on_done)

    def _accepted(
        self,
        session: AppSession,
        outgoing: Outgoing,
        message: InboundMessage,
        traceparent: str | None = None,
    ) -> None:
        registration = session.registration
        commands = registration.subscribe.commands if registration is not None else None
        self._telemetry.reply_accepted(
            outgoing.action.id, message, session.name or "", commands, traceparent
        )

    async def _accept(self, outgoing: Outgoing) -> None:
        """Store an action's row, then send it: an app's ack means the reply is in SQL."""
        self._admit(outgoing)
        try:
            await self._records.writer.write(self._records.insert_reply, outgoing.row())
        except StorageUnavailable:
            self._release(outgoing.driver_id)
            raise HubError(ErrorCode.STORAGE_UNAVAILABLE) from None
        self._launch(outgoing, stored=True)

    def _admit(self, outgoing: Outgoing) -> None:
        """Count an action against its driver's queue, or refuse it when too many wait."""
        driver_id = outgoing.driver_id
        outstanding = self._outstanding.get(driver_id, 0)
        if outstanding >= self.settings.reply_queue_limit and self._drivers.get(driver_id) is None:
            raise HubError(ErrorCode.OVERLOADED, what="replies waiting for the driver")
        self._outstanding[driver_id] = outstanding + 1

    def _release(self, driver_id: str) -> None:
        left = self._outstanding.pop(driver_id, 1) - 1
        if left:
            self._outstanding[driver_id] = left

    def _launch(self, outgoing: Outgoing, stored: bool) -> None:
        """Send an admitted action in a task of its own (storing its row first unless `stored`)."""
        task = asyncio.create_task(self._run(outgoing, stored), name=f"reply-{outgoing.action.id}")
        self._tasks.add(task)
        task.add_done_callback(lambda done: self._ended(done, outgoing.driver_id))

    def _ended(self, task: asyncio.Task[None], driver_id: str) -> None:
        self._tasks.discard(task)
        self._release(driver_id)
        if not task.cancelled() and task.exception() is not None:
            log.error("reply task failed", exc_info=task.exception())

    async def _run(self, outgoing: Outgoing, stored: bool) -> None:
        if not stored:
            try:
                await self._records.writer.write(self._records.insert_reply, outgoing.row())
            except StorageUnavailable:
                await self._finish(outgoing, _failure(ErrorCode.STORAGE_UNAVAILABLE, ""), False)
                return
        # Cancelled by a stop, it is left pending in SQL: the next start sends it.
        result = await self._deliver(outgoing)
        await self._finish(outgoing, result)

    async def _deliver(self, outgoing: Outgoing) -> ActionResult:
        """Give the action to its driver, waiting up to reply_wait for an absent one."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.reply_wait
        while True:
            driver = self._drivers.get(outgoing.driver_id)
            if driver is None:
                if not await self._wait_for_driver(outgoing.driver_id, deadline):
                    return _failure(ErrorCode.DRIVER_UNAVAILABLE, "the driver did not come back")
                continue
            self._telemetry.action_sent(outgoing.action.id, driver.id)
            result = await driver.peer.deliver_action(outgoing.action)
            if self._went_away(driver, result) and loop.time() < deadline:
                continue  # it dropped mid-send: wait for it like for any absent driver
            return result

    def _went_away(self, driver: DriverSession, result: ActionResult) -> bool:
        code = (result.error or {}).get("code")
        return (
            not result.success
            and code == ErrorCode.DRIVER_UNAVAILABLE.value
            and (self._drivers.get(driver.id) is not driver)
        )

    async def _wait_for_driver(self, driver_id: str, deadline: float) -> bool:
        back = self._returns.setdefault(driver_id, asyncio.Event())
        try:
            async with asyncio.timeout_at(deadline):
                await back.wait()
        except TimeoutError:
            return False
        return True

    def _driver_back(self, session: DriverSession) -> None:
        back = self._returns.pop(session.id, None)
        if back is not None:
            back.set()

    async def _finish(self, outgoing: Outgoing, result: ActionResult, stored: bool = True) -> None:
        status = ReplyStatus.SENT if result.success else ReplyStatus.FAILED
        self._drivers.count_action(outgoing.driver_id, result.success)
        error = result.error or {}
        done_ms = now_ms()
        if outgoing.on_done is not None:
            try:
                outgoing.on_done(result)
            except Exception:
                log.exception("a listener of reply %s failed", outgoing.action.id)
        self._telemetry.action_done(
            outgoing.action.id,
            outgoing.app_name,
            outgoing.driver_id,
            result.success,
            error.get("code"),
        )
        if stored:
            await self._records.writer.submit(
                self._records.update_reply,
                {
                    "row_id": outgoing.action.id,
                    "status": status.value,
                    "platform_message_id": result.platform_message_id,
                    "error_code": error.get("code"),
                    "error_message": error.get("message"),
                    "done_ms": done_ms,
                },
            )
        event = {
            "id": outgoing.action.id,
            "message_id": outgoing.message_id,
            "driver_id": outgoing.driver_id,
            "app": outgoing.app_name,
            "status": status.value,
            "latency_ms": done_ms - outgoing.created_ms,
        }
        if result.success:
            self._bus.publish("reply.sent", event)
            return
        self._bus.publish("reply.failed", {**event, "error": error})
        log.warning(
            "reply %s from app %s failed: %s", outgoing.action.id, outgoing.instance_id, error
        )
        if outgoing.session is not None:
            self._tell_failure(outgoing.session, outgoing, result)

    def _tell_failure(self, session: AppSession, outgoing: Outgoing, result: ActionResult) -> None:
        """Tell the app on its `error` event; never let a failed reply pass silently."""
        error = result.error or {}
        code = error.get("code")
        extra = {"reply_id": outgoing.action.id, "message_id": outgoing.message_id}
        if code in {item.value for item in ErrorCode}:
            params = {"driver": outgoing.driver_id, "detail": error.get("message", "")}
            self._notifier.error(session, HubError(ErrorCode(code), **params), **extra)
            return
        # A driver's own code (e.g. a platform's refusal) goes to the app as the driver gave it.
        data = {"code": str(code or "action_failed"), "message": str(error.get("message", ""))}
        self._notifier.spawn(
            session.peer.send("error", {**data, **extra}), f"error to {session.id}"
        )


def _failure(code: ErrorCode, message: str) -> ActionResult:
    return ActionResult(False, error={"code": code.value, "message": message})


def translator_renderer(translator: Any) -> TemplateRenderer:
    """Render templates with the i18n Translator, its TemplateError becoming a HubError."""
    from kenkogo_master.i18n.render import TemplateError

    def render(key: str, locale: str | None, params: Mapping[str, Any]) -> str:
        try:
            text: str = translator.render_template(key, locale, params)
        except TemplateError as exc:
            try:
                code = ErrorCode(exc.code)
            except ValueError:
                code = ErrorCode.INVALID_PAYLOAD
            raise HubError(code, **{"detail": exc.code, **exc.params}) from None
        return text

    return render
