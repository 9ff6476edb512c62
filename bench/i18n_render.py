"""Measure what translation costs per message: cached template renders, error texts, chat locales.

Run from the repository root: `python bench/i18n_render.py [--seconds 0.5]`. Prints microseconds
per call; nothing here touches SQL, which is the point: the hot path renders from memory.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kenkogo_master.i18n import Translator, default_locales_dir, load_catalogs
from kenkogo_master.i18n.service import I18n

RECEIPT = "template.receipt"
PARAMS: dict[str, Any] = {
    "name": "Alice",
    "amount": 1234567.891,
    "day": {"date": "2026-11-22"},
}


class NoStore:
    """Stands in for SQL, which the measured calls never reach."""


def per_call_us(call: Callable[[], object], seconds: float) -> tuple[float, int]:
    """Return the mean microseconds per call over about `seconds`, and the number of calls."""
    call()  # warm the caches
    batch, calls, spent = 100, 0, 0
    while spent < seconds * 1e9:
        start = time.perf_counter_ns()
        for _ in range(batch):
            call()
        spent += time.perf_counter_ns() - start
        calls += batch
    return spent / calls / 1000, calls


def translator() -> Translator:
    """Load the shipped catalogs (compiled in a temporary copy) and add a receipt template."""
    target = Path(tempfile.mkdtemp(prefix="kenkogo-bench-")) / "locales"
    shutil.copytree(default_locales_dir(), target, ignore=shutil.ignore_patterns("*.mo"))
    texts = Translator(load_catalogs(target))
    texts.set_override("en", RECEIPT, "{name}, your total is {amount} on {day}")
    texts.set_override("zh_Hans", RECEIPT, "{name}，{day} 合计 {amount}")
    shutil.rmtree(target.parent)
    return texts


def main() -> None:
    """Run each case and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.5, help="time per case")
    seconds = parser.parse_args().seconds
    texts = translator()
    service = I18n(texts, NoStore(), lambda: 0)  # type: ignore[arg-type]

    def cold_render() -> str:
        texts.replace_overrides(
            [("en", RECEIPT, "{name}, your total is {amount} on {day}")]
        )  # drops every cached lookup and parse
        return texts.render_template(RECEIPT, "en", PARAMS)

    items = {"count": {"plural": 5}}
    cases: list[tuple[str, Callable[[], object]]] = [
        ("template, 3 params (zh_Hans)", lambda: texts.render_template(RECEIPT, "zh_Hans", PARAMS)),
        ("template, 3 params (en)", lambda: texts.render_template(RECEIPT, "en", PARAMS)),
        (
            "template, strings only",
            lambda: texts.render_template(
                RECEIPT, "en", {"name": "Alice", "amount": "12", "day": "today"}
            ),
        ),
        (
            "plural template (ja)",
            lambda: texts.render_template("template.items_count", "ja", items),
        ),
        (
            "error message (zh_Hans)",
            lambda: texts.error_message("unknown_event", "zh_Hans", {"event": "dance"}),
        ),
        ("state reason (ja)", lambda: texts.text("state.scheduling_started", "ja")),
        ("chat_locale (event tag)", lambda: service.chat_locale("qq", "123", "zh-CN", "en")),
        ("Accept-Language (memoized)", lambda: service.request_locale("fr-CH, ja;q=0.8")),
        ("template after cache drop", cold_render),
    ]
    print(f"{'case':<32} {'µs/call':>10} {'calls':>10}")
    for name, call in cases:
        micros, calls = per_call_us(call, seconds)
        print(f"{name:<32} {micros:>10.2f} {calls:>10}")


if __name__ == "__main__":
    main()
