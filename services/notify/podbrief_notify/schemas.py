"""Request and response bodies of the REST API (and the brief sent to webhooks)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from podbrief_notify.timezones import check_timezone

EMAIL_PATTERN = r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ErrorDetail(BaseModel):
    code: str = Field(description="Machine-readable error code.", examples=["not_found"])
    message: str = Field(description="What went wrong, for people.", examples=["subscription not found"])


class ErrorBody(BaseModel):
    """Every error response has this shape."""

    error: ErrorDetail


class UserCreate(_In):
    email: str = Field(
        max_length=320, pattern=EMAIL_PATTERN, description="The user's email address.", examples=["ada@example.com"]
    )
    timezone: str = Field(
        default="UTC", max_length=64, description="IANA timezone for the brief hour.", examples=["Europe/Berlin"]
    )
    brief_hour: int = Field(default=7, ge=0, le=23, description="Local hour the brief is sent.", examples=[7])

    _tz = field_validator("timezone")(check_timezone)


class UserCreated(BaseModel):
    id: str = Field(description="The user's id.")
    email: str = Field(description="The user's email address.")
    api_key: str = Field(description="The API key; shown only now, stored only as a hash.", examples=["pb_7Hq..."])
    api_key_id: str = Field(description="The key's id, to revoke it later (DELETE /v1/me/keys/{key_id}).")


class EmailConfirmed(BaseModel):
    email: str = Field(description="The address now confirmed.")
    email_confirmed_at: datetime


class ConfirmationSent(BaseModel):
    email: str = Field(description="Where the new confirmation link was sent.")


class ApiKeyPublic(BaseModel):
    id: str = Field(description="The key's id.")
    created_at: datetime
    last4: str | None = Field(
        default=None, description="The key's last 4 characters (null for a key issued before keys could be listed)."
    )


class ApiKeyCreated(ApiKeyPublic):
    api_key: str = Field(description="The new API key; shown only now, stored only as a hash.", examples=["pb_7Hq..."])


class ApiKeysPublic(BaseModel):
    data: list[ApiKeyPublic] = Field(description="The caller's active keys, oldest first (never the keys themselves).")
    count: int


class BriefProblem(BaseModel):
    message: str = Field(description="What went wrong, in words.")
    at: datetime = Field(description="When the last try failed.")


class MePublic(BaseModel):
    id: str
    email: str
    timezone: str = Field(description="IANA timezone.", examples=["Europe/Berlin"])
    brief_hour: int = Field(description="Local hour the brief is sent (0-23).", examples=[7])
    brief_size: int = Field(description="Insights per brief (1-20).", examples=[5])
    cadence: Literal["daily", "weekly"] = Field(description="Daily, or weekly on Mondays.")
    interests: list[str] = Field(description="Topics that rank insights up.", examples=[["open source", "sleep"]])
    created_at: datetime
    email_confirmed_at: datetime | None = Field(
        default=None, description="When the address was confirmed; briefs are emailed only to a confirmed address."
    )
    discover: Literal["off", "mix", "only"] = Field(
        default="off",
        description="Briefs from shows you don't follow: `off`, `mix` (your shows first, up to 2 discovered items "
        "that match your interests clearly better) or `only` (the catalog alone, by your interests). Default: `mix` "
        "once you have interests.",
    )
    briefs_feed_url: str | None = Field(
        default=None,
        description="Your briefs as an Atom feed for a feed reader; the URL carries its own token (feed readers send no "
        "headers): `POST /v1/me/briefs-feed` replaces it, `DELETE /v1/me/briefs-feed` turns it off.",
    )
    brief_problem: BriefProblem | None = Field(
        default=None,
        description="Why your last scheduled brief could not be built, while it could not: it is tried again with a "
        "growing pause (a minute, doubling, at most an hour); null once a brief is built.",
    )


class MeUpdate(_In):
    timezone: str | None = Field(default=None, max_length=64, description="IANA timezone.", examples=["America/New_York"])
    brief_hour: int | None = Field(default=None, ge=0, le=23, description="Local hour the brief is sent.")
    brief_size: int | None = Field(default=None, ge=1, le=20, description="Insights per brief.")
    cadence: Literal["daily", "weekly"] | None = Field(default=None, description="Daily, or weekly on Mondays.")
    interests: list[str] | None = Field(default=None, max_length=50, description="Topics that rank insights up (at most 50).")
    discover: Literal["off", "mix", "only"] | None = Field(
        default=None, description="Briefs from shows you don't follow, by your interests: `off`, `mix` or `only`."
    )

    _tz = field_validator("timezone")(check_timezone)

    @field_validator("interests")
    @classmethod
    def _clean_interests(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        cleaned = list(dict.fromkeys(v.strip() for v in value if v.strip()))
        if any(len(v) > 200 for v in cleaned):
            raise ValueError("an interest is longer than 200 characters")
        return cleaned


class FeedStatus(BaseModel):
    title: str | None = Field(default=None, description="The podcast's title, once polled.")
    status: Literal["pending", "ok", "error", "blocked"] = Field(description="`pending` until the first poll.")
    last_polled_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None
    episodes_discovered: int = Field(description="Episodes found in the feed so far.")
    insights: int = Field(description="Insights extracted from the feed so far.")
    episodes_with_insights: int = Field(description="Discovered episodes that have been transcribed and ranked.")
    episodes_failed: int = Field(
        default=0, description="Episodes that could not be processed (see `GET /v1/subscriptions/{id}/episodes`)."
    )
    latest_failure: str | None = Field(default=None, description="Why the most recent failed episode failed.")
    notes: list[str] = Field(
        default_factory=list, description="What the last read of the feed forgave (as podcast apps do), e.g. an undefined entity."
    )


class EpisodeStatePublic(BaseModel):
    episode_id: str
    title: str | None = None
    state: Literal["queued", "retrying", "failed", "transcribed", "done"] = Field(
        description="`queued`: found in the feed, waiting to be transcribed; `transcribed`: waiting for insights; "
        "`done`: finished with `insights`; `retrying`: a passing problem is being retried; `failed`: it cannot be "
        "processed, `reason` says why."
    )
    reason: str | None = Field(default=None, description="Why it failed or is being retried.")
    insights: int | None = Field(default=None, description="Insights the episode yielded, once done.")
    notes: list[str] = Field(default_factory=list, description="What did not stop the episode but is worth knowing.")
    first_seen_at: datetime
    updated_at: datetime


class EpisodeStatesPublic(BaseModel):
    data: list[EpisodeStatePublic]
    count: int = Field(description="Total episodes with a state (all pages).")


class SubscriptionCreate(_In):
    feed_url: str = Field(
        min_length=1, max_length=2048, description="The podcast feed's URL.", examples=["https://example.com/feed.xml"]
    )


class SubscriptionPublic(BaseModel):
    id: str
    feed_id: str = Field(description="Stable id of the feed (derived from its normalised URL).")
    feed_url: str = Field(description="The normalised feed URL.")
    created_at: datetime
    feed: FeedStatus


class SubscriptionsPublic(BaseModel):
    data: list[SubscriptionPublic]
    count: int = Field(description="Total subscriptions (all pages).")


class OpmlRejected(BaseModel):
    url: str
    reason: str


class OpmlImport(BaseModel):
    imported: list[SubscriptionPublic]
    rejected: list[OpmlRejected]


class WebhookCreate(_In):
    url: str = Field(
        min_length=1, max_length=2048, description="Where briefs are POSTed.", examples=["https://example.com/hooks/podbrief"]
    )


class WebhookPublic(BaseModel):
    id: str
    url: str
    created_at: datetime
    disabled_at: datetime | None = Field(default=None, description="Set when the endpoint answered 410 Gone.")
    disabled_reason: str | None = None


class WebhookCreated(WebhookPublic):
    secret: str = Field(
        description="Signing secret (Standard Webhooks); shown only now.", examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]
    )


class WebhooksPublic(BaseModel):
    data: list[WebhookPublic]
    count: int


class WebhookTestResult(BaseModel):
    delivery_id: str = Field(description="The webhook-id header sent.")
    success: bool
    status_code: int | None = None
    error: str | None = None


class Show(BaseModel):
    feed_id: str
    title: str
    image: str | None = Field(default=None, description="The show's artwork URL (null for a feed you do not follow).")


class Person(BaseModel):
    name: str
    role: str = Field(description="`host`, `guest`, ... as the feed's `podcast:person` says.", examples=["guest"])


class Episode(BaseModel):
    id: str
    title: str
    link: str | None = Field(default=None, description="The episode's web page (null for a feed you do not follow).")
    published_at: datetime | None = None
    enclosure_url: str | None = Field(
        default=None, description="The audio file (null for a feed you do not follow: private feeds carry secrets in it)."
    )
    people: list[Person] = Field(default_factory=list, description="Hosts and guests named by the feed (`podcast:person`).")


class Mention(BaseModel):
    podcast_title: str
    episode_title: str
    link: str | None = Field(default=None, description="The audio at the moment it was said (null for a feed you do not follow).")


class Related(BaseModel):
    insight_id: str
    text: str
    podcast_title: str
    episode_title: str
    similarity: float
    link: str | None = Field(default=None, description="The audio at the moment (null for a feed you do not follow).")


class InsightPublic(BaseModel):
    insight_id: str
    cluster_id: str
    text: str
    score: float
    keywords: list[str]
    show: Show
    episode: Episode
    start: float = Field(description="Seconds into the episode.")
    end: float
    link: str | None = Field(
        default=None,
        description="The audio at the start of the passage (`<enclosure>#t=<start>`; null for a feed you do not follow).",
    )
    speaker: str | None = Field(
        default=None, description="Who said it, where the publisher's transcript names speakers.", examples=["Chris Benson"]
    )
    chapter: str | None = Field(default=None, description="The chapter (`podcast:chapters`) it was said in.")
    quote: str | None = Field(default=None, description="The transcript passage the insight was taken from.")
    also_said_on: list[Mention] = Field(description="Other shows that said the same thing.")
    related: list[Related] = Field(description="Up to 3 related insights from other episodes.")


class InsightHit(InsightPublic):
    match: float | None = Field(
        default=None, description="How well it matches `q` (meaning and words blended, 0-1); null when browsing."
    )


class InsightsPage(BaseModel):
    data: list[InsightHit]
    count: int = Field(description="Total matches (all pages).")
    semantic: bool | None = Field(
        default=None,
        description="Whether `q` was matched by meaning as well as by words: false while the embedding model (the "
        "notify worker) cannot be reached, when words alone find and order the results; null when browsing.",
    )


class EpisodeDetail(BaseModel):
    episode_id: str
    feed_id: str
    title: str | None = None
    show: Show | None = Field(default=None, description="The show (null until the episode has insights).")
    episode: Episode | None = Field(default=None, description="The episode's links and people (null until it has insights).")
    state: Literal["queued", "retrying", "failed", "transcribed", "done"] = Field(
        description="Where processing stands (see `GET /v1/subscriptions/{id}/episodes`)."
    )
    reason: str | None = Field(default=None, description="Why it failed or is being retried.")
    notes: list[str] = Field(default_factory=list)
    first_seen_at: datetime | None = None
    updated_at: datetime | None = None
    insights: list[InsightPublic] = Field(description="All the episode's insights, in the order they were said.")
    count: int


class SubscribeOffer(BaseModel):
    method: Literal["POST"] = "POST"
    url: str = Field(description="`POST` here with `body` (and your API key) to follow the show.")
    body: dict[str, str] = Field(examples=[{"feed_url": "https://example.com/feed.xml"}])
    feed_url: str


class Why(BaseModel):
    """Why an item was picked, in a few numbers."""

    interest: str | None = Field(default=None, description="The interest of yours it matches best, if any.")
    interest_match: float = Field(description="Its similarity to your interests (0-1).")
    followed_show: bool = Field(description="From a show you follow (false: discovered in the catalog).")
    shows: int = Field(description="How many shows said the same idea (cross-show agreement).")
    quality: float = Field(description="The insight's own score from extraction (0-1).")


class BriefItem(InsightPublic):
    rank: int = Field(description="Position in the brief, from 1.")
    discovered: bool = Field(
        default=False, description="From a show you don't follow, found in the catalog by your interests."
    )
    subscribe: SubscribeOffer | None = Field(default=None, description="For a discovered item: follow its show in one call.")
    why: Why | None = Field(default=None, description="Why it was picked (absent in briefs built before this existed).")


class BriefPublic(BaseModel):
    id: str
    created_at: datetime
    period: str | None = Field(
        default=None, description="The scheduled period (`daily:2026-11-24`, `weekly:2026-W48`); null when requested."
    )
    requested_size: int
    size: int
    note: str | None = Field(default=None, description="Why the brief has fewer items than asked for.")
    html_url: str
    items: list[BriefItem]


class AttemptPublic(BaseModel):
    attempt: int
    attempted_at: datetime
    success: bool
    status_code: int | None = None
    error: str | None = None
    duration_ms: float


class DeliveryPublic(BaseModel):
    id: str = Field(description="The webhook-id header; the same on every retry.")
    webhook_id: str
    event_type: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    created_at: datetime
    finished_at: datetime | None = None
    attempt_log: list[AttemptPublic]


class BriefDetail(BriefPublic):
    deliveries: list[DeliveryPublic]


class BriefSummary(BaseModel):
    id: str
    created_at: datetime
    period: str | None = None
    size: int


class BriefsPublic(BaseModel):
    data: list[BriefSummary]
    count: int


class FeedbackCreate(_In):
    vote: Literal["up", "down"] = Field(description="Up pulls similar insights in; down pushes them away.")


class FeedbackPublic(BaseModel):
    insight_id: str
    vote: Literal["up", "down"]


class CatalogFeeds(_In):
    feed_urls: list[str] = Field(
        min_length=1, max_length=5000, description="Feed URLs.", examples=[["https://example.com/feed.xml"]]
    )


class CatalogEntry(BaseModel):
    feed_id: str
    feed_url: str
    added_at: datetime
    title: str | None = Field(default=None, description="The show's title, once polled.")
    status: Literal["pending", "ok", "error", "blocked"]
    last_error: str | None = None
    insights: int = Field(description="Insights extracted from the feed so far.")
    episodes_discovered: int = Field(description="Episodes found in the feed so far.")
    episodes_done: int = Field(description="Episodes whose insights are in.")


class CatalogEntries(BaseModel):
    data: list[CatalogEntry]
    count: int


class CatalogRejected(BaseModel):
    url: str
    reason: str


class CatalogImport(BaseModel):
    added: list[CatalogEntry]
    rejected: list[CatalogRejected]


class CatalogRemoved(BaseModel):
    removed: list[str] = Field(description="Ids of the feeds taken out of the catalog.")


class Health(BaseModel):
    status: Literal["ok"]
