"""Delivering webhooks: signed POSTs over the SSRF-safe client, attempts recorded, retries scheduled in the store.

Pending deliveries live in the database with their next attempt time, so a restart (or
another notify process) picks them up; a short lease keeps two processes off the same one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

import httpx
from podbrief_runtime.redact import redact_url
from podbrief_runtime.safe_http import FetchError, SafeClient, UnsafeURLError, parse_retry_after
from podbrief_runtime.store import Store
from sqlalchemy import bindparam, insert, or_, select, update

from podbrief_notify.clock import Clock
from podbrief_notify.metrics import DELIVERY_ATTEMPTS, DELIVERY_SECONDS
from podbrief_notify.retry import next_attempt
from podbrief_notify.signing import headers
from podbrief_notify.tables import deliveries, delivery_attempts, webhooks
from podbrief_notify.webhooks import disable_webhook

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What one attempt got back."""

    status_code: int | None
    error: str | None
    duration_ms: float
    response_body: str | None = None
    retry_after: str | None = None

    @property
    def success(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class Sender(Protocol):
    """POSTs one webhook request."""

    async def post(self, url: str, request_headers: dict[str, str], body: str) -> Outcome: ...


@dataclass
class _Origin:
    slots: asyncio.Semaphore
    users: int = 0  # requests holding or waiting for a slot; the entry goes when none is left


class HttpSender:
    """The real sender: SafeClient (private addresses refused unless allowed), no redirects followed, capped body.

    Each request, connecting and reading the answer included, ends at `deadline` seconds (default
    twice `timeout`) however slowly the receiver answers. One connection pool for every receiver, and at
    most `per_host` requests at once to one origin, so one reader's small server is not hit by every slot.
    """

    def __init__(
        self,
        allow_private: bool,
        timeout: float,
        response_cap: int,
        per_host: int = 8,
        deadline: float | None = None,
        max_connections: int = 100,
    ) -> None:
        self.allow_private = allow_private
        self.timeout = timeout
        self.deadline = 2 * timeout if deadline is None else deadline
        self.response_cap = response_cap
        self.per_host = per_host
        self._client = SafeClient(
            allow_private=allow_private, timeout=timeout, max_connections=max_connections, deadline=self.deadline
        )
        self._origins: dict[str, _Origin] = {}

    async def aclose(self) -> None:
        await self._client.aclose()

    async def post(self, url: str, request_headers: dict[str, str], body: str) -> Outcome:
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc}"
        origin = self._origins.get(key)
        if origin is None:
            origin = self._origins[key] = _Origin(asyncio.Semaphore(self.per_host))
        origin.users += 1
        try:
            async with origin.slots:
                return await self._post(self._client, url, request_headers, body)
        finally:
            origin.users -= 1
            if not origin.users:
                del self._origins[key]

    async def _post(self, client: SafeClient, url: str, request_headers: dict[str, str], body: str) -> Outcome:
        started = time.perf_counter()

        def done(status: int | None, error: str | None, text: str | None = None, retry_after: str | None = None) -> Outcome:
            return Outcome(status, error, (time.perf_counter() - started) * 1000, text, retry_after)

        try:
            async with client.stream("POST", url, headers=request_headers, follow_redirects=False, content=body.encode()) as (
                raw,
                _,
            ):
                text = await self._read_capped(raw)
                status = raw.status_code
                error = None
                if 300 <= status < 400:
                    error = f"redirect ({status}) to {_location(url, raw.headers.get('location'))} not followed"
                elif not 200 <= status < 300:
                    error = f"HTTP {status}"
                return done(status, error, text, raw.headers.get("retry-after"))
        except UnsafeURLError as exc:
            return done(None, f"refused: {exc}")
        except FetchError as exc:
            return done(None, str(exc))

    async def _read_capped(self, raw: httpx.Response) -> str | None:
        # A receiver may stream forever or send megabytes: keep only the first few bytes.
        chunks = bytearray()
        try:
            async for chunk in raw.aiter_bytes():
                chunks.extend(chunk)
                if len(chunks) >= self.response_cap:
                    break
        except httpx.HTTPError:
            pass
        return bytes(chunks[: self.response_cap]).decode("utf-8", errors="replace") if chunks else None


def _location(url: str, location: str | None) -> str:
    # Stored and shown to the user: where a redirect points, without the secret its path or query may carry.
    if not location:
        return "?"
    try:
        return redact_url(urljoin(url, location))
    except ValueError:
        return "<unreadable URL>"


@dataclass(frozen=True)
class _Job:
    id: str
    body: str
    attempts: int
    created_at: datetime
    webhook_id: str
    url: str
    secret: str


