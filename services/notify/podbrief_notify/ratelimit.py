"""Per-API-key rate limiting: a token bucket per key, in this process's memory."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateLimiter:
    """`per_minute` requests a minute with bursts of `burst`; 0 per minute turns limiting off."""

    def __init__(self, per_minute: int, burst: int, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.monotonic = monotonic
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> float | None:
        """Take one token for `key`; None when allowed, else seconds until the next token."""
        if self.rate <= 0:
            return None
        now = self.monotonic()
        with self._lock:
            tokens, seen = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - seen) * self.rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                return (1.0 - tokens) / self.rate
            self._buckets[key] = (tokens - 1.0, now)
            if len(self._buckets) > 100_000:
                self._forget_idle(now)
        return None

    def _forget_idle(self, now: float) -> None:
        # A bucket that has refilled completely carries no information.
        full_after = self.burst / self.rate
        self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < full_after}
