"""Tickets: the customer-visible record of a request, numbered TKT-<digits>."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from production.database.pool import Connection


async def create(
    conn: Connection, tenant_id: str, *, customer_id: UUID, conversation_id: UUID,
    source_channel: str, source_message_id: UUID, subject: str | None, category: str,
    priority: str,
) -> tuple[UUID, str, datetime]:
    """Open a ticket for a source message (once: a second call returns the first ticket)."""
    row = await conn.fetchrow(
        """
        INSERT INTO tickets (tenant_id, customer_id, conversation_id, source_channel,
                             source_message_id, subject, category, priority)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (tenant_id, source_message_id) DO UPDATE SET updated_at = tickets.updated_at
        RETURNING id, ticket_number, created_at
        """,
        tenant_id,
        customer_id,
        conversation_id,
        source_channel,
        source_message_id,
        subject,
        category,
        priority,
    )
    assert row is not None
    return row["id"], row["ticket_number"], row["created_at"]


async def get_by_number(conn: Connection, tenant_id: str, number: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        """
        SELECT id, ticket_number, status, category, priority, source_channel, subject,
               escalation_reason, created_at, updated_at, resolved_at
        FROM tickets WHERE tenant_id = $1 AND ticket_number = $2
        """,
        tenant_id,
        number,
    )
    return dict(row) if row else None


async def get_number(conn: Connection, tenant_id: str, ticket_id: UUID) -> str | None:
    number: str | None = await conn.fetchval(
        "SELECT ticket_number FROM tickets WHERE tenant_id = $1 AND id = $2", tenant_id, ticket_id
    )
    return number


async def escalate(conn: Connection, tenant_id: str, number: str, reason: str, *,
                   now: datetime) -> UUID | None:
    """Mark the ticket escalated and audit it at `now` (caller's transaction); return its
    customer's id, or None if there is no such ticket."""
    row = await conn.fetchrow(
        """
        UPDATE tickets SET status = 'escalated', escalation_reason = $3, updated_at = $4
        WHERE tenant_id = $1 AND ticket_number = $2
        RETURNING id, customer_id, source_message_id
        """,
        tenant_id, number, reason, now,
    )
    if row is None:
        return None
    await conn.execute(
        """
        INSERT INTO care_audit (tenant_id, event_type, actor, reason, policy_clause,
                                customer_id, message_id, payload, created_at)
        VALUES ($1, 'would_escalate', 'fte-mcp', $2, 'PR3.escalation_detector', $3, $4,
                jsonb_build_object('ticket_id', $5::uuid), $6)
        """,
        tenant_id, reason, row["customer_id"], row["source_message_id"], row["id"], now,
    )
    customer_id: UUID = row["customer_id"]
    return customer_id
