"""Key-ordered concurrency in the consumer loop, through the real broker: different keys run at
once up to the bound, one key's records in offset order, a slow record holds neither the other
keys of its partition nor (past itself) the commit, and under random keys, latencies and
failures the committed offset never passes an unfinished record. Then the real worker: a second
worker joins and leaves the group under load, and every message still gets exactly one reply,
each customer's in order."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import pytest
from agents import ModelResponse
from aiokafka import AIOKafkaProducer, TopicPartition
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from prometheus_client import REGISTRY

from production.agent.local_model import LocalSupportModel
from production.config import KafkaSettings, Settings
from production.database.pool import Pool
from production.domain.messages import InboundMessage, InvalidMessage, encode_event
from production.local_stack import LocalBroker
from production.messaging.consumer_loop import (
    Concurrency,
    ConsumerLoop,
    DeadLetterGuard,
    DeadLetterRatioExceeded,
    RetryPolicy,
)
from production.messaging.kafka import ensure_topics, make_consumer, make_producer
from production.metrics import CONSUMER_LAG
from production.services.intake import routing_key
from tests.conftest import unique_email, wait_for
from tests.integration.test_failure_paths import worker_loop

ATTEMPTS = 3


@dataclass(repr=False)
class Recorder:
    """The handler, and what it saw: each attempt's start and end in order, how many ran at
    once, and which records finished (handled, or dead-lettered after their attempts)."""

    events: list[tuple[str, bytes, int, int]] = field(default_factory=list)
    in_flight: int = 0
    peak: int = 0
    finished: set[tuple[int, int]] = field(default_factory=set)
    attempts: dict[tuple[int, int], int] = field(default_factory=lambda: defaultdict(int))
    gates: dict[bytes, asyncio.Event] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)
    published: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))

    async def handle(self, record: Any) -> None:
        where = (record.partition, record.offset)
        self.attempts[where] += 1
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        self.events.append(("start", record.key, *where))
        try:
            if (gate := self.gates.get(record.key)) is not None:
                await gate.wait()
            plan = json.loads(record.value)
            await asyncio.sleep(plan.get("ms", 0) / 1000)
            fail = plan.get("fail", "ok")
            if fail == "invalid":
                raise InvalidMessage("refused by the test")
            if fail == "broken" or (fail == "flaky" and self.attempts[where] == 1):
                raise RuntimeError("a failure the test asked for")
        finally:
            self.in_flight -= 1
            self.events.append(("end", record.key, *where))
        self.finished.add(where)

    async def dead_lettered(self, record: Any, error: str) -> None:
        self.finished.add((record.partition, record.offset))

    def check_commit(self, offsets: dict[TopicPartition, Any]) -> None:
        """Called with every commit the loop sends: nothing unfinished may lie below it."""
        for tp, offset in offsets.items():
            point = offset if isinstance(offset, int) else offset[0]
            unfinished = [o for o in self.published[tp.partition]
                          if o < point and (tp.partition, o) not in self.finished]
            if unfinished:
                self.violations.append(f"commit {point} on {tp.partition} passed {unfinished}")

    def key_order_violations(self) -> list[str]:
        """Return where one key's attempts overlapped or went back in offset order."""
        running: dict[bytes, int] = {}
        last: dict[bytes, int] = {}
        problems = []
        for kind, key, _, offset in self.events:
            if kind == "end":
                running.pop(key, None)
                continue
            if key in running:
                problems.append(f"{key!r}@{offset} started while @{running[key]} ran")
            if offset < last.get(key, -1):
                problems.append(f"{key!r}@{offset} started after @{last[key]}")
            running[key], last[key] = offset, offset
        return problems


