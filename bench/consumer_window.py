"""Drain rate of the consumer loop through the real local broker, by in-flight bound.

The handler takes 1.0 s per record and does nothing else (asyncio.sleep: no model, no
database), so the rate is what the loop's concurrency allows: 300 records on 6 partitions,
200 distinct keys (keys 0-99 carry two records each, so at best two rounds), for bounds 1, 6,
16, 64 and 128. Each bound gets fresh topics and a fresh consumer group; the clock runs from
the first record started to the last one committed, so the group join is not counted.

    .venv/bin/python bench/consumer_window.py            # all bounds
    .venv/bin/python bench/consumer_window.py 16 64      # some
    BENCH_QUICK=1 ...                                    # 60 records, 40 keys

`BENCH_BASELINE=<commit>` runs that commit's consumer loop instead (bounds are ignored: the
loop before issue 14 had none), to compare.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import types
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from production.config import KafkaSettings, Settings  # noqa: E402
from production.local_stack import LocalBroker  # noqa: E402
from production.messaging import consumer_loop  # noqa: E402
from production.messaging.kafka import ensure_topics, make_consumer, make_producer  # noqa: E402

QUICK = os.environ.get("BENCH_QUICK") == "1"
RECORDS, KEYS = (60, 40) if QUICK else (300, 200)
HANDLER_S = 1.0
BOUNDS = (1, 6, 16, 64, 128)


def baseline_module(commit: str) -> types.ModuleType:
    """Return the consumer loop module as it was at `commit`."""
    source = subprocess.run(["git", "show", f"{commit}:production/messaging/consumer_loop.py"],
                            cwd=ROOT, check=True, capture_output=True, text=True).stdout
    module = sys.modules["baseline_consumer_loop"] = types.ModuleType("baseline_consumer_loop")
    exec(compile(source, f"{commit}:consumer_loop.py", "exec"), module.__dict__)
    return module


async def drain(broker: LocalBroker, bound: int | None,
                loop_module: types.ModuleType) -> dict[str, Any]:
    name = f"bench-window-{uuid.uuid4().hex[:6]}"
    settings = Settings(kafka=KafkaSettings(
        bootstrap_servers=broker.bootstrap_servers, enable_idempotence=False,
        topic_incoming=f"{name}.in", topic_outgoing=f"{name}.out", topic_dlq=f"{name}.dlq",
        worker_group=f"{name}-group", partitions=6))
    await ensure_topics(settings)
    producer = make_producer(settings)
    await producer.start()
    for i in range(RECORDS):
        await producer.send(settings.kafka.topic_incoming, b"{}", key=f"key-{i % KEYS}".encode())
    await producer.flush()

    done = 0
    first: float | None = None
    in_flight = peak = 0
    finished = asyncio.Event()

    async def handle(record: Any) -> None:
        nonlocal done, first, in_flight, peak
        first = first or time.monotonic()
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(HANDLER_S)
        in_flight -= 1
        done += 1
        if done == RECORDS:
            finished.set()

    consumer = make_consumer(settings, settings.kafka.topic_incoming, settings.kafka.worker_group)
    await consumer.start()
    stopping = asyncio.Event()
    extra = ({} if bound is None else
             {"concurrency": consumer_loop.Concurrency(max_in_flight=bound)})
    loop = loop_module.ConsumerLoop(name="bench", consumer=consumer, producer=producer,
                                    handler=handle, dlq_topic=settings.kafka.topic_dlq,
                                    stopping=stopping, **extra)
    task = asyncio.create_task(loop.run())
    try:
        await asyncio.wait_for(finished.wait(), RECORDS * HANDLER_S + 60)
        assert first is not None
        while True:  # until the group's offsets cover every record
            committed = 0
            for tp in consumer.assignment():
                committed += await consumer.committed(tp) or 0
            if committed >= RECORDS:
                break
            await asyncio.sleep(0.05)
        seconds = time.monotonic() - first
    finally:
        stopping.set()
        await task
        await consumer.stop()
        await producer.stop()
    return {"bound": bound, "seconds": round(seconds, 2), "rate": round(RECORDS / seconds, 1),
            "peak_in_flight": peak}


async def main(bounds: list[int]) -> None:
    broker = LocalBroker()
    broker.start()
    commit = os.environ.get("BENCH_BASELINE")
    try:
        if commit:
            rows = [await drain(broker, None, baseline_module(commit))]
        else:
            rows = [await drain(broker, bound, consumer_loop) for bound in bounds]
    finally:
        broker.stop()
    print(f"{RECORDS} records, {KEYS} keys, 6 partitions, {HANDLER_S:.1f} s per record"
          + (f", consumer loop of {commit}" if commit else ""))
    print("| bound | drain s | records/s | peak in flight |")
    print("|---|---|---|---|")
    for row in rows:
        print(f"| {row['bound'] or 'none'} | {row['seconds']} | {row['rate']} "
              f"| {row['peak_in_flight']} |")


if __name__ == "__main__":
    asyncio.run(main([int(a) for a in sys.argv[1:]] or list(BOUNDS)))
