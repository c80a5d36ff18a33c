"""Infrastructure every podbrief service runs on: Kafka consumer loop, outbox relay, store, safe HTTP, health.

No service logic lives here.
"""
