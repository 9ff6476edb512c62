"""A bounded memory of recently delivered message ids and the answers they got."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Any

Answer = dict[str, Any]


class RecentAnswers:
    """Remember the last `limit` message ids, each with its (future) answer.

    A message delivered again — its ack was lost, or it came back after a reconnect — is
    answered from here instead of running its handler a second time.
    """

    def __init__(self, limit: int = 10_000) -> None:
        if limit < 1:
            raise ValueError("remember at least one id")
        self.limit = limit
        self._answers: OrderedDict[str, asyncio.Future[Answer]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._answers)

    def __contains__(self, message_id: object) -> bool:
        return message_id in self._answers

    def get(self, message_id: str) -> asyncio.Future[Answer] | None:
        """Return the answer of a message seen before (done or still being worked out)."""
        return self._answers.get(message_id)

    def add(self, message_id: str) -> asyncio.Future[Answer]:
        """Note a new message; return the future its answer goes into."""
        answer: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._answers[message_id] = answer
        while len(self._answers) > self.limit:
            self._answers.popitem(last=False)  # the oldest
        return answer
