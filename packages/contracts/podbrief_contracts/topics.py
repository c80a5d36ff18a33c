"""Topic names, their partition counts and their dead-letter twins."""

from __future__ import annotations

from podbrief_contracts.events import ALL_EVENTS

DLQ_SUFFIX = ".dlq"

# Partitions are the unit of parallelism: transcribe, the slow stage, gets the most.
PARTITIONS: dict[str, int] = {
    "feeds.subscribed": 2,
    "feeds.unsubscribed": 2,
    "feeds.status": 2,
    "episodes.discovered": 4,
    "transcripts.ready": 4,
    "insights.created": 4,
    "episodes.status": 2,
}


def dlq(topic: str) -> str:
    """The dead-letter twin of `topic`."""
    return topic + DLQ_SUFFIX


def all_topics() -> dict[str, int]:
    """Every topic podbrief uses, with its partition count, dead-letter twins included."""
    topics = {event.topic: PARTITIONS[event.topic] for event in ALL_EVENTS}
    topics.update({dlq(name): 1 for name in list(topics)})
    return topics
