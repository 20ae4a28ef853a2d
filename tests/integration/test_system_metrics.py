"""System gauges on the real database: the pool (open, borrowed, waited for) and the outbox's
backlog."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from prometheus_client import REGISTRY

from production.config import Settings
from production.database import pool as db_pool
from production.database.queries import outbox
from production.local_stack import EmbeddedPostgres, LocalBroker
from production.metrics import (
    OUTBOX_BACKLOG,
    OUTBOX_OLDEST,
    POOL_IN_USE,
    POOL_MAX,
    POOL_SIZE,
    POOL_WAITING,
)
from production.services import relay
from tests.conftest import isolated_settings, wait_for


def _gauges() -> tuple[float | None, ...]:
    return tuple(REGISTRY.get_sample_value(g.name) for g in
                 (POOL_SIZE, POOL_MAX, POOL_IN_USE, POOL_WAITING))


async def test_the_pool_reports_what_is_open_borrowed_and_waited_for(settings: Settings) -> None:
    pool = await db_pool.create_pool(settings, min_size=1, max_size=1)
    try:
        db_pool.observe(pool)
        assert _gauges() == (1, 1, 0, 0)
        async with pool.acquire():
            waiter = asyncio.create_task(pool.fetchval("SELECT 1"))

            async def queued() -> bool:  # the second task waits for the one connection
                return any(not w.done() for w in pool._queue._getters)

            await wait_for(queued, timeout_s=5, interval_s=0.01)
            db_pool.observe(pool)
            assert _gauges() == (1, 1, 1, 1)
        assert await waiter == 1
        db_pool.observe(pool)
        assert _gauges() == (1, 1, 0, 0)
    finally:
        await pool.close()


async def test_the_relay_reports_the_outbox_backlog_and_its_oldest_event(
    postgres: EmbeddedPostgres, broker: LocalBroker
) -> None:
    settings = await isolated_settings(postgres, broker, "backlog", autonomy=False)
    pool = await db_pool.create_pool(settings, min_size=1, max_size=2)
    try:
        async with pool.acquire() as conn:
            ids = [await outbox.enqueue(conn, "techcorp", topic="t", key="k", payload={"n": n})
                   for n in range(3)]
            oldest = await conn.fetchval("SELECT created_at FROM outbox WHERE id = $1", ids[0])
        assert await relay.observe_backlog(pool, now=oldest + timedelta(seconds=90)) == 3
        assert REGISTRY.get_sample_value(OUTBOX_BACKLOG.name) == 3
        assert REGISTRY.get_sample_value(OUTBOX_OLDEST.name) == 90
        async with pool.acquire() as conn:
            await outbox.mark_published(conn, ids)
        assert await relay.observe_backlog(pool, now=oldest) == 0
        assert REGISTRY.get_sample_value(OUTBOX_OLDEST.name) == 0
    finally:
        await pool.close()
