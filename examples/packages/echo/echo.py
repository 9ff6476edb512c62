"""Echo as a package: examples/echo.py beside its kenkogo.toml.

Pack it with `python main.py app pack examples/packages/echo` and upload the zip.
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
