"""The notify service's settings (env prefix PODBRIEF_)."""

from __future__ import annotations

from pathlib import Path

from podbrief_runtime.embedding import bundled_model_path
from podbrief_runtime.settings import ServiceSettings
from pydantic import Field, SecretStr, ValidationInfo, field_validator


def _default_model() -> str:
    return bundled_model_path()


class Settings(ServiceSettings):
    """Read once at start; every field can be set as PODBRIEF_<FIELD>."""

    api_host: str = Field(default="127.0.0.1", description="Address the REST API (`python -m podbrief_notify.api`) listens on.")
    api_port: int = Field(default=8000, description="Port of the REST API (the worker makes its links with it too).")
    public_base_url: str | None = Field(
        default=None, description="Base URL of the API as users reach it, for links to brief pages (unset = http://host:port)."
    )
    embed_model: str = Field(
        default_factory=_default_model,
        description="sentence-transformers model (path or name) that embeds interests and search queries; only the "
        "worker (`python -m podbrief_notify`) loads it.",
    )
    embed_host: str = Field(default="127.0.0.1", description="Address the worker's embedding endpoint listens on.")
    embed_port: int | None = Field(
        default=None,
        description="Port of the worker's embedding endpoint (POST /embed), which the API process embeds search "
        "queries and new interests with (unset = none).",
    )
    embed_url: str | None = Field(
        default=None,
        description="Where the API process reaches the worker's embedding endpoint, e.g. http://notify:8001 (unset, "
        "or while it does not answer: search matches words only, and new interests are embedded by the worker "
        "within seconds).",
    )
    embed_token: SecretStr | None = Field(
        default=None,
        description="Shared secret of the worker's embedding endpoint and the API process: the worker answers POST /embed "
        "only with `Authorization: Bearer <token>`, and the API sends it (unset: the endpoint answers whoever reaches it, "
        "so keep it on loopback; `podbrief up` makes one per stack, compose requires one).",
    )
    embed_timeout_s: float = Field(
        default=3.0,
        gt=0,
        description="Most time the API waits for the worker's embedding endpoint before searching by words only.",
    )
    rate_limit_per_minute: int = Field(default=600, ge=0, description="Requests one API key may make per minute (0 = unlimited).")
    rate_limit_burst: int = Field(default=60, ge=1, description="Requests one API key may make at once before being limited.")
    opml_max_bytes: int = Field(default=1_048_576, ge=1024, description="Largest OPML upload accepted.")
    opml_max_feeds: int = Field(default=500, ge=1, description="Most feeds one OPML import may add.")
    max_subscriptions: int = Field(default=1000, ge=1, description="Most subscriptions one user may hold.")
    max_webhooks: int = Field(default=10, ge=1, description="Most webhook endpoints one user may register.")
    webhook_timeout_s: float = Field(default=15.0, gt=0, description="Timeout of each connect and read of a webhook request.")
    webhook_deadline_s: float = Field(
        default=30.0, gt=0, description="Most time one webhook request may take, connecting and reading the answer included."
    )
    webhook_retry_window_h: float = Field(default=24.0, gt=0, description="How long a failing delivery keeps being retried.")
    webhook_response_cap: int = Field(default=1024, ge=0, description="Bytes of a webhook response body read and kept.")
    delivery_interval_s: float = Field(default=1.0, gt=0, description="How often the delivery loop looks for due retries.")
    delivery_concurrency: int = Field(default=64, ge=1, description="Webhook requests in flight at once.")
    webhook_connections_per_host: int = Field(
        default=8, ge=1, description="Webhook requests in flight at once to one receiving origin (scheme, host, port)."
    )
    scheduler_interval_s: float = Field(default=30.0, gt=0, description="How often the scheduler looks for due briefs.")
    freshness_half_life_h: float = Field(default=48.0, gt=0, description="Age at which an insight's freshness halves.")
    consumer_concurrency: int = Field(default=4, ge=1, description="Partitions handled at once by the event consumer.")
    smtp_host: str | None = Field(
        default=None, description="SMTP server that also sends each brief to the user's email address (unset = no email)."
    )
    smtp_port: int = Field(default=587, ge=1, le=65535, description="Port of the SMTP server.")
    smtp_username: str | None = Field(default=None, description="SMTP login (unset = send without logging in).")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password (secret; never logged).")
    smtp_starttls: bool = Field(default=True, description="Upgrade the SMTP connection with STARTTLS before sending.")
    smtp_from: str = Field(default="podbrief <brief@localhost>", description="From address of brief emails.")
    smtp_timeout_s: float = Field(default=30.0, gt=0, description="Most time one brief email may take, connection included.")
    deliveries_retention_days: float = Field(
        default=30.0, gt=0, description="Days a finished webhook delivery (and its attempts) is kept; pending ones always are."
    )
    briefs_retention_days: float = Field(
        default=365.0, gt=0, description="Days a brief's content is kept; later the API answers 410 for it."
    )
    metrics_public: bool = Field(
        default=False, description="Also serve /metrics on the API port (false = only on PODBRIEF_HEALTH_PORT, when set)."
    )
    brief_token_ttl_days: float = Field(
        default=30.0, gt=0, description="Days a brief's html_url (its token link) opens the page; later it answers 410 Gone."
    )
    max_api_keys: int = Field(default=10, ge=1, description="Most active API keys one user may hold.")
    api_key_cache_s: float = Field(
        default=10.0,
        ge=0,
        description="Seconds a process trusts an API key it looked up; a key revoked through another process stops "
        "working there within this time (at once in the process that revoked it).",
    )
    signup_per_address_per_hour: int = Field(
        default=10, ge=0, description="Sign-ups (POST /v1/users) accepted per hour from one client address (0 = unlimited)."
    )
    signup_per_hour: int = Field(default=500, ge=0, description="Sign-ups accepted per hour in all (0 = unlimited).")
    unconfirmed_max_subscriptions: int = Field(
        default=3,
        ge=0,
        description="Most subscriptions of a user who has not confirmed their email address yet (only with SMTP set: "
        "without it no address can be confirmed and this cap does not apply).",
    )

    admin_key: SecretStr | None = Field(
        default=None,
        description="Bearer key of the operator's API (/v1/admin: the catalog); no default: unset = the admin API is off.",
    )
    catalog_file: Path | None = Field(
        default=None,
        description="Catalog of shows scanned for every reader (OPML or one URL per line), imported at start when it "
        "changed; `podbrief up` and compose pass the bundled deploy/catalog.opml.",
    )
    discover_slots: int = Field(
        default=2, ge=0, le=20, description="Most brief items a `discover: mix` reader gets from shows they don't follow."
    )
    discover_min_match: float = Field(
        default=0.3,
        ge=0.0,
        le=1.0,
        description="Least similarity to one of the reader's interests for a catalog insight to be discovered.",
    )
    discover_margin: float = Field(
        default=0.1,
        ge=0.0,
        le=1.0,
        description="How much better a discovered item must match an interest than the weakest own-show item it replaces.",
    )

    @field_validator("admin_key", "embed_token", mode="before")
    @classmethod
    def _empty_secret_is_none(cls, value: object, info: ValidationInfo) -> object:
        # Compose passes an unset variable as "": that means no secret (the admin API off, the embedding endpoint
        # open to loopback), never an empty one.
        if value == "":
            return None
        if isinstance(value, str) and len(value) < 16:
            name = f"PODBRIEF_{(info.field_name or '').upper()}"
            raise ValueError(f"{name} must be at least 16 characters (e.g. `openssl rand -hex 24`)")
        return value

    def embed_secret(self) -> str | None:
        """`embed_token` in clear, for the worker's endpoint and the API's client of it."""
        return self.embed_token.get_secret_value() if self.embed_token else None

    def base_url(self) -> str:
        """Where users reach the API: `public_base_url`, else this process's own address."""
        host = "127.0.0.1" if self.api_host in ("0.0.0.0", "::") else self.api_host  # noqa: S104 - a wildcard bind is not an address to link to
        return (self.public_base_url or f"http://{host}:{self.api_port}").rstrip("/")
