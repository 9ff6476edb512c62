"""Greet new group members and turn down friend requests, as NoneBot's docs write such handlers."""

from nonebot import on_notice, on_request
from nonebot.adapters.onebot.v11 import Bot, FriendRequestEvent, GroupIncreaseNoticeEvent

welcome = on_notice(priority=5, block=False)


@welcome.handle()
async def greet(event: GroupIncreaseNoticeEvent):
    print(f"NOTICE {event.notice_type} {event.group_id} {event.user_id}", flush=True)
    await welcome.finish(f"欢迎新成员 {event.user_id}")


friends = on_request(priority=5, block=False)


@friends.handle()
async def refuse(bot: Bot, event: FriendRequestEvent):
    print(f"REQUEST {event.request_type} {event.user_id} {event.flag}", flush=True)
    await bot.set_friend_add_request(flag=event.flag, approve=False)
