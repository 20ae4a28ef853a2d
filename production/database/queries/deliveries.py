"""Delivery records: what went out (or to the sandbox), to whom, and how it ended."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from production.database.pool import Connection
from production.domain.delivery import DeliveryReceipt, OutboundMessage


async def record(conn: Connection, tenant_id: str, message: OutboundMessage,
                 receipt: DeliveryReceipt, *, body: str) -> None:
    """Record how a delivery ended, with `body` as the text kept of it."""
    await conn.execute(
        """
        INSERT INTO deliveries (tenant_id, message_id, channel, status, provider_ref, recipient,
                                subject, body, error)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        ON CONFLICT (tenant_id, message_id) DO NOTHING
        """,
        tenant_id,
        message.message_id,
        message.channel,
        receipt.status,
        receipt.provider_ref,
        message.recipient,
        message.subject,
        body,
        receipt.error,
    )


@dataclass(frozen=True)
class SandboxedDelivery:
    """A reply recorded by the sandbox instead of a provider, with its ticket's number and
    access nonce (the status link is derived again from them, never stored)."""

    message_id: UUID
    channel: str
    recipient: str | None
    subject: str | None
    body: str
    created_at: datetime
    ticket_number: str | None
    access_nonce: bytes | None


async def sandboxed(conn: Connection, tenant_id: str, *, channel: str | None, limit: int,
                    after: datetime | None = None) -> list[SandboxedDelivery]:
    """Return sandboxed deliveries (replies and operator mail), newest first (or, with `after`,
    oldest first after it)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT d.message_id, d.channel, d.recipient, d.subject, d.body, d.created_at,
               t.ticket_number, t.access_nonce
        FROM deliveries d
        LEFT JOIN messages m ON m.tenant_id = d.tenant_id AND m.id = d.message_id
        LEFT JOIN tickets t ON t.tenant_id = m.tenant_id AND t.id = m.ticket_id
        WHERE d.tenant_id = $1 AND d.status = 'sandboxed'
          AND ($2::text IS NULL OR d.channel = $2)
          AND ($4::timestamptz IS NULL OR d.created_at > $4)
        ORDER BY CASE WHEN $4::timestamptz IS NULL THEN d.created_at END DESC,
                 d.created_at
        LIMIT $3
        """,
        tenant_id, channel, limit, after,
    )
    return [SandboxedDelivery(**row) for row in rows]
