"""A plain app for runner tests: notes each start in a file, then prints a line a tick.

It outlives a lost stdout (as an app that logs rarely would): only its runner can end it.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from typing import TextIO

with open(sys.argv[1], "a", encoding="utf-8") as runs:
    runs.write(f"start {os.getpid()}\n")


def say(text: str, stream: TextIO = sys.stdout) -> None:
    """Print, and carry on when nobody reads any more."""
    with contextlib.suppress(OSError):
        print(text, file=stream, flush=True)


say(f"hello from {os.getpid()}")
say("a line on stderr", sys.stderr)
tick = 0
while True:
    time.sleep(0.2)
    tick += 1
    say(f"tick {tick}")
