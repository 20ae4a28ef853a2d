"""Trigger firings against the real PostgreSQL: once per customer, trigger and window; decided
once; another tenant's writes touch nothing."""

from __future__ import annotations

import asyncio
from datetime import datetime

from production.database.pool import Pool
from production.database.queries import proactive
from production.domain.proactive.firing import Firing, FiringDecision, TriggerName
from tests.integration.test_care_state import new_customer, new_tenant


def _firing(customer: object, window: str = "ticket:1:first_response") -> Firing:
    return Firing(trigger=TriggerName.STALLED_TICKET, version=1, customer_id=customer,  # type: ignore[arg-type]
                  window_key=window, reason="first response due 2h ago",
                  facts={"priority": "high", "due_at": "2026-12-04T10:00:00+00:00"})


async def test_a_window_fires_once_even_from_two_writers_at_once(pool: Pool, now: datetime) -> None:
    tenant = await new_tenant(pool)
    customer = await new_customer(pool, tenant)

    async def store() -> object:
        async with pool.acquire() as conn:
            return await proactive.insert_firing(conn, tenant_id=tenant,
                                                 firing=_firing(customer), now=now)

    ids = await asyncio.gather(*(store() for _ in range(4)))
    assert sum(id_ is not None for id_ in ids) == 1
    async with pool.acquire() as conn:
        other = await proactive.insert_firing(conn, tenant_id=tenant,
                                              firing=_firing(customer, "ticket:1:resolution"),
                                              now=now)
        stored = await proactive.firings_of(conn, tenant_id=tenant, customer_id=customer)
    assert other is not None
    assert {f.window_key for f in stored} == {"ticket:1:first_response", "ticket:1:resolution"}
    assert stored[0].facts["priority"] == "high"
    assert all(f.fired_at == now and f.decision is None for f in stored)


async def test_a_firing_is_decided_once_and_only_by_its_tenant(pool: Pool, now: datetime) -> None:
    tenant, stranger = await new_tenant(pool), await new_tenant(pool)
    customer = await new_customer(pool, tenant)
    async with pool.acquire() as conn:
        id_ = await proactive.insert_firing(conn, tenant_id=tenant, firing=_firing(customer),
                                            now=now)
        assert id_ is not None
        assert not await proactive.decide_firing(conn, tenant_id=stranger, firing_id=id_,
                                                 decision=FiringDecision.SKIPPED, now=now)
        async with conn.transaction():
            claimed = await proactive.claim_undecided(conn, limit=10_000)
        assert id_ in {f.id for f in claimed}
        assert await proactive.decide_firing(conn, tenant_id=tenant, firing_id=id_,
                                             decision=FiringDecision.SUGGESTED, now=now)
        assert not await proactive.decide_firing(conn, tenant_id=tenant, firing_id=id_,
                                                 decision=FiringDecision.SKIPPED, now=now)
        async with conn.transaction():
            claimed = await proactive.claim_undecided(conn, limit=10_000)
        stored = await proactive.firings_of(conn, tenant_id=tenant, customer_id=customer)
    assert id_ not in {f.id for f in claimed}
    assert [f.decision for f in stored] == ["suggested"]
