"""The notify store's tables (SQLAlchemy Core); the Alembic migrations create exactly these."""

from __future__ import annotations

from podbrief_runtime.sqltypes import UTCDateTime
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()


def _fk(target: str) -> ForeignKey:
    return ForeignKey(target, ondelete="CASCADE")


users = Table(
    "users",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("timezone", String(64), nullable=False),
    Column("brief_hour", Integer, nullable=False),
    Column("brief_size", Integer, nullable=False),
    Column("cadence", String(16), nullable=False),
    Column("interests", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # Email goes only to a confirmed address; the pending confirmation link's token is kept as a hash.
    Column("email_confirmed_at", UTCDateTime),
    Column("email_confirm_hash", String(64), unique=True),
    Column("email_confirm_sent_at", UTCDateTime),
    # The personal Atom feed of briefs carries this token in its URL (feed readers send no headers); revocable.
    Column("feed_token", String(64)),
    # Briefs drawing on the catalog: off | mix | only; None = the default (mix with interests, else off).
    Column("discover", String(8)),
    # The interests embedded (float32 rows, one per interest) and the model that made them; both None until the
    # worker embeds them (see interest_vectors.py).
    Column("interest_vectors", LargeBinary),
    Column("interest_model", String(200)),
    # Why the reader's last scheduled brief could not be built, and when (None once a brief is built): shown on /v1/me.
    Column("brief_error", Text),
    Column("brief_error_at", UTCDateTime),
    UniqueConstraint("feed_token", name="uq_users_feed_token"),
)

# A user may hold several keys (to rotate them); only their SHA-256 is stored.
api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", String(36), _fk("users.id"), nullable=False, index=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("last4", String(4)),  # None for keys issued before keys could be listed
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)

feeds = Table(
    "feeds",
    metadata,
    Column("feed_id", String(64), primary_key=True),
    Column("feed_url", Text, nullable=False),
    Column("title", Text),
    Column("status", String(16)),
    Column("last_polled_at", UTCDateTime),
    Column("last_success_at", UTCDateTime),
    Column("last_error", Text),
    Column("episodes_seen", Integer, nullable=False, default=0),
    Column("status_at", UTCDateTime),
    Column("notes", JSON),
)

# Each episode of a followed show as its listener sees it: processing, failed (with why) or done (with its insights).
episodes = Table(
    "episodes",
    metadata,
    Column("episode_id", String(64), primary_key=True),
    Column("feed_id", String(64), nullable=False, index=True),
    Column("title", Text),
    Column("state", String(16), nullable=False),
    Column("reason", Text),
    Column("insights", Integer),
    Column("notes", JSON, nullable=False),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# Shows the service scans for every reader besides their own subscriptions (the operator's list); their items are
# public: any reader may be shown them, with their links.
catalog = Table(
    "catalog",
    metadata,
    Column("feed_id", String(64), primary_key=True),
    Column("feed_url", Text, nullable=False),
    Column("added_at", UTCDateTime, nullable=False),
)

# Catalog files already imported at start (by content hash), so a restart does not re-add what the operator removed.
catalog_imports = Table(
    "catalog_imports",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("imported_at", UTCDateTime, nullable=False),
    Column("feed_ids", JSON),  # the feeds the file listed: a later file adds only feeds none of these listed
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", String(36), _fk("users.id"), nullable=False),
    Column("feed_id", String(64), nullable=False, index=True),
    Column("feed_url", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("user_id", "feed_id", name="uq_subscriptions_user_feed"),
)

insights = Table(
    "insights",
    metadata,
    Column("insight_id", String(64), primary_key=True),
    Column("cluster_id", String(64), nullable=False, index=True),
    Column("feed_id", String(64), nullable=False, index=True),
    Column("episode_id", String(64), nullable=False, index=True),
    Column("podcast_title", Text, nullable=False),
    Column("podcast_image", Text),
    Column("episode_title", Text, nullable=False),
    Column("episode_link", Text),
    Column("enclosure_url", Text, nullable=False),
    Column("published_at", UTCDateTime),
    Column("text", Text, nullable=False),
    Column("start", Float, nullable=False),
    Column("end", Float, nullable=False),
    Column("score", Float, nullable=False),
    Column("keywords", JSON, nullable=False),
    Column("embedding", LargeBinary, nullable=False),
    Column("embedding_model", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False, index=True),
    # Who said it (publisher transcript speaker, resolved against podcast:person), the chapter it falls in,
    # the transcript passage it came from, and the episode's people (podcast:person).
    Column("speaker", Text),
    Column("chapter", Text),
    Column("quote", Text),
    Column("people", JSON),
)

clusters = Table(
    "clusters",
    metadata,
    Column("cluster_id", String(64), primary_key=True),
    Column("face_insight_id", String(64), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# Related insights in both directions; the text is kept here so a link reads well even
# before (or without) the related insight's own event arriving.
insight_links = Table(
    "insight_links",
    metadata,
    Column("insight_id", String(64), primary_key=True),
    Column("related_id", String(64), primary_key=True),
    Column("text", Text, nullable=False),
    Column("podcast_title", Text, nullable=False),
    Column("episode_title", Text, nullable=False),
    Column("similarity", Float, nullable=False),
)

feedback = Table(
    "feedback",
    metadata,
    Column("user_id", String(36), _fk("users.id"), primary_key=True),
    Column("insight_id", String(64), primary_key=True),
    Column("vote", String(8), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

webhooks = Table(
    "webhooks",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", String(36), _fk("users.id"), nullable=False, index=True),
    Column("url", Text, nullable=False),
    Column("secret", String(64), nullable=False),
    Column("disabled_at", UTCDateTime),
    Column("disabled_reason", Text),
    Column("created_at", UTCDateTime, nullable=False),
)

briefs = Table(
    "briefs",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", String(36), _fk("users.id"), nullable=False),
    Column("period", String(32)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("payload", Text, nullable=False),
    Column("view_token", String(64), nullable=False),  # lets the HTML page open in a browser without the API key
    # One scheduled brief per user and period, however many schedulers race for it.
    UniqueConstraint("user_id", "period", name="uq_briefs_user_period"),
    Index("ix_briefs_user_created", "user_id", "created_at"),
)

# Every cluster sent to a user, so neither it nor any other phrasing of it is sent again.
sent_clusters = Table(
    "sent_clusters",
    metadata,
    Column("user_id", String(36), _fk("users.id"), primary_key=True),
    Column("cluster_id", String(64), primary_key=True),
    Column("insight_id", String(64), nullable=False),
    Column("brief_id", String(36), _fk("briefs.id"), nullable=False),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", String(40), primary_key=True),  # the webhook-id header: the same on every retry
    Column("user_id", String(36), _fk("users.id"), nullable=False),
    Column("webhook_id", String(36), _fk("webhooks.id"), nullable=False, index=True),
    Column("brief_id", String(36), _fk("briefs.id"), index=True),
    Column("event_type", String(32), nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(16), nullable=False),  # pending | delivered | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime),
    Column("lease_until", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("last_error", Text),
    Index("ix_deliveries_due", "status", "next_attempt_at"),
)

delivery_attempts = Table(
    "delivery_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("delivery_id", String(40), ForeignKey("deliveries.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("attempt", Integer, nullable=False),
    Column("attempted_at", UTCDateTime, nullable=False),
    Column("status_code", Integer),
    Column("error", Text),
    Column("duration_ms", Float, nullable=False),
    Column("response_body", Text),
    Column("success", Boolean, nullable=False),
)
