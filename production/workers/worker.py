"""`fte worker`: consume inbound messages, run the agent, store exactly one reply each."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaProducer, ConsumerRecord

from production import clock
from production.agent.runner import SupportAgent
from production.config import Settings
from production.domain.messages import InboundMessage, decode_event
from production.embeddings import embedder_for
from production.messaging.consumer_loop import (
    Concurrency,
    ConsumerLoop,
    DeadLetterGuard,
    RetryPolicy,
)
from production.messaging.kafka import GroupConsumer, make_consumer
from production.services.process_inbound import WorkerDeps, apologize, handle_inbound
from production.workers.runtime import runtime


def retry_policy(settings: Settings) -> RetryPolicy:
    rel = settings.reliability
    return RetryPolicy(rel.max_attempts, rel.backoff_initial_s, rel.backoff_max_s)


def build_loop(deps: WorkerDeps, producer: AIOKafkaProducer, consumer: GroupConsumer,
               stopping: asyncio.Event) -> ConsumerLoop:
    """Wire the consumer loop for inbound messages."""
    settings = deps.settings

    async def handle(record: ConsumerRecord[bytes, bytes]) -> str:
        msg = decode_event(record.value, "inbound_message", InboundMessage)
        return await handle_inbound(deps, msg, clock=clock.now)

    async def on_dead_letter(record: ConsumerRecord[bytes, bytes], error: str) -> None:
        try:
            msg = decode_event(record.value, "inbound_message", InboundMessage)
        except Exception:
            return  # unreadable: there is no customer to answer; the DLQ holds it for a human
        await apologize(deps, msg, error, now=clock.now())

    rel = settings.reliability
    return ConsumerLoop(
        name="worker", consumer=consumer, producer=producer, handler=handle,
        dlq_topic=settings.kafka.topic_dlq, retry=retry_policy(settings),
        guard=DeadLetterGuard(rel.dlq_ratio_limit, rel.dlq_ratio_window),
        on_dead_letter=on_dead_letter, stopping=stopping,
        concurrency=Concurrency.from_settings(settings.kafka,
                                              max_in_flight=settings.kafka.max_in_flight),
    )


async def main(settings: Settings) -> None:
    async with runtime(settings, name="worker") as rt:
        deps = WorkerDeps(pool=rt.pool, settings=settings, agent=SupportAgent(settings),
                          embedder=embedder_for(settings))
        await deps.embedder.embed(["warm up"])  # load the model before the first customer
        consumer = make_consumer(settings, settings.kafka.topic_incoming,
                                 settings.kafka.worker_group)
        await consumer.start()
        try:
            await build_loop(deps, rt.producer, consumer, rt.stopping).run()
        finally:
            await consumer.stop()
