"""Keyword logger: note every message that mentions a watched word, as one JSON line per message.

It never replies and never blocks, so it can sit beside other apps. The file is
`$KEYWORD_LOG` (default `keywords.jsonl`). Run it with
`python -m kenkogo_master.sdk.run examples.keyword_logger:app --url http://127.0.0.1:17680`.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from kenkogo_master.sdk import App, Message

WATCHED = ("bug", "crash", "崩溃", "バグ")

app = App("keyword-logger", "1.0.0", description="Logs messages that mention watched words")
log = logging.getLogger("keyword-logger")


@app.keyword(*WATCHED)
async def note(message: Message) -> None:
    """Append the message to the log file."""
    words = [word for word in WATCHED if word in message.content]
    entry = {
        "id": message.id,
        "time": message.time.isoformat() if message.time else None,
        "chat": f"{message.chat.type}:{message.chat.id}",
        "sender": message.sender.id,
        "words": words,
        "content": message.content,
    }
    log.info("%s in %s: %s", ", ".join(words), entry["chat"], message.content)
    path = Path(os.environ.get("KEYWORD_LOG", "keywords.jsonl"))
    with path.open("a", encoding="utf-8") as stream:
        stream.write(json.dumps(entry, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    app.run()
