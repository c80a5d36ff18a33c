"""A whole pipeline run for the reliability tests: loopback feeds, a webhook receiver, the stack, one user."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import sqlalchemy as sa
from podbrief_runtime.broker import LocalBroker, free_port

from podbrief.demo import Api
from podbrief.loopback import SampleServer, WebhookReceiver, generated_feed
from podbrief.stack import Stack


@dataclass
class Run:
    """Feeds on loopback, a receiver, the stack on `data_dir`; `episodes` generated episodes in one feed."""

    data_dir: Path
    episodes: int
    extra_feeds: dict[str, str | bytes] = field(default_factory=dict)
    broker_port: int | None = None
    first_poll: int | None = None  # episodes a first poll announces (default: `episodes`)
    stack: Stack | None = None
    api: Api | None = None
    feed_url: str = ""
    subscription_ids: list[str] = field(default_factory=list)
    api_key: str | None = None
    _cleanup: ExitStack = field(default_factory=ExitStack)

    def __post_init__(self) -> None:
        feeds = {"run.xml": generated_feed(self.episodes, "Reliability Show", "rel"), **self.extra_feeds}
        self.samples = self._cleanup.enter_context(SampleServer(extra=feeds))
        self.receiver = self._cleanup.enter_context(WebhookReceiver())
        self.api_port = free_port()

    def start_stack(self, broker: LocalBroker | None = None) -> Stack:
        """Start the services (on `broker` if given, else on a broker of the stack's own)."""
        env = {
            "PODBRIEF_ALLOW_PRIVATE_URLS": "true",
            "PODBRIEF_FIRST_POLL_EPISODES": str(self.first_poll or self.episodes),
            "PODBRIEF_POLL_INTERVAL": "5",
        }
        self.stack = Stack(self.data_dir, api_port=self.api_port, env=env, bootstrap=broker.bootstrap if broker else None)
        self.stack.start()
        self.api = Api(self.stack.api_url)
        if self.api_key:
            self.api.login(self.api_key)
        return self.stack

    def subscribe(self, *feeds: str) -> None:
        """Create the user, its webhook, and subscribe to `feeds` (default: the generated one)."""
        assert self.api is not None
        user = self.api.call(
            "POST",
            "/v1/users",
            json={"email": "reliable@example.com", "timezone": "UTC", "brief_hour": (time.gmtime().tm_hour + 12) % 24},
        )
        self.api_key = user["api_key"]
        self.api.login(self.api_key)
        self.receiver.secret = self.api.call("POST", "/v1/webhooks", json={"url": self.receiver.url})["secret"]
        for feed in feeds or ("run.xml",):
            sub = self.api.call("POST", "/v1/subscriptions", json={"feed_url": f"{self.samples.url}/{feed}"})
            self.subscription_ids.append(sub["id"])

    def status(self) -> list[dict]:
        assert self.api is not None
        # One request (oldest first, as subscribed): a status per subscription would trip the API's rate limit.
        listed = self.api.call("GET", "/v1/subscriptions", params={"limit": 100})["data"]
        by_id = {sub["id"]: sub["feed"] for sub in listed}
        return [by_id[sid] for sid in self.subscription_ids]

    def wait(self, done: Callable[[list[dict]], bool], timeout: float, what: str) -> list[dict]:
        """Poll subscription statuses until `done(statuses)`; fail with the logs' location otherwise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.stack is not None
            self.stack.check()
            try:
                statuses = self.status()
            except httpx.TransportError:  # the API is restarting
                time.sleep(1.0)
                continue
            if done(statuses):
                return statuses
            time.sleep(1.0)
        raise AssertionError(f"{what} did not happen within {timeout:.0f}s: {self.status()}; logs in {self.stack.log_dir}")

    def wait_ranked(self, episodes: int, timeout: float = 600) -> None:
        """Until `episodes` episodes of the first subscription have insights in notify."""
        self.wait(lambda s: s[0]["episodes_with_insights"] >= episodes, timeout, f"{episodes} episodes ranked")

    def brief_once(self) -> dict:
        """Ask for a brief and check it arrives, signed, exactly once."""
        assert self.api is not None
        brief = self.api.call("POST", "/v1/briefs")
        delivery = self.receiver.wait_for("brief.ready", timeout=120, data_id=brief["id"])
        time.sleep(2.0)  # room for a duplicate to show up
        assert self.receiver.ids()[delivery.webhook_id] == 1
        return brief

    def close(self) -> None:
        if self.stack is not None:
            self.stack.stop()
        self._cleanup.close()


def scalar(db: Path, query: str) -> int:
    """One number from a service's SQLite store."""
    engine = sa.create_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(query)).scalar_one())
    finally:
        engine.dispose()


def assert_each_episode_once(data_dir: Path, episodes: int) -> None:
    """Every episode has one transcript, insights in rank and notify, none doubled, one vector point per insight."""
    transcribe = data_dir / "transcribe.sqlite3"
    rank = data_dir / "rank.sqlite3"
    notify = data_dir / "notify.sqlite3"
    assert scalar(transcribe, "select count(*) from outbox where topic = 'transcripts.ready'") == episodes
    assert scalar(transcribe, "select count(distinct key) from outbox where topic = 'transcripts.ready'") == episodes
    assert scalar(rank, "select count(distinct episode_id) from rank_insights") == episodes
    rank_insights = scalar(rank, "select count(*) from rank_insights")
    assert scalar(rank, "select count(*) from outbox where topic = 'insights.created'") == rank_insights
    assert scalar(notify, "select count(*) from insights") == rank_insights
    assert scalar(notify, "select count(distinct episode_id) from insights") == episodes
    from podbrief_rank.vectorstore import EdgeVectorStore

    vectors = EdgeVectorStore(data_dir / "vectors" / "insights", 384)
    try:
        assert vectors.count() == rank_insights
    finally:
        vectors.close()
