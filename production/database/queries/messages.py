"""Messages in both directions, with the inbound-dedupe key and the one-reply rule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from production.database.pool import Connection

Row = asyncpg.Record


_INBOUND_COLUMNS = """
    m.id, m.tenant_id, m.conversation_id, m.customer_id, m.ticket_id, m.channel, m.content,
    m.subject, m.external_id, m.request_hash, m.status, m.created_at, m.attempts,
    c.name AS customer_name, t.ticket_number
"""


@dataclass(frozen=True)
class LockedInbound:
    """An inbound message, locked for the transaction that reads it, with its sender's name and
    its ticket's number."""

    id: UUID
    tenant_id: str
    conversation_id: UUID
    customer_id: UUID
    ticket_id: UUID | None
    channel: str
    content: str
    subject: str | None
    external_id: str | None
    request_hash: str | None
    status: str
    created_at: datetime
    attempts: int
    customer_name: str | None
    ticket_number: str | None


async def lock_inbound(conn: Connection, tenant_id: str,
                       message_id: UUID) -> LockedInbound | None:
    """Return the inbound message locked for this transaction (serializes duplicate work)."""
    row = await conn.fetchrow(
        f"""
        SELECT {_INBOUND_COLUMNS}
        FROM messages m JOIN customers c ON c.id = m.customer_id
        LEFT JOIN tickets t ON t.id = m.ticket_id
        WHERE m.tenant_id = $1 AND m.id = $2 AND m.direction = 'inbound'
        FOR UPDATE OF m
        """,  # noqa: S608 - a constant column list, values are parameters
        tenant_id,
        message_id,
    )
    return None if row is None else LockedInbound(**row)


async def set_ticket(conn: Connection, tenant_id: str, message_id: UUID, ticket_id: UUID) -> None:
    await conn.execute(
        "UPDATE messages SET ticket_id = $3 WHERE tenant_id = $1 AND id = $2",
        tenant_id,
        message_id,
        ticket_id,
    )


@dataclass(frozen=True)
class VisibleMessage:
    """A message the customer may see on their ticket."""

    id: UUID
    direction: str
    role: str
    channel: str
    content: str
    status: str
    created_at: datetime
    delivered_at: datetime | None


async def visible_for_ticket(conn: Connection, tenant_id: str,
                             ticket_id: UUID) -> list[VisibleMessage]:
    """Return what the customer may see on a ticket: their messages and delivered replies."""
    rows = await conn.fetch(
        """
        SELECT id, direction, role, channel, content, status, created_at, delivered_at
        FROM messages
        WHERE tenant_id = $1 AND ticket_id = $2
          AND (direction = 'inbound' OR status = 'delivered')
        ORDER BY created_at, direction
        """,
        tenant_id,
        ticket_id,
    )
    return [VisibleMessage(**row) for row in rows]


@dataclass(frozen=True)
class HistoryMessage:
    """One of a customer's latest messages, on any channel."""

    id: UUID
    channel: str
    direction: str
    role: str
    content: str
    subject: str | None
    created_at: datetime


async def customer_history(
    conn: Connection, tenant_id: str, customer_id: UUID, *, limit: int = 20
) -> list[HistoryMessage]:
    """Return the customer's latest messages across all channels, oldest first."""
    rows = await conn.fetch(
        """
        SELECT * FROM (
            SELECT id, channel, direction, role, content, subject, created_at
            FROM messages
            WHERE tenant_id = $1 AND customer_id = $2
              AND status NOT IN ('pending_approval', 'rejected')
            ORDER BY created_at DESC LIMIT $3
        ) latest ORDER BY created_at
        """,
        tenant_id,
        customer_id,
        limit,
    )
    return [HistoryMessage(**row) for row in rows]


@dataclass(frozen=True)
class StaleInbound:
    """An inbound message accepted but never processed, with its sender, for the sweeper to
    queue again."""

    id: UUID
    channel: str
    external_id: str | None
    content: str
    subject: str | None
    metadata: dict[str, Any]
    created_at: datetime
    ticket_id: UUID | None
    name: str | None
    email: str | None
    phone: str | None


async def stale_accepted(
    conn: Connection, tenant_id: str, *, older_than: datetime, limit: int, now: datetime
) -> list[StaleInbound]:
    """Return inbound messages accepted before a time and never processed (for the sweeper),
    but not those held until after `now` (a spent model budget holds them to the tenant's next
    local day, migration 018)."""
    rows: list[Row] = await conn.fetch(
        """
        SELECT m.id, m.channel, m.external_id, m.content, m.subject, m.metadata, m.created_at,
               m.ticket_id, c.name, c.email, c.phone
        FROM messages m JOIN customers c ON c.id = m.customer_id
        WHERE m.tenant_id = $1 AND m.direction = 'inbound' AND m.status = 'accepted'
          AND coalesce(m.last_published_at, m.created_at) < $2
          AND (m.held_until IS NULL OR m.held_until <= $4)
        ORDER BY m.created_at LIMIT $3
        FOR UPDATE OF m SKIP LOCKED
        """,
        tenant_id,
        older_than,
        limit,
        now,
    )
    return [StaleInbound(**row) for row in rows]


