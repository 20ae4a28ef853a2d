"""WhatsApp turns, the parts of a sent reply and Twilio's delivery events (migration 007)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from production.database.pool import Connection

Row = asyncpg.Record


@dataclass(frozen=True)
class TurnMessage:
    """One customer message of a WhatsApp turn."""

    id: UUID
    content: str
    metadata: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class SentMessage:
    """The outbound message a Twilio SID carried, and how far its delivery got."""

    id: UUID
    delivery_status: str | None


async def next_in_turn(conn: Connection, tenant_id: str, *, conversation_id: UUID,
                       message_id: UUID, created_at: datetime,
                       window: timedelta) -> UUID | None:
    """Return the customer's first Twilio WhatsApp message after this one, within the window,
    that still waits to be processed; None when this message ends its turn."""
    found: UUID | None = await conn.fetchval(
        """
        SELECT id FROM messages
        WHERE tenant_id = $1 AND conversation_id = $2 AND channel = 'whatsapp'
          AND direction = 'inbound' AND status = 'accepted' AND metadata ? 'twilio_message_sid'
          AND (created_at, id) > ($3, $4) AND created_at <= $3 + $5::interval
        ORDER BY created_at, id LIMIT 1
        """,
        tenant_id, conversation_id, created_at, message_id, window,
    )
    return found


async def merge_into(conn: Connection, tenant_id: str, message_id: UUID,
                     merged_into: UUID) -> None:
    """Fold a message into a later one of its turn: processed, with no reply of its own."""
    await conn.execute(
        """
        WITH linked AS (
            INSERT INTO whatsapp_merged_messages (tenant_id, message_id, merged_into)
            VALUES ($1, $2, $3)
            ON CONFLICT (tenant_id, message_id) DO NOTHING
        )
        UPDATE messages SET status = 'processed', processed_at = now()
        WHERE tenant_id = $1 AND id = $2 AND status = 'accepted'
        """,
        tenant_id, message_id, merged_into,
    )


async def turn_messages(conn: Connection, tenant_id: str,
                        lead_id: UUID) -> list[TurnMessage]:
    """Return the turn that ends with `lead_id`: it and every message folded into it, directly
    or through a chain, oldest first."""
    rows: list[Row] = await conn.fetch(
        """
        WITH RECURSIVE turn (id) AS (
            SELECT $2::uuid
            UNION
            SELECT w.message_id FROM whatsapp_merged_messages w
            JOIN turn ON w.merged_into = turn.id
            WHERE w.tenant_id = $1
        )
        SELECT m.id, m.content, m.metadata, m.created_at
        FROM messages m JOIN turn ON turn.id = m.id
        WHERE m.tenant_id = $1
        ORDER BY m.created_at, m.id
        """,
        tenant_id, lead_id,
    )
    return [TurnMessage(**row) for row in rows]


async def sent_parts(conn: Connection, tenant_id: str, message_id: UUID) -> dict[int, str]:
    """Return the SIDs of the reply's parts Twilio already accepted, by part index."""
    rows = await conn.fetch(
        "SELECT part_index, sid FROM whatsapp_message_parts "
        "WHERE tenant_id = $1 AND message_id = $2",
        tenant_id, message_id,
    )
    return {row["part_index"]: row["sid"] for row in rows}


async def known_sids(conn: Connection, tenant_id: str, sids: list[str]) -> set[str]:
    """Return those of the SIDs some reply's part already holds."""
    rows = await conn.fetch(
        "SELECT sid FROM whatsapp_message_parts WHERE tenant_id = $1 AND sid = ANY($2::text[])",
        tenant_id, sids,
    )
    return {row["sid"] for row in rows}


async def record_part(conn: Connection, tenant_id: str, message_id: UUID, index: int,
                      sid: str) -> None:
    await conn.execute(
        """
        INSERT INTO whatsapp_message_parts (tenant_id, message_id, part_index, sid)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT (tenant_id, message_id, part_index) DO NOTHING
        """,
        tenant_id, message_id, index, sid,
    )


async def lock_message_for_sid(conn: Connection, tenant_id: str,
                               sid: str) -> SentMessage | None:
    """Return the outbound message a Twilio SID carried (id, delivery_status), locked."""
    row: Row | None = await conn.fetchrow(
        """
        SELECT m.id, m.delivery_status
        FROM whatsapp_message_parts p
        JOIN messages m ON m.tenant_id = p.tenant_id AND m.id = p.message_id
        WHERE p.tenant_id = $1 AND p.sid = $2 AND m.direction = 'outbound'
        FOR UPDATE OF m
        """,
        tenant_id, sid,
    )
    return None if row is None else SentMessage(**row)


async def record_event(conn: Connection, tenant_id: str, message_id: UUID, *, sid: str,
                       status: str, error_code: str | None) -> bool:
    """Store one delivery event; False when the same SID already reported this status."""
    inserted: int | None = await conn.fetchval(
        """
        INSERT INTO delivery_events (tenant_id, message_id, provider_ref, status, error_code)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (tenant_id, provider_ref, status) DO NOTHING
        RETURNING id
        """,
        tenant_id, message_id, sid, status, error_code,
    )
    return inserted is not None


async def set_delivery_status(conn: Connection, tenant_id: str, message_id: UUID,
                              status: str) -> None:
    await conn.execute(
        "UPDATE messages SET delivery_status = $3 WHERE tenant_id = $1 AND id = $2",
        tenant_id, message_id, status,
    )
