"""Stand-ins for aiokafka's consumer and producer, for consumer-loop tests that need faults on cue."""

from __future__ import annotations

import asyncio

from aiokafka import TopicPartition
from aiokafka.errors import KafkaConnectionError
from aiokafka.structs import ConsumerRecord, OffsetAndMetadata


class FakeConsumer:
    """One group member over in-memory partition logs: positions, pauses, commits and rebalances as aiokafka does them.

    `failing_commits`: how many of the next commits raise, as a commit does when the coordinator is unreachable.
    """

    def __init__(self, logs: dict[TopicPartition, list[bytes]]) -> None:
        self.logs = logs
        self.positions = dict.fromkeys(logs, 0)
        self.committed: dict[TopicPartition, int] = {}
        self.paused: set[TopicPartition] = set()
        self.assigned: set[TopicPartition] = set()
        self.failing_commits = 0
        self.listener = None
        self.stopped = False

    def subscribe(self, topics: list[str], listener) -> None:
        self.listener = listener

    async def start(self) -> None:
        await self._assign(set(self.logs))

    async def stop(self) -> None:
        self.stopped = True

    async def getmany(self, timeout_ms: int = 0, max_records: int | None = None) -> dict[TopicPartition, list[ConsumerRecord]]:
        batches = {}
        for tp in sorted(self.assigned - self.paused):
            start = self.positions[tp]
            end = len(self.logs[tp]) if max_records is None else min(len(self.logs[tp]), start + max_records)
            if start < end:
                batches[tp] = [_record(tp, offset, self.logs[tp][offset]) for offset in range(start, end)]
                self.positions[tp] = end
        if not batches:
            await asyncio.sleep(0.01)
        return batches

    def pause(self, *partitions: TopicPartition) -> None:
        self.paused.update(partitions)

    def resume(self, *partitions: TopicPartition) -> None:
        self.paused.difference_update(partitions)

    def seek(self, partition: TopicPartition, offset: int) -> None:
        assert partition in self.assigned, f"seek on unassigned {partition}"
        self.positions[partition] = offset

    def assignment(self) -> set[TopicPartition]:
        return set(self.assigned)

    def highwater(self, partition: TopicPartition) -> int:
        return len(self.logs[partition])

    async def commit(self, offsets: dict[TopicPartition, OffsetAndMetadata]) -> None:
        await asyncio.sleep(0)
        if self.failing_commits:
            self.failing_commits -= 1
            raise KafkaConnectionError("coordinator unreachable")
        for tp, meta in offsets.items():
            assert tp in self.assigned, f"commit on unassigned {tp}"
            self.committed[tp] = meta.offset

    async def rebalance(self, keep: set[TopicPartition]) -> None:
        """What the group coordinator does on a join: revoke every partition, then assign `keep` from its committed offsets."""
        await self.listener.on_partitions_revoked(set(self.assigned))
        await self._assign(keep)

    async def _assign(self, partitions: set[TopicPartition]) -> None:
        self.assigned = set(partitions)
        self.paused.clear()
        for tp in partitions:
            self.positions[tp] = self.committed.get(tp, 0)
        await self.listener.on_partitions_assigned(set(partitions))


class FakeProducer:
    """Records what is sent; dead letters arrive through `send_and_wait`."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, dict[str, bytes]]] = []

    async def send_and_wait(self, topic, value, key=None, headers=None):
        self.sent.append((topic, value, dict(headers or [])))


def _record(tp: TopicPartition, offset: int, value: bytes) -> ConsumerRecord:
    return ConsumerRecord(tp.topic, tp.partition, offset, 0, 0, b"k", value, None, 1, len(value), [])
