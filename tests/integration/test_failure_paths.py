"""Failure paths through the real broker: duplicates, poison messages, the DLQ, apologies and
the observe-only gate."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

from agents import Model
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import RecordMetadata

from production import bootstrap, clock
from production.bootstrap import Runtime
from production.config import Settings
from production.database.pool import Pool, create_pool
from production.domain.messages import InboundMessage, encode_event
from production.embeddings import local_embedder
from production.local_stack import EmbeddedPostgres, LocalBroker
from production.services import ops_health
from tests.conftest import Stack, isolated_settings, unique_email, wait_for
from tests.kafka_waits import wait_until_committed_past


def inbound(tenant: str = "techcorp", **overrides: Any) -> InboundMessage:
    data: dict[str, Any] = {
        "tenant_id": tenant, "channel": "email", "external_id": f"gmail-{uuid.uuid4().hex}",
        "content": "How do I enable two-factor authentication for my account?",
        "subject": "2FA setup", "sender_email": unique_email("mail"), "sender_name": "Grace",
    }
    data.update(overrides)
    return InboundMessage(**data)


async def publish(stack_producer: Any, topic: str, msg: InboundMessage | bytes,
                  key: bytes = b"k") -> RecordMetadata:
    """Send one record and wait for the broker's acknowledgement; return where it is."""
    value = msg if isinstance(msg, bytes) else _json(msg)
    sent: RecordMetadata = await stack_producer.send_and_wait(topic, value, key=key)
    return sent


def _json(msg: InboundMessage) -> bytes:
    import json

    return json.dumps(encode_event("inbound_message", msg)).encode()


async def replies_for(pool: Pool, external_id: str) -> list[Any]:
    async with pool.acquire() as conn:
        rows: list[Any] = await conn.fetch(
            """
            SELECT r.id, r.status, r.content, r.metadata, i.status AS inbound_status
            FROM messages i JOIN messages r ON r.in_reply_to = i.id
            WHERE i.tenant_id = 'techcorp' AND i.external_id = $1 AND r.role = 'agent'
            """,
            external_id,
        )
        return rows


