"""When a failed webhook delivery is tried again: a fixed backoff schedule with jitter, within a window."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

# Seconds to wait before attempt n+1 after attempt n failed: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h...
SCHEDULE = (0.0, 5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0)
JITTER = 0.1  # +-10 %, so endpoints that failed together are not retried together


def backoff(attempts: int, rng: random.Random | None = None) -> float:
    """Delay after `attempts` failed attempts (1 = the first attempt failed)."""
    base = SCHEDULE[min(attempts, len(SCHEDULE) - 1)]
    return base * (1 + (rng or random).uniform(-JITTER, JITTER))


def next_attempt(
    attempts: int,
    created_at: datetime,
    now: datetime,
    window: timedelta,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> datetime | None:
    """When to try again after `attempts` failures, or None when the retry window is spent.

    A Retry-After from the receiver is honoured: the next attempt is never earlier than it asks
    (nor earlier than the schedule).
    """
    delay = backoff(attempts, rng)
    if retry_after is not None:
        delay = max(delay, retry_after)
    when = now + timedelta(seconds=delay)
    return when if when <= created_at + window else None
