"""The operators' view at volume: `GET /api/v1/metrics/channels` and the Health page's series
(`production/services/ops_health.py`) over a week of synthetic traffic in a scratch database.

N inbound messages (BENCH_OPS_MESSAGES, default 50,000) spread evenly over 7 days on the three
channels, 1,000 customers, each answered 0-3 s later, 10% escalated. Each query runs 7 times;
the report gives the median and the fastest. `python bench/ops_metrics.py` runs it alone.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scratch_db import scratch_pool

from production import clock
from production.database.pool import Pool
from production.services import ops_health

MESSAGES = int(os.environ.get("BENCH_OPS_MESSAGES", "5000" if os.environ.get("BENCH_QUICK")
                              == "1" else "50000"))
RUNS = 7

_SEED = """
WITH people AS (
    INSERT INTO customers (tenant_id, name) SELECT 'techcorp', 'c' || g
    FROM generate_series(1, 1000) g RETURNING id
), talks AS (
    INSERT INTO conversations (tenant_id, customer_id, initial_channel, current_channel)
    SELECT 'techcorp', id, 'email', 'email' FROM people RETURNING id, customer_id
), numbered AS (
    SELECT id, customer_id, row_number() OVER () AS n FROM talks
), inbound AS (
    INSERT INTO messages (tenant_id, conversation_id, customer_id, channel, direction, role,
                          content, created_at, processed_at, status, sentiment)
    SELECT 'techcorp', t.id, t.customer_id, (ARRAY['email', 'whatsapp', 'web_form'])[1 + g % 3],
           'inbound', 'customer', 'hi', $1::timestamptz - g * interval '7 days' / $2,
           $1::timestamptz - g * interval '7 days' / $2 + interval '1 s', 'processed', random()
    FROM generate_series(1, $2) g JOIN numbered t ON t.n = 1 + g % 1000
    RETURNING id, conversation_id, customer_id, channel, created_at
), replies AS (
    INSERT INTO messages (tenant_id, conversation_id, customer_id, channel, direction, role,
                          content, in_reply_to, created_at, status, metadata)
    SELECT 'techcorp', conversation_id, customer_id, channel, 'outbound', 'agent', 'ok', id,
           created_at + random() * interval '3 s', 'delivered', '{"kind": "reply"}'
    FROM inbound RETURNING 1
)
INSERT INTO agent_metrics (tenant_id, message_id, channel, metric_name, metric_value,
                           recorded_at)
SELECT 'techcorp', id, channel, 'escalated', (random() < 0.1)::int, created_at FROM inbound
"""


async def _timed(work: Callable[[], Awaitable[Any]]) -> dict[str, float]:
    took = []
    for _ in range(RUNS):
        started = time.perf_counter()
        await work()
        took.append((time.perf_counter() - started) * 1000)
    return {"median_ms": round(statistics.median(took), 1), "min_ms": round(min(took), 1)}


async def _measure(pool: Pool) -> dict[str, Any]:
    now = clock.now()
    async with pool.acquire() as conn:
        await conn.execute(_SEED, now, MESSAGES)
        await conn.execute("ANALYZE")
    queries: dict[str, Any] = {}
    for period in ops_health.PERIODS:
        queries[f"channels {period}"] = await _timed(lambda p=period: ops_health.channel_metrics(
            pool=pool, tenant_id="techcorp", period=p, now=now))
    for hours, step_s in ((1, 60), (6, 300), (24, 900)):
        queries[f"series {hours} h / {step_s} s"] = await _timed(
            lambda h=hours, s=step_s: ops_health.time_series(
                pool=pool, tenant_id="techcorp", hours=h, step=timedelta(seconds=s), now=now))
    return {"messages": MESSAGES, "days": 7, "queries": queries}


async def run() -> dict[str, Any]:
    async with scratch_pool("fte-bench-ops-") as pool:
        return await _measure(pool)


def print_report(result: dict[str, Any]) -> None:
    print(f"\nOperators' view: {result['messages']} inbound messages over {result['days']} "
          "days (each answered, 10% escalated)")
    print("| query | median ms | fastest ms |")
    print("|---|---|---|")
    for name, took in result["queries"].items():
        print(f"| {name} | {took['median_ms']} | {took['min_ms']} |")


if __name__ == "__main__":
    print_report(asyncio.run(run()))
