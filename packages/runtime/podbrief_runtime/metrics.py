"""Prometheus metrics every worker exposes on /metrics."""

from prometheus_client import Counter, Gauge, Histogram

HANDLED = Counter("podbrief_messages_total", "Messages handled, by topic and outcome.", ["topic", "outcome"])
HANDLER_SECONDS = Histogram(
    "podbrief_handler_seconds",
    "Handler latency by topic.",
    ["topic"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800),
)
OUTBOX_PENDING = Gauge("podbrief_outbox_pending", "Outbox rows not yet published.")
PUBLISHED = Counter("podbrief_events_published_total", "Events the outbox relay published, by topic.", ["topic"])
CONSUMER_LAG = Gauge(
    "podbrief_consumer_lag",
    "Messages behind the partition's high watermark after the last committed one.",
    ["topic", "partition"],
)