@dataclass(repr=False)
class Running:
    loop: ConsumerLoop
    recorder: Recorder
    producer: AIOKafkaProducer
    topic: str
    task: asyncio.Task[None]

    async def publish(self, key: bytes, plan: dict[str, Any] | None = None,
                      partition: int | None = None) -> tuple[int, int]:
        meta = await self.producer.send_and_wait(self.topic, json.dumps(plan or {}).encode(),
                                                 key=key, partition=partition)
        self.recorder.published[meta.partition].add(meta.offset)
        return meta.partition, meta.offset

    async def committed(self, partition: int) -> int:
        return await self.loop.consumer.committed(TopicPartition(self.topic, partition)) or 0

    async def all_committed(self) -> bool:
        """True once every partition is committed past everything published to it."""
        for partition, offsets in self.recorder.published.items():
            if offsets and await self.committed(partition) < max(offsets) + 1:
                return False
        return True


def broker_settings(broker: LocalBroker, tag: str) -> Settings:
    name = f"window-{tag}-{uuid.uuid4().hex[:6]}"
    return Settings(app_env="test", metrics_port=0, kafka=KafkaSettings(
        bootstrap_servers=broker.bootstrap_servers, enable_idempotence=False,
        topic_incoming=f"{name}.in", topic_outgoing=f"{name}.out", topic_dlq=f"{name}.dlq",
        worker_group=f"{name}-group"))


@contextlib.asynccontextmanager
async def running_loop(broker: LocalBroker, tag: str, *, max_in_flight: int,
                       guard: DeadLetterGuard | None = None) -> AsyncIterator[Running]:
    """A consumer loop with a recording handler on topics of its own, until the block ends."""
    built = broker_settings(broker, tag)
    await ensure_topics(built)
    kafka = built.kafka
    producer = make_producer(built)
    await producer.start()
    consumer = make_consumer(built, kafka.topic_incoming, kafka.worker_group)
    recorder = Recorder()
    commit = consumer.commit

    async def spied_commit(offsets: dict[TopicPartition, Any]) -> None:
        recorder.check_commit(offsets)
        await commit(offsets)

    consumer.commit = spied_commit
    await consumer.start()
    stopping = asyncio.Event()
    loop = ConsumerLoop(
        name=f"test-{tag}", consumer=consumer, producer=producer, handler=recorder.handle,
        dlq_topic=kafka.topic_dlq, retry=RetryPolicy(ATTEMPTS, 0.001, 0.005),
        guard=guard or DeadLetterGuard(limit=1.0), on_dead_letter=recorder.dead_lettered,
        stopping=stopping,
        concurrency=Concurrency(max_in_flight=max_in_flight, commit_interval_s=0.05),
    )
    task = asyncio.create_task(loop.run())
    try:
        yield Running(loop, recorder, producer, kafka.topic_incoming, task)
    finally:
        for gate in recorder.gates.values():
            gate.set()
        stopping.set()
        with contextlib.suppress(DeadLetterRatioExceeded):  # a test that tripped it saw it
            await asyncio.wait_for(task, 15)
        await consumer.stop()
        await producer.stop()


@pytest.fixture(scope="module")
async def wide(broker: LocalBroker) -> AsyncIterator[Running]:
    async with running_loop(broker, "wide", max_in_flight=64) as running:
        yield running


@pytest.fixture(scope="module")
async def narrow(broker: LocalBroker) -> AsyncIterator[Running]:
    async with running_loop(broker, "narrow", max_in_flight=4) as running:
        yield running


def gated_keys(running: Running, count: int) -> tuple[list[bytes], asyncio.Event]:
    release = asyncio.Event()
    keys = [f"held-{uuid.uuid4().hex[:8]}".encode() for _ in range(count)]
    for key in keys:
        running.recorder.gates[key] = release
    return keys, release


async def finish(running: Running) -> None:
    """Wait until everything published so far finished and is committed; check the commits."""
    async def done() -> bool:
        published = {(p, o) for p, offsets in running.recorder.published.items()
                     for o in offsets}
        return published <= running.recorder.finished and await running.all_committed()

    await wait_for(done, timeout_s=15)
    assert running.recorder.violations == []
    assert running.recorder.key_order_violations() == []


