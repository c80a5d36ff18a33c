"""Event contracts shared by podbrief's services: pydantic models, topic names, schema version."""

from podbrief_contracts.events import (
    ALL_EVENTS,
    SCHEMA_VERSION,
    EpisodeDiscovered,
    EpisodeRef,
    Event,
    FeedStatusChanged,
    FeedSubscribed,
    InsightCreated,
    RelatedInsight,
    Segment,
    TranscriptReady,
    TranscriptRef,
    episode_id_for,
    feed_id_for,
    stable_id,
)
from podbrief_contracts.topics import DLQ_SUFFIX, PARTITIONS, all_topics, dlq

__all__ = [
    "ALL_EVENTS",
    "DLQ_SUFFIX",
    "PARTITIONS",
    "SCHEMA_VERSION",
    "EpisodeDiscovered",
    "EpisodeRef",
    "Event",
    "FeedStatusChanged",
    "FeedSubscribed",
    "InsightCreated",
    "RelatedInsight",
    "Segment",
    "TranscriptReady",
    "TranscriptRef",
    "all_topics",
    "dlq",
    "episode_id_for",
    "feed_id_for",
    "stable_id",
]
