"""`fte dispatcher`: deliver released replies through their channel adapter."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord

from production.channels.base import ChannelAdapter
from production.channels.sandbox import SandboxAdapter
from production.channels.web_form import WebFormAdapter
from production.config import Settings
from production.database.pool import Pool
from production.domain.messages import OutboundNotice, decode_event
from production.messaging.consumer_loop import ConsumerLoop, DeadLetterGuard
from production.messaging.kafka import make_consumer
from production.services.deliver_outbound import deliver
from production.workers.runtime import runtime
from production.workers.worker import retry_policy


def adapters_for(settings: Settings) -> dict[str, ChannelAdapter]:
    """Web form replies show on the ticket; email and WhatsApp go to the sandbox until their
    provider adapters are configured."""
    return {
        "web_form": WebFormAdapter(),
        "email": SandboxAdapter("email"),
        "whatsapp": SandboxAdapter("whatsapp"),
    }


def build_loop(pool: Pool, settings: Settings, adapters: Mapping[str, ChannelAdapter],
               producer: AIOKafkaProducer, consumer: AIOKafkaConsumer,
               stopping: asyncio.Event) -> ConsumerLoop:
    async def handle(record: ConsumerRecord[bytes, bytes]) -> str:
        notice = decode_event(record.value, "outbound_message", OutboundNotice)
        return await deliver(pool, adapters, notice)

    rel = settings.reliability
    return ConsumerLoop(
        name="dispatcher", consumer=consumer, producer=producer, handler=handle,
        dlq_topic=settings.kafka.topic_dlq, retry=retry_policy(settings),
        guard=DeadLetterGuard(rel.dlq_ratio_limit, rel.dlq_ratio_window), stopping=stopping,
    )


async def main(settings: Settings) -> None:
    async with runtime(settings, name="dispatcher") as rt:
        consumer = make_consumer(settings, settings.kafka.topic_outgoing,
                                 settings.kafka.dispatcher_group)
        await consumer.start()
        try:
            await build_loop(rt.pool, settings, adapters_for(settings), rt.producer, consumer,
                             rt.stopping).run()
        finally:
            await consumer.stop()
