"""What a suggestion reads before it is proposed (the customer, their open tickets, the channel
they last wrote on) and what its actions change: a ticket's priority, a message to the
customer. Internal notes, tasks and drafts are care_tasks rows (care_schedule.create_task)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from production.database.pool import Connection


@dataclass(frozen=True)
class OpenTicket:
    id: UUID
    ticket_number: str
    priority: str
    status: str
    subject: str | None


@dataclass(frozen=True)
class CustomerContext:
    name: str | None
    channel: str | None
    tickets: list[OpenTicket]


async def context(conn: Connection, *, tenant_id: str, customer_id: UUID,
                  limit: int = 10) -> CustomerContext | None:
    """Return the customer's name, latest conversation's channel and open tickets (oldest
    first); None when the customer is not the tenant's."""
    row = await conn.fetchrow(
        """
        SELECT c.name,
               (SELECT v.current_channel FROM conversations v
                WHERE v.tenant_id = c.tenant_id AND v.customer_id = c.id
                ORDER BY v.last_message_at DESC LIMIT 1) AS channel
        FROM customers c WHERE c.tenant_id = $1 AND c.id = $2
        """,
        tenant_id, customer_id)
    if row is None:
        return None
    tickets = await conn.fetch(
        """
        SELECT id, ticket_number, priority, status, subject FROM tickets
        WHERE tenant_id = $1 AND customer_id = $2 AND status NOT IN ('resolved', 'closed')
        ORDER BY created_at LIMIT $3
        """,
        tenant_id, customer_id, limit)
    return CustomerContext(row["name"], row["channel"], [OpenTicket(**t) for t in tickets])


async def lock_ticket(conn: Connection, *, tenant_id: str, ticket_id: UUID) -> OpenTicket | None:
    row = await conn.fetchrow(
        "SELECT id, ticket_number, priority, status, subject FROM tickets"
        " WHERE tenant_id = $1 AND id = $2 FOR UPDATE", tenant_id, ticket_id)
    return None if row is None else OpenTicket(**row)


async def set_priority(conn: Connection, *, tenant_id: str, ticket_id: UUID, priority: str,
                       now: datetime) -> None:
    await conn.execute(
        "UPDATE tickets SET priority = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2",
        tenant_id, ticket_id, priority, now)


async def write_outreach(conn: Connection, *, tenant_id: str, customer_id: UUID, content: str,
                         subject: str, approved_by: str, suggestion_id: UUID,
                         now: datetime) -> tuple[UUID, str] | None:
    """Write an approved message to the customer, queued, in their latest conversation and on
    its channel; return (message id, channel), or None when they have no conversation."""
    row = await conn.fetchrow(
        """
        WITH v AS (SELECT id, current_channel FROM conversations
                   WHERE tenant_id = $1 AND customer_id = $2
                   ORDER BY last_message_at DESC LIMIT 1)
        INSERT INTO messages (tenant_id, conversation_id, customer_id, channel, direction, role,
                              content, subject, status, metadata, created_at)
        SELECT $1, v.id, $2, v.current_channel, 'outbound', 'agent', $3, $4, 'queued',
               jsonb_build_object('kind', 'outreach', 'approved_by', $5::text,
                                  'suggestion_id', $6::text), $7
        FROM v RETURNING id, channel
        """,
        tenant_id, customer_id, content, subject, approved_by, str(suggestion_id), now)
    return None if row is None else (row["id"], row["channel"])
