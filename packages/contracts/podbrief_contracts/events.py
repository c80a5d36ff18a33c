"""The events podbrief's services exchange over Kafka: the only code they share."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, ClassVar, Literal, get_args
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, field_validator

# 2 added `Segment.speaker`, `TranscriptReady.chapters` and `InsightCreated.quote`/`speaker`/`chapter`, all optional,
# so version 1 events still parse. Only those two event types are written as version 2; the others keep writing 1,
# so a consumer not yet upgraded (which knows only 1) keeps reading them during a rolling deploy.
SchemaVersion = Literal[1, 2]
SCHEMA_VERSION: Literal[2] = 2
SCHEMA_VERSIONS: tuple[int, ...] = get_args(SchemaVersion)
# A later optional field that a consumer may safely ignore (`people`) did not bump the version: the models ignore
# unknown fields, so a consumer not yet upgraded reads such an event exactly as before, while a version 3 would have
# sent it to the dead-letter topic during a rolling deploy.

# Namespace for deterministic ids: the same input always gives the same id, so a
# redelivered event maps onto the row or vector point it already created.
_ID_NAMESPACE = uuid.UUID("6f1c2a7e-4d3b-5a9e-8c1d-0b7f3e2a9d41")


def stable_id(*parts: str) -> str:
    """A UUID derived from `parts`; equal parts give equal ids across processes and restarts."""
    return str(uuid.uuid5(_ID_NAMESPACE, "\x1f".join(parts)))


def feed_id_for(feed_url: str) -> str:
    """The id of a feed, derived from its URL as first subscribed."""
    return stable_id("feed", feed_url.strip())


def episode_id_for(feed_id: str, guid: str) -> str:
    """The id of an episode: its feed plus its GUID (or enclosure URL when it has none)."""
    return stable_id("episode", feed_id, guid)


def is_web_url(value: str) -> bool:
    """Whether `value` is an absolute http(s) URL with a host: the only kind of link the events carry.

    Parsed as browsers do (surrounding blanks dropped, tabs and newlines ignored, any case), so
    ` JavaScript:alert(1)`, `java\nscript:...`, `data:` and `vbscript:` are all refused.
    """
    try:
        parts = urlsplit(value.strip())
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        return False


def _web_url(value: str) -> str:
    if not is_web_url(value):
        raise ValueError("must be an absolute http(s) URL")
    return value.strip()


# A URL field of an event: a plain string on the wire (the schema and its versions are unchanged), only http(s).
WebUrl = Annotated[str, AfterValidator(_web_url)]

# Bounds on what a feed may put in `people`, so a hostile feed cannot bloat every event of its episodes. Beyond them
# the list and the text are cut, never refused: metadata must not cost an episode its transcript.
MAX_PEOPLE = 50
MAX_PERSON_NAME = 200
MAX_PERSON_ROLE = 100
MAX_PERSON_URL = 2048


def _clean_name(value: object) -> object:
    return " ".join(value.split())[:MAX_PERSON_NAME] if isinstance(value, str) else value


def _clean_role(value: object) -> object:
    if value is None:
        return "host"
    if isinstance(value, str):
        return " ".join(value.split())[:MAX_PERSON_ROLE].lower() or "host"  # the spec's default role
    return value


def _first_people(value: object) -> object:
    return value[:MAX_PEOPLE] if isinstance(value, list | tuple) else value


def _now() -> datetime:
    return datetime.now(UTC)


class Event(BaseModel):
    """Fields every event carries."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    topic: ClassVar[str]

    event_id: str = Field(
        description="Unique id of this event; consumers use it for idempotency.",
        examples=["0b6c8a52-1d3e-5f0a-9b7c-2e4d6f8a1c3e"],
    )
    schema_version: SchemaVersion = Field(
        default=1,
        description="Version of this event's schema; a consumer dead-letters versions it does not know "
        "(2 added segment speakers, chapters and the insight's quote, speaker and chapter; 1 is still accepted).",
        examples=[1],
    )
    occurred_at: datetime = Field(
        default_factory=_now,
        description="When the producing service created the event (UTC).",
        examples=["2026-11-24T07:30:00Z"],
    )

    def key(self) -> str:
        """The Kafka key: the feed or episode the event belongs to, so its events stay ordered."""
        raise NotImplementedError


class FeedSubscribed(Event):
    """A user subscribed to a feed; ingest adds it to the registry and polls it."""

    topic: ClassVar[str] = "feeds.subscribed"

    feed_id: str = Field(description="Stable id of the feed (derived from its URL).", examples=["9d1e..."])
    feed_url: WebUrl = Field(description="The feed's URL as the user gave it.", examples=["https://example.com/feed.xml"])
    subscription_id: str | None = Field(
        default=None, description="The notify subscription that asked for the feed.", examples=["b1c2..."]
    )

    def key(self) -> str:
        return self.feed_id


