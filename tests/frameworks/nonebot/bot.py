"""A NoneBot2 bot as NoneBot's documentation writes it (bot.py of a `nb create` project)."""

import nonebot
from nonebot.adapters.onebot.v11 import Adapter as ONEBOT_V11Adapter

nonebot.init()

driver = nonebot.get_driver()
driver.register_adapter(ONEBOT_V11Adapter)

nonebot.load_plugins("plugins")

if __name__ == "__main__":
    nonebot.run()
