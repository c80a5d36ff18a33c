"""The ingest service's settings (env prefix PODBRIEF_)."""

from __future__ import annotations

from podbrief_runtime.settings import ServiceSettings
from pydantic import Field

USER_AGENT = "podbrief-ingest/0.1 (+https://github.com/podbrief/podbrief; polls podcast feeds for new episodes)"


class Settings(ServiceSettings):
    """Read once at start; every field can be set as PODBRIEF_<FIELD>."""

    poll_interval: float = Field(default=900.0, gt=0, description="Seconds between two polls of a healthy feed.")
    poll_jitter: float = Field(
        default=0.1, ge=0, lt=1, description="Each interval is stretched or shrunk by up to this fraction, so feeds spread out."
    )
    first_poll_episodes: int = Field(
        default=3,
        ge=0,
        description="On a feed's first poll only its newest N episodes are announced; older ones are marked seen.",
    )
    max_feed_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1024, description="Largest feed body read (decoded); larger is an error."
    )
    fetch_timeout: float = Field(
        default=15.0, gt=0, description="Seconds to wait for a connection or for the next bytes of a feed."
    )
    poll_deadline: float = Field(
        default=60.0, gt=0, description="Most seconds one poll may take from first request to parsed feed."
    )
    max_redirects: int = Field(default=5, ge=0, description="Redirects followed per poll; more, or a loop, is an error.")
    max_in_flight: int = Field(default=32, ge=1, description="Feeds polled at once (fetching or parsing).")
    backoff_max: float = Field(
        default=24 * 3600.0, gt=0, description="Longest wait before retrying a failing feed (exponential backoff caps here)."
    )
    user_agent: str = Field(default=USER_AGENT, description="User-Agent sent with every feed request.")
    consumer_concurrency: int = Field(default=2, ge=1, description="Partitions of feeds.subscribed handled at once.")
