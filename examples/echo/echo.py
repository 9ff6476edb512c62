"""Echo: answer `/echo <text>` with the text.

Run it with `python -m kenkogo_master.sdk.run examples.echo:app --url http://127.0.0.1:17680`.
"""

from __future__ import annotations

from kenkogo_master.sdk import App, Message

app = App("echo", "1.0.0", description="Says back what it is told")


@app.command("/echo")
async def echo(message: Message) -> str:
    """Say the text after the command back, in the same chat."""
    return message.args or "…"


if __name__ == "__main__":
    app.run()
