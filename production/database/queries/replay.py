"""Recorded inbound messages and what the FTE did with them, for `fte replay` (read only)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from production.database.pool import Connection


@dataclass(frozen=True)
class RecordedInbound:
    """A customer's inbound message, its sender, and the stored outcome of its handling (None
    when no reply was recorded for it)."""

    message_id: str
    ticket_number: str | None
    channel: str
    content: str
    subject: str | None
    sender_name: str | None
    sender_email: str | None
    sender_phone: str | None
    created_at: datetime
    escalated: bool | None
    dimensions: dict[str, Any] | None


async def recorded_inbound(conn: Connection, tenant_id: str, *, since: datetime | None,
                           tickets: Sequence[str], limit: int) -> list[RecordedInbound]:
    """Return the tenant's customer messages, oldest first: from `since` on, of `tickets` only
    when given, at most `limit`; each with its `escalated` metric and the metric's dimensions."""
    rows = await conn.fetch(
        """
        SELECT m.id::text AS message_id, t.ticket_number, m.channel, m.content, m.subject,
               c.name AS sender_name, c.email AS sender_email, c.phone AS sender_phone,
               m.created_at, am.metric_value > 0 AS escalated, am.dimensions
        FROM messages m
        JOIN customers c ON c.id = m.customer_id AND c.tenant_id = m.tenant_id
        LEFT JOIN tickets t ON t.id = m.ticket_id AND t.tenant_id = m.tenant_id
        LEFT JOIN LATERAL (
            SELECT a.metric_value, a.dimensions FROM agent_metrics a
            WHERE a.tenant_id = m.tenant_id AND a.message_id = m.id
              AND a.metric_name = 'escalated'
            ORDER BY a.recorded_at DESC LIMIT 1) am ON true
        WHERE m.tenant_id = $1 AND m.direction = 'inbound' AND m.role = 'customer'
          AND ($2::timestamptz IS NULL OR m.created_at >= $2)
          AND (cardinality($3::text[]) = 0 OR t.ticket_number = ANY($3))
        ORDER BY m.created_at, m.id
        LIMIT $4
        """,
        tenant_id, since, list(tickets), limit,
    )
    return [RecordedInbound(**row) for row in rows]
