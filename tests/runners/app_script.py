"""A plain app for runner tests: notes each start in a file, then prints a line a tick."""

from __future__ import annotations

import os
import sys
import time

with open(sys.argv[1], "a", encoding="utf-8") as runs:
    runs.write(f"start {os.getpid()}\n")
print(f"hello from {os.getpid()}", flush=True)
print("a line on stderr", file=sys.stderr, flush=True)
tick = 0
while True:
    time.sleep(0.2)
    tick += 1
    print(f"tick {tick}", flush=True)