async def mark_republished(conn: Connection, tenant_id: str, ids: list[UUID], *,
                           now: datetime) -> None:
    """Note that the sweeper queued these messages again at `now` (its next deadline counts
    from there)."""
    await conn.execute(
        "UPDATE messages SET last_published_at = $3 WHERE tenant_id = $1 AND id = ANY($2)",
        tenant_id,
        ids,
        now,
    )


@dataclass(frozen=True)
class OutboundReply:
    """A stored reply as the dispatcher delivers it: the message, its customer's addresses, the
    inbound it answers (reply_to_*) and its ticket's access (ticket_number, access_*)."""

    id: UUID
    customer_id: UUID
    channel: str
    content: str
    subject: str | None
    status: str
    ticket_id: UUID | None
    metadata: dict[str, Any]
    delivery_attempts: int
    next_delivery_at: datetime | None
    # The start of a provider call whose outcome is not known (None: no such call).
    delivery_started_at: datetime | None
    email: str | None
    phone: str | None
    name: str | None
    reply_to_external_id: str | None
    reply_to_metadata: dict[str, Any] | None
    reply_to_created_at: datetime | None
    ticket_number: str | None
    access_nonce: bytes | None
    access_hash: bytes | None


async def get_outbound(conn: Connection, tenant_id: str,
                       message_id: UUID) -> OutboundReply | None:
    """Return the outbound message, locked for its delivery (None: no such reply)."""
    row: Row | None = await conn.fetchrow(
        """
        SELECT m.id, m.customer_id, m.channel, m.content, m.subject, m.status, m.ticket_id,
               m.metadata, m.delivery_attempts, m.next_delivery_at, m.delivery_started_at,
               c.email, c.phone, c.name,
               inbound.external_id AS reply_to_external_id,
               inbound.metadata AS reply_to_metadata,
               inbound.created_at AS reply_to_created_at,
               t.ticket_number, t.access_nonce, t.access_hash
        FROM messages m JOIN customers c ON c.id = m.customer_id
        LEFT JOIN messages inbound
               ON inbound.tenant_id = m.tenant_id AND inbound.id = m.in_reply_to
        LEFT JOIN tickets t ON t.tenant_id = m.tenant_id AND t.id = m.ticket_id
        WHERE m.tenant_id = $1 AND m.id = $2 AND m.direction = 'outbound'
        FOR UPDATE OF m
        """,
        tenant_id,
        message_id,
    )
    return None if row is None else OutboundReply(**row)


async def mark_delivery(
    conn: Connection, tenant_id: str, message_id: UUID, *, status: str, delivery_status: str,
    delivery_ref: str | None, now: datetime,
) -> None:
    """Record how the reply's delivery ended at `now` (the instant the response labels measure
    from). A delivered answer leaves its ticket waiting for the customer (an open ticket becomes
    waiting_customer; an escalated one stays with its specialist)."""
    await conn.execute(
        """
        WITH sent AS (
            UPDATE messages SET status = $3, delivery_status = $4, delivery_ref = $5,
                                delivered_at = CASE WHEN $3 = 'delivered' THEN $6::timestamptz END
            WHERE tenant_id = $1 AND id = $2
            RETURNING ticket_id, status
        )
        UPDATE tickets t SET status = 'waiting_customer', updated_at = $6
        FROM sent
        WHERE sent.status = 'delivered' AND t.tenant_id = $1 AND t.id = sent.ticket_id
          AND t.status IN ('open', 'in_progress')
        """,
        tenant_id,
        message_id,
        status,
        delivery_status,
        delivery_ref,
        now,
    )


async def record_sentiment(conn: Connection, tenant_id: str, message_id: UUID,
                           score: float) -> None:
    """Store the message's sentiment and append it to its conversation's trend."""
    await conn.execute("SELECT fte_record_sentiment($1, $2, $3)", tenant_id, message_id, score)


async def ticket_tool_calls(conn: Connection, tenant_id: str,
                            ticket_number: str) -> tuple[UUID, list[dict[str, Any]]] | None:
    """Return the message a ticket was opened for and the tool calls recorded on it so far,
    or None if there is no such ticket."""
    row = await conn.fetchrow(
        """
        SELECT m.id, m.tool_calls
        FROM tickets t
        JOIN messages m ON m.tenant_id = t.tenant_id AND m.id = t.source_message_id
        WHERE t.tenant_id = $1 AND t.ticket_number = $2
        """,
        tenant_id,
        ticket_number,
    )
    return (row["id"], list(row["tool_calls"])) if row else None


async def add_tool_calls(conn: Connection, tenant_id: str, message_id: UUID,
                         calls: list[dict[str, Any]]) -> None:
    """Append tool calls to an inbound message's record, in order."""
    await conn.execute(
        "UPDATE messages SET tool_calls = tool_calls || $3::jsonb "
        "WHERE tenant_id = $1 AND id = $2 AND direction = 'inbound'",
        tenant_id,
        message_id,
        calls,
    )