async def dead_letters(settings: Settings, topic: str) -> list[Any]:
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_servers(),
                                enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p)
                      for p in (consumer.partitions_for_topic(topic) or set())] or [
            TopicPartition(topic, p) for p in range(settings.kafka.partitions)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning()
        records: list[Any] = []
        for _ in range(10):
            batch = await consumer.getmany(timeout_ms=300)
            records += [r for rs in batch.values() for r in rs]
            if not batch and records:
                break
        return records
    finally:
        await consumer.stop()


async def test_the_same_inbound_delivered_twice_gets_one_reply(stack: Stack) -> None:
    msg = inbound()
    topic = stack.settings.kafka.topic_incoming
    await publish(stack.producer, topic, msg, key=b"dup")
    await publish(stack.producer, topic, msg, key=b"dup")
    marker = inbound()
    await publish(stack.producer, topic, marker, key=b"dup")  # same partition, after both
    await wait_for(lambda: replies_for(stack.pool, marker.external_id))
    replies = await replies_for(stack.pool, msg.external_id)
    assert len(replies) == 1
    assert replies[0]["inbound_status"] == "processed"
    assert "two-factor" in replies[0]["content"].lower()
    async with stack.pool.acquire() as conn:
        stored = await conn.fetchval(
            "SELECT count(*) FROM messages WHERE tenant_id = 'techcorp' AND external_id = $1",
            msg.external_id)
    assert stored == 1


async def test_a_poison_message_goes_to_the_dlq_and_the_partition_moves_on(stack: Stack) -> None:
    topic = stack.settings.kafka.topic_incoming
    poison = f"poison-{uuid.uuid4().hex}".encode()
    nobody = inbound(sender_email="not an address")  # nobody to identify: invalid
    sent = {poison: await publish(stack.producer, topic, b"{this is not json " + poison,
                                  key=b"poison"),
            nobody.external_id.encode(): await publish(stack.producer, topic, nobody,
                                                       key=b"poison")}
    after = inbound()
    await publish(stack.producer, topic, after, key=b"poison")

    replies = await wait_for(lambda: replies_for(stack.pool, after.external_id))
    assert replies[0]["inbound_status"] == "processed"

    records = await wait_for(lambda: _dlq_with(stack.settings, list(sent)))
    for record in records:
        [original] = [at for needle, at in sent.items() if needle in record.value]
        headers = dict(record.headers)
        assert headers["fte-error"].startswith(b"invalid message")
        assert headers["fte-original-topic"] == topic.encode()
        assert (int(headers["fte-original-partition"]), int(headers["fte-original-offset"])) \
            == (original.partition, original.offset)
        assert headers["fte-attempts"] == b"1"  # never retried: retrying cannot help


async def _dlq_with(settings: Settings, needles: list[bytes]) -> list[Any] | None:
    records = [r for r in await dead_letters(settings, settings.kafka.topic_dlq)
               if any(n in (r.value or b"") for n in needles)]
    return records if len(records) == len(needles) else None


class ExplodingModel(Model):
    """A model whose provider keeps failing (what an outage of the LLM looks like)."""

    async def get_response(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("model provider is down")

    def stream_response(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("model provider is down")


@contextlib.asynccontextmanager
async def worker_loop(settings: Settings, pool: Pool, producer: Any,
                      model: Model | None = None) -> AsyncIterator[None]:
    rt = Runtime(settings=settings, pool=pool, producer=producer, stopping=asyncio.Event())
    worker = bootstrap.build_worker(rt, model=model, embedder=local_embedder())
    await worker.start()
    task = asyncio.create_task(worker.run())
    try:
        yield
    finally:
        rt.stopping.set()
        await asyncio.wait_for(task, 10)
        await worker.stop()


async def test_a_message_that_keeps_failing_is_dead_lettered_and_the_customer_gets_an_apology(
    postgres: EmbeddedPostgres, broker: LocalBroker, stack: Stack
) -> None:
    settings = await isolated_settings(postgres, broker, "apology")
    pool = await create_pool(settings, min_size=1, max_size=4)
    try:
        async with worker_loop(settings, pool, stack.producer, model=ExplodingModel()):
            msg = inbound(channel="whatsapp", sender_email=None, sender_phone="+14155550123",
                          external_id=f"SM{uuid.uuid4().hex}")
            sent = await publish(stack.producer, settings.kafka.topic_incoming, msg)
            rows = await wait_for(lambda: replies_for(pool, msg.external_id))
            # Committed only once its dead letter is written: the DLQ holds all it will.
            await wait_until_committed_past(settings, settings.kafka.worker_group,
                                            {TopicPartition(sent.topic, sent.partition):
                                             sent.offset})
        assert rows[0]["inbound_status"] == "failed"
        assert rows[0]["metadata"] == {"kind": "apology"}
        assert rows[0]["content"].startswith("Hi Grace!")
        assert "Sorry, something went wrong" in rows[0]["content"]
        assert "model provider is down" not in rows[0]["content"]
        records = await dead_letters(settings, settings.kafka.topic_dlq)
        assert [dict(r.headers)["fte-attempts"] for r in records] == [b"4"]
        assert b"RuntimeError" in dict(records[0].headers)["fte-error"]
        # The operators hear of it without Prometheus: the threshold check records an alert.
        await ops_health.check_tenant(pool=pool, settings=settings, tenant_id=msg.tenant_id,
                                      now=clock.now())
        alerts = await ops_health.open_alerts(pool=pool, tenant_id=msg.tenant_id)
        assert [(a["kind"], a["channel"], a["value"]) for a in alerts] == [
            ("dead_letters", "whatsapp", 1.0)]
    finally:
        await pool.close()


async def test_observe_only_keeps_the_reply_as_a_draft_with_an_audit_row(
    postgres: EmbeddedPostgres, broker: LocalBroker, stack: Stack
) -> None:
    settings = await isolated_settings(postgres, broker, "shadow", autonomy=False)
    pool = await create_pool(settings, min_size=1, max_size=4)
    try:
        async with worker_loop(settings, pool, stack.producer):
            msg = inbound()
            await publish(stack.producer, settings.kafka.topic_incoming, msg)
            rows = await wait_for(lambda: replies_for(pool, msg.external_id))
        assert rows[0]["status"] == "pending_approval"
        async with pool.acquire() as conn:
            audit = await conn.fetch("SELECT event_type, reason, policy_clause, payload "
                                     "FROM care_audit WHERE tenant_id = 'techcorp' ORDER BY id")
            outgoing = await conn.fetchval("SELECT count(*) FROM outbox WHERE topic = $1",
                                           settings.kafka.topic_outgoing)
        # Observe-only: the state change is only proposed, the reply only would have gone.
        assert [a["event_type"] for a in audit] == ["proposed_state_change",
                                                    "would_execute_action"]
        assert audit[0]["payload"] == {"from": "unaware", "to": "engaged", "applied": False}
        assert audit[1]["policy_clause"] == "PR0.autonomy_disabled"
        assert audit[1]["payload"]["content"] == rows[0]["content"]
        assert outgoing == 0
    finally:
        await pool.close()
