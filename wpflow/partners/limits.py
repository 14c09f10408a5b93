"""A token bucket per key (a link's token hash, or a client's address for wrong tokens): a
burst of `per_minute` requests, refilled at that rate. In memory: one `wpflow serve` process
serves the pages, and a restart forgetting the buckets costs nothing."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

MAX_KEYS = 10_000  # past this many buckets the full ones are forgotten (a scan of random tokens)


class RateLimit:
    def __init__(self, per_minute: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = per_minute
        self.rate = per_minute / 60.0
        self.clock = clock
        self.buckets: dict[str, tuple[float, float]] = {}  # key → (tokens, last refill)
        self.lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Take one request's token from `key`'s bucket; False when it is empty."""
        now = self.clock()
        with self.lock:
            tokens, last = self.buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            allowed = tokens >= 1
            self.buckets[key] = (tokens - 1 if allowed else tokens, now)
            if len(self.buckets) > MAX_KEYS:
                self._forget_full(now)
            return allowed

    def _forget_full(self, now: float) -> None:
        full = [k for k, (t, last) in self.buckets.items() if t + (now - last) * self.rate >= self.capacity]
        for key in full:
            del self.buckets[key]