class FeedUnsubscribed(Event):
    """A feed lost its last follower; ingest stops polling it until someone subscribes again."""

    topic: ClassVar[str] = "feeds.unsubscribed"

    feed_id: str = Field(description="Stable id of the feed.", examples=["9d1e..."])

    def key(self) -> str:
        return self.feed_id


class FeedStatusChanged(Event):
    """Ingest polled a feed; notify shows the status on the user's subscriptions."""

    topic: ClassVar[str] = "feeds.status"

    feed_id: str = Field(description="Stable id of the feed.", examples=["9d1e..."])
    feed_url: WebUrl = Field(
        description="The feed's current URL (after permanent redirects).", examples=["https://example.com/feed.xml"]
    )
    title: str | None = Field(default=None, description="The podcast's title, once known.", examples=["The Signal Hour"])
    status: Literal["ok", "error", "blocked"] = Field(description="Outcome of the last poll.", examples=["ok"])
    last_polled_at: datetime | None = Field(
        default=None, description="When the feed was last polled.", examples=["2026-11-24T07:30:00Z"]
    )
    last_success_at: datetime | None = Field(
        default=None, description="When a poll last succeeded.", examples=["2026-11-24T07:30:00Z"]
    )
    last_error: str | None = Field(
        default=None, description="Message of the last failed poll.", examples=["feed larger than 10485760 bytes"]
    )
    episodes_seen: int = Field(default=0, description="Episodes discovered in this feed so far.", examples=[3])
    notes: list[str] = Field(
        default_factory=list,
        description="What the last read forgave (an undefined entity, junk before the XML), as podcast apps do.",
        examples=[["read as podcast apps do: HTML or undefined entities were read as text (gtgt)"]],
    )

    def key(self) -> str:
        return self.feed_id


class TranscriptRef(BaseModel):
    """A publisher transcript (`podcast:transcript`)."""

    model_config = ConfigDict(frozen=True)

    url: WebUrl = Field(description="Where the transcript is.", examples=["https://example.com/ep1.vtt"])
    type: str = Field(description="Its media type.", examples=["text/vtt"])
    language: str | None = Field(default=None, description="Its language, if given.", examples=["en"])


class Person(BaseModel):
    """Someone heard in an episode (`podcast:person` of the cast group): a host, a guest, ..."""

    model_config = ConfigDict(frozen=True)

    name: Annotated[str, BeforeValidator(_clean_name), StringConstraints(min_length=1, max_length=MAX_PERSON_NAME)] = Field(
        description=f"Their name as the feed writes it (blanks collapsed, at most {MAX_PERSON_NAME} characters).",
        examples=["Adam Curry"],
    )
    role: Annotated[str, BeforeValidator(_clean_role), StringConstraints(max_length=MAX_PERSON_ROLE)] = Field(
        default="host",
        description="Their role in lower case (Podcast Taxonomy: host, co-host, guest, ...); `host` when the feed gives none.",
        examples=["guest"],
    )
    href: WebUrl | None = Field(default=None, description="A page about them.", examples=["http://curry.com"])
    img: WebUrl | None = Field(default=None, description="Their picture.", examples=["https://example.com/adam.jpg"])

    @field_validator("href", "img", mode="before")
    @classmethod
    def _only_web_urls(cls, value: object) -> object:
        # A bad link costs the person their link, not their place in the episode.
        if isinstance(value, str) and is_web_url(value) and len(value.strip()) <= MAX_PERSON_URL:
            return value
        return None


# An episode's people: at most MAX_PEOPLE, the rest cut off (see above).
People = Annotated[list[Person], BeforeValidator(_first_people), Field(max_length=MAX_PEOPLE)]
_PEOPLE_DESCRIPTION = (
    f"The people heard in the episode (`podcast:person`, cast group; the item's own list replaces the show's), "
    f"at most {MAX_PEOPLE}. Optional and added without a new schema version: older events have none."
)


