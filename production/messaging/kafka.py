"""aiokafka clients configured the one way this product uses them."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment
from aiokafka.errors import TopicAlreadyExistsError

from production.config import Settings
from production.retry import until_ready

log = structlog.get_logger(__name__)


def make_producer(settings: Settings) -> AIOKafkaProducer:
    """acks=all always; idempotence per settings (the local broker cannot do it)."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_servers(),
        acks="all",
        enable_idempotence=settings.kafka.enable_idempotence,
        linger_ms=settings.kafka.linger_ms,
        request_timeout_ms=10_000,
        retry_backoff_ms=100,
    )


OnRevoked = Callable[[set[TopicPartition]], Awaitable[None]]
OnAssigned = Callable[[set[TopicPartition]], None]


class RebalanceRelay(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka is untyped
    """Passes the group's rebalance callbacks on to whoever consumes (the consumer loop)."""

    def __init__(self) -> None:
        self.on_revoked: OnRevoked | None = None
        self.on_assigned: OnAssigned | None = None

    async def on_partitions_revoked(self, revoked: Any) -> None:
        # aiokafka waits for this before the group moves on, and logs what it raises.
        if self.on_revoked is not None:
            await self.on_revoked(set(revoked))

    async def on_partitions_assigned(self, assigned: Any) -> None:
        if self.on_assigned is not None:
            self.on_assigned(set(assigned))


class GroupConsumer(AIOKafkaConsumer):  # type: ignore[misc]  # aiokafka is untyped
    """A consumer-group member of one topic; `rebalance` relays its revocations.

    Subscribed once, with the listener, before it starts: subscribing again after the join
    would cost every member of the group one more rebalance.
    """

    def __init__(self, topic: str, **config: Any) -> None:
        super().__init__(**config)
        self.group = str(config.get("group_id"))
        self.rebalance = RebalanceRelay()
        self.subscribe([topic], listener=self.rebalance)


def make_consumer(settings: Settings, topic: str, group_id: str) -> GroupConsumer:
    """Manual commits only: an offset moves after the message's effects are in PostgreSQL."""
    return GroupConsumer(
        topic,
        bootstrap_servers=settings.kafka_servers(),
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=settings.kafka.fetch_max_wait_ms,
        max_poll_records=200,
        session_timeout_ms=10_000,
        heartbeat_interval_ms=1_000,
        max_poll_interval_ms=300_000,
    )


async def ensure_topics(settings: Settings, *, timeout_s: float = 30.0) -> list[str]:
    """Create the three topics when missing; return the ones created now."""
    k = settings.kafka
    wanted = [k.topic_incoming, k.topic_outgoing, k.topic_dlq]
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_servers())
    await until_ready("kafka", admin.start, within_s=timeout_s, max_wait_s=0.2)
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in wanted if t not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):  # another pod was first
                await admin.create_topics(
                    [NewTopic(t, k.partitions, k.replication_factor) for t in missing]
                )
            log.info("topics_created", topics=missing)
        kept = [t for t in wanted if t in existing]
        for topic in await admin.describe_topics(kept) if kept else []:
            if len(topic["partitions"]) < k.partitions:
                # Not grown here: more partitions move customers to other partitions, which
                # reorders their in-flight messages; an operator does it when the lag is ~0.
                log.warning("topic_has_fewer_partitions", topic=topic["topic"],
                            partitions=len(topic["partitions"]), configured=k.partitions)
        return missing
    finally:
        await admin.close()


async def broker_reachable(settings: Settings, *, timeout_s: float = 1.0) -> bool:
    """Return True when the broker answers a metadata request in time."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_servers(),
                                request_timeout_ms=int(timeout_s * 1000))
    try:
        await asyncio.wait_for(admin.start(), timeout_s)
        return True
    except Exception:
        return False
    finally:
        with contextlib.suppress(Exception):  # closing a client that never connected
            await admin.close()


def consumer_groups(settings: Settings) -> dict[str, str]:
    """Return the product's consumer groups and the topic each consumes."""
    k = settings.kafka
    return {k.worker_group: k.topic_incoming, k.dispatcher_group: k.topic_outgoing}


async def groups_ready(settings: Settings, groups: Mapping[str, str], *,
                       timeout_s: float = 2.0) -> dict[str, bool]:
    """Return, per consumer group, whether it is consuming: the group is Stable (joined and
    synced, not rebalancing) and its members hold every partition of its topic.

    Kafka reports each member's assignment; the local broker reports none (empty bytes), and
    there a Stable group with a member is the best evidence there is. Any error is False.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_servers(),
                                request_timeout_ms=int(timeout_s * 1000))
    try:
        await asyncio.wait_for(admin.start(), timeout_s)
        # One group per request: the local broker garbles a response that describes several.
        described = await asyncio.wait_for(asyncio.gather(
            *(admin.describe_consumer_groups([group]) for group in groups)), timeout_s)
        # All topics: naming them in the metadata request would create missing ones on a
        # broker that auto-creates topics (the local broker does, with 4 partitions).
        topics = await asyncio.wait_for(admin.describe_topics(), timeout_s)
    except Exception:
        return dict.fromkeys(groups, False)
    finally:
        with contextlib.suppress(Exception):
            await admin.close()
    partitions = {t["topic"]: {p["partition"] for p in t["partitions"]}
                  for t in topics if t["error_code"] == 0}
    found = {g["group"]: g for responses in described for response in responses
             for g in response.to_object()["groups"]}
    return {group: _consuming(found.get(group), topic, partitions.get(topic, set()))
            for group, topic in groups.items()}


def _consuming(group: Mapping[str, Any] | None, topic: str, partitions: set[int]) -> bool:
    if group is None or group["error_code"] != 0 or group["state"] != "Stable":
        return False
    members = group["members"]
    if not members or not partitions:
        return False
    if all(not m["member_assignment"] for m in members):
        return True  # the local broker: Stable is all it says
    held: set[int] = set()
    for member in members:
        if member["member_assignment"]:
            decoded = ConsumerProtocolMemberAssignment.decode(member["member_assignment"])
            held.update(p for t, ps in decoded.assignment if t == topic for p in ps)
    return partitions <= held
