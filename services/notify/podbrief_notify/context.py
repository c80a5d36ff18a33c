"""Everything the API's routes and the worker's loops use, built once per process."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

from cachetools import TTLCache
from podbrief_runtime.store import Store
from starlette.concurrency import run_in_threadpool

from podbrief_notify.briefs import BriefOptions, latest_payloads
from podbrief_notify.clock import Clock, SystemClock
from podbrief_notify.delivery import Deliverer, HttpSender, Sender
from podbrief_notify.email import Mailer
from podbrief_notify.embedder import Embedder
from podbrief_notify.keys import hash_api_key, user_id_for_key_hash
from podbrief_notify.ratelimit import RateLimiter, SignupThrottle
from podbrief_notify.settings import Settings


class KeyCache:
    """API key hash -> user id for a short while, so most requests skip the key lookup."""

    def __init__(self, ttl: float = 10.0, size: int = 50_000) -> None:
        self.ttl = ttl
        self.size = size
        # TTLCache reorders entries even on reads and is not thread-safe: every access holds the lock.
        self._entries: TTLCache[str, str] = TTLCache(maxsize=size, ttl=ttl)
        self._lock = threading.Lock()

    def cached(self, key: str) -> str | None:
        """The user holding `key` if the cache knows it."""
        key_hash = hash_api_key(key)
        with self._lock:
            return self._entries.get(key_hash)

    def user_id(self, store: Store, key: str) -> str | None:
        """The user holding `key`, from the cache or the store (unknown keys are not cached)."""
        key_hash = hash_api_key(key)
        with self._lock:
            hit = self._entries.get(key_hash)
        if hit is not None:
            return hit
        with store.reading() as session:
            user_id = user_id_for_key_hash(session, key_hash)
        if user_id is not None:
            with self._lock:
                self._entries[key_hash] = user_id
        return user_id

    def forget(self, key_hash: str) -> None:
        """Stop trusting a key at once (it was just revoked)."""
        with self._lock:
            self._entries.pop(key_hash, None)


class Batcher:
    """Reads by key, gathered: a read asked for while others are in flight waits for the next batch, and the keys of
    a batch are read together in one thread call (`load_many`, one connection), so a burst of many readers opening
    their latest brief costs a few thread hand-offs, not one each (the hand-off cost more than the read). Reads of
    one key waiting together share one read. Nothing is kept after a batch, and a request never joins a read already
    under way: a brief committed before the request is never hidden behind an older one."""

    def __init__(self, load_many: Callable[[list[str]], dict[str, str | None]], parallel: int = 1, most: int = 256) -> None:
        self.load_many = load_many
        self.parallel = parallel  # batches in flight at once
        self.most = most  # keys in one batch
        self._waiting: dict[str, asyncio.Future[str | None]] = {}
        self._running = 0
        self._tasks: set[asyncio.Task[None]] = set()  # the batches' tasks, held so they are not collected mid-read

    async def get(self, key: str) -> str | None:
        """The value of `key`, read in the next batch: never one already reading, which may have begun before what the
        caller expects to see was committed."""
        pending = self._waiting.get(key)
        if pending is None:
            pending = asyncio.get_running_loop().create_future()
            # Retrieved even when every waiter left (a client that hung up): no "exception was never retrieved".
            pending.add_done_callback(lambda f: f.cancelled() or f.exception())
            self._waiting[key] = pending
            if self._running < self.parallel:
                self._running += 1
                task = asyncio.ensure_future(self._drain())
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        return await asyncio.shield(pending)

    async def _drain(self) -> None:
        try:
            while self._waiting:
                keys = list(self._waiting)[: self.most]
                batch = {k: self._waiting.pop(k) for k in keys}
                try:
                    values = await run_in_threadpool(self.load_many, keys)
                except Exception as exc:  # every reader of the batch gets the error (a 500), none waits forever
                    for future in batch.values():
                        if not future.done():
                            future.set_exception(exc)
                else:
                    for key, future in batch.items():
                        if not future.done():
                            future.set_result(values.get(key))
                finally:  # (cancelled at shutdown: no waiter is left hanging)
                    for future in batch.values():
                        if not future.done():
                            future.set_exception(RuntimeError("the read was stopped"))
        finally:
            self._running -= 1


@dataclass
class Context:
    """The notify service's shared parts."""

    settings: Settings
    store: Store
    # The model in this process (the worker; the tests' stand-in); None in the API process, which loads none.
    embedder: Embedder | None
    clock: Clock
    deliverer: Deliverer
    limiter: RateLimiter
    options: BriefOptions
    emitted: Callable[[], None] = lambda: None
    keys: KeyCache = field(default_factory=KeyCache)
    latest: Batcher = field(init=False)  # readers' latest briefs (`briefs.latest_payloads`)
    mailer: Mailer | None = None  # set when an SMTP server is configured
    signups: SignupThrottle = field(default_factory=lambda: SignupThrottle(0, 0))
    worker_embedder: Embedder | None = None  # the worker's model over HTTP (the API process, PODBRIEF_EMBED_URL)

    def __post_init__(self) -> None:
        self.latest = Batcher(partial(latest_payloads, self.store))

    @property
    def text_embedder(self) -> Embedder | None:
        """What embeds a search query or new interests during a request: this process's model, else the worker's."""
        return self.embedder if self.embedder is not None else self.worker_embedder

    @property
    def confirms_email(self) -> bool:
        """Whether addresses must be confirmed: only when email is sent at all (without SMTP none can be)."""
        return self.mailer is not None


def build_context(
    settings: Settings,
    store: Store,
    embedder: Embedder | None,
    clock: Clock | None = None,
    sender: Sender | None = None,
    emitted: Callable[[], None] = lambda: None,
    worker_embedder: Embedder | None = None,
) -> Context:
    """Wire the parts from settings; tests pass their own clock, sender or embedder."""
    clock = clock or SystemClock()
    sender = sender or HttpSender(
        allow_private=settings.allow_private_urls,
        timeout=settings.webhook_timeout_s,
        deadline=settings.webhook_deadline_s,
        response_cap=settings.webhook_response_cap,
        per_host=settings.webhook_connections_per_host,
        max_connections=settings.delivery_concurrency,
    )
    deliverer = Deliverer(
        store, sender, clock, timedelta(hours=settings.webhook_retry_window_h), concurrency=settings.delivery_concurrency
    )
    options = BriefOptions.from_settings(settings)
    return Context(
        settings=settings,
        store=store,
        embedder=embedder,
        clock=clock,
        deliverer=deliverer,
        limiter=RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst),
        options=options,
        emitted=emitted,
        keys=KeyCache(settings.api_key_cache_s),
        mailer=Mailer(settings, store) if settings.smtp_host else None,
        signups=SignupThrottle(settings.signup_per_address_per_hour, settings.signup_per_hour),
        worker_embedder=worker_embedder,
    )
