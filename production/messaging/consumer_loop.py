"""The consumer loop shared by the worker and the dispatcher.

Partitions are handled concurrently, messages within a partition in order. For each message:
- the database is unreachable: wait and try the same message again, without limit (nothing is
  wrong with the message, and dead-lettering during an outage would lose the whole backlog);
- `InvalidMessage`: never retried, straight to the dead-letter topic (`Undeliverable`, a reply
  whose provider stayed down through its retries, too, without counting towards the guard);
- any other error: retried with bounded exponential backoff, then dead-lettered.
Offsets are committed only after the message's effects (or its dead letter) are durable.
A dead-letter ratio limit stops a consumer that would otherwise dead-letter everything.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError

from production.database.pool import UNAVAILABLE_ERRORS
from production.domain.messages import InvalidMessage, Undeliverable
from production.metrics import CONSUMER_ERRORS, DEAD_LETTERS

log = structlog.get_logger(__name__)

Handler = Callable[[ConsumerRecord[bytes, bytes]], Awaitable[Any]]
DeadLetterHook = Callable[[ConsumerRecord[bytes, bytes], str], Awaitable[Any]]


class DeadLetterRatioExceeded(RuntimeError):
    """Too many recent messages were dead-lettered: stop rather than drain the topic."""


@dataclass
class RetryPolicy:
    max_attempts: int = 4
    initial_s: float = 0.1
    max_s: float = 2.0

    def delay(self, attempt: int) -> float:
        return float(min(self.max_s, self.initial_s * 2 ** max(attempt - 1, 0)))


@dataclass
class DeadLetterGuard:
    limit: float = 0.5
    window: int = 50
    _recent: deque[bool] = field(default_factory=deque)

    def record(self, dead: bool) -> None:
        self._recent.append(dead)
        while len(self._recent) > self.window:
            self._recent.popleft()
        if len(self._recent) >= self.window and sum(self._recent) / len(self._recent) > self.limit:
            raise DeadLetterRatioExceeded(
                f"{sum(self._recent)} of the last {len(self._recent)} messages were dead-lettered"
            )


@dataclass
class ConsumerLoop:
    name: str
    consumer: AIOKafkaConsumer
    producer: AIOKafkaProducer
    handler: Handler
    dlq_topic: str
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    guard: DeadLetterGuard = field(default_factory=DeadLetterGuard)
    on_dead_letter: DeadLetterHook | None = None
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        """Consume until `stopping` is set (or the dead-letter guard trips)."""
        while not self.stopping.is_set():
            batches = await self.consumer.getmany(timeout_ms=200, max_records=200)
            if not batches:
                continue
            results = await asyncio.gather(
                *(self._partition(tp, records) for tp, records in batches.items())
            )
            offsets = {tp: off for tp, off in zip(batches, results, strict=True) if off is not None}
            if offsets:
                await self._commit(offsets)

    async def _partition(self, tp: TopicPartition,
                         records: list[ConsumerRecord[bytes, bytes]]) -> int | None:
        """Handle a partition's records in order; return the offset to commit (next to read)."""
        next_offset: int | None = None
        for record in records:
            if self.stopping.is_set():
                break
            dead = await self._one(record)
            if dead is None:
                break
            self.guard.record(dead)
            next_offset = record.offset + 1
        return next_offset

    async def _one(self, record: ConsumerRecord[bytes, bytes]) -> bool | None:
        """Handle one record; True if it was dead-lettered, None if abandoned on shutdown."""
        failures = 0
        outages = 0
        while True:
            try:
                await self.handler(record)
                return False
            except Undeliverable as exc:
                # Dead-lettered, but a provider outage is not counted by the ratio guard.
                CONSUMER_ERRORS.labels(self.name, "undeliverable").inc()
                await self._dead_letter(record, f"undeliverable: {exc}", failures + 1)
                return False
            except InvalidMessage as exc:
                CONSUMER_ERRORS.labels(self.name, "invalid").inc()
                await self._dead_letter(record, f"invalid message: {exc}", failures + 1)
                return True
            except UNAVAILABLE_ERRORS as exc:
                # Outages never count towards dead-lettering: the message is not at fault.
                outages += 1
                CONSUMER_ERRORS.labels(self.name, "unavailable").inc()
                log.warning("dependency_unavailable", consumer=self.name,
                            error=type(exc).__name__, outages=outages)
                if self.stopping.is_set():
                    return None  # abandoned uncommitted: it is redelivered after restart
                await asyncio.sleep(self.retry.delay(min(outages, 6)))
            except Exception as exc:
                failures += 1
                CONSUMER_ERRORS.labels(self.name, "handler").inc()
                log.warning("handler_failed", consumer=self.name, error=repr(exc)[:300],
                            attempt=failures, partition=record.partition, offset=record.offset)
                if failures >= self.retry.max_attempts:
                    await self._dead_letter(record, f"{type(exc).__name__}: {exc}", failures)
                    return True
                await asyncio.sleep(self.retry.delay(failures))

    async def _dead_letter(self, record: ConsumerRecord[bytes, bytes], error: str,
                           attempts: int) -> None:
        headers = [
            *(record.headers or ()),
            ("fte-original-topic", record.topic.encode()),
            ("fte-original-partition", str(record.partition).encode()),
            ("fte-original-offset", str(record.offset).encode()),
            ("fte-error", error[:1000].encode()),
            ("fte-attempts", str(attempts).encode()),
            ("fte-consumer", self.name.encode()),
        ]
        await self.producer.send_and_wait(
            self.dlq_topic, record.value, key=record.key, headers=headers
        )
        DEAD_LETTERS.labels(self.name).inc()
        log.error("dead_lettered", consumer=self.name, partition=record.partition,
                  offset=record.offset, error=error[:300])
        if self.on_dead_letter is not None:
            try:
                await self.on_dead_letter(record, error)
            except Exception as exc:
                # The dead letter is durable; a failed apology is logged, not retried forever.
                CONSUMER_ERRORS.labels(self.name, "dead_letter_hook").inc()
                log.error("dead_letter_hook_failed", consumer=self.name, error=repr(exc)[:300])

    async def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        try:
            await self.consumer.commit(offsets)
        except (CommitFailedError, KafkaError) as exc:
            # After a rebalance the new owner re-reads from the last commit; handlers are
            # idempotent, so the only cost is repeated (skipped) work.
            CONSUMER_ERRORS.labels(self.name, "commit").inc()
            log.warning("commit_failed", consumer=self.name, error=repr(exc)[:300])