class EpisodeDiscovered(Event):
    """Ingest found a new episode in a feed; transcribe turns it into text."""

    topic: ClassVar[str] = "episodes.discovered"

    episode_id: str = Field(description="Stable id of the episode (feed id + GUID).", examples=["3a7f..."])
    feed_id: str = Field(description="Stable id of the feed.", examples=["9d1e..."])
    feed_url: WebUrl = Field(description="The feed's URL.", examples=["https://example.com/feed.xml"])
    podcast_title: str = Field(description="The show's title.", examples=["The Signal Hour"])
    podcast_image: WebUrl | None = Field(
        default=None, description="The show's artwork URL.", examples=["https://example.com/cover.png"]
    )
    guid: str = Field(description="The episode's GUID, or its enclosure URL when it has none.", examples=["signal-hour-ep1"])
    title: str = Field(description="The episode's title.", examples=["Open weights and leaks"])
    link: WebUrl | None = Field(default=None, description="The episode's web page.", examples=["https://example.com/ep1"])
    published_at: datetime | None = Field(
        default=None, description="When the episode was published.", examples=["2026-11-20T06:00:00Z"]
    )
    enclosure_url: WebUrl = Field(description="URL of the audio file.", examples=["https://example.com/ep1.mp3"])
    enclosure_type: str | None = Field(default=None, description="Media type of the audio.", examples=["audio/mpeg"])
    enclosure_length: int | None = Field(default=None, description="Declared size of the audio in bytes.", examples=[1048576])
    duration_seconds: float | None = Field(default=None, description="Declared duration (itunes:duration).", examples=[125.0])
    transcripts: list[TranscriptRef] = Field(
        default_factory=list, description="Publisher transcripts; transcribe prefers them over speech recognition."
    )
    chapters_url: WebUrl | None = Field(
        default=None, description="`podcast:chapters` URL, if any.", examples=["https://example.com/ep1.json"]
    )
    people: People = Field(default_factory=list, description=_PEOPLE_DESCRIPTION)

    def key(self) -> str:
        return self.episode_id


class Segment(BaseModel):
    """A timed piece of a transcript."""

    model_config = ConfigDict(frozen=True)

    start: float = Field(description="Start, seconds from the beginning of the audio.", examples=[12.4])
    end: float = Field(description="End, seconds from the beginning of the audio.", examples=[17.9])
    text: str = Field(description="What was said.", examples=["Leaked source code can be copied in minutes."])
    speaker: str | None = Field(
        default=None,
        description="Who said it, as the publisher's transcript names them; None when unknown (always for speech recognition).",
        examples=["Adam Curry", "SPEAKER_1"],
    )


class Chapter(BaseModel):
    """A chapter of an episode, from its `podcast:chapters` file."""

    model_config = ConfigDict(frozen=True)

    start: float = Field(description="Start, seconds from the beginning of the audio.", examples=[0.0])
    end: float | None = Field(
        default=None,
        description="End, seconds from the beginning of the audio: the file's own end time, else the next chapter's start; "
        "None for a last chapter without one.",
        examples=[95.5],
    )
    title: str = Field(description="The chapter's title as the publisher wrote it (may be empty).", examples=["Intro"])


class EpisodeRef(BaseModel):
    """Who said it: the show and episode an insight or transcript belongs to."""

    model_config = ConfigDict(frozen=True)

    episode_id: str = Field(description="Stable id of the episode.", examples=["3a7f..."])
    feed_id: str = Field(description="Stable id of the feed.", examples=["9d1e..."])
    podcast_title: str = Field(description="The show's title.", examples=["The Signal Hour"])
    podcast_image: WebUrl | None = Field(
        default=None, description="The show's artwork URL.", examples=["https://example.com/cover.png"]
    )
    episode_title: str = Field(description="The episode's title.", examples=["Open weights and leaks"])
    episode_link: WebUrl | None = Field(default=None, description="The episode's web page.", examples=["https://example.com/ep1"])
    enclosure_url: WebUrl = Field(description="URL of the audio file.", examples=["https://example.com/ep1.mp3"])
    published_at: datetime | None = Field(
        default=None, description="When the episode was published.", examples=["2026-11-20T06:00:00Z"]
    )
    people: People = Field(default_factory=list, description=_PEOPLE_DESCRIPTION)


class TranscriptReady(Event):
    """Transcribe produced an episode's transcript; rank extracts insights from it."""

    topic: ClassVar[str] = "transcripts.ready"
    schema_version: SchemaVersion = Field(
        default=SCHEMA_VERSION,
        description="Version of this event's schema: 2 since it carries speakers, chapters and quotes; 1 is still read.",
        examples=[SCHEMA_VERSION],
    )

    episode: EpisodeRef = Field(description="The episode transcribed.")
    language: str = Field(description="Language of the transcript.", examples=["en"])
    duration: float = Field(description="Length of the audio in seconds.", examples=[125.3])
    segments: list[Segment] = Field(description="The transcript as timed segments, in order.")
    source: Literal["asr", "publisher"] = Field(
        description="Speech recognition or the publisher's own transcript.", examples=["asr"]
    )
    model: str | None = Field(
        default=None, description="The ASR model used (None for publisher transcripts).", examples=["tiny.en"]
    )
    chapters: list[Chapter] = Field(
        default_factory=list, description="The episode's chapters (`podcast:chapters`), in order; empty when it has none."
    )

    def key(self) -> str:
        return self.episode.episode_id


