"""Everything the API's routes and the worker's loops use, built once per process."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

from cachetools import TTLCache
from podbrief_runtime.store import Store

from podbrief_notify.briefs import BriefOptions
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


class Coalescer:
    """Concurrent reads of one key share a single load (the latest brief of a user opening it on several devices,
    or a client retrying): a burst costs one store read, not one per request. Nothing is kept after the load."""

    def __init__(self) -> None:
        self._loading: dict[str, asyncio.Future[str | None]] = {}

    async def get_or_load(self, key: str, load: Callable[[], Awaitable[str | None]]) -> str | None:
        """`load()`'s value; a call arriving while a load of `key` is in flight waits for that load instead."""
        pending = self._loading.get(key)
        if pending is None:
            pending = asyncio.ensure_future(load())
            self._loading[key] = pending
            pending.add_done_callback(lambda _: self._loading.pop(key, None))
        return await asyncio.shield(pending)


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
    latest: Coalescer = field(default_factory=Coalescer)
    mailer: Mailer | None = None  # set when an SMTP server is configured
    signups: SignupThrottle = field(default_factory=lambda: SignupThrottle(0, 0))
    worker_embedder: Embedder | None = None  # the worker's model over HTTP (the API process, PODBRIEF_EMBED_URL)

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
