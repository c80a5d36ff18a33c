"""Settings every podbrief service shares; each service's own `Settings` extends this."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Read once from `PODBRIEF_*` environment variables (and `.env`)."""

    model_config = SettingsConfigDict(env_prefix="PODBRIEF_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default=Path("./var"), description="Where SQLite files, the vector store and the audio cache live.")
    kafka_bootstrap: str = Field(default="127.0.0.1:9092", description="Kafka bootstrap servers (host:port, comma separated).")
    kafka_idempotence: bool = Field(
        default=False,
        description="Idempotent producer; turn on for real Kafka (the embedded Tansu broker refuses it).",
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL of the service's store; unset = a SQLite file in the data dir."
    )
    allow_private_urls: bool = Field(
        default=False, description="Allow feed, audio and webhook URLs on private, loopback or link-local addresses."
    )
    max_attempts: int = Field(
        default=3,
        ge=1,
        description="Handler attempts before a failing message goes to the dead-letter topic (transient outages: no limit).",
    )
    handler_deadline_seconds: float = Field(
        default=1800.0,
        gt=0,
        description="Longest one handler attempt may take when its route sets no deadline; then it is cancelled and "
        "counts as a failed attempt.",
    )
    stuck_margin_seconds: float = Field(
        default=60.0, ge=0, description="/readyz fails while a handler is still running this long past its deadline."
    )
    retry_backoff_seconds: float = Field(
        default=0.5, gt=0, description="First pause before a failed handler is retried; it doubles each attempt, with jitter."
    )
    retry_backoff_max_seconds: float = Field(
        default=30.0, gt=0, description="Longest pause between retries; a transient outage is retried at this pace until it ends."
    )
    revoke_grace_seconds: float = Field(
        default=3.0,
        ge=0,
        lt=10,
        description="On a rebalance, how long in-flight messages may finish and commit before they are abandoned "
        "(redelivered); below the consumer's 10 s session timeout.",
    )
    shutdown_grace_seconds: float = Field(
        default=8.0,
        ge=0,
        description="On SIGTERM, how long in-flight messages may finish and commit before they are abandoned (redelivered); "
        "under Docker's 10 s stop timeout, leaving time to flush the outbox.",
    )
    outbox_retention_days: float = Field(
        default=7.0, gt=0, description="Published outbox rows older than this are deleted; at least the replay window."
    )
    inbox_retention_days: float = Field(
        default=30.0,
        gt=0,
        description="Ids of handled events older than this are forgotten; longer than any redelivery can come "
        "(the broker's retention plus the replay window), or a late repeat is handled again.",
    )
    health_port: int | None = Field(
        default=None, description="Port of the worker's /healthz, /readyz and /metrics (unset = none)."
    )
    log_format: str = Field(default="text", description="`text` (human) or `json` (one object per line).")
    log_level: str = Field(default="INFO", description="Log level.")
    replay_window_hours: float = Field(
        default=72.0, description="How far back the outbox is published again when the broker has lost its history."
    )

    @model_validator(mode="after")
    def _outbox_outlives_replay(self) -> ServiceSettings:
        if self.outbox_retention_days * 24 < self.replay_window_hours:
            raise ValueError("outbox_retention_days must cover replay_window_hours: a replay needs the rows it republishes")
        return self

    def sqlite_url(self, name: str) -> str:
        """The default store URL for service `name`: a SQLite file in the data dir."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{(self.data_dir / f'{name}.sqlite3').resolve()}"

    def store_url(self, name: str) -> str:
        """The service's store URL: `database_url` when set, else its SQLite file."""
        return self.database_url or self.sqlite_url(name)