async def test_twenty_customers_run_at_once_in_one_worker(wide: Running) -> None:
    keys, release = gated_keys(wide, 20)
    for key in keys:
        await wide.publish(key)
    # Six partitions, twenty customers: all twenty wait inside the handler at the same time.
    await wait_for(lambda: _at_least(wide.recorder, 20), timeout_s=10)
    assert wide.loop.window.in_flight == 20
    release.set()
    await finish(wide)


async def _at_least(recorder: Recorder, count: int) -> bool:
    return recorder.in_flight >= count


async def test_the_bound_caps_what_runs_at_once(narrow: Running) -> None:
    keys, release = gated_keys(narrow, 10)
    for key in keys:
        await narrow.publish(key)
    await wait_for(lambda: _at_least(narrow.recorder, 4), timeout_s=10)
    # Ten are fetched and waiting; the four running ones hold every slot.
    await wait_for(lambda: _held(narrow, 10), timeout_s=10)
    assert narrow.recorder.in_flight == narrow.loop.window.in_flight == 4
    release.set()
    await finish(narrow)
    assert narrow.recorder.peak == 4


async def _held(running: Running, count: int) -> bool:
    return running.loop.window.held >= count


def _gauge(name: str, running: Running) -> float | None:
    return REGISTRY.get_sample_value(name, {"consumer": running.loop.name})


async def test_a_full_window_pauses_fetching_until_it_drains(narrow: Running) -> None:
    keys, release = gated_keys(narrow, 24)
    for key in keys:
        await narrow.publish(key)
    capacity = narrow.loop.window.capacity  # 16: four running, twelve waiting for a slot

    async def paused() -> bool:
        assignment = narrow.loop.consumer.assignment()
        return bool(assignment) and narrow.loop.consumer.paused() == assignment

    await wait_for(paused, timeout_s=10)
    assert narrow.loop.window.held == capacity < len(keys)
    assert _gauge("fte_consumer_paused_partitions", narrow) == len(
        narrow.loop.consumer.assignment())
    assert _gauge("fte_consumer_in_flight", narrow) == 4
    release.set()
    await finish(narrow)  # the rest was fetched once it drained: fetching resumed
    assert narrow.loop.consumer.paused() == set()
    assert _gauge("fte_consumer_paused_partitions", narrow) == 0


async def test_a_tripped_dead_letter_guard_stops_the_loop_and_leaves_unfinished_work_uncommitted(
    broker: LocalBroker,
) -> None:
    async with running_loop(broker, "guard", max_in_flight=4,
                            guard=DeadLetterGuard(limit=0.0, window=1)) as running:
        _, early = await running.publish(b"early", partition=0)
        stuck = b"stuck"
        running.recorder.gates[stuck] = asyncio.Event()
        _, stuck_at = await running.publish(stuck, partition=0)
        async def stuck_running() -> bool:
            return (0, early) in running.recorder.finished and running.recorder.in_flight == 1

        await wait_for(stuck_running, timeout_s=10)
        _, bad = await running.publish(b"bad", {"fail": "invalid"}, partition=1)
        with pytest.raises(DeadLetterRatioExceeded):
            await asyncio.wait_for(asyncio.shield(running.task), 10)
        # The stuck record was abandoned, not finished: partition 0 stays committed right
        # before it (it is redelivered), partition 1 past the dead letter, which is durable.
        assert (0, stuck_at) not in running.recorder.finished
        assert await running.committed(0) == stuck_at == early + 1
        assert await running.committed(1) == bad + 1
        assert running.loop.window.in_flight == 0


async def test_one_customers_records_run_in_offset_order_while_others_run_alongside(
    wide: Running,
) -> None:
    customers = [f"order-{uuid.uuid4().hex[:8]}".encode() for _ in range(5)]
    rng = random.Random(7)
    start = len(wide.recorder.events)
    wide.recorder.peak = 0
    for _ in range(12):
        for key in customers:
            await wide.publish(key, {"ms": rng.randint(0, 15)})
    await finish(wide)
    seen = defaultdict(list)
    for kind, key, _, offset in wide.recorder.events[start:]:
        if kind == "start":
            seen[key].append(offset)
    for key in customers:
        assert seen[key] == sorted(seen[key]) and len(seen[key]) == 12
    assert wide.recorder.peak > 1  # the five customers did overlap


