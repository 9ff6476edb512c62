"""The weather command of NoneBot's tutorial ("Handling a command"), unchanged but its reply."""

from nonebot import on_command
from nonebot.adapters import Message
from nonebot.params import CommandArg

weather = on_command("天气", aliases={"weather"}, priority=10, block=True)


@weather.handle()
async def handle_function(args: Message = CommandArg()):
    if location := args.extract_plain_text():
        await weather.finish(f"今天{location}的天气是...")
    else:
        await weather.finish("请输入地名")
