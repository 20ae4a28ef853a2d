"""Delivery records: what went out (or to the sandbox), to whom, and how it ended."""

from __future__ import annotations

from production.channels.base import DeliveryReceipt, OutboundMessage
from production.database.pool import Connection


async def record(conn: Connection, tenant_id: str, message: OutboundMessage,
                 receipt: DeliveryReceipt) -> None:
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
        message.body,
        receipt.error,
    )
