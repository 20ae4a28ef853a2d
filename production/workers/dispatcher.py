"""`fte dispatcher`: deliver released replies through their channel adapter."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping

import structlog
from aiokafka import AIOKafkaProducer, ConsumerRecord

from production import clock
from production.channels.base import ChannelAdapter
from production.channels.gmail import GmailAdapter
from production.channels.sandbox import SandboxAdapter
from production.channels.web_form import WebFormAdapter
from production.channels.whatsapp import WhatsAppAdapter
from production.config import Settings
from production.database.pool import UNAVAILABLE_ERRORS, Pool
from production.domain.messages import OutboundNotice, decode_event
from production.messaging.consumer_loop import Concurrency, ConsumerLoop, DeadLetterGuard
from production.messaging.kafka import GroupConsumer, make_consumer
from production.services.deliver_outbound import (
    DeliveryPolicy,
    announce_due_retries,
    deliver,
    save_breakers,
)
from production.workers.runtime import runtime
from production.workers.worker import retry_policy

log = structlog.get_logger(__name__)


def adapters_for(settings: Settings) -> dict[str, ChannelAdapter]:
    """Web form replies show on the ticket; email and WhatsApp go to the sandbox until their
    provider adapters are configured."""
    twilio = settings.twilio
    whatsapp: ChannelAdapter = (WhatsAppAdapter(settings)
                                if twilio.account_sid and twilio.auth_token
                                else SandboxAdapter("whatsapp"))
    email: ChannelAdapter = (GmailAdapter(settings.gmail) if settings.gmail.credentials_json
                             else SandboxAdapter("email"))
    return {
        "web_form": WebFormAdapter(),
        "email": email,
        "whatsapp": whatsapp,
    }


def build_loop(pool: Pool, settings: Settings, adapters: Mapping[str, ChannelAdapter],
               producer: AIOKafkaProducer, consumer: GroupConsumer,
               stopping: asyncio.Event, policy: DeliveryPolicy | None = None) -> ConsumerLoop:
    policy = policy or DeliveryPolicy.from_settings(settings)

    async def handle(record: ConsumerRecord[bytes, bytes]) -> str:
        notice = decode_event(record.value, "outbound_message", OutboundNotice)
        return await deliver(pool, adapters, notice, policy, now=clock.now())

    rel = settings.reliability
    return ConsumerLoop(
        name="dispatcher", consumer=consumer, producer=producer, handler=handle,
        dlq_topic=settings.kafka.topic_dlq, retry=retry_policy(settings),
        guard=DeadLetterGuard(rel.dlq_ratio_limit, rel.dlq_ratio_window), stopping=stopping,
        concurrency=Concurrency.from_settings(
            settings.kafka, max_in_flight=settings.kafka.dispatcher_max_in_flight),
    )


async def run_retries(pool: Pool, settings: Settings, policy: DeliveryPolicy,
                      stopping: asyncio.Event, *, interval_s: float = 0.5) -> None:
    """Re-announce due delivery retries and publish the breakers' state, until stopped."""
    while not stopping.is_set():
        try:
            await announce_due_retries(pool, topic=settings.kafka.topic_outgoing,
                                       now=clock.now())
            await save_breakers(pool, policy)
        except UNAVAILABLE_ERRORS as exc:  # the database is down: the next tick tries again
            log.warning("delivery_retries_unavailable", error=type(exc).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), interval_s)


async def main(settings: Settings) -> None:
    async with runtime(settings, name="dispatcher") as rt:
        adapters = adapters_for(settings)
        policy = DeliveryPolicy.from_settings(settings)
        for channel in adapters:  # a restarted dispatcher reports every provider afresh
            policy.breaker(channel)
        consumer = make_consumer(settings, settings.kafka.topic_outgoing,
                                 settings.kafka.dispatcher_group)
        await consumer.start()
        retries = asyncio.create_task(run_retries(rt.pool, settings, policy, rt.stopping))
        try:
            await build_loop(rt.pool, settings, adapters, rt.producer, consumer,
                             rt.stopping, policy).run()
        finally:
            rt.stopping.set()
            await retries
            await consumer.stop()
