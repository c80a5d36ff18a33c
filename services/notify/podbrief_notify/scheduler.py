"""Scheduled briefs: daily at the user's hour in their timezone (or weekly on Mondays), once per period.

"Once" holds across processes and restarts because a scheduled brief carries its period and
(user, period) is a unique key: whoever commits second rolls back and sends nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from podbrief_runtime.store import Store
from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.exc import IntegrityError

from podbrief_notify.briefs import BriefOptions, Candidates, Drafted, build, draft_many
from podbrief_notify.clock import Clock
from podbrief_notify.embedder import Embedder
from podbrief_notify.exceptions import NotFound
from podbrief_notify.metrics import BRIEFS
from podbrief_notify.tables import briefs, insights, users

log = logging.getLogger(__name__)

BATCH = 1024  # due readers drafted together (`briefs.draft_many`; 256 measured 20% slower per reader on PostgreSQL)
RETRY_FIRST = timedelta(minutes=1)  # a reader's failed brief is tried again after this, then twice as long each time,
RETRY_MOST = timedelta(hours=1)  # at most this long (until its period ends)


@dataclass(frozen=True)
class Period:
    """One brief period of a user: its key and the moment it becomes due."""

    key: str
    due_at: datetime


def current_period(now: datetime, timezone: str, brief_hour: int, cadence: str) -> Period:
    """The period `now` falls in for a user of `timezone`, with its due time (UTC).

    Days are local calendar days, so DST changes neither skip nor repeat a brief; an hour
    that does not exist on a spring-forward day resolves to the same instant one hour later.
    """
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()
    if cadence == "weekly":
        monday = today - timedelta(days=today.weekday())
        year, week, _ = monday.isocalendar()
        return Period(f"weekly:{year}-W{week:02d}", _at(monday, brief_hour, zone))
    return Period(f"daily:{today.isoformat()}", _at(today, brief_hour, zone))


def _at(day: date, hour: int, zone: ZoneInfo) -> datetime:
    # Round-tripping through UTC normalises a wall time skipped by DST to a real instant.
    return datetime.combine(day, time(hour), tzinfo=zone).astimezone(UTC)


class Scheduler:
    """Finds users whose brief is due and builds it; run it in every notify process."""

    def __init__(
        self,
        store: Store,
        embedder: Embedder | None,
        clock: Clock,
        options: BriefOptions,
        on_built: Callable[[], None] = lambda: None,
        on_brief: Callable[[str, dict[str, Any]], None] = lambda user_id, payload: None,
        batch: int = BATCH,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.clock = clock
        self.options = options
        self.on_built = on_built
        self.batch = max(1, batch)
        # Called with (user id, brief) after each brief commits, on the thread running `run_once`.
        self.on_brief = on_brief
        # Users found with nothing to send, and the newest insight at that time: no need to look again until it changes.
        self._empty: dict[tuple[str, str], datetime | None] = {}
        # Briefs that failed to build: (failures so far, when to try again). A reader whose brief keeps failing (bad
        # stored data, a bug) is retried with a growing pause, not every round with a traceback each time.
        self._failed: dict[tuple[str, str], tuple[int, datetime]] = {}

    def due(self, now: datetime) -> list[tuple[str, str]]:
        """(user id, period key) of every user whose current period is due and has no brief yet."""
        out: list[tuple[str, str]] = []
        with self.store.engine.connect() as conn:
            groups = conn.execute(select(users.c.timezone, users.c.brief_hour, users.c.cadence).distinct()).all()
            for tz, hour, cadence in groups:
                period = current_period(now, tz, hour, cadence)
                if now < period.due_at:
                    continue
                sent = exists().where(and_(briefs.c.user_id == users.c.id, briefs.c.period == period.key))
                # A user who signed up after this period's brief hour gets the first brief at the next one.
                ids = conn.execute(
                    select(users.c.id).where(
                        users.c.timezone == tz,
                        users.c.brief_hour == hour,
                        users.c.cadence == cadence,
                        users.c.created_at <= period.due_at,
                        ~sent,
                    )
                ).scalars()
                out.extend((user_id, period.key) for user_id in ids)
        return out

    def run_once(self) -> int:
        """Build every due brief; returns how many were built here."""
        now = self.clock.now()
        with self.store.engine.connect() as conn:
            newest = conn.execute(select(func.max(insights.c.created_at))).scalar()
        due = self.due(now)
        still_due = set(due)
        self._empty = {key: seen for key, seen in self._empty.items() if key in still_due}
        self._failed = {key: failed for key, failed in self._failed.items() if key in still_due}
        todo = [
            (u, p)
            for u, p in due
            if not ((u, p) in self._empty and self._empty[(u, p)] == newest)
            and not ((u, p) in self._failed and now < self._failed[(u, p)][1])
        ]
        built = 0
        candidates = Candidates()  # read once for the round's batches
        for start in range(0, len(todo), self.batch):
            batch = todo[start : start + self.batch]
            drafted = self._draft([user_id for user_id, _ in batch], now, candidates)
            for user_id, period in batch:
                payload = self._build(user_id, period, now, drafted.get(user_id))
                if payload is False:
                    continue
                if payload is None:
                    self._empty[(user_id, period)] = newest
                    self._failed.pop((user_id, period), None)
                    continue
                self._empty.pop((user_id, period), None)
                self._failed.pop((user_id, period), None)
                built += 1
                BRIEFS.labels(trigger="scheduled").inc()
                log.info("scheduled brief built", extra={"user_id": user_id, "period": period, "items": payload["size"]})
                self.on_brief(user_id, payload)
        if built:
            self.on_built()
        return built

    def _draft(self, user_ids: list[str], now: datetime, candidates: Candidates) -> dict[str, Drafted]:
        """The readers' briefs drafted together in one read session; none when that fails (each reader's brief is then
        drafted on its own, in its write, so that one reader's error costs only that reader's brief)."""
        try:
            with self.store.reading() as session:
                rows = {r.id: r for r in session.execute(select(users).where(users.c.id.in_(user_ids)))}
                found = [rows[u] for u in user_ids if u in rows]
                items = draft_many(session, found, self.embedder, now, self.options, candidates)
        except Exception:
            log.exception("drafting a batch of scheduled briefs failed; drafting them one by one", extra={"users": len(user_ids)})
            return {}
        return {row.id: Drafted(row, brief) for row, brief in zip(found, items, strict=True)}

    def _build(self, user_id: str, period: str, now: datetime, drafted: Drafted | None) -> dict[str, Any] | None | bool:
        """Store the reader's brief in a transaction of its own: the brief, None when there is nothing new, False when
        none is stored (another process built it first, the reader is gone, or building it failed: logged)."""
        try:
            with self.store.transaction() as session:
                return build(session, user_id, self.embedder, now, self.options, period=period, drafted=drafted)
        except IntegrityError:
            return False  # another process built this period's brief first
        except NotFound:
            return False  # the reader left meanwhile
        except Exception as exc:
            failures = self._failed.get((user_id, period), (0, now))[0] + 1
            pause = min(RETRY_MOST, RETRY_FIRST * 2 ** min(failures - 1, 12))  # (a week of failures must not overflow)
            self._failed[(user_id, period)] = (failures, now + pause)
            log.exception(
                "a scheduled brief failed; the others go on, this one is tried again in %ds",
                pause.total_seconds(),
                extra={"user_id": user_id, "period": period, "failures": failures},
            )
            retry = f"{now + pause:%Y-%m-%d %H:%M} UTC"
            self._tell(
                user_id,
                period,
                now,
                f"Your brief for {period} could not be built ({type(exc).__name__}); tried again at {retry}.",
            )
            return False

    def _tell(self, user_id: str, period: str, now: datetime, message: str) -> None:
        """Store why the reader's brief failed on their row (GET /v1/me shows it until a brief is built), unless another
        process built this period's brief meanwhile."""
        built = exists().where(and_(briefs.c.user_id == user_id, briefs.c.period == period))
        try:
            with self.store.transaction() as session:
                session.execute(
                    update(users).where(users.c.id == user_id, ~built).values(brief_error=message, brief_error_at=now)
                )
        except Exception:
            log.exception("could not store a reader's brief problem", extra={"user_id": user_id})

    async def run(self, interval: float) -> None:
        """Loop until cancelled."""
        while True:
            try:
                await asyncio.to_thread(self.run_once)
            except Exception:
                log.exception("scheduler round failed; retrying next tick")
            await self.clock.sleep(interval)
