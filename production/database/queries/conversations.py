"""Conversations: one thread of contact with a customer, across channels."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from production.database.pool import Connection


async def find_open(
    conn: Connection, tenant_id: str, customer_id: UUID, *, since: datetime
) -> tuple[UUID, str] | None:
    """Return (id, current channel) of the customer's latest open conversation since a time."""
    row = await conn.fetchrow(
        """
        SELECT id, current_channel FROM conversations
        WHERE tenant_id = $1 AND customer_id = $2 AND status <> 'closed'
          AND last_message_at >= $3
        ORDER BY last_message_at DESC LIMIT 1
        """,
        tenant_id,
        customer_id,
        since,
    )
    return (row["id"], row["current_channel"]) if row else None


async def create(conn: Connection, tenant_id: str, customer_id: UUID, channel: str) -> UUID:
    conversation_id: UUID = await conn.fetchval(
        """
        INSERT INTO conversations (tenant_id, customer_id, initial_channel, current_channel)
        VALUES ($1, $2, $3, $3) RETURNING id
        """,
        tenant_id,
        customer_id,
        channel,
    )
    return conversation_id


async def touch(
    conn: Connection, tenant_id: str, conversation_id: UUID, *, channel: str,
    previous_channel: str, at: datetime
) -> None:
    """Record activity on the conversation, logging a channel switch when there is one."""
    switch = (
        [{"from": previous_channel, "to": channel, "at": at.isoformat()}]
        if channel != previous_channel
        else []
    )
    await conn.execute(
        """
        UPDATE conversations
        SET last_message_at = greatest(last_message_at, $3), current_channel = $4,
            channel_switches = channel_switches || $5::jsonb
        WHERE tenant_id = $1 AND id = $2
        """,
        tenant_id,
        conversation_id,
        at,
        channel,
        switch,
    )
