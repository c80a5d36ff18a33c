"""Dead-letter topics for operators: list what is there, replay it to the original topic."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord, OffsetAndMetadata, TopicPartition
from podbrief_contracts import dlq
from podbrief_runtime.kafka import make_producer


async def _drain(consumer: AIOKafkaConsumer, topic: str, idle_ms: int = 1500) -> list[ConsumerRecord]:
    """Every record of `topic` from the consumer's position (committed, else the start) until it goes quiet.

    Reads until idle rather than up to the end offsets: the local broker's end offset lagged one record
    behind after concurrent writes (measured), which would hide the newest dead letter.
    """
    await consumer.start()
    await consumer.topics()  # fetches the cluster metadata
    consumer.assign([TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or {0})])
    records: list[ConsumerRecord] = []
    while batches := await consumer.getmany(timeout_ms=idle_ms):
        for batch in batches.values():
            records.extend(batch)
    return records


async def read_dead_letters(bootstrap: str, topic: str) -> list[dict[str, str | int]]:
    """The messages in `topic`'s dead-letter twin, with their error headers, oldest first."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest")
    try:
        records = await _drain(consumer, dlq(topic))
    finally:
        await consumer.stop()
    rows = []
    for record in records:
        headers = {k: v.decode(errors="replace") for k, v in record.headers}
        rows.append(
            {
                "offset": record.offset,
                "error": headers.get("error", ""),
                "attempts": headers.get("attempts", ""),
                "source": "{}:{}@{}".format(
                    headers.get("source_topic", topic), headers.get("source_partition", "?"), headers.get("source_offset", "?")
                ),
                "payload": (record.value or b"").decode(errors="replace"),
            }
        )
    return rows


async def replay_dead_letters(bootstrap: str, topic: str) -> int:
    """Publish the dead letters not replayed before back to `topic`; returns how many."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=f"podbrief-dlq-replay-{topic}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    producer = make_producer(bootstrap, idempotence=False)
    await producer.start()
    try:
        records = await _drain(consumer, dlq(topic))
        for record in records:
            await producer.send_and_wait(topic, record.value, key=record.key)
            await consumer.commit({TopicPartition(record.topic, record.partition): OffsetAndMetadata(record.offset + 1, "")})
        return len(records)
    finally:
        await consumer.stop()
        await producer.stop()
