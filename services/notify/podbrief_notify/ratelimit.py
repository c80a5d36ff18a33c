"""Rate limiting in this process's memory: a token bucket per API key, and the sign-up throttle."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateLimiter:
    """`per_minute` requests a minute with bursts of `burst`; 0 per minute turns limiting off."""

    def __init__(self, per_minute: float, burst: int, monotonic: Callable[[], float] = time.monotonic) -> None:
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


class SignupThrottle:
    """Sign-ups per client address and in all, each at most its hourly figure (an hour's worth may come at once)."""

    def __init__(self, per_address_per_hour: int, per_hour: int, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.by_address = RateLimiter(per_address_per_hour / 60, max(1, per_address_per_hour), monotonic)
        self.overall = RateLimiter(per_hour / 60, max(1, per_hour), monotonic)

    def check(self, address: str) -> tuple[float, str] | None:
        """None when a sign-up from `address` may go ahead, else (seconds to wait, why)."""
        wait = self.by_address.check(address)
        if wait is not None:
            return wait, "too many sign-ups from your address"
        wait = self.overall.check("")
        if wait is not None:
            return wait, "too many sign-ups right now"
        return None
