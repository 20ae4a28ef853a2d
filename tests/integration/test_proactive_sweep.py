"""The proactive layer against the real PostgreSQL: facts gathered from the product's own
tables, firings stored once whatever reruns and concurrent sweeps, an unchanged customer that
costs no recompute, signals, the health score stored with its history, and tenants kept apart.

Every test has a tenant of its own and sweeps only it, at instants it passes in."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from production.config import Settings
from production.database.pool import Connection, Pool
from production.database.queries import customer_health, perception, proactive, proactive_facts
from production.domain.proactive import triggers
from production.domain.proactive.assessment import Assessor
from production.domain.proactive.facts import (
    CandidateFacts,
    CustomerFacts,
    InboundFacts,
    PriorHealth,
    ReplyFacts,
    TaskFacts,
    TicketFacts,
)
from production.domain.proactive.firing import TriggerName
from production.services import proactive as service
from tests.integration.test_care_state import new_customer, new_tenant

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


async def conversation(conn: Connection, tenant: str, customer: UUID) -> UUID:
    found: UUID = await conn.fetchval(
        "INSERT INTO conversations (tenant_id, customer_id, initial_channel, current_channel)"
        " VALUES ($1, $2, 'web_form', 'web_form') RETURNING id", tenant, customer)
    return found


async def inbound(conn: Connection, tenant: str, customer: UUID, at: datetime, *,
                  sentiment: float | None = 0.5, ticket: UUID | None = None,
                  subject: str | None = None, reasons: tuple[str, ...] = ()) -> UUID:
    talk = await conversation(conn, tenant, customer)
    message: UUID = await conn.fetchval(
        "INSERT INTO messages (tenant_id, conversation_id, customer_id, ticket_id, channel,"
        " direction, role, content, subject, sentiment, status, created_at)"
        " VALUES ($1, $2, $3, $4, 'web_form', 'inbound', 'customer', 'hi', $5, $6,"
        " 'processed', $7) RETURNING id", tenant, talk, customer, ticket, subject, sentiment,
        at)
    await conn.execute(
        "INSERT INTO agent_metrics (tenant_id, message_id, metric_name, metric_value,"
        " dimensions, recorded_at) VALUES ($1, $2, 'escalated', $3, $4, $5)", tenant, message,
        float(bool(reasons)), {"escalation_reasons": list(reasons), "kb_topic": None}, at)
    return message


async def reply(conn: Connection, tenant: str, customer: UUID, at: datetime, text: str) -> UUID:
    talk = await conversation(conn, tenant, customer)
    message: UUID = await conn.fetchval(
        "INSERT INTO messages (tenant_id, conversation_id, customer_id, channel, direction,"
        " role, content, status, created_at) VALUES ($1, $2, $3, 'web_form', 'outbound',"
        " 'agent', $4, 'delivered', $5) RETURNING id", tenant, talk, customer, text, at)
    return message


async def open_ticket(conn: Connection, tenant: str, customer: UUID, at: datetime, *,
                      priority: str = "high", category: str = "general") -> UUID:
    talk = await conversation(conn, tenant, customer)
    ticket: UUID = await conn.fetchval(
        "INSERT INTO tickets (tenant_id, customer_id, conversation_id, source_channel, priority,"
        " category, created_at, updated_at) VALUES ($1, $2, $3, 'web_form', $4, $5, $6, $6)"
        " RETURNING id", tenant, customer, talk, priority, category, at)
    return ticket


async def firings(pool: Pool, tenant: str, customer: UUID) -> list[tuple[str, str]]:
    async with pool.acquire() as conn:
        stored = await proactive.firings_of(conn, tenant_id=tenant, customer_id=customer)
    return sorted((f.trigger, f.window_key) for f in stored)


async def make_due(pool: Pool, tenant: str) -> None:
    async with pool.acquire() as conn:
        await conn.execute("UPDATE care_perception SET next_look_at = '-infinity'"
                           " WHERE tenant_id = $1", tenant)


async def sweep(pool: Pool, settings: Settings, tenant: str, now: datetime,
                **kwargs: Any) -> service.SweepReport:
    return await service.sweep_tenant(pool=pool, settings=settings, assessor=Assessor(
        settings.proactive.rules()), tenant_id=tenant, now=now, **kwargs)


async def test_a_stalled_ticket_fires_once_across_reruns_and_concurrent_sweeps(
        pool: Pool, settings: Settings, now: datetime) -> None:
    tenant = await new_tenant(pool)
    customer = await new_customer(pool, tenant)
    async with pool.acquire() as conn:
        ticket = await open_ticket(conn, tenant, customer, now - 5 * HOUR)  # high: 4 h
        await inbound(conn, tenant, customer, now - 5 * HOUR, ticket=ticket)
    first = await sweep(pool, settings, tenant, now)
    assert (first.enrolled, first.looked, first.recomputed, first.firings) == (1, 1, 1, 1)
    assert await firings(pool, tenant, customer) == [
        ("stalled_ticket", f"ticket:{ticket}:first_response")]
    # Looked at just now: the next sweep finds nobody due.
    assert (await sweep(pool, settings, tenant, now + HOUR / 6)).looked == 0
    # Due again (a lost lease, a replica): two sweeps at once look at it once, fire nothing.
    await make_due(pool, tenant)
    both = await asyncio.gather(*(sweep(pool, settings, tenant, now + HOUR) for _ in range(2)))
    assert sum(r.looked for r in both) == 1 and sum(r.firings for r in both) == 0
    # A day later the resolution SLA (72 h) is still ahead; three days later it fires, once.
    await make_due(pool, tenant)
    assert (await sweep(pool, settings, tenant, now + 25 * HOUR)).firings == 0
    await make_due(pool, tenant)
    later = await sweep(pool, settings, tenant, now + 3 * DAY)
    assert later.by_trigger == {"stalled_ticket": 1}
    assert [key for _, key in await firings(pool, tenant, customer)] == [
        f"ticket:{ticket}:first_response", f"ticket:{ticket}:resolution"]


async def test_two_looks_at_the_same_customers_at_once_store_each_firing_once(
        pool: Pool, settings: Settings, now: datetime) -> None:
    tenant = await new_tenant(pool)
    customers = [await new_customer(pool, tenant) for _ in range(3)]
    async with pool.acquire() as conn:
        for customer in customers:
            await open_ticket(conn, tenant, customer, now - 6 * DAY, priority="medium")
        await perception.enroll_new(conn, tenant_id=tenant)
    claimed = [perception.Claimed(customer_id=c, facts_hash=None, stale_at=None,
                                  evaluated_at=None) for c in customers]
    assessor = Assessor(settings.proactive.rules())

    async def look() -> service.SweepReport:
        async with pool.acquire() as conn, conn.transaction():
            return await service.look_at(conn=conn, assessor=assessor, tenant_id=tenant,
                                         claimed=claimed, now=now)

    reports = await asyncio.gather(look(), look())
    assert sum(r.firings for r in reports) == 6  # first response + resolution, 3 customers
    for customer in customers:
        assert len(await firings(pool, tenant, customer)) == 2


async def test_an_unchanged_customer_recomputes_nothing_and_a_change_recomputes(
        pool: Pool, settings: Settings, now: datetime) -> None:
    tenant = await new_tenant(pool)
    customer = await new_customer(pool, tenant)
    async with pool.acquire() as conn:
        await inbound(conn, tenant, customer, now - 2 * DAY, sentiment=0.6)
    await sweep(pool, settings, tenant, now)
    async with pool.acquire() as conn:
        stored = await customer_health.current(conn, tenant_id=tenant, customer_id=customer)
    assert stored is not None and stored.computed_at == now and stored.band == "good"
    await make_due(pool, tenant)
    unchanged = await sweep(pool, settings, tenant, now + HOUR)
    assert (unchanged.looked, unchanged.recomputed, unchanged.unchanged) == (1, 0, 1)
    async with pool.acquire() as conn:
        same = await customer_health.current(conn, tenant_id=tenant, customer_id=customer)
        await open_ticket(conn, tenant, customer, now - 3 * DAY, priority="low")
        await service.signal(conn, tenant_id=tenant, customer_id=customer, at=now + 2 * HOUR)
    assert same == stored
    # The signal alone brings the customer forward, and the new ticket is a change.
    signalled = await sweep(pool, settings, tenant, now + 2 * HOUR, signalled_only=True)
    assert (signalled.looked, signalled.recomputed) == (1, 1)
    async with pool.acquire() as conn:
        points = await customer_health.history(conn, tenant_id=tenant, customer_id=customer)
        plan = await perception.plan_of(conn, tenant_id=tenant, customer_id=customer)
    assert [p.computed_at for p in points] == [now, now + 2 * HOUR]
    assert points[1].score < points[0].score
    assert plan is not None and plan.next_look_at > now + 2 * HOUR
    assert (await sweep(pool, settings, tenant, now + 2 * HOUR, signalled_only=True)).looked == 0


async def test_the_facts_come_from_the_products_own_tables(
        pool: Pool, settings: Settings, now: datetime) -> None:
    tenant = await new_tenant(pool)
    customer, other = await new_customer(pool, tenant), await new_customer(pool, tenant)
    async with pool.acquire() as conn:
        sync = await open_ticket(conn, tenant, customer, now - 3 * DAY, priority="low",
                                 category="sync")
        for ago, mood in ((3 * DAY, 0.7), (2 * DAY, 0.5), (HOUR * 30, 0.3)):
            await inbound(conn, tenant, customer, now - ago, sentiment=mood, ticket=sync)
        asked = await inbound(conn, tenant, customer, now - HOUR, sentiment=0.2,
                              reasons=("pricing_or_contract",))
        promised = await reply(conn, tenant, customer, now - 3 * DAY,
                               "A teammate will get back to you soon.")
        await reply(conn, tenant, customer, now - 3 * DAY + HOUR, "Here is how to sync.")
        task: UUID = await conn.fetchval(
            "INSERT INTO care_tasks (tenant_id, customer_id, kind, title, created_by,"
            " created_at, due_at) VALUES ($1, $2, 'follow_up_task', 'Call back', 'ops', $3, $4)"
            " RETURNING id", tenant, customer, now - 2 * DAY, now - HOUR)
        merge: UUID = await conn.fetchval(
            "INSERT INTO customer_merges (tenant_id, survivor_id, merged_id, status, reason,"
            " actor, created_at) VALUES ($1, $2, $3, 'candidate', 'shared phone', 'fte', $4)"
            " RETURNING id", tenant, customer, other, now - DAY)
        await conn.execute(
            "INSERT INTO customer_care_state (tenant_id, entity_type, entity_id, care_state,"
            " last_signal_at) VALUES ($1, 'contact', $2, 'reactivated', $3)",
            tenant, customer, now - HOUR)
        await conn.execute(
            "INSERT INTO customer_care_state_history (tenant_id, entity_type, entity_id,"
            " from_state, to_state, reason, actor, created_at)"
            " VALUES ($1, 'contact', $2, 'dormant', 'reactivated', 'wrote', 'fte', $3)",
            tenant, customer, now - HOUR)
        [facts] = await proactive_facts.gather(conn, tenant_id=tenant, customer_ids=[customer],
                                               now=now)
        assert await proactive_facts.gather(conn, tenant_id="someone-else",
                                            customer_ids=[customer], now=now) == []
    assert [m.topic for m in facts.recent] == ["sync", "sync", "sync", None]
    assert facts.recent[-1].sales_question and not facts.recent[0].sales_question
    assert facts.last_reply is not None and facts.last_reply.text == "Here is how to sync."
    assert [t.task_id for t in facts.tasks] == [task]
    assert [c.merge_id for c in facts.candidates] == [merge]
    assert (facts.care_state, facts.state_from) == ("reactivated", "dormant")
    assert facts.inbound_30d == 4 and facts.last_inbound_at == now - HOUR
    report = await sweep(pool, settings, tenant, now)
    fired = dict(await firings(pool, tenant, customer))
    assert fired == {
        "duplicate_customer": f"candidate:{merge}", "promise_not_kept": f"task:{task}",
        "stalled_ticket": f"ticket:{sync}:first_response",
        "reactivated": f"reactivated:{(now - HOUR).isoformat()}",
        "repeat_contact": f"topic:sync:{facts.recent[2].message_id}",
        "sales_signal": f"message:{asked}",
        "sentiment_falling": f"message:{asked}",
    }
    # The promise was followed by another reply: kept.
    assert f"reply:{promised}" not in fired.values() and report.firings == 7


def _per_trigger(customer: UUID, now: datetime) -> dict[TriggerName, CustomerFacts]:
    base = CustomerFacts(tenant_id="t", customer_id=customer, created_at=now - 90 * DAY,
                         last_inbound_at=now - DAY)
    falling = tuple(InboundFacts(uuid4(), now - d * DAY, s, "sync")
                    for d, s in ((3, 0.8), (2, 0.5), (1, 0.2)))
    return {
        TriggerName.STALLED_TICKET: replace(base, tickets=(TicketFacts(
            uuid4(), "TKT-1", "urgent", "open", now - 2 * HOUR),)),
        TriggerName.PROMISE_NOT_KEPT: replace(base, last_reply=ReplyFacts(
            uuid4(), now - 3 * DAY, "human", "I will call you tomorrow."), tasks=(TaskFacts(
                uuid4(), "Send the invoice", now - 5 * DAY),)),
        TriggerName.SENTIMENT_FALLING: replace(base, recent=falling),
        TriggerName.REPEAT_CONTACT: replace(base, recent=falling),
        TriggerName.CHURN_RISK: replace(base, last_inbound_at=now - 80 * DAY,
                                        escalation_open=True, negative_outcomes_90d=4,
                                        prior=PriorHealth(70, "good", "low", now - DAY)),
        TriggerName.SILENCE: replace(base, care_state="dormant", state_changed_at=now - DAY),
        TriggerName.REACTIVATED: replace(base, care_state="reactivated",
                                         state_changed_at=now - HOUR),
        TriggerName.DUPLICATE_CUSTOMER: replace(base, candidates=(CandidateFacts(
            uuid4(), uuid4(), now - DAY, "shared phone"),)),
        TriggerName.SALES_SIGNAL: replace(base, recent=(InboundFacts(
            uuid4(), now - HOUR, 0.5, None, sales_question=True),)),
    }


# The per-trigger facts are pure (only the customer is a row): an instant of their own.
FIXED = datetime(2026, 12, 4, 12, tzinfo=UTC)


@pytest.mark.parametrize("name", list(TriggerName))
async def test_each_trigger_fires_twice_but_is_stored_once_through_insert_firing(
        pool: Pool, name: TriggerName) -> None:
    tenant = await new_tenant(pool)
    customer = await new_customer(pool, tenant)
    facts = _per_trigger(customer, FIXED)[name]
    [trigger] = [t for t in triggers.registry() if t.name == name]
    first, rerun = (triggers.fire([trigger], facts, at) for at in (FIXED, FIXED + HOUR))
    assert first and [f.window_key for f in first] == [f.window_key for f in rerun]
    async with pool.acquire() as conn:
        ids = [await proactive.insert_firing(conn, tenant_id=tenant, firing=f, now=FIXED)
               for f in first]
        again = [await proactive.insert_firing(conn, tenant_id=tenant, firing=f,
                                               now=FIXED + HOUR) for f in rerun]
    assert all(ids) and again == [None] * len(rerun)
    assert len(await firings(pool, tenant, customer)) == len(first)


async def test_a_sweep_of_one_tenant_touches_no_other_tenants_customers(
        pool: Pool, settings: Settings, now: datetime) -> None:
    mine, theirs = await new_tenant(pool), await new_tenant(pool)
    customer = await new_customer(pool, theirs)
    async with pool.acquire() as conn:
        await open_ticket(conn, theirs, customer, now - 2 * DAY)
        await service.signal(conn, tenant_id=theirs, customer_id=customer, at=now)
    report = await sweep(pool, settings, mine, now)
    assert (report.looked, report.firings) == (0, 0)
    assert await firings(pool, theirs, customer) == []
    async with pool.acquire() as conn:
        assert await customer_health.current(conn, tenant_id=theirs,
                                             customer_id=customer) is None
        assert await customer_health.current(conn, tenant_id=mine, customer_id=customer) is None


async def test_under_the_cap_every_due_customer_gets_its_turn(
        pool: Pool, settings: Settings, now: datetime) -> None:
    tenant = await new_tenant(pool)
    customers = sorted([await new_customer(pool, tenant) for _ in range(5)])
    seen: list[UUID] = []
    for _ in range(3):  # a cap of 2: three passes look at all five, none twice
        before = await looked_at(pool, tenant)
        report = await sweep(pool, settings, tenant, now, cap=2)
        assert report.looked <= 2
        seen += sorted(set(await looked_at(pool, tenant)) - set(before))
    assert sorted(seen) == customers and len(seen) == 5
    assert (await sweep(pool, settings, tenant, now, cap=2)).looked == 0  # nobody due now


async def looked_at(pool: Pool, tenant: str) -> list[UUID]:
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT customer_id FROM care_perception"
                                " WHERE tenant_id = $1 AND looked_at IS NOT NULL", tenant)
    return [row["customer_id"] for row in rows]