async def test_a_slow_record_holds_neither_the_other_keys_of_its_partition_nor_the_commit(
    wide: Running,
) -> None:
    slow = f"slow-{uuid.uuid4().hex[:8]}".encode()
    release = wide.recorder.gates[slow] = asyncio.Event()
    _, slow_offset = await wide.publish(slow, partition=0)
    others = [await wide.publish(f"other-{i}-{uuid.uuid4().hex[:6]}".encode(), partition=0)
              for i in range(10)]
    _, after = await wide.publish(slow, partition=0)  # the slow customer's next message
    _, elsewhere = await wide.publish(b"elsewhere", partition=1)

    async def others_done() -> bool:
        return set(others) | {(1, elsewhere)} <= wide.recorder.finished

    await wait_for(others_done, timeout_s=10)

    async def partition_1_committed() -> bool:
        return await wide.committed(1) == elsewhere + 1

    await wait_for(partition_1_committed, timeout_s=10)
    # Partition 1's commit went out; partition 0's, in the same commits, stops at the slow one.
    assert await wide.committed(0) <= slow_offset
    assert (0, after) not in {(p, o) for kind, _, p, o in wide.recorder.events if kind == "start"}
    release.set()
    await finish(wide)
    assert await wide.committed(0) == after + 1


records = st.lists(st.tuples(st.integers(0, 7), st.integers(0, 12),
                             st.sampled_from(["ok"] * 6 + ["invalid", "flaky", "broken"])),
                   min_size=1, max_size=30)


@hypothesis.settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=records)
async def test_under_random_keys_latencies_and_failures_order_bound_and_commits_hold(
    narrow: Running, batch: list[tuple[int, int, str]],
) -> None:
    tag = uuid.uuid4().hex[:6]
    sent = [await narrow.publish(f"{tag}-{key}".encode(), {"ms": ms, "fail": fail})
            for key, ms, fail in batch]
    await finish(narrow)
    for (key, _, fail), where in zip(batch, sent, strict=True):
        tries = narrow.recorder.attempts[where]
        assert tries == {"ok": 1, "invalid": 1, "flaky": 2, "broken": ATTEMPTS}[fail], key
    assert narrow.recorder.peak <= 4


# -- the real worker: a second one joins and leaves under load ------------------------------


class SlowModel(LocalSupportModel):
    """The local model, taking its time as a hosted one does (tens of milliseconds a turn).
    With `answers`, every turn after that many waits until `release()`: the worker holds work
    in flight, as one whose model provider slowed down does."""

    def __init__(self, seed: int, *, answers: int | None = None) -> None:
        super().__init__()
        self.turns = 0
        self._rng = random.Random(seed)
        self._answers = answers
        self._open = asyncio.Event()

    def release(self) -> None:
        self._open.set()

    async def get_response(self, *args: Any, **kwargs: Any) -> ModelResponse:
        self.turns += 1
        if self._answers is not None and self.turns > self._answers:
            await self._open.wait()
        await asyncio.sleep(self._rng.uniform(0.02, 0.08))
        return await super().get_response(*args, **kwargs)


