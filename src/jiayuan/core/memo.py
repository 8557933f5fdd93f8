"""Per-process copies of small settings that every new request reads and that change
rarely: SLA policies and escalation chains, business calendars' versions, dispatch rules.

A copy is kept for at most `SECONDS`. The process that makes a change forgets its copy at
once (the person who changed it sees the change on their next request); the other
processes read it again within `SECONDS`. See docs/decisions.md §27.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

from django.db import transaction

SECONDS = 60

_memos: list[Memo] = []


class Memo:
    """Keyed copies of what `load` answered, each kept for `SECONDS`."""

    def __init__(self, name: str):
        self.name = name
        self._copies: dict[Hashable, tuple[float, Any]] = {}
        self._lock = threading.Lock()
        _memos.append(self)

    def get(self, key: Hashable, load: Callable[[], Any]) -> Any:
        # Wall time, which the tests can move; a clock stepped back makes the copy stale.
        now = time.time()
        hit = self._copies.get(key)
        if hit is not None and 0 <= now - hit[0] < SECONDS:
            return hit[1]
        value = load()
        with self._lock:
            self._copies[key] = (now, value)
        return value

    def forget(self, matches: Callable[[Hashable], bool]) -> None:
        """After a change: drop the copies whose key `matches`, now and again when the
        change commits (a request of this process reading in between would keep the old
        value for a minute)."""
        self._drop(matches)
        transaction.on_commit(lambda: self._drop(matches))

    def _drop(self, matches: Callable[[Hashable], bool]) -> None:
        with self._lock:
            for key in [key for key in self._copies if matches(key)]:
                del self._copies[key]

    def clear(self) -> None:
        with self._lock:
            self._copies.clear()


def forget_all() -> None:
    """Every copy of every memo (the tests start each case with none: their ids repeat)."""
    for memo in _memos:
        memo.clear()
