"""Settings every podbrief service shares; each service's own `Settings` extends this."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
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
    max_attempts: int = Field(default=3, ge=1, description="Handler attempts before a message goes to the dead-letter topic.")
    health_port: int | None = Field(
        default=None, description="Port of the worker's /healthz, /readyz and /metrics (unset = none)."
    )
    log_format: str = Field(default="text", description="`text` (human) or `json` (one object per line).")
    log_level: str = Field(default="INFO", description="Log level.")
    replay_window_hours: float = Field(
        default=72.0, description="How far back the outbox is published again when the broker has lost its history."
    )

    def sqlite_url(self, name: str) -> str:
        """The default store URL for service `name`: a SQLite file in the data dir."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{(self.data_dir / f'{name}.sqlite3').resolve()}"

    def store_url(self, name: str) -> str:
        """The service's store URL: `database_url` when set, else its SQLite file."""
        return self.database_url or self.sqlite_url(name)
