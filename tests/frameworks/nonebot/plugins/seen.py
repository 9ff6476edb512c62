"""Print every message the bot hears, so that a test can tell which ones reached it."""

from nonebot import on_message
from nonebot.adapters.onebot.v11 import MessageEvent

seen = on_message(priority=1, block=False)


@seen.handle()
async def note(event: MessageEvent):
    print(f"SEEN {event.message_id} {event.self_id} {event.get_plaintext()}", flush=True)