class RelatedInsight(BaseModel):
    """An insight from another episode about a related (not the same) idea."""

    model_config = ConfigDict(frozen=True)

    insight_id: str = Field(description="The related insight's id.", examples=["5c2d..."])
    text: str = Field(description="The related insight's text.", examples=["Model weights are the real moat."])
    podcast_title: str = Field(description="Show it was said on.", examples=["Open Weights Weekly"])
    episode_title: str = Field(description="Episode it was said in.", examples=["Moats"])
    similarity: float = Field(description="Cosine similarity to this insight.", examples=[0.71])


class InsightCreated(Event):
    """Rank extracted an insight; notify ranks it into users' briefs."""

    topic: ClassVar[str] = "insights.created"
    schema_version: SchemaVersion = Field(
        default=SCHEMA_VERSION,
        description="Version of this event's schema: 2 since it carries speakers, chapters and quotes; 1 is still read.",
        examples=[SCHEMA_VERSION],
    )

    insight_id: str = Field(description="Stable id of the insight (derived from episode and passage).", examples=["7e9a..."])
    episode: EpisodeRef = Field(description="Where the insight was said.")
    text: str = Field(
        description="The takeaway, one to three sentences.",
        examples=["Leaked source code spreads in minutes; trained weights stay protected."],
    )
    quote: str | None = Field(
        default=None,
        description="The source passage exactly as transcribed: the evidence behind the text (the text may be rewritten).",
        examples=["so, um, when an AI company's source code leaks, it can be copied around the world in minutes"],
    )
    speaker: str | None = Field(
        default=None, description="Who said it, where the transcript names speakers.", examples=["Chris Coyier"]
    )
    chapter: str | None = Field(
        default=None, description="Title of the chapter (`podcast:chapters`) the passage falls in.", examples=["Open weights"]
    )
    start: float = Field(description="Start of the passage, seconds into the episode.", examples=[761.0])
    end: float = Field(description="End of the passage, seconds into the episode.", examples=[800.0])
    score: float = Field(description="The insight's own quality score, 0..1.", examples=[0.82])
    keywords: list[str] = Field(
        default_factory=list, description="Topics of the insight.", examples=[["model weights", "source code"]]
    )
    embedding: list[float] = Field(description="Unit-length sentence embedding of the text.")
    embedding_model: str = Field(description="Model that produced the embedding.", examples=["all-MiniLM-L6-v2"])
    cluster_id: str = Field(description="The same-idea cluster the insight belongs to.", examples=["7e9a..."])
    is_cluster_face: bool = Field(description="True when this insight is now its cluster's best phrasing.", examples=[True])
    related: list[RelatedInsight] = Field(default_factory=list, description="Related insights from other episodes.")

    def key(self) -> str:
        return self.episode.episode_id


EpisodeState = Literal["retrying", "failed", "transcribed", "done"]


class EpisodeStatusChanged(Event):
    """Where an episode stands, for the people who follow its show: transcribe and rank publish it, notify shows it.

    `failed` carries a reason a person understands (the file is an HTML page, HTTP 404, ...) and stays until a later
    attempt (a replayed dead letter) moves the episode on; `retrying` means a passing problem is being retried;
    `transcribed` and `done` are progress, `done` with the number of insights the episode yielded.
    """

    topic: ClassVar[str] = "episodes.status"

    episode_id: str = Field(description="Stable id of the episode.", examples=["3a7f..."])
    feed_id: str = Field(description="Stable id of the episode's feed.", examples=["9d1e..."])
    episode_title: str | None = Field(default=None, description="The episode's title.", examples=["Open weights and leaks"])
    state: EpisodeState = Field(description="What just happened to the episode.", examples=["failed"])
    reason: str | None = Field(
        default=None,
        description="Why it failed or is being retried, in words for the listener.",
        examples=["the enclosure is an HTML page, not audio"],
    )
    insights: int | None = Field(default=None, description="Insights the episode yielded (with `done`).", examples=[8])
    notes: list[str] = Field(
        default_factory=list,
        description="What did not stop the episode but is worth knowing (a feed duration the audio does not match).",
    )

    def key(self) -> str:
        return self.episode_id


ALL_EVENTS: tuple[type[Event], ...] = (
    FeedSubscribed,
    FeedUnsubscribed,
    FeedStatusChanged,
    EpisodeDiscovered,
    TranscriptReady,
    InsightCreated,
    EpisodeStatusChanged,
)
