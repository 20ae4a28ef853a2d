"""The consumer loop shared by the worker and the dispatcher.

Records of different keys (customers) are handled concurrently, up to a bound per process;
records of one key in offset order (the window, `window.py`, decides what may start and how far
each partition may be committed). For each record:
- the database is unreachable: wait and try the same record again, without limit (nothing is
  wrong with the message, and dead-lettering during an outage would lose the whole backlog);
- `InvalidMessage`: never retried, straight to the dead-letter topic (`Undeliverable`, a reply
  whose provider stayed down through its retries, too, without counting towards the guard);
- any other error: retried with bounded exponential backoff, then dead-lettered.
A partition's offset is committed (every `commit_interval_s`) up to its lowest unfinished
record, so only records whose effects (or dead letter) are durable lie below it. A full window
pauses fetching. A dead-letter ratio limit stops a consumer that would otherwise dead-letter
everything.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import structlog
from aiokafka import AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError

from production.config import KafkaSettings
from production.domain.messages import InvalidMessage, Undeliverable
from production.messaging.kafka import GroupConsumer
from production.messaging.window import Entry, KeyOrderedWindow
from production.metrics import (
    CONSUMER_ERRORS,
    CONSUMER_IN_FLIGHT,
    CONSUMER_LAG,
    CONSUMER_PAUSED_PARTITIONS,
    DEAD_LETTERS,
)

log = structlog.get_logger(__name__)

Handler = Callable[[ConsumerRecord[bytes, bytes]], Awaitable[Any]]
DeadLetterHook = Callable[[ConsumerRecord[bytes, bytes], str], Awaitable[Any]]
Record: TypeAlias = "ConsumerRecord[bytes, bytes]"

MAX_POLL_RECORDS = 200


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


@dataclass(frozen=True)
class Concurrency:
    """How many records run at once, and when offsets are committed."""

    max_in_flight: int = 64
    commit_interval_s: float = 0.2
    revoke_grace_s: float = 5.0
    shutdown_grace_s: float = 10.0

    @classmethod
    def from_settings(cls, kafka: KafkaSettings, *, max_in_flight: int) -> Concurrency:
        return cls(max_in_flight=max_in_flight, commit_interval_s=kafka.commit_interval_ms / 1000,
                   revoke_grace_s=kafka.revoke_grace_ms / 1000,
                   shutdown_grace_s=kafka.shutdown_grace_ms / 1000)


@dataclass
class ConsumerLoop:
    name: str
    consumer: GroupConsumer
    producer: AIOKafkaProducer
    handler: Handler
    dlq_topic: str
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    guard: DeadLetterGuard = field(default_factory=DeadLetterGuard)
    on_dead_letter: DeadLetterHook | None = None
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    concurrency: Concurrency = field(default_factory=Concurrency)
    # Errors that mean a dependency is down, not that the record is bad: retried until it is
    # back, never dead-lettered (the composition root passes the database's).
    outages: tuple[type[BaseException], ...] = (OSError, TimeoutError)
    window: KeyOrderedWindow[Record] = field(init=False)
    _running: set[asyncio.Task[None]] = field(init=False, default_factory=set)
    _changed: asyncio.Event = field(init=False, default_factory=asyncio.Event)
    _commit_lock: asyncio.Lock = field(init=False, default_factory=asyncio.Lock)
    _failure: Exception | None = field(init=False, default=None)
    _closing: bool = field(init=False, default=False)
    _paused: bool = field(init=False, default=False)
    _next_commit: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        self.window = KeyOrderedWindow(max_in_flight=self.concurrency.max_in_flight)

    async def run(self) -> None:
        """Consume until `stopping` is set (or the dead-letter guard trips, which raises)."""
        relay = self.consumer.rebalance
        relay.on_revoked, relay.on_assigned = self._revoked, self.window.assign
        grace = self.concurrency.shutdown_grace_s
        try:
            while not self.stopping.is_set() and self._failure is None:
                await self._fetch()
                await self._commit_due()
        except BaseException:
            grace = 0.0
            raise
        finally:
            relay.on_revoked = relay.on_assigned = None
            await self._drain(0.0 if self._failure is not None else grace)
        if self._failure is not None:
            raise self._failure

    async def _fetch(self) -> None:
        """Fetch what the window has room for and start what may start. While it is full, the
        partitions stay paused until it drains to the low-water mark; polling them paused keeps
        this member of the group alive."""
        room = self.window.room()
        if room == 0 or (self._paused and not self.window.drained()):
            self._pause()  # again: a rebalance hands partitions over unpaused
        elif self._paused:
            self._resume()
        batches = await self.consumer.getmany(
            timeout_ms=int(self.concurrency.commit_interval_s * 1000),
            max_records=max(1, min(room, MAX_POLL_RECORDS)))
        for tp, records in batches.items():
            for record in records:
                self.window.admit(tp, record.offset, record.key, record)
        self._start()

    def _pause(self) -> None:
        self.consumer.pause(*self.consumer.assignment())
        self._paused = True
        CONSUMER_PAUSED_PARTITIONS.labels(self.name).set(len(self.consumer.paused()))

    def _resume(self) -> None:
        self.consumer.resume(*self.consumer.paused())
        self._paused = False
        CONSUMER_PAUSED_PARTITIONS.labels(self.name).set(0)

    def _start(self) -> None:
        if self._closing or self.stopping.is_set() or self._failure is not None:
            return
        for entry in self.window.start():
            task = asyncio.create_task(self._handle(entry))
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        CONSUMER_IN_FLIGHT.labels(self.name).set(self.window.in_flight)

    async def _handle(self, entry: Entry[Record]) -> None:
        """Run one record through the classified retries; tell the window how it ended."""
        done = False
        try:
            dead = await self._one(entry.item)
            if dead is not None:
                done = True  # handled, or its dead letter is durable
                self.guard.record(dead)
        except Exception as exc:
            # The guard tripped, or a dead letter could not be written: stop the loop.
            if self._failure is None:
                self._failure = exc
        finally:
            self.window.finish(entry, done=done)
            self._changed.set()
            self._start()  # the next record of its key, or of another key, may go now
            CONSUMER_IN_FLIGHT.labels(self.name).set(self.window.in_flight)

    async def _revoked(self, partitions: set[TopicPartition]) -> None:
        """A rebalance takes these partitions: start nothing more of theirs, give their running
        records a moment to finish, commit what finished, then forget them, so that no commit
        for them follows. What still runs ends uncommitted (the new owner redoes it)."""
        if not partitions:
            return
        dropped = self.window.revoke(partitions)
        await self._wait(lambda: self.window.running_in(partitions) == 0,
                         self.concurrency.revoke_grace_s)
        async with self._commit_lock:
            await self._commit(self.window.commit_points(partitions))
            unfinished = self.window.forget(partitions)
        for tp in partitions:  # its new owner reports it
            with contextlib.suppress(KeyError):
                CONSUMER_LAG.remove(self.consumer.group, tp.topic, str(tp.partition))
        log.info("partitions_revoked", consumer=self.name, partitions=len(partitions),
                 dropped=dropped, unfinished=unfinished)

    async def _drain(self, grace_s: float) -> None:
        """Stop: start nothing more, give the running records `grace_s` to finish, abandon
        the rest uncommitted (they are redelivered), and commit what finished."""
        self._closing = True
        self.window.close_all()
        try:
            await self._wait(lambda: not self._running, grace_s)
        finally:
            abandoned = len(self._running)
            for task in list(self._running):
                task.cancel()
            await asyncio.gather(*self._running, return_exceptions=True)
            async with self._commit_lock:
                await self._commit(self.window.commit_points())
            CONSUMER_IN_FLIGHT.labels(self.name).set(0)
            if abandoned:
                log.warning("consumer_abandoned_records", consumer=self.name,
                            records=abandoned)

    async def _wait(self, condition: Callable[[], bool], timeout_s: float) -> bool:
        """Wait until `condition` holds (re-checked whenever a record ends), at most
        `timeout_s`; return whether it holds."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while not condition():
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                return False
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)
        return True

    async def _commit_due(self) -> None:
        now = asyncio.get_running_loop().time()
        if now < self._next_commit:
            return
        self._next_commit = now + self.concurrency.commit_interval_s
        async with self._commit_lock:
            await self._commit(self.window.commit_points())
        await self._observe_lag()

    async def _observe_lag(self) -> None:
        """Publish each held partition's lag: the records behind its high watermark (as the
        last fetch saw it) that are not done, those past this consumer's position (never below
        0: the local broker's watermarks can trail the offsets it served) and those fetched
        into the window but not committable yet."""
        for tp in self.consumer.assignment():
            high = self.consumer.highwater(tp)
            if high is None:
                continue  # nothing fetched from it yet
            try:  # known at once, unless the partition is being reset: then skipped
                position = await asyncio.wait_for(self.consumer.position(tp), 0.05)
            except (KafkaError, TimeoutError):
                continue
            CONSUMER_LAG.labels(self.consumer.group, tp.topic, str(tp.partition)).set(
                max(0, high - position) + self.window.held_in(tp))

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
            except self.outages as exc:
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
        if not offsets:
            return
        try:
            await self.consumer.commit(offsets)
        except (CommitFailedError, KafkaError) as exc:
            # After a rebalance the new owner re-reads from the last commit; handlers are
            # idempotent, so the only cost is repeated (skipped) work.
            CONSUMER_ERRORS.labels(self.name, "commit").inc()
            log.warning("commit_failed", consumer=self.name, error=repr(exc)[:300])
            return
        self.window.committed(offsets)
