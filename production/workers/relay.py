"""`fte relay`: publish the outbox to Kafka and sweep up unprocessed inbound messages."""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka import AIOKafkaProducer

from production.config import Settings
from production.services.relay import Send, run_relay, run_sweeper
from production.workers.runtime import runtime


def sender(producer: AIOKafkaProducer) -> Send:
    async def send(topic: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> Any:
        return await producer.send(topic, value, key=key, headers=headers)

    return send


async def main(settings: Settings) -> None:
    async with runtime(settings, name="relay") as rt:
        await asyncio.gather(
            run_relay(rt.pool, settings, sender(rt.producer), rt.stopping),
            run_sweeper(rt.pool, settings, rt.stopping),
        )
