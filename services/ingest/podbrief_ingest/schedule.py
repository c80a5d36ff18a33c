"""When to poll a feed next: a jittered interval when healthy, exponential backoff when failing, never before Retry-After."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from podbrief_ingest.model import PollResult


@dataclass(frozen=True)
class SchedulePolicy:
    """The knobs of the schedule (from Settings)."""

    interval: float
    jitter: float
    backoff_max: float

    def failures_after(self, previous_failures: int, result: PollResult) -> int:
        """Consecutive failed polls once `result` is counted."""
        return previous_failures + 1 if result.status == "error" else 0

    def next_poll_at(self, result: PollResult, failures: int, rng: random.Random) -> datetime:
        """When to poll again after `result`, the feed's `failures`-th failure in a row (0 = healthy)."""
        delay = self.interval
        if failures:
            delay = min(self.backoff_max, self.interval * 2 ** min(failures - 1, 32))
        delay *= 1 + rng.uniform(-self.jitter, self.jitter)
        if result.retry_after is not None:
            delay = max(delay, min(result.retry_after, self.backoff_max))
        return result.polled_at + timedelta(seconds=delay)
