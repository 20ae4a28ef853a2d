"""The DecisionCostGate on the real PostgreSQL (production/care/cost_gate.py, migration 018):
50 concurrent checks against a budget that holds 10, the tenant's local day, tenant isolation,
recency and saturation from the stored facts, the settlement, the audit and the metric."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from prometheus_client import REGISTRY

from production.care import cost_gate
from production.config import BudgetSettings, Settings
from production.database.pool import Pool, create_pool
from production.database.queries import cost_gate as queries
from production.domain.errors import NotFound
from production.domain.proactive.cost import CostDecision, CostVerdict
from production.domain.proactive.cost_gate import (
    BUDGET_SPENT,
    RECENT,
    REPLY_TRIGGER,
    SATURATED,
    WITHIN_BUDGET,
    Tier,
    TierPolicy,
)
from production.metrics import COST_GATE_DECISIONS

DAY = datetime(2030, 3, 12, 10, 0, tzinfo=UTC)  # a given day, whatever the suite runs on
TRIGGER = "stalled_ticket"


def budgeted(settings: Settings, *, tokens: int, share: float = 1.0, recency_s: float = 3_600,
             max_pending: int = 3, tier: Tier = Tier.STANDARD) -> Settings:
    """The test settings with `tier` allowed `tokens` a day (the cost cap out of the way)."""
    policy = TierPolicy(daily_tokens=tokens, daily_cost_usd=1_000.0, proactive_share=share,
                        recency_s=recency_s, max_pending=max_pending)
    budget = BudgetSettings(tiers={tier: policy})
    return settings.model_copy(update={"budget": budget})


async def new_tenant(pool: Pool, *, tier: str = "standard", timezone: str = "UTC") -> str:
    tenant = f"cg-{uuid.uuid4().hex[:10]}"
    async with pool.acquire() as conn:
        await conn.execute("INSERT INTO tenants (id, name, timezone, model_tier)"
                           " VALUES ($1, $2, $3, $4)", tenant, f"Tenant {tenant}", timezone, tier)
    return tenant


async def check(pool: Pool, settings: Settings, tenant: str, *, customer: UUID | None = None,
                trigger: str = TRIGGER, tokens: int = 1_000,
                now: datetime = DAY) -> CostVerdict:
    async with pool.acquire() as conn:
        return await cost_gate.check(conn=conn, settings=settings, tenant_id=tenant,
                                     customer_id=customer or uuid.uuid4(), trigger=trigger,
                                     estimated_tokens=tokens, now=now)


async def used(pool: Pool, tenant: str, now: datetime = DAY) -> int:
    async with pool.acquire() as conn:
        return await queries.tokens_of_day(conn, tenant, now=now)


async def decisions(pool: Pool, tenant: str) -> list[dict[str, Any]]:
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT * FROM care_cost_decisions WHERE tenant_id = $1"
                                " ORDER BY id", tenant)
    return [dict(row) for row in rows]


def counted(decision: str, reason: str) -> float:
    value = REGISTRY.get_sample_value(COST_GATE_DECISIONS.name,
                                      {"decision": decision, "reason": reason})
    return 0.0 if value is None else value


async def test_fifty_concurrent_checks_against_a_budget_of_ten_allow_exactly_ten(
    settings: Settings, pool: Pool
) -> None:
    tenant = await new_tenant(pool)
    budget = budgeted(settings, tokens=10_000)
    before = counted("ALLOW", WITHIN_BUDGET), counted("DEFER", BUDGET_SPENT)
    # 50 connections of their own, each released at once: the reservations really race.
    racers = await create_pool(settings, min_size=50, max_size=50)
    holding: list[int] = []
    start = asyncio.Event()

    async def one() -> CostVerdict:
        async with racers.acquire() as conn:
            holding.append(1)
            if len(holding) == 50:
                start.set()  # the last one in: every check holds its connection now
            await start.wait()
            return await cost_gate.check(conn=conn, settings=budget, tenant_id=tenant,
                                         customer_id=uuid.uuid4(), trigger=TRIGGER,
                                         estimated_tokens=1_000, now=DAY)

    try:
        verdicts = await asyncio.gather(*(one() for _ in range(50)))
    finally:
        await racers.close()

    allowed = [v for v in verdicts if v.allowed]
    assert len(allowed) == 10
    assert all(v == CostVerdict(CostDecision.DEFER, BUDGET_SPENT, datetime(2030, 3, 13,
                                                                           tzinfo=UTC))
               for v in verdicts if not v.allowed)
    assert await used(pool, tenant) == 10_000  # never a token past the cap
    rows = await decisions(pool, tenant)
    assert len(rows) == 50 and sum(r["decision"] == "ALLOW" for r in rows) == 10
    assert counted("ALLOW", WITHIN_BUDGET) - before[0] == 10
    assert counted("DEFER", BUDGET_SPENT) - before[1] == 40


async def test_uneven_concurrent_estimates_never_pass_the_cap(
    settings: Settings, pool: Pool
) -> None:
    tenant = await new_tenant(pool)
    budget = budgeted(settings, tokens=25_000)
    estimates = [700 + (i * 379) % 2_300 for i in range(50)]
    verdicts = await asyncio.gather(*(check(pool, budget, tenant, tokens=n) for n in estimates))
    spent = sum(n for n, v in zip(estimates, verdicts, strict=True) if v.allowed)
    assert spent == await used(pool, tenant) <= 25_000
    # What was refused would not have fitted in what was left.
    assert all(n > 25_000 - spent for n, v in zip(estimates, verdicts, strict=True)
               if not v.allowed)


async def test_another_tenants_usage_never_counts(settings: Settings, pool: Pool) -> None:
    spender, other = await new_tenant(pool), await new_tenant(pool)
    budget = budgeted(settings, tokens=3_000)
    assert (await check(pool, budget, spender, tokens=3_000)).allowed
    assert (await check(pool, budget, spender, tokens=1)).reason == BUDGET_SPENT
    assert (await check(pool, budget, other, tokens=3_000)).allowed
    assert (await used(pool, spender), await used(pool, other)) == (3_000, 3_000)
    [first_other] = await decisions(pool, other)
    assert first_other["tokens_used"] == 0  # it never saw the spender's tokens


async def test_the_budget_is_the_tenants_local_day(settings: Settings, pool: Pool) -> None:
    tenant = await new_tenant(pool, timezone="Asia/Tokyo")  # UTC+9, no DST
    budget = budgeted(settings, tokens=1_000)
    late = datetime(2030, 3, 12, 14, 30, tzinfo=UTC)  # 23:30 in Tokyo, on the 12th
    assert (await check(pool, budget, tenant, now=late)).allowed
    spent = await check(pool, budget, tenant, now=late + timedelta(minutes=1))
    # Deferred to midnight in Tokyo: 15:00 UTC, not the UTC midnight.
    assert spent == CostVerdict(CostDecision.DEFER, BUDGET_SPENT,
                                datetime(2030, 3, 12, 15, 0, tzinfo=UTC))
    assert (await check(pool, budget, tenant, now=late + timedelta(hours=1))).allowed  # the 13th
    [*_, row] = await decisions(pool, tenant)
    assert str(row["day"]) == "2030-03-13"


async def test_the_same_trigger_lately_is_skipped_from_the_stored_decisions(
    settings: Settings, pool: Pool
) -> None:
    tenant, customer = await new_tenant(pool), uuid.uuid4()
    budget = budgeted(settings, tokens=100_000, recency_s=3_600)
    assert (await check(pool, budget, tenant, customer=customer)).allowed
    again = await check(pool, budget, tenant, customer=customer, now=DAY + timedelta(minutes=30))
    assert again == CostVerdict(CostDecision.SKIP, RECENT)
    assert (await check(pool, budget, tenant, customer=customer, trigger="silence",
                        now=DAY + timedelta(minutes=30))).allowed  # another trigger
    assert (await check(pool, budget, tenant, customer=customer,
                        now=DAY + timedelta(hours=1))).allowed  # the window passed
    assert await used(pool, tenant) == 3_000  # the SKIP reserved nothing


async def test_a_customer_with_pending_proposals_is_deferred(
    settings: Settings, pool: Pool
) -> None:
    tenant = await new_tenant(pool)
    budget = budgeted(settings, tokens=100_000, max_pending=2)
    async with pool.acquire() as conn:
        customer = await conn.fetchval("INSERT INTO customers (tenant_id, name) VALUES ($1, 'C')"
                                       " RETURNING id", tenant)
        for expires in (DAY + timedelta(days=1), DAY + timedelta(days=2),
                        DAY - timedelta(hours=1)):  # the last one has expired: not counted
            await conn.execute(
                "INSERT INTO care_proposals (tenant_id, customer_id, action, draft, created_at,"
                " expires_at) VALUES ($1, $2, 'follow_up_task', 'x', $3, $4)",
                tenant, customer, DAY - timedelta(days=1), expires)
    verdict = await check(pool, budget, tenant, customer=customer)
    assert verdict == CostVerdict(CostDecision.DEFER, SATURATED,
                                  DAY + timedelta(seconds=budget.budget.saturation_retry_s))
    [row] = await decisions(pool, tenant)
    assert (row["pending"], row["decision"], row["reason"]) == (2, "DEFER", SATURATED)
    # The reply path is a customer waiting: never saturated.
    assert (await check(pool, budget, tenant, customer=customer, trigger=REPLY_TRIGGER)).allowed


async def test_the_tier_sets_the_cap_and_the_proactive_share(
    settings: Settings, pool: Pool
) -> None:
    free = await new_tenant(pool, tier="free")
    budget = budgeted(settings, tokens=4_000, share=0.25, tier=Tier.FREE)
    assert (await check(pool, budget, free, tokens=1_000)).allowed
    assert (await check(pool, budget, free, tokens=1)).reason == BUDGET_SPENT  # a quarter
    assert (await check(pool, budget, free, trigger=REPLY_TRIGGER, tokens=3_000)).allowed
    [*_, row] = await decisions(pool, free)
    assert (row["tier"], row["token_limit"], row["tokens_used"]) == ("free", 4_000, 1_000)
    standard = await new_tenant(pool)  # the same settings: its own tier's default cap
    assert (await check(pool, budget, standard, tokens=50_000)).allowed


async def test_settle_corrects_the_reservation_to_what_the_run_used(
    settings: Settings, pool: Pool
) -> None:
    tenant = await new_tenant(pool)
    budget = budgeted(settings, tokens=5_000)
    assert (await check(pool, budget, tenant, tokens=4_000)).allowed
    async with pool.acquire() as conn:
        # The run ended after midnight: settled on the reservation's day (the `now` of check).
        assert await cost_gate.settle(conn=conn, tenant_id=tenant, reserved_tokens=4_000,
                                      actual_tokens=1_200, now=DAY) == 1_200
        with pytest.raises(ValueError):
            await cost_gate.settle(conn=conn, tenant_id=tenant, reserved_tokens=-1,
                                   actual_tokens=0, now=DAY)
        assert await cost_gate.settle(conn=conn, tenant_id=tenant, reserved_tokens=10,
                                      actual_tokens=0, now=DAY + timedelta(days=9)) is None
    assert (await check(pool, budget, tenant, tokens=3_800)).allowed  # the room came back
    assert await used(pool, tenant) == 5_000


async def test_the_audit_is_append_only_and_an_unknown_tenant_is_not_found(
    settings: Settings, pool: Pool
) -> None:
    tenant = await new_tenant(pool)
    await check(pool, settings, tenant)
    [row] = await decisions(pool, tenant)
    assert row["decided_at"] == DAY and row["estimated_cost_usd"] == pytest.approx(0.0003)
    async with pool.acquire() as conn:
        with pytest.raises(Exception, match="append-only"):
            await conn.execute("DELETE FROM care_cost_decisions WHERE tenant_id = $1", tenant)
    with pytest.raises(NotFound):
        await check(pool, settings, "no-such-tenant")
    with pytest.raises(ValueError):
        await check(pool, settings, tenant, tokens=0)