async def test_a_second_worker_joining_and_leaving_under_load_keeps_one_reply_each_in_order(
    settings: Settings, pool: Pool,
) -> None:
    tag = uuid.uuid4().hex[:6]
    name = f"window-rebalance-{tag}"
    # Topics and a group of its own; a short grace, so that a revoke also leaves runs
    # unfinished for the new owner to redo.
    kafka = settings.kafka.model_copy(update={
        "topic_incoming": f"{name}.in", "topic_outgoing": f"{name}.out",
        "topic_dlq": f"{name}.dlq", "worker_group": f"{name}-worker",
        "max_in_flight": 8, "revoke_grace_ms": 200, "commit_interval_ms": 50})
    settings = settings.model_copy(update={"kafka": kafka})
    await ensure_topics(settings)
    producer = make_producer(settings)
    await producer.start()
    customers = [unique_email("rebalance") for _ in range(16)]
    per_customer = 5
    try:
        # The first worker answers ten, then its model stalls: work is left when the second
        # joins, however fast this machine is, and the runs it holds become the orphans of the
        # rebalance that the second redoes.
        first, second = SlowModel(1, answers=10), SlowModel(2)
        async with worker_loop(settings, pool, producer, model=first):
            for seq in range(per_customer):
                for email in customers:
                    msg = InboundMessage(
                        tenant_id="techcorp", channel="email",
                        external_id=f"rb-{tag}-{email}-{seq}",
                        content=f"How do I export my project data as CSV? (message {seq})",
                        subject="Export", sender_email=email, sender_name="Grace")
                    await producer.send(settings.kafka.topic_incoming,
                                        json.dumps(encode_event("inbound_message", msg)).encode(),
                                        key=routing_key(msg).encode())
            await producer.flush()
            total = len(customers) * per_customer
            await wait_for(lambda: _replied(pool, tag, 10), timeout_s=20)
            async with worker_loop(settings, pool, producer, model=second):
                # The second worker takes partitions over and answers some itself: ten turns,
                # which its half of the 16 customers' keys holds whatever their hash (twenty
                # did not when the hash gave it four customers, one already answered).
                await wait_for(lambda: _turns(second, 10), timeout_s=30)
            assert len(await _replies(pool, tag)) < total  # it left while work remained
            first.release()  # its held runs end (as duplicates where the second redid them)
            await wait_for(lambda: _replied(pool, tag, total), timeout_s=30)
        replies = await _replies(pool, tag)
    finally:
        await producer.stop()
    assert sorted(replies) == sorted((email, seq) for email in customers
                                     for seq in range(per_customer))  # one each
    for email in customers:  # stored in the order the customer wrote
        assert [seq for e, seq in replies if e == email] == list(range(per_customer)), email


async def _turns(model: SlowModel, count: int) -> bool:
    return model.turns >= count


async def _replied(pool: Pool, tag: str, count: int) -> bool:
    return len(await _replies(pool, tag)) >= count


async def _replies(pool: Pool, tag: str) -> list[tuple[str, int]]:
    """Return (customer, message number) per stored reply, in the order they were stored."""
    prefix = f"rb-{tag}-"
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            """
            SELECT i.external_id FROM messages i JOIN messages r ON r.in_reply_to = i.id
            WHERE i.tenant_id = 'techcorp' AND r.role = 'agent' AND i.external_id LIKE $1
            ORDER BY r.created_at, r.id
            """, prefix + "%")
    parsed = [row["external_id"].removeprefix(prefix).rsplit("-", 1) for row in rows]
    return [(email, int(seq)) for email, seq in parsed]


async def test_the_consumer_reports_its_lag_per_partition_counting_records_not_done(
    broker: LocalBroker
) -> None:
    async with running_loop(broker, "lag", max_in_flight=4) as running:
        key = f"lag-{uuid.uuid4().hex[:8]}".encode()
        running.recorder.gates[key] = release = asyncio.Event()
        for _ in range(6):  # one key: one runs and waits, five wait behind it in the window
            await running.publish(key, partition=2)
        labels = {"group": running.loop.consumer.group, "topic": running.topic,
                  "partition": "2"}

        def lag() -> float | None:
            return REGISTRY.get_sample_value(CONSUMER_LAG.name, labels)

        async def behind() -> bool:  # fetched, so past the position, but not done
            return (lag() or 0) >= 6

        await wait_for(behind, timeout_s=20)
        release.set()

        async def caught_up() -> bool:
            return lag() == 0

        await wait_for(caught_up, timeout_s=20)
