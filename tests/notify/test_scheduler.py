"""Scheduled briefs: the user's local hour, DST, weekly cadence, and once per period across processes."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from podbrief_notify.briefs import BriefOptions
from podbrief_notify.scheduler import Scheduler, current_period
from podbrief_notify.storage import open_store
from podbrief_notify.tables import briefs, deliveries
from podbrief_runtime.store import Store

from .helpers import EMBEDDER, FakeClock, feed_url, insight, signup


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_a_daily_brief_is_due_at_the_users_local_hour():
    period = current_period(utc(2026, 11, 24, 5, 59), "Europe/Berlin", 7, "daily")
    assert period.key == "daily:2026-11-24" and period.due_at == utc(2026, 11, 24, 6, 0)
    assert utc(2026, 11, 24, 5, 59) < period.due_at


def test_the_local_date_decides_the_period_not_the_utc_date():
    now = utc(2026, 11, 24, 20, 0)
    assert current_period(now, "Pacific/Auckland", 7, "daily").key == "daily:2026-11-25"
    assert current_period(now, "America/Los_Angeles", 7, "daily").key == "daily:2026-11-24"


def test_an_hour_skipped_by_spring_forward_still_gets_its_brief():
    # 2026-03-08 02:00 does not exist in New York: clocks jump from 02:00 EST to 03:00 EDT (07:00 UTC).
    period = current_period(utc(2026, 3, 8, 12, 0), "America/New_York", 2, "daily")
    assert period.key == "daily:2026-03-08" and period.due_at == utc(2026, 3, 8, 7, 0)


def test_an_hour_repeated_by_fall_back_gives_one_brief():
    # 2026-11-01 01:00 happens twice in New York (EDT at 05:00 UTC, EST at 06:00 UTC): due at the first.
    first = current_period(utc(2026, 11, 1, 5, 30), "America/New_York", 1, "daily")
    second = current_period(utc(2026, 11, 1, 6, 30), "America/New_York", 1, "daily")
    assert first == second and first.due_at == utc(2026, 11, 1, 5, 0)


def test_the_day_after_a_dst_change_is_due_at_the_new_offset():
    before = current_period(utc(2026, 3, 28, 12), "Europe/Berlin", 7, "daily")
    after = current_period(utc(2026, 3, 30, 12), "Europe/Berlin", 7, "daily")
    assert before.due_at == utc(2026, 3, 28, 6) and after.due_at == utc(2026, 3, 30, 5)


def test_a_weekly_brief_is_due_on_monday():
    period = current_period(utc(2026, 11, 26, 12), "UTC", 9, "weekly")  # a Thursday
    assert period.key == "weekly:2026-W48" and period.due_at == utc(2026, 11, 23, 9)
    assert current_period(utc(2026, 11, 30, 8), "UTC", 9, "weekly").key == "weekly:2026-W49"


def _scheduler(url: str, clock: FakeClock) -> Scheduler:
    return Scheduler(open_store(url), EMBEDDER, clock, BriefOptions(base_url="http://testserver"))


def _count(store: Store, table: sa.Table) -> int:
    with store.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


async def _users(notify, receiver, count: int, signed_up_at: datetime | None = None) -> None:
    previous, notify.clock.current = notify.clock.current, signed_up_at or utc(2026, 11, 20, 12, 0)
    for n in range(count):
        auth = await signup(notify.client, f"u{n}@example.com", timezone="Europe/Berlin", brief_hour=7)
        await notify.client.post("/v1/subscriptions", headers=auth, json={"feed_url": feed_url(1)})
        await notify.client.post("/v1/webhooks", headers=auth, json={"url": receiver.url})
    notify.clock.current = previous


async def test_the_scheduler_sends_once_per_day_and_again_the_next_day(notify, receiver, store_url):
    await _users(notify, receiver, 1)
    await notify.consume(insight("Monday's idea.", episode=1))
    clock = FakeClock(utc(2026, 11, 24, 5, 30))
    scheduler = _scheduler(store_url, clock)
    assert scheduler.run_once() == 0  # 06:30 in Berlin: not yet
    clock.current = utc(2026, 11, 24, 6, 1)
    assert scheduler.run_once() == 1
    assert scheduler.run_once() == 0
    await notify.consume(insight("Tuesday's idea.", episode=2))
    assert scheduler.run_once() == 0  # new insights wait for the next period
    clock.current = utc(2026, 11, 25, 6, 0)
    assert scheduler.run_once() == 1
    with notify.store.engine.connect() as conn:
        periods = conn.execute(sa.select(briefs.c.period).order_by(briefs.c.created_at)).scalars().all()
    assert periods == ["daily:2026-11-24", "daily:2026-11-25"]
    scheduler.store.dispose()


async def test_a_user_who_signs_up_after_the_brief_hour_gets_the_first_brief_the_next_day(notify, receiver, store_url):
    await _users(notify, receiver, 1, signed_up_at=utc(2026, 11, 24, 9, 0))  # 10:00 in Berlin, brief hour 7
    await notify.consume(insight("An idea.", episode=1))
    clock = FakeClock(utc(2026, 11, 24, 9, 30))
    scheduler = _scheduler(store_url, clock)
    assert scheduler.run_once() == 0
    clock.current = utc(2026, 11, 25, 6, 0)
    assert scheduler.run_once() == 1
    scheduler.store.dispose()


async def test_a_due_user_with_nothing_new_gets_the_brief_once_something_arrives(notify, receiver, store_url):
    await _users(notify, receiver, 1)
    clock = FakeClock(utc(2026, 11, 24, 6, 30))
    scheduler = _scheduler(store_url, clock)
    assert scheduler.run_once() == 0
    assert _count(notify.store, briefs) == 0
    await notify.consume(insight("Late idea."))
    assert scheduler.run_once() == 1
    scheduler.store.dispose()


async def test_two_schedulers_racing_build_each_users_brief_exactly_once(notify, receiver, store_url):
    await _users(notify, receiver, 6)
    await notify.consume(*(insight(f"Idea number {n}.", episode=n) for n in range(3)))
    clock = FakeClock(utc(2026, 11, 24, 7, 0))
    schedulers = [_scheduler(store_url, clock) for _ in range(2)]
    results: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def race(s: Scheduler) -> None:
        barrier.wait()
        try:
            results.append(s.run_once())
        except BaseException as exc:  # a crashed racer must fail the test, not just warn
            errors.append(exc)

    threads = [threading.Thread(target=race, args=(s,)) for s in schedulers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sum(results) == 6
    assert _count(notify.store, briefs) == 6 and _count(notify.store, deliveries) == 6
    assert all(s.run_once() == 0 for s in schedulers)
    await notify.context.deliverer.run_due()
    assert len(receiver.requests) == 6
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 6
    for s in schedulers:
        s.store.dispose()


async def test_a_scheduler_that_lost_the_race_sends_nothing(notify, receiver, store_url):
    await _users(notify, receiver, 2)
    await notify.consume(insight("Contested idea."))
    clock = FakeClock(utc(2026, 11, 24, 7, 0))
    first, second = _scheduler(store_url, clock), _scheduler(store_url, clock)
    stale = second.due(clock.now())  # read before the first scheduler commits
    assert first.run_once() == 2
    second.due = lambda now: stale  # type: ignore[method-assign]
    assert second.run_once() == 0
    assert _count(notify.store, briefs) == 2 and _count(notify.store, deliveries) == 2
    for s in (first, second):
        s.store.dispose()


async def test_the_scheduler_loop_sleeps_between_rounds(notify, receiver, store_url):
    await _users(notify, receiver, 1)
    await notify.consume(insight("Loop idea."))
    clock = FakeClock(utc(2026, 11, 24, 6, 0) - timedelta(seconds=90))
    woken: list[int] = []
    scheduler = Scheduler(open_store(store_url), EMBEDDER, clock, BriefOptions("http://t"), on_built=lambda: woken.append(1))
    task = asyncio.create_task(scheduler.run(30))
    for _ in range(200):
        await asyncio.sleep(0.01)
        if woken:
            break
    task.cancel()
    assert woken == [1] and clock.slept[:3] == [30, 30, 30]
    scheduler.store.dispose()


async def test_a_reader_whose_brief_fails_sees_why_on_me_until_a_brief_is_built(notify, receiver, store_url, monkeypatch):
    from podbrief_notify import briefs as briefs_module

    previous, notify.clock.current = notify.clock.current, utc(2026, 11, 20, 12, 0)
    auth = await signup(notify.client, "broken@example.com", timezone="UTC", brief_hour=6)
    notify.clock.current = previous
    await notify.client.post("/v1/subscriptions", headers=auth, json={"feed_url": feed_url(1)})
    await notify.consume(insight("An idea worth a brief.", episode=1))
    assert (await notify.client.get("/v1/me", headers=auth)).json()["brief_problem"] is None
    real = briefs_module.build

    def broken(*args, **kwargs):
        raise ValueError("stored data this code cannot read")

    monkeypatch.setattr("podbrief_notify.scheduler.build", broken)
    clock = FakeClock(utc(2026, 11, 24, 6, 5))
    scheduler = _scheduler(store_url, clock)
    assert scheduler.run_once() == 0
    problem = (await notify.client.get("/v1/me", headers=auth)).json()["brief_problem"]
    assert problem["message"] == (
        "Your brief for daily:2026-11-24 could not be built (ValueError); tried again at 2026-11-24 06:06 UTC."
    )
    assert problem["at"].startswith("2026-11-24T06:05")
    assert "stored data" not in problem["message"]  # the exception's text may hold internals: its kind only
    # A brief failing all week long waits an hour between tries, at most (and the pause's arithmetic never overflows).
    [(key, (failures, retry_at))] = scheduler._failed.items()
    assert failures == 1 and retry_at == utc(2026, 11, 24, 6, 6)
    scheduler._failed[key] = (300, retry_at)
    clock.advance(60)
    assert scheduler.run_once() == 0
    assert scheduler._failed[key] == (301, utc(2026, 11, 24, 7, 6))
    problem = (await notify.client.get("/v1/me", headers=auth)).json()["brief_problem"]
    assert problem["message"].endswith("tried again at 2026-11-24 07:06 UTC.")
    clock.advance(3600)
    monkeypatch.setattr("podbrief_notify.scheduler.build", real)
    assert scheduler.run_once() == 1
    assert (await notify.client.get("/v1/me", headers=auth)).json()["brief_problem"] is None
    scheduler.store.dispose()
