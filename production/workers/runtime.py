"""What every long-running process shares: signals, metrics endpoint, pool and producer."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TypeVar

import structlog
from aiokafka import AIOKafkaProducer
from prometheus_client import start_http_server

from production.config import Settings
from production.database.pool import Pool, create_pool
from production.messaging.kafka import make_producer

log = structlog.get_logger(__name__)

T = TypeVar("T")


@dataclass
class Runtime:
    settings: Settings
    pool: Pool
    producer: AIOKafkaProducer
    stopping: asyncio.Event


async def _retry(what: str, make: Callable[[], Awaitable[T]], stopping: asyncio.Event) -> T:
    delay = 0.2
    while True:
        try:
            return await make()
        except Exception as exc:  # at start-up anything may be not ready yet
            if stopping.is_set():
                raise
            log.warning("dependency_not_ready", dependency=what, error=type(exc).__name__)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)


@asynccontextmanager
async def runtime(settings: Settings, *, name: str) -> AsyncIterator[Runtime]:
    """Yield a ready pool and producer; SIGTERM/SIGINT set `stopping` for a clean exit."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    if settings.metrics_port:
        start_http_server(settings.metrics_port, addr="0.0.0.0")
    pool = await _retry("database", lambda: create_pool(settings, min_size=1), stopping)

    async def _start_producer() -> AIOKafkaProducer:
        producer = make_producer(settings)
        try:
            await producer.start()
        except Exception:
            await producer.stop()
            raise
        return producer

    producer = await _retry("kafka", _start_producer, stopping)
    log.info("process_started", name=name)
    try:
        yield Runtime(settings=settings, pool=pool, producer=producer, stopping=stopping)
    finally:
        await producer.stop()
        await pool.close()
        log.info("process_stopped", name=name)
