"""Waiting on the broker instead of the clock: the records a topic holds, and how far a consumer
group has committed.

A test that must show that nothing more happened after some messages (no second reply, no
release) waits until the group that handles them has committed past their offsets: the
consumer loop commits a record only after its effects are in PostgreSQL, so from then on the
database holds everything those records will ever cause. The group's offsets are read with a
consumer's `committed()` (the local broker cannot answer the admin client's
`list_consumer_group_offsets`: ../shared/LOCAL-BROKER.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord

from production.config import Settings

Offsets = Mapping[TopicPartition, int]


def last_offsets(records: list[ConsumerRecord]) -> dict[TopicPartition, int]:
    """Return the highest offset of these records on each partition they are on."""
    last: dict[TopicPartition, int] = {}
    for record in records:
        tp = TopicPartition(record.topic, record.partition)
        last[tp] = max(last.get(tp, -1), record.offset)
    return last


async def records_with_keys(settings: Settings, topic: str, keys: Collection[str], count: int,
                            *, timeout_s: float = 20.0) -> list[ConsumerRecord]:
    """Read `topic` from its beginning until `count` records with one of these keys are found;
    return them (fail if they are not all there within `timeout_s`)."""
    wanted = {key.encode() for key in keys}
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_servers(),
                                enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer.topics()  # loads the metadata: partitions_for_topic needs it
        consumer.assign([TopicPartition(topic, p)
                         for p in sorted(consumer.partitions_for_topic(topic) or ())])
        await consumer.seek_to_beginning()
        found: list[ConsumerRecord] = []
        deadline = asyncio.get_running_loop().time() + timeout_s
        while len(found) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{len(found)} of {count} records with keys {sorted(keys)} "
                                     f"on {topic} within {timeout_s}s")
            batch = await consumer.getmany(timeout_ms=200)
            found += [r for rs in batch.values() for r in rs if r.key in wanted]
        return found
    finally:
        await consumer.stop()


async def wait_until_committed_past(settings: Settings, group: str, offsets: Offsets, *,
                                    timeout_s: float = 30.0) -> None:
    """Wait until `group` has committed past each of these offsets (its committed offset is
    the next record it will read, so past offset X is X + 1 or more)."""
    assert offsets, "no offsets to wait for"
    # A consumer with the group's id that never subscribes reads its offsets without joining.
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_servers(), group_id=group,
                                enable_auto_commit=False)
    await consumer.start()
    try:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            seen = {tp: await consumer.committed(tp) for tp in offsets}
            if all(at is not None and at > offsets[tp] for tp, at in seen.items()):
                return
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{group} committed {seen}, not past {dict(offsets)} "
                                     f"within {timeout_s}s")
            await asyncio.sleep(0.05)
    finally:
        await consumer.stop()


async def wait_until_handled(settings: Settings, *, topic: str, group: str,
                             keys: Collection[str], count: int) -> None:
    """Wait until `count` records with these keys are on `topic` and `group` has committed
    past every one of them."""
    records = await records_with_keys(settings, topic, keys, count)
    await wait_until_committed_past(settings, group, last_offsets(records))
