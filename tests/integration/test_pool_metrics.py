"""The pool's gauges on the real database: open, borrowed and waited for."""

from __future__ import annotations

import asyncio

from prometheus_client import REGISTRY

from production.config import Settings
from production.database import pool as db_pool
from production.metrics import POOL_IN_USE, POOL_MAX, POOL_SIZE, POOL_WAITING
from tests.conftest import wait_for


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
