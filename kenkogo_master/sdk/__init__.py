"""Write KenkoGo apps in a few lines: `from kenkogo_master.sdk import App`.

Imports nothing of the Master itself (only python-socketio with aiohttp), so an app installs
and runs without the server's dependencies.

    app = App("echo", "1.0.0")

    @app.command("/echo")
    async def echo(message: Message) -> str:
        return message.args

    app.run()
"""

from kenkogo_master.sdk.app import App
from kenkogo_master.sdk.dispatch import Stats
from kenkogo_master.sdk.models import (
    Approve,
    AppState,
    Block,
    Chat,
    Event,
    MasterError,
    Message,
    Refuse,
    Reply,
    Segment,
    Sender,
    Target,
)
from kenkogo_master.sdk.routes import Subscription

__all__ = [
    "App",
    "AppState",
    "Approve",
    "Block",
    "Chat",
    "Event",
    "MasterError",
    "Message",
    "Refuse",
    "Reply",
    "Segment",
    "Sender",
    "Stats",
    "Subscription",
    "Target",
]
