"""Building suggestion situations in a real database: a customer with a conversation and an
open ticket, a stalled-ticket firing stored as the triggers' sweep stores it (insert_firing),
cost gates that answer each verdict, and what the pipeline then wrote."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from production.config import Settings
from production.database.pool import Connection, Pool
from production.database.queries import proactive, tickets
from production.domain.proactive.cost import CostDecision, CostVerdict
from production.domain.proactive.firing import Firing, TriggerName
from production.services.suggestions import pipeline
from tests.integration.care_world import customer_writes


@dataclass(frozen=True)
class Customer:
    tenant_id: str
    customer_id: UUID
    ticket_id: UUID
    ticket_number: str


async def customer_with_ticket(pool: Pool, tenant: str, *, priority: str = "medium",
                               channel: str = "email") -> Customer:
    """A customer who wrote (customer, conversation, message) and the ticket opened for it."""
    inbound = await customer_writes(pool, tenant, channel=channel,
                                    content="The CSV export fails every time.")
    async with pool.acquire() as conn:
        conversation = await conn.fetchval(
            "SELECT conversation_id FROM messages WHERE tenant_id = $1 AND id = $2",
            tenant, inbound.message_id)
        ticket_id, number, _ = await tickets.create(
            conn, tenant, customer_id=inbound.customer_id, conversation_id=conversation,
            source_channel=channel, source_message_id=inbound.message_id,
            subject="Export fails", category="technical", priority=priority)
    return Customer(tenant, inbound.customer_id, ticket_id, number)


async def fire(pool: Pool, who: Customer, *, now: datetime, trigger: str = "stalled_ticket",
               event: str = "first_response", window: str | None = None,
               facts: dict[str, Any] | None = None, priority: str = "medium") -> UUID:
    """Store a firing for the customer as a trigger sweep does; return its id."""
    firing = Firing(
        trigger=TriggerName(trigger), version=1, customer_id=who.customer_id,
        window_key=window or f"ticket:{who.ticket_id}:{event}:{uuid.uuid4().hex[:6]}",
        reason=f"{event.replace('_', ' ')} due 2h ago (priority {priority})",
        facts=facts if facts is not None else {
            "ticket_id": str(who.ticket_id), "ticket_number": who.ticket_number,
            "priority": priority, "sla_event": event,
            "due_at": (now - timedelta(hours=2)).isoformat()})
    async with pool.acquire() as conn:
        firing_id = await proactive.insert_firing(conn, tenant_id=who.tenant_id, firing=firing,
                                                  now=now)
    assert firing_id is not None
    return firing_id


def gate_of(decision: CostDecision, *, retry_in: timedelta = timedelta(hours=1),
            seen: list[dict[str, Any]] | None = None) -> pipeline.Gate:
    """A real gate function answering `decision` for every firing (and recording its asks)."""

    async def gate(*, conn: Connection, settings: Settings, tenant_id: str, customer_id: UUID,
                   trigger: str, estimated_tokens: int, now: datetime) -> CostVerdict:
        if seen is not None:
            seen.append({"tenant_id": tenant_id, "customer_id": customer_id,
                         "trigger": trigger, "estimated_tokens": estimated_tokens})
        return CostVerdict(decision, f"test_{decision.value.lower()}",
                           now + retry_in if decision is CostDecision.DEFER else None)

    return gate


ALLOW = gate_of(CostDecision.ALLOW)
LOCAL = pipeline.LocalProposer()


async def run(pool: Pool, settings: Settings, *, now: datetime,
              gate: pipeline.Gate = ALLOW, proposer: pipeline.Proposer = LOCAL,
              settle: pipeline.Settle | None = None) -> dict[str, int]:
    return dict(await pipeline.run_pass(pool=pool, settings=settings, gate=gate,
                                        proposer=proposer, now=now, settle=settle))


async def firing_row(pool: Pool, tenant: str, firing_id: UUID) -> dict[str, Any]:
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT decision, decided_at, retry_at FROM care_trigger_firings"
            " WHERE tenant_id = $1 AND id = $2", tenant, firing_id)
    assert row is not None
    return dict(row)


async def suggestions_of(pool: Pool, tenant: str) -> list[dict[str, Any]]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT * FROM care_suggestions WHERE tenant_id = $1 ORDER BY created_at, day_slot",
            tenant)
    return [dict(row) for row in rows]


async def tasks_of(pool: Pool, tenant: str) -> list[dict[str, Any]]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT kind, title, body, created_by, dedupe_key FROM care_tasks"
            " WHERE tenant_id = $1 ORDER BY created_at", tenant)
    return [dict(row) for row in rows]


async def audit_of(pool: Pool, tenant: str) -> list[dict[str, Any]]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT event_type, actor, policy_clause, customer_id, message_id, payload"
            " FROM care_audit WHERE tenant_id = $1 ORDER BY id", tenant)
    return [dict(row) for row in rows]


async def sent_to(pool: Pool, tenant: str) -> list[dict[str, Any]]:
    """The messages to customers the suggestions wrote, and their dispatcher events."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            """
            SELECT m.id, m.status, m.channel, m.content, m.metadata,
                   (SELECT count(*) FROM outbox o WHERE o.tenant_id = m.tenant_id
                    AND o.payload->'data'->>'message_id' = m.id::text) AS released
            FROM messages m WHERE m.tenant_id = $1 AND m.direction = 'outbound'
              AND m.metadata->>'kind' = 'outreach'
            """, tenant)
    return [dict(row) for row in rows]
