"""Reading a topic from its start, for the runtime tests."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord


async def read_topic(bootstrap: str, topic: str, expect: int, timeout: float = 20.0) -> list[ConsumerRecord]:
    """Records of `topic` from the start, until `expect` have arrived or `timeout` seconds passed."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest")
    await consumer.start()
    records: list[ConsumerRecord] = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(records) < expect and asyncio.get_running_loop().time() < deadline:
            for batch in (await consumer.getmany(timeout_ms=250)).values():
                records.extend(batch)
    finally:
        await consumer.stop()
    return records
