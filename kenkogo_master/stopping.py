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


async def hand_over(app: web.Application) -> None:
    """Refuse new events, give apps `[apps] stop_grace` to ack what they hold, stop scheduling.

    What is unfinished then stays pending for the next start. Safe to call more than once.
    """
    hub = app.get(HUB)
    if hub is None or hub.flow is None:  # start-up failed before the hub existed
        return
    await hub.flow.hand_over(hub.settings.apps.stop_grace)


class _Stop:
    """One stop's progress: the hand-over under way, and whether run_app was told to exit."""

    def __init__(self) -> None:
        self.handing_over: asyncio.Task[None] | None = None
        self.exiting = False

    def exit(self) -> None:
        """End run_app once (raised from a loop callback, GracefulExit stops it and it shuts down).

        Raised a second time, during that shutdown, it would escape run_app as exit status 1.
        """
        if not self.exiting:
            self.exiting = True
            raise GracefulExit()


async def _hand_over_then_exit(app: web.Application, stop: _Stop) -> None:
    try:
        await hand_over(app)
    except Exception:
        log.exception("handing work over failed; stopping anyway")
    asyncio.get_running_loop().call_soon(stop.exit)


async def install_stop_signals(app: web.Application) -> None:
    """Make SIGINT and SIGTERM hand work over before the shutdown (an on_startup hook)."""
    loop = asyncio.get_running_loop()
    stop = _Stop()

    def on_signal(number: int) -> None:
        name = signal.Signals(number).name
        if stop.handing_over is None:
            log.info("%s: stopping", name)
            stop.handing_over = asyncio.create_task(_hand_over_then_exit(app, stop))
            return
        log.warning("%s again: stopping at once", name)
        hub = app.get(HUB)
        if hub is not None and hub.flow is not None:
            hub.flow.hurry()
        stop.exit()

    for number in STOP_SIGNALS:
        loop.add_signal_handler(number, on_signal, number)
