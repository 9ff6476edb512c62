"""A stop by SIGTERM or Ctrl-C: hand work over while every connection still works, then exit.

aiohttp's own signal handling closes the connections before any shutdown hook runs, so apps could
not ack, nor drivers hear `shutting_down`, during the grace. Here the hand-over runs first, and
only then does aiohttp shut down; a second signal exits at once.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web
from aiohttp.web_runner import GracefulExit

from kenkogo_master.keys import HUB

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
HANDING_OVER = web.AppKey("handing_over", asyncio.Task[None])


async def hand_over(app: web.Application) -> None:
    """Refuse new events, give apps `[apps] stop_grace` to ack what they hold, stop scheduling.

    What is unfinished then stays pending for the next start. Safe to call more than once.
    """
    hub = app.get(HUB)
    if hub is None or hub.flow is None:  # start-up failed before the hub existed
        return
    await hub.flow.hand_over(hub.settings.apps.stop_grace)


def _exit() -> None:
    raise GracefulExit()  # from a loop callback it ends run_app, which then shuts down


async def _hand_over_then_exit(app: web.Application) -> None:
    try:
        await hand_over(app)
    except Exception:
        log.exception("handing work over failed; stopping anyway")
    asyncio.get_running_loop().call_soon(_exit)


async def install_stop_signals(app: web.Application) -> None:
    """Make SIGINT and SIGTERM hand work over before the shutdown (an on_startup hook)."""
    loop = asyncio.get_running_loop()

    def on_signal(number: int) -> None:
        if HANDING_OVER in app:
            log.warning("%s again: stopping at once", signal.Signals(number).name)
            _exit()
        log.info("%s: stopping", signal.Signals(number).name)
        app[HANDING_OVER] = asyncio.create_task(_hand_over_then_exit(app), name="hand-over")

    for number in STOP_SIGNALS:
        loop.add_signal_handler(number, on_signal, number)