class Deliverer:
    """Sends due deliveries, records every attempt, and schedules the next one."""

    def __init__(
        self,
        store: Store,
        sender: Sender,
        clock: Clock,
        window: timedelta,
        concurrency: int = 64,
        lease: timedelta = timedelta(minutes=2),
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.sender = sender
        self.clock = clock
        self.window = window
        self.lease = lease
        self.rng = rng or random.Random()
        self._slots = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Look for due deliveries now rather than at the next tick."""
        self._wake.set()

    async def deliver(self, ids: list[str], retry: bool = True) -> dict[str, Outcome]:
        """Attempt the given pending deliveries now (those another process holds are skipped)."""
        jobs = await asyncio.to_thread(self._claim, ids, self.clock.now())
        if not jobs:
            return {}
        outcomes = await asyncio.gather(*(self._send(job) for job in jobs))
        await asyncio.to_thread(self._record, list(zip(jobs, outcomes, strict=True)), retry)
        return {job.id: outcome for job, outcome in zip(jobs, outcomes, strict=True)}

    async def run_due(self, limit: int = 500) -> int:
        """Attempt every delivery whose time has come; returns how many were attempted."""
        ids = await asyncio.to_thread(self._due, self.clock.now(), limit)
        return len(await self.deliver(ids)) if ids else 0

    async def run(self, interval: float) -> None:
        """Loop until cancelled: attempt due deliveries, then wait `interval` or until woken."""
        while True:
            try:
                while await self.run_due() > 0:
                    pass
            except Exception:
                log.exception("delivery round failed; retrying next tick")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=interval)

    async def _send(self, job: _Job) -> Outcome:
        async with self._slots:
            timestamp = int(self.clock.now().timestamp())
            outcome = await self.sender.post(job.url, headers(job.secret, job.id, timestamp, job.body), job.body)
        DELIVERY_SECONDS.observe(outcome.duration_ms / 1000)
        DELIVERY_ATTEMPTS.labels(outcome="ok" if outcome.success else "failed").inc()
        return outcome

    def _due(self, now: datetime, limit: int) -> list[str]:
        with self.store.engine.connect() as conn:
            return list(
                conn.execute(
                    select(deliveries.c.id)
                    .where(
                        deliveries.c.status == "pending",
                        deliveries.c.next_attempt_at <= now,
                        or_(deliveries.c.lease_until.is_(None), deliveries.c.lease_until < now),
                    )
                    .order_by(deliveries.c.next_attempt_at)
                    .limit(limit)
                ).scalars()
            )

    def _claim(self, ids: list[str], now: datetime) -> list[_Job]:
        # One UPDATE ... RETURNING takes the lease on every row still free; a concurrent
        # claimer's UPDATE waits for this one and then finds the rows leased.
        with self.store.transaction() as session:
            claimed = list(
                session.execute(
                    update(deliveries)
                    .where(
                        deliveries.c.id.in_(ids),
                        deliveries.c.status == "pending",
                        or_(deliveries.c.lease_until.is_(None), deliveries.c.lease_until < now),
                    )
                    .values(lease_until=now + self.lease)
                    .returning(deliveries.c.id)
                ).scalars()
            )
            if not claimed:
                return []
            rows = session.execute(
                select(
                    deliveries.c.id,
                    deliveries.c.body,
                    deliveries.c.attempts,
                    deliveries.c.created_at,
                    webhooks.c.id.label("webhook_id"),
                    webhooks.c.url,
                    webhooks.c.secret,
                )
                .join(webhooks, webhooks.c.id == deliveries.c.webhook_id)
                .where(deliveries.c.id.in_(claimed), webhooks.c.disabled_at.is_(None))
            ).all()
        return [_Job(**row._asdict()) for row in rows]

    def _changes(self, job: _Job, outcome: Outcome, now: datetime, retry: bool) -> dict[str, Any]:
        """The delivery's new state after this attempt."""
        changes: dict[str, Any] = {"attempts": job.attempts + 1, "lease_until": None, "last_error": outcome.error}
        if outcome.success:
            return {**changes, "status": "delivered", "finished_at": now, "next_attempt_at": None}
        when = None
        if retry and outcome.status_code != 410:
            retry_after = parse_retry_after(outcome.retry_after, now)
            when = next_attempt(job.attempts + 1, job.created_at, now, self.window, retry_after, self.rng)
        if when is None:
            return {**changes, "status": "failed", "finished_at": now, "next_attempt_at": None}
        return {**changes, "status": "pending", "finished_at": None, "next_attempt_at": when}

    def _record(self, results: list[tuple[_Job, Outcome]], retry: bool) -> None:
        now = self.clock.now()
        with self.store.transaction() as session:
            # A webhook deleted meanwhile took its deliveries with it: nothing to record for those.
            alive = set(session.execute(select(deliveries.c.id).where(deliveries.c.id.in_([j.id for j, _ in results]))).scalars())
            results = [(job, outcome) for job, outcome in results if job.id in alive]
            if not results:
                return
            session.execute(
                update(deliveries).where(deliveries.c.id == bindparam("b_id")),
                [{"b_id": job.id, **self._changes(job, outcome, now, retry)} for job, outcome in results],
            )
            session.execute(
                insert(delivery_attempts),
                [
                    {
                        "delivery_id": job.id,
                        "attempt": job.attempts + 1,
                        "attempted_at": now,
                        "status_code": outcome.status_code,
                        "error": outcome.error,
                        "duration_ms": round(outcome.duration_ms, 2),
                        "response_body": outcome.response_body,
                        "success": outcome.success,
                    }
                    for job, outcome in results
                ],
            )
            for job, outcome in results:
                if outcome.status_code == 410:
                    disable_webhook(session, job.webhook_id, "the endpoint answered 410 Gone", now)
                if not outcome.success:
                    log.info(
                        "webhook attempt failed",
                        extra={"delivery_id": job.id, "attempt": job.attempts + 1, "error": outcome.error},
                    )
