"""The cyclic garbage collector tuned for a server whose heap is mostly long-lived.

With Python's default thresholds (700, 10, 10) a message's few dozen short-lived containers
set off a young collection every dozen messages, and the older generations are walked again
and again though they hold the same start-up objects (the ORM, the models, the catalogs). In
durable ingest that was about a third of the Master's CPU (bench/README.md).
"""

from __future__ import annotations

import gc
from typing import Any

# Young containers allocated between collections. Interleaved ingest runs, server CPU per
# message: 700 -> ~150 us, 5 000 -> ~112 us, 10 000 -> ~100 us, 20 000 -> ~95 us.
YOUNG_THRESHOLD = 10_000


def tune_collector() -> None:
    """Collect the young generation less often; keep the older generations' ratios."""
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)


async def freeze_startup_heap(_app: Any = None) -> None:
    """Move everything alive once started out of the collector's sight (it lives until exit)."""
    gc.collect()
    gc.freeze()
